package api_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/census"
	"adcensus/index/overlap"
	"adcensus/web/api"
)

// export counts takes a period (from, to, basis, gap) and counts the
// adverts live in it by the census's sightings; bad values are 400.
func TestExportCountsOfAPeriod(t *testing.T) {
	x := MustIndex(t)
	st, err := census.Open(filepath.Join(t.TempDir(), census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mon := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // 2026-W45
	var recs []census.Record
	for i, id := range []string{"a1", "a2", "b1", "c1"} { // persons P1, P2, P2, P3
		recs = append(recs, census.Record{Sighting: &ad.Sighting{AdID: id, Arena: id[:1], Run: "r45", At: mon, Hash: "h"}})
		if i < 2 { // a1 and a2 seen a week later too
			recs = append(recs, census.Record{Sighting: &ad.Sighting{AdID: id, Arena: id[:1], Run: "r46", At: mon.AddDate(0, 0, 7), Hash: "h"}})
		}
	}
	if err := st.Apply(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{MinCellFloor: 0,
		Periods: func(ctx context.Context, by []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error) {
			return census.Counts(ctx, x, st, by, q, opt)
		},
		PeriodDocs: func(ctx context.Context, q census.Query) (census.Docs, error) {
			return census.NewPeriodSource(ctx, x, st, q)
		}})
	type row struct {
		Ads, Persons int
		Total        bool
	}
	total := func(path string) row {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		for _, rw := range decode[struct{ Rows []row }](t, r).Rows {
			if rw.Total {
				return rw
			}
		}
		t.Fatalf("%s: no total row in %s", path, r.body)
		return row{}
	}
	// W46: a1 and a2 (gap 8 days: live from W45 to W46), persons P1, P2.
	if got := total("/api/export/counts?by=arena&min_cell=0&from=2026-W46&to=2026-W46"); got.Ads != 2 || got.Persons != 2 {
		t.Errorf("W46 seen: %+v, want 2 adverts, 2 persons", got)
	}
	if got := total("/api/export/counts?by=arena&min_cell=0&from=2026-W45&to=2026-W45"); got.Ads != 4 || got.Persons != 3 {
		t.Errorf("W45 seen: %+v, want 4 adverts, 3 persons", got)
	}
	// Posted basis: every advert was posted 2026-03-02, none in November.
	if got := total("/api/export/counts?by=arena&min_cell=0&from=2026-11&to=2026-11&basis=posted"); got.Ads != 0 {
		t.Errorf("posted in November: %+v, want none", got)
	}
	if got := total("/api/export/counts?by=arena&min_cell=0&basis=posted"); got.Ads != 11 {
		t.Errorf("posted, all time: %+v, want 11 adverts", got)
	}
	for _, bad := range []string{"from=2026-W60", "to=yesterday", "basis=heard", "gap=-1h", "from=2026-12&to=2026-11"} {
		path := "/api/export/counts?by=arena&" + bad
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}

	// Search, facts and overlap take the same period (search: a from that
	// is not a number starts it, offset pages).
	ids := func(path string) []string {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		var out []string
		for _, h := range decode[api.SearchResponse](t, r).Hits {
			out = append(out, h.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids("/api/search?q=&size=50&from=2026-W46&to=2026-W46"); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("search in W46: %v, want a1 a2", got)
	}
	if got := ids("/api/search?q=&size=1&from=2026-W46&to=2026-W46&offset=1"); len(got) != 1 {
		t.Errorf("search in W46, second page: %v, want one advert", got)
	}
	if got := ids("/api/search?q=&size=50&from=2"); len(got) != 9 {
		t.Errorf("search from=2 (an offset): %d adverts, want 9 of 11", len(got))
	}
	arenas := func(path string) []string {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		var out []string
		for _, a := range decode[overlap.Report](t, r).Arenas {
			out = append(out, a.Arena)
		}
		return out
	}
	if got := arenas("/api/overlap?min_cell=0&replicates=0&from=2026-W46&to=2026-W46"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("overlap in W46: arenas %v, want only a", got)
	}
	if got := arenas("/api/overlap?min_cell=0&replicates=0&basis=posted"); len(got) < 3 {
		t.Errorf("overlap by posting date: arenas %v, want every arena", got)
	}
	factTotal := func(path string) int {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		n := 0
		for _, tb := range decode[struct {
			Tables []struct {
				Rows []struct {
					Count *int
					Total bool
				}
			}
		}](t, r).Tables {
			for _, rw := range tb.Rows {
				if rw.Total && rw.Count != nil {
					n += *rw.Count
				}
			}
		}
		return n
	}
	if got := factTotal("/api/export/facts?min_cell=0&format=json&from=2026-11&to=2026-11&basis=posted"); got != 0 {
		t.Errorf("facts of November by posting date (none posted): totals %d, want 0", got)
	}
	if got := factTotal("/api/export/facts?min_cell=0&format=json&from=2026-W45&to=2026-W45"); got == 0 {
		t.Error("facts of W45 by sightings: totals 0, want the adverts seen then")
	}
	for _, bad := range []string{"/api/search?q=&from=2026-W60", "/api/overlap?from=later", "/api/export/facts?basis=heard"} {
		wantStatus(t, MustGet(t, srv, bad), bad, http.StatusBadRequest)
	}
}
