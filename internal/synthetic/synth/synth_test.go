package synth_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/eval"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/synth"
)

func smallOptions(seed int64) synth.Options {
	o := synth.DefaultOptions()
	o.Seed, o.Persons, o.Ads = seed, 60, 300
	return o
}

func tinyOptions(seed int64) synth.Options {
	o := synth.DefaultOptions()
	o.Seed, o.Persons, o.Ads = seed, 25, 100
	return o
}

// shared is one small corpus that several tests read (generating one is
// the slow part, more so under -race).
var shared struct {
	once sync.Once
	dir  string
	st   synth.Stats
	err  error
}

func sharedCorpus(tb testing.TB) (string, synth.Stats) {
	tb.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "synth-test-")
		if shared.err == nil {
			shared.st, shared.err = synth.Generate(context.Background(), smallOptions(7), shared.dir)
		}
	})
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.dir, shared.st
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// MustGenerate writes a corpus into a new temporary folder.
func MustGenerate(tb testing.TB, o synth.Options) (string, synth.Stats) {
	tb.Helper()
	dir := tb.TempDir()
	st, err := synth.Generate(context.Background(), o, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, st
}

func readAds(tb testing.TB, dir string) []*ad.Ad {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, synth.AdsFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []*ad.Ad
	r := ad.NewReader(f)
	for {
		a, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("ads.jsonl: %v", err)
		}
		out = append(out, a)
	}
}

func readTruth(tb testing.TB, dir string) map[string]eval.Labels {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, err := eval.ReadAssignments(f)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestGenerateFormats(t *testing.T) {
	dir, st := sharedCorpus(t)
	ads := readAds(t, dir)
	truth := readTruth(t, dir)
	if got, want := len(ads), 300; got != want {
		t.Fatalf("ads=%d, want %d", got, want)
	}
	if st.Ads != len(ads) || len(truth) != len(ads) {
		t.Fatalf("stats ads %d, truth rows %d, file %d", st.Ads, len(truth), len(ads))
	}
	persons, nets := map[string]bool{}, map[string]bool{}
	for _, l := range truth {
		persons[l.Person], nets[l.Network] = true, true
	}
	if got, want := len(persons), 60; got != want {
		t.Errorf("persons in truth=%d, want %d", got, want)
	}
	if len(nets) != st.TruthNetworks || st.Networks < 1 {
		t.Errorf("networks in truth=%d, stats %+v", len(nets), st)
	}

	// Every phones entry is one valid number, and one person's number is
	// the same whatever its spelling.
	images := map[string]bool{}
	for _, a := range ads {
		if a.ID == "" || a.Arena == "" || a.PostedAt.IsZero() || a.Name == "" || a.City == "" {
			t.Fatalf("incomplete advert %+v", a)
		}
		if _, ok := truth[a.ID]; !ok {
			t.Fatalf("advert %s not in truth", a.ID)
		}
		for _, p := range a.Phones {
			if _, ok := contact.NormalisePhone(p); !ok {
				t.Errorf("advert %s: phone spelling not readable (%d characters)", a.ID, len(p))
			}
		}
		for _, src := range a.Images {
			if !strings.HasPrefix(src, "images/") || filepath.IsAbs(src) {
				t.Fatalf("image path %q not relative to the corpus", src)
			}
			images[src] = true
		}
	}
	if got := len(images); got != st.Images {
		t.Errorf("distinct images referenced=%d, stats.Images=%d", got, st.Images)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != st.Images {
		t.Errorf("image files=%d, stats.Images=%d", len(entries), st.Images)
	}
	for src := range images {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(src)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imagehash.Hash(data, imagehash.Limits{}); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
	}

	// truth.csv: header and rows sorted by ad id.
	raw, err := os.ReadFile(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), "ad_id,person_id,network_id"; got != want {
		t.Fatalf("header %q, want %q", got, want)
	}
	for i := 2; i < len(rows); i++ {
		if rows[i-1][0] >= rows[i][0] {
			t.Fatalf("truth not sorted at line %d", i+1)
		}
	}
}

// TestPhonesPerPerson: all spellings of one person's numbers normalise to the
// numbers the person owns, so the phones field never invents contacts.
func TestPhonesPerPerson(t *testing.T) {
	dir, _ := sharedCorpus(t)
	truth := readTruth(t, dir)
	numbers := map[string]map[string]bool{} // person → E.164
	for _, a := range readAds(t, dir) {
		for _, p := range a.Phones {
			e, _ := contact.NormalisePhone(p)
			per := truth[a.ID].Person
			if numbers[per] == nil {
				numbers[per] = map[string]bool{}
			}
			numbers[per][e] = true
		}
	}
	for per, ns := range numbers {
		if len(ns) > 4 {
			t.Errorf("person %s shows %d numbers, want at most 4 (own ≤ 3 + agency ≤ 2 minus overlap)", per, len(ns))
		}
	}
}

func TestDeterministic(t *testing.T) {
	o := tinyOptions(11)
	a, _ := MustGenerate(t, o)
	o.Workers = 1
	b, _ := MustGenerate(t, o)
	for _, name := range []string{synth.AdsFile, synth.TruthFile} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two runs with seed %d", name, o.Seed)
		}
	}
	entries, err := os.ReadDir(filepath.Join(a, "images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		x, _ := os.ReadFile(filepath.Join(a, "images", e.Name()))
		y, err := os.ReadFile(filepath.Join(b, "images", e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("image %s differs between two runs", e.Name())
		}
	}
	c, _ := MustGenerate(t, tinyOptions(12))
	x, _ := os.ReadFile(filepath.Join(a, synth.AdsFile))
	y, _ := os.ReadFile(filepath.Join(c, synth.AdsFile))
	if bytes.Equal(x, y) {
		t.Fatal("seeds 11 and 12 gave the same corpus")
	}
}

func TestGenerateRefusesExistingCorpus(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, synth.AdsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Generate(context.Background(), smallOptions(1), dir); err == nil {
		t.Fatal("Generate overwrote an existing ads.jsonl")
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []synth.Options{
		{Persons: 10, Ads: 5},
		{NetworkShare: 1.5},
		{Persons: -1},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", o)
		}
	}
	if err := (synth.Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}

// TestEvaluateSmall runs v1 and the baselines on a small corpus: the scores
// are not asserted (v1 is simple), only that everything runs and covers
// every advert.
func TestEvaluateSmall(t *testing.T) {
	dir, _ := sharedCorpus(t)
	scores(t, dir)
}

// TestDefaultCorpus measures v1 and the baselines on the default corpus;
// set SYNTH_DEFAULT=1 to run it (about a minute).
func TestDefaultCorpus(t *testing.T) {
	if os.Getenv("SYNTH_DEFAULT") == "" {
		t.Skip("set SYNTH_DEFAULT=1 to generate and score the default corpus")
	}
	start := time.Now()
	dir, st := MustGenerate(t, synth.DefaultOptions())
	t.Logf("generated in %v: %+v", time.Since(start).Round(time.Millisecond), st)
	scores(t, dir)
}

func scores(t *testing.T, dir string) {
	t.Helper()
	truth := readTruth(t, dir)
	in, err := os.Open(filepath.Join(dir, synth.AdsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	start := time.Now()
	if _, err := dedup.Offline(context.Background(), in, dir, contact.New(make([]byte, 32)), t.TempDir(), &out, nil); err != nil {
		t.Fatal(err)
	}
	tv1 := time.Since(start)
	v1, err := eval.ReadAssignments(&out)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	phone, image, err := baselines(dir)
	if err != nil {
		t.Fatal(err)
	}
	tb := time.Since(start)
	t.Logf("dedup.Offline %v, Baselines %v", tv1.Round(time.Millisecond), tb.Round(time.Millisecond))
	for _, c := range []struct {
		name string
		pred map[string]eval.Labels
	}{{"v1", v1}, {"phone-only", phone}, {"image-only", image}} {
		rep, err := eval.Evaluate(truth, c.pred)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.MissingInPred) != 0 {
			t.Errorf("%s: %d adverts missing", c.name, len(rep.MissingInPred))
		}
		if rep.Networks == nil {
			t.Fatalf("%s: networks skipped: %s", c.name, rep.NetworksSkipped)
		}
		p, n := rep.Persons, rep.Networks
		t.Logf("%-10s persons %d→%d (%+.1f%%) B3 P/R/F1 %.3f/%.3f/%.3f | networks %d→%d (%+.1f%%) B3 P/R/F1 %.3f/%.3f/%.3f",
			c.name, p.TrueClusters, p.PredClusters, 100*p.RelativeCountError, p.BCubed.Precision, p.BCubed.Recall, p.BCubed.F1,
			n.TrueClusters, n.PredClusters, 100*n.RelativeCountError, n.BCubed.Precision, n.BCubed.Recall, n.BCubed.F1)
	}
}

// TestScoreCorpora scores the rules and the baselines on corpora written
// by 'adcensus synth' (any style): SYNTH_SCORE_DIRS="dir1 dir2 …".
func TestScoreCorpora(t *testing.T) {
	dirs := strings.Fields(os.Getenv("SYNTH_SCORE_DIRS"))
	if len(dirs) == 0 {
		t.Skip(`set SYNTH_SCORE_DIRS="dir …" to score corpora written by adcensus synth`)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { scores(t, dir) })
	}
}
