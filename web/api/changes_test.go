package api_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index/census"
	"adcensus/web/api"
)

// /api/changes reports what changed since a run or a date, as 'adcensus
// changes', with small cells withheld; bad parameters are 400, a server
// without a census 501.
func TestChanges(t *testing.T) {
	x := MustIndex(t)
	st, err := census.Open(filepath.Join(t.TempDir(), census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mon := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // 2026-W45
	next := mon.AddDate(0, 0, 7)
	sight := func(id, run string, at time.Time, hash string) census.Record {
		return census.Record{Sighting: &ad.Sighting{AdID: id, Arena: id[:1], Run: run, At: at, Hash: hash}}
	}
	end := func(run, arena string, at time.Time, n int) census.Record {
		return census.Record{RunEnd: &ad.RunEnd{Run: run, Arena: arena, Started: at, Ended: at.Add(time.Hour), Status: "done", Complete: true, Sighted: n}}
	}
	// Run a45 sees a1 and a2; a46 a week later sees a1 changed, a2 is gone.
	recs := []census.Record{
		sight("a1", "a45", mon, "h1"), sight("a2", "a45", mon, "h2"), end("a45", "a", mon, 2),
		sight("a1", "a46", next, "h1b"), end("a46", "a", next, 1),
	}
	if err := st.Apply(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	changes := func(ctx context.Context, run string, since time.Time, minCell int) (*census.Changes, bool, error) {
		if run != "" {
			t, err := st.SinceRun(run)
			if err != nil {
				return nil, false, nil
			}
			since = t
		}
		ch, err := census.ReportChanges(ctx, x, st, since, minCell)
		return ch, err == nil, err
	}
	srv := MustServer(t, x, docSource(x), api.Options{Changes: changes})
	type arena struct {
		Arena                                 string
		New, Changed, Gone, Back, Before, Now *int
		Trend                                 string
		Suppressed                            []string
	}
	type report struct {
		SinceAs string `json:"since_as"`
		Runs    int
		MinCell int `json:"min_cell"`
		Arenas  []arena
		Persons struct {
			New, Gone  *int
			Suppressed []string
		}
		Flags []census.Flag
	}
	get := func(path string) report {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		return decode[report](t, r)
	}
	val := func(p *int) int {
		if p == nil {
			return -99
		}
		return *p
	}
	// Since run a45: the changes of a46.
	rep := get("/api/changes?since=a45&min_cell=0")
	if rep.SinceAs != "run" || rep.Runs != 1 || len(rep.Arenas) != 1 {
		t.Fatalf("since a45: %+v", rep)
	}
	a := rep.Arenas[0]
	if a.Arena != "a" || val(a.New) != 0 || val(a.Changed) != 1 || val(a.Gone) != 1 || val(a.Back) != 0 ||
		val(a.Before) != 2 || val(a.Now) != 1 || a.Trend != "shrank" || a.Suppressed != nil {
		t.Errorf("since a45, arena a: %+v", a)
	}
	// Since a date before both runs: everything new, a new arena.
	rep = get("/api/changes?since=2026-W45&min_cell=0")
	if a := rep.Arenas[0]; rep.SinceAs != "date" || rep.Runs != 2 || val(a.New) != 2 || a.Before != nil || a.Trend != "new arena" {
		t.Errorf("since 2026-W45: %+v %+v", rep, rep.Arenas)
	}
	if rep2 := get("/api/changes?from=2026-W45&min_cell=0"); val(rep2.Arenas[0].New) != 2 {
		t.Errorf("from=2026-W45: %+v", rep2.Arenas)
	}
	// The default min_cell (5) withholds the small cells but not the zeros.
	rep = get("/api/changes?since=a45")
	a = rep.Arenas[0]
	if rep.MinCell != 5 || a.Changed != nil || a.Gone != nil || a.Now != nil || val(a.New) != 0 ||
		!slices.Equal(a.Suppressed, []string{"changed", "gone", "before", "now"}) {
		t.Errorf("since a45, min_cell 5: %+v", a)
	}
	for _, bad := range []string{"", "since=nope", "since=2026-W60", "since=a45&from=2026-W45", "since=a45&to=2026-W49",
		"since=a45&basis=posted", "from=yesterday", "since=a45&min_cell=-2"} {
		path := "/api/changes?" + bad
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}
	none := MustServer(t, x, docSource(x), api.Options{})
	wantStatus(t, MustGet(t, none, "/api/changes?since=a45"), "no census", http.StatusNotImplemented)
	noCensus := MustServer(t, x, docSource(x), api.Options{Changes: func(context.Context, string, time.Time, int) (*census.Changes, bool, error) {
		return nil, false, api.ErrNoCensus
	}})
	wantStatus(t, MustGet(t, noCensus, "/api/changes?since=a45"), "census.db missing", http.StatusNotImplemented)
}

// /api/export/trend: persons active, new and gone per week and arena, as
// 'adcensus export trend'; withheld cells are null; CSV and Excel CSV.
func TestTrend(t *testing.T) {
	x := MustIndex(t)
	st, err := census.Open(filepath.Join(t.TempDir(), census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mon := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // 2026-W45
	var recs []census.Record
	for _, id := range []string{"a1", "a2", "b1"} { // persons P1, P2, P2
		recs = append(recs, census.Record{Sighting: &ad.Sighting{AdID: id, Arena: id[:1], Run: "r45", At: mon, Hash: "h"}})
	}
	recs = append(recs, census.Record{Sighting: &ad.Sighting{AdID: "a1", Arena: "a", Run: "r46", At: mon.AddDate(0, 0, 7), Hash: "h"}})
	if err := st.Apply(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{Trend: func(ctx context.Context, by, period string, q census.Query, minCell int) ([]census.TrendRow, error) {
		return census.Trend(ctx, x, st, by, period, q, minCell)
	}})
	type row struct {
		Period, Group     string
		Active, New, Gone *int
	}
	get := func(path string) []row {
		t.Helper()
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		return decode[struct{ Rows []row }](t, r).Rows
	}
	str := func(rows []row) string {
		var out []string
		v := func(p *int) string {
			if p == nil {
				return "–"
			}
			return fmt.Sprint(*p)
		}
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %s %s/%s/%s", r.Period, r.Group, v(r.Active), v(r.New), v(r.Gone)))
		}
		slices.Sort(out)
		return strings.Join(out, "; ")
	}
	// a: P1 and P2 in W45; P1 still in W46 (seen again), P2 gone. b: P2
	// in W45, gone in W46.
	want := "2026-W45 a 2/2/0; 2026-W45 b 1/1/0; 2026-W46 a 1/0/1; 2026-W46 b 0/0/1"
	if got := str(get("/api/export/trend?by=arena&period=week&min_cell=0")); got != want {
		t.Errorf("trend: %s\nwant %s", got, want)
	}
	if got := str(get("/api/export/trend?min_cell=5")); strings.Contains(got, "1/") || strings.Contains(got, "2/") {
		t.Errorf("trend at min_cell 5 shows small cells: %s", got)
	}
	r := MustGet(t, srv, "/api/export/trend?min_cell=0&format=csv-excel")
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), "\xef\xbb\xbfweek;arena;active;new;gone\r\n2026-W45;a;2;2;0") {
		t.Errorf("trend csv-excel: %d %q", r.status, r.body)
	}
	for _, bad := range []string{"by=city", "period=day", "basis=posted", "from=2026-W60", "format=xml"} {
		path := "/api/export/trend?" + bad
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}
	none := MustServer(t, x, docSource(x), api.Options{})
	wantStatus(t, MustGet(t, none, "/api/export/trend"), "no census", http.StatusNotImplemented)
}
