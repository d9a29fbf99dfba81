package api_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/census"
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
}
