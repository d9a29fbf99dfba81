package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/internal/synthetic/synth"
)

// TestSynthDedupEval writes a small corpus, de-duplicates it and evaluates
// the result against its truth. Scores are not asserted: v1 is simple.
func TestSynthDedupEval(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus")
	var out, errb bytes.Buffer
	args := []string{"--out", corpus, "--seed", "4", "--persons", "40", "--ads", "200", "--json"}
	if err := cmdSynth(ctx, args, &out, &errb); err != nil {
		t.Fatalf("synth: %v\n%s", err, errb.String())
	}
	var st synth.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("synth --json: %v: %s", err, out.String())
	}
	if st.Ads != 200 || st.Persons != 40 || st.Images == 0 {
		t.Fatalf("stats %+v", st)
	}

	// The same seed again gives the same files.
	again := filepath.Join(dir, "again")
	if err := cmdSynth(ctx, []string{"--out", again, "--seed", "4", "--persons", "40", "--ads", "200"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{synth.AdsFile, synth.TruthFile} {
		a, _ := os.ReadFile(filepath.Join(corpus, name))
		b, _ := os.ReadFile(filepath.Join(again, name))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Fatalf("%s differs between two runs with one seed", name)
		}
	}

	pred := filepath.Join(dir, "assignments.csv")
	out.Reset()
	err := Main(ctx, []string{"dedup", "--in", filepath.Join(corpus, synth.AdsFile), "--out", pred, "--data", filepath.Join(dir, "data"), "--new-key"}, &out, &errb)
	if err != nil {
		t.Fatalf("dedup: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "read 200 adverts (0 bad lines") {
		t.Errorf("dedup output: %s", out.String())
	}
	out.Reset()
	err = Main(ctx, []string{"eval", "--truth", filepath.Join(corpus, synth.TruthFile), "--pred", pred, "--json"}, &out, &errb)
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, errb.String())
	}
	var rep struct {
		Adverts       int      `json:"adverts"`
		MissingInPred []string `json:"missing_in_pred"`
		Persons       struct {
			TrueClusters int `json:"true_clusters"`
		} `json:"persons"`
		Networks *struct {
			TrueClusters int `json:"true_clusters"`
		} `json:"networks"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("eval --json: %v", err)
	}
	if rep.Adverts != 200 || len(rep.MissingInPred) != 0 || rep.Persons.TrueClusters != 40 || rep.Networks == nil || rep.Networks.TrueClusters != st.TruthNetworks {
		t.Fatalf("eval report %+v", rep)
	}
}

func TestSynthUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{
		{},
		{"--out", t.TempDir(), "--persons", "10", "--ads", "5"},
		{"--out", t.TempDir(), "--persons", "0"},
		{"--out", t.TempDir(), "--blank-share", "-1"},
		{"--out", t.TempDir(), "--blank-share", "NaN"},
		{"--out", t.TempDir(), "--blank-share", "1.5"},
	} {
		err := cmdSynth(context.Background(), args, &out, &errb)
		if !errors.As(err, new(usageError)) {
			t.Errorf("synth %q: %v, want a usage error", args, err)
		}
	}
}
