package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"adcensus/index"
	"adcensus/index/census"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
	"adcensus/web/api"
)

// fakeSeen answers the interval of the persons of the adverts on arenas
// (all when none) as persons−1 … persons+2, from the documents.
type fakeSeen struct {
	src      overlap.DocSource
	fail     bool
	combined atomic.Int32
	asked    [][]string
}

func (f *fakeSeen) Seen(ctx context.Context, _ census.Query, arenas []string) (*index.Seen, error) {
	if f.fail {
		return nil, errors.New("cluster state held by another process")
	}
	f.asked = append(f.asked, arenas)
	persons := map[string]bool{}
	err := f.src.ForEachDoc(ctx, func(d *index.Doc) error {
		if len(arenas) == 0 || slices.Contains(arenas, d.Dimension(index.DimArena)) {
			persons[d.Person()] = true
		}
		return nil
	})
	n := len(persons)
	return &index.Seen{Persons: n, Estimate: float64(n), Low: n - 1, High: n + 2, Level: 0.9, Method: "test"}, err
}

func (f *fakeSeen) Combine(_ context.Context, _ census.Query, _ []string, rep *overlap.Report, _ mse.Options) error {
	f.combined.Add(1)
	rep.Combined = &overlap.Combined{Total: rep.Estimate.Total, Low: rep.Estimate.CILow - 1, High: rep.Estimate.CIHigh + 1, Level: rep.Estimate.Level}
	return nil
}

// The API puts the persons count's interval (Options.Seen) on the total
// row of export counts and beside the overlap's total, for the arenas
// asked; /api/overlap?arena= is the overlap of those arenas alone; a
// failing source leaves the counts without the interval.
func TestSeenInterval(t *testing.T) {
	x := MustIndex(t)
	seen := &fakeSeen{src: docSource(x)}
	srv := MustServer(t, x, docSource(x), api.Options{Seen: seen, MSE: mse.Options{Replicates: 50}})

	r := MustGet(t, srv, "/api/export/counts?by=arena&format=json&min_cell=0&basis=posted")
	wantStatus(t, r, "counts", http.StatusOK)
	counts := decode[struct {
		Rows []struct {
			Total       bool `json:"total"`
			Persons     *int `json:"persons"`
			PersonsLow  *int `json:"persons_low"`
			PersonsHigh *int `json:"persons_high"`
		} `json:"rows"`
		Seen *index.Seen `json:"seen"`
	}](t, r)
	tot := counts.Rows[len(counts.Rows)-1]
	if !tot.Total || *tot.Persons != 6 || tot.PersonsLow == nil || *tot.PersonsLow != 5 || *tot.PersonsHigh != 8 || counts.Seen == nil || counts.Seen.Method != "test" {
		t.Fatalf("counts: %s", r.body)
	}
	for _, row := range counts.Rows[:len(counts.Rows)-1] {
		if row.PersonsLow != nil {
			t.Fatalf("a group row has an interval: %s", r.body)
		}
	}
	r = MustGet(t, srv, "/api/export/counts?by=arena&format=csv&min_cell=0&basis=posted")
	if lines := strings.Split(strings.TrimSpace(string(r.body)), "\n"); lines[0] != "arena,ads,persons,persons_low,persons_high" || lines[len(lines)-1] != "*,11,6,5,8" {
		t.Fatalf("counts csv:\n%s", r.body)
	}
	// Split counts have two totals: no interval.
	r = MustGet(t, srv, "/api/export/counts?by=arena&format=json&min_cell=0&split=minors&basis=posted")
	if strings.Contains(string(r.body), "persons_low") {
		t.Fatalf("split counts carry an interval: %s", r.body)
	}

	r = MustGet(t, srv, "/api/overlap?min_cell=0&arena=a,b&basis=posted")
	wantStatus(t, r, "overlap", http.StatusOK)
	rep := decode[overlap.Report](t, r)
	if !slices.Equal(rep.Estimate.Lists, []string{"a", "b"}) || len(rep.Arenas) != 2 || *rep.Persons.Persons != 5 {
		t.Fatalf("overlap of a, b: %s", r.body)
	}
	if rep.Seen == nil || rep.Seen.Persons != 5 || rep.Seen.Low != 4 || rep.Combined == nil || seen.combined.Load() != 1 {
		t.Fatalf("overlap seen %+v combined %+v", rep.Seen, rep.Combined)
	}
	if got := seen.asked[len(seen.asked)-1]; !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("asked for arenas %v", got)
	}
	if rep.Provenance["estimate"] == nil {
		t.Fatalf("no estimate provenance: %v", rep.Provenance)
	}
	r = MustGet(t, srv, "/api/overlap?min_cell=0&arena=a,b&basis=posted&format=csv")
	for _, want := range []string{"section,arenas,persons,estimate,ci_low,ci_high,note\n", "\nseen,*,5,5.0,4,7,", "\ncombined,*,", "\nprovenance,estimate,"} {
		if !strings.Contains(string(r.body), want) {
			t.Fatalf("overlap csv lacks %q:\n%s", want, r.body)
		}
	}

	// An arena without adverts is refused by name; a subset is suppressed
	// jointly with the whole (or refused).
	r = MustGet(t, srv, "/api/overlap?min_cell=0&arena=a,nope&basis=posted")
	if wantStatus(t, r, "overlap of an unknown arena", http.StatusBadRequest); !strings.Contains(string(r.body), `\"nope\" has no advert`) {
		t.Fatalf("unknown arena: %s", r.body)
	}
	r = MustGet(t, srv, "/api/overlap?min_cell=3&arena=a,b&basis=posted")
	if r.status != http.StatusOK && r.status != http.StatusBadRequest {
		t.Fatalf("subset with min_cell 3: %d %s", r.status, r.body)
	}

	// A source that fails: the counts without the interval.
	failing := &fakeSeen{src: docSource(x), fail: true}
	srv2 := MustServer(t, x, docSource(x), api.Options{Seen: failing})
	r = MustGet(t, srv2, "/api/export/counts?by=arena&format=json&min_cell=0&basis=posted")
	wantStatus(t, r, "counts, failing seen", http.StatusOK)
	if strings.Contains(string(r.body), "persons_low") {
		t.Fatalf("interval from a failing source: %s", r.body)
	}
}
