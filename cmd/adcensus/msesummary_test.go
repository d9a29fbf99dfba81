package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dedup --report writes the count's interval, which mse --seen puts beside
// the estimate, in JSON with provenance (the files and their SHA-256).
func TestDedupReportAndMSESeen(t *testing.T) {
	dir := t.TempDir()
	ads := filepath.Join(dir, "ads.jsonl")
	lines := []string{
		`{"id":"a1","arena":"t","name":"Anna","city":"Lund","age":25,"body":"Hello from the south, nice to meet you"}`,
		`{"id":"a2","arena":"u","name":"Anna","city":"Lund","age":25,"body":"New pictures this week and a quiet flat"}`,
		`{"id":"a3","arena":"t","name":"Bea","city":"Umeå","phones":["070-111 22 33"],"body":"Bea here"}`,
	}
	if err := os.WriteFile(ads, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	truth := filepath.Join(dir, "truth.csv")
	if err := os.WriteFile(truth, []byte("ad_id,person_id,network_id\na1,T1,N1\na2,T1,N1\na3,T3,N3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(dir, "report.json")
	out := runMain(t, "dedup", "--data", filepath.Join(dir, "data"), "--new-key", "--in", ads, "--out", filepath.Join(dir, "a.csv"), "--report", rep, "--truth", truth)
	if !strings.Contains(out, "90% interval") {
		t.Errorf("summary: %s", out)
	}
	var r dedupReport
	b, err := os.ReadFile(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Persons != 3 || r.Evidence["name_city_age"] != 1 || r.PersonsLow > r.PersonsHigh || r.Level != 0.9 || r.Labelled == nil || r.Labelled.TruePersons != 2 {
		t.Errorf("report %+v", r)
	}

	table := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(table, []byte("A,B,count\n1,0,60\n0,1,40\n1,1,20\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	js := runMain(t, "mse", "--in", table, "--seen", rep, "--replicates", "50", "--format", "json")
	var s struct {
		Seen       seenPersons             `json:"seen"`
		Estimate   struct{ Total float64 } `json:"estimate"`
		Provenance map[string]any          `json:"provenance"`
	}
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	if s.Seen.Persons != 3 || s.Seen.High != r.PersonsHigh || math.Abs(s.Estimate.Total-240) > 1e-6 || len(s.Provenance["table_sha256"].(string)) != 64 || s.Provenance["seen_report"] != rep {
		t.Errorf("summary %+v", s)
	}
	txt := runMain(t, "mse", "--in", table, "--seen", rep, "--replicates", "0")
	if !strings.Contains(txt, "persons seen (de-duplicated): 3 counted") || !strings.Contains(txt, "the table holds 120 persons") {
		t.Errorf("text:\n%s", txt)
	}
	// Not a dedup report: refused, naming the file.
	if err, _, _ := runMainErr(t, "mse", "--in", table, "--seen", table); err == nil || !strings.Contains(err.Error(), "not a dedup report") {
		t.Errorf("err %v", err)
	}
}
