package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/index"
	indexbleve "adcensus/index/bleve"
)

// TestPurgeRetention: data older than its retention is gone after 'purge'
// (advert text, then contacts, in the index; WARC archives; crawl
// frontiers), the stream gets the shortest max_age, the aggregates — every
// count — stay the same, and --dry-run changes nothing.
func TestPurgeRetention(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	runMain(t, "demo", "--data", data, "--quiet")
	cfg := filepath.Join(dir, "adcensus.yaml")
	writeFile(t, filepath.Join(dir, "a.yaml"), mustRead(t, "../../configs/arenas/blomstra.yaml"))
	writeFile(t, cfg, "data_dir: ./data\narenas: [a.yaml]\nretention:\n  advert_text: 30d\n  raw_html: 30d\n  contacts: 60d\n  image_hashes: 90d\n")
	// Two WARC archives: one written 40 days before the purge date, one
	// on it.
	asOf := time.Now().UTC().Add(45 * 24 * time.Hour)
	warcDir := filepath.Join(data, warcSubdir)
	if err := os.MkdirAll(warcDir, 0o700); err != nil {
		t.Fatal(err)
	}
	oldWARC, newWARC := filepath.Join(warcDir, "old.warc.gz"), filepath.Join(warcDir, "new.warc.gz")
	writeFile(t, oldWARC, "old")
	writeFile(t, newWARC, "new")
	if err := os.Chtimes(oldWARC, asOf.Add(-40*24*time.Hour), asOf.Add(-40*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(newWARC, asOf, asOf); err != nil {
		t.Fatal(err)
	}
	adID := anyAdID(t, data)
	before := indexCounts(t, data, "arena", "week")
	beforeDoc := readDoc(t, data, adID)
	if beforeDoc.Title == "" || len(beforeDoc.Contacts) == 0 {
		t.Fatalf("the demo advert %s has no title or contacts to purge: %+v", adID, beforeDoc)
	}
	term := strings.Fields(beforeDoc.Title)[0]

	// Dry run: reports, changes nothing.
	snap := snapshotDir(t, data)
	out := runMain(t, "purge", "--config", cfg, "--data", data, "--dry-run", "--as-of", asOf.Format(time.RFC3339))
	if !strings.Contains(out, "would remove") || !strings.Contains(out, "WARC archives: 1 files") {
		t.Errorf("dry run:\n%s", out)
	}
	// crawl.db's memory of every advert (all sighted 45 days before the
	// purge date, longer than the stream's max_age of 30 days) would go.
	demoAds := 0
	for _, r := range before {
		if r.Total {
			demoAds = r.Ads
		}
	}
	if want := fmt.Sprintf("max_age: %d adverts, %d advert URLs", demoAds, demoAds); demoAds == 0 || !strings.Contains(out, want) {
		t.Errorf("dry run does not report the crawl memory of the %d adverts (%q):\n%s", demoAds, want, out)
	}
	after := snapshotDir(t, data)
	for p, h := range snap {
		if after[p] != h {
			t.Errorf("dry run changed %s", p)
		}
	}
	if len(after) != len(snap) {
		t.Errorf("dry run added or removed files")
	}

	// 45 days on: text (30d), WARC (30d) and frontiers go; contacts (60d)
	// stay.
	out = runMain(t, "purge", "--config", cfg, "--data", data, "--as-of", asOf.Format(time.RFC3339))
	if !strings.Contains(out, "max_age 30d applied") {
		t.Errorf("stream max_age not the shortest period:\n%s", out)
	}
	assertReviewTextPurged(t, data, out) // reviews_test.go
	d := readDoc(t, data, adID)
	if d.Title != "" || d.Body != "" || d.URL != "" {
		t.Errorf("text kept past its retention: %+v", d)
	}
	if len(d.Contacts) == 0 {
		t.Errorf("contacts removed before their retention")
	}
	if d.PersonID != beforeDoc.PersonID || d.City != beforeDoc.City || d.Week != beforeDoc.Week {
		t.Errorf("count fields changed: %+v, were %+v", d, beforeDoc)
	}
	if s := runMain(t, "search", "--data", data, term); !strings.HasPrefix(s, "0 adverts match") {
		t.Errorf("search %q still finds purged text:\n%s", term, s)
	}
	if _, err := os.Stat(oldWARC); err == nil {
		t.Errorf("old WARC kept")
	}
	if _, err := os.Stat(newWARC); err != nil {
		t.Errorf("new WARC removed: %v", err)
	}
	if runs := runMain(t, "runs", "--data", data); !strings.Contains(runs, "done") {
		t.Errorf("run records gone:\n%s", runs)
	}
	if n := countFrontiers(t, data, asOf); n != 0 {
		t.Errorf("%d crawl frontiers kept", n)
	}
	var left purgeReport
	if err := json.Unmarshal([]byte(runMain(t, "purge", "--config", cfg, "--data", data, "--dry-run", "--as-of", asOf.Format(time.RFC3339), "--format", "json")), &left); err != nil {
		t.Fatal(err)
	}
	if left.CrawlAdverts != (crawler.AdvertPurge{}) {
		t.Errorf("crawl memory of adverts kept past the stream's max_age: %+v", left.CrawlAdverts)
	}
	// Aggregates stay.
	if got := indexCounts(t, data, "arena", "week"); !sameRows(got, before) {
		t.Errorf("counts changed by the purge:\n%+v\nwere\n%+v", got, before)
	}

	// 75 days on: contacts (60d) go too.
	runMain(t, "purge", "--config", cfg, "--data", data, "--as-of", asOf.Add(30*24*time.Hour).Format(time.RFC3339))
	if d := readDoc(t, data, adID); len(d.Contacts) != 0 {
		t.Errorf("contacts kept past their retention: %v", d.Contacts)
	}
	if got := indexCounts(t, data, "arena", "week"); !sameRows(got, before) {
		t.Errorf("counts changed by the second purge")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readDoc(t *testing.T, data, id string) indexDoc {
	t.Helper()
	x, err := indexbleve.OpenReadOnly(filepath.Join(data, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	d, ok, err := x.Doc(context.Background(), id)
	if err != nil || !ok {
		t.Fatalf("doc %s: %v %v", id, ok, err)
	}
	return *d
}

func countFrontiers(t *testing.T, data string, asOf time.Time) int {
	t.Helper()
	st, err := openCrawlState(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n, err := st.PurgeFrontiers(asOf, true)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sameRows(a, b []indexCountRow) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i].Group, ",") != strings.Join(b[i].Group, ",") || a[i].Ads != b[i].Ads || a[i].Persons != b[i].Persons || a[i].Total != b[i].Total {
			return false
		}
	}
	return true
}

type (
	indexDoc      = index.Doc
	indexCountRow = index.CountRow
)

// TestShippedConfigRetention: the shipped main config loads, with its
// retention periods.
func TestShippedConfigRetention(t *testing.T) {
	cfg, arenas, err := loadConfig("../../configs/adcensus.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Retention
	if len(arenas) != 3 || r.AdvertText != 365 || r.RawHTML != 90 || r.StreamMaxAge() != 365*24*time.Hour {
		t.Fatalf("retention %+v, max_age %s", r, r.StreamMaxAge())
	}
	for in, want := range map[string]Days{"30d": 30, "52w": 364, "keep": 0, "": 0} {
		if got, err := parseDays(in); err != nil || got != want {
			t.Errorf("parseDays(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"0d", "-3d", "6 months", "12", "1.5d", "99999999d"} {
		if _, err := parseDays(bad); err == nil {
			t.Errorf("parseDays(%q) accepted", bad)
		}
	}
}
