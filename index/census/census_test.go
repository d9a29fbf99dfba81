package census_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/census"
)

func mustStore(t *testing.T) *census.Store {
	t.Helper()
	st, err := census.Open(filepath.Join(t.TempDir(), census.File))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// monday is 2026-11-02 09:00 UTC (week 2026-W45) plus w weeks.
func monday(w int) time.Time { return time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC).AddDate(0, 0, 7*w) }

func sight(id, run string, w int, hash string) census.Record {
	return census.Record{Sighting: &ad.Sighting{AdID: id, Arena: "a", Run: run, At: monday(w), Hash: hash}}
}

func end(run string, w int, complete bool, failed ...string) census.Record {
	return census.Record{RunEnd: &ad.RunEnd{Run: run, Arena: "a", Started: monday(w), Ended: monday(w).Add(time.Hour), Complete: complete, Failed: failed}}
}

func TestGoneBackAndActiveWeeks(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t)
	recs := []census.Record{
		sight("x", "r0", 0, "h1"), sight("y", "r0", 0, "h1"), sight("z", "r0", 0, "h1"), end("r0", 0, true),
		// week 1: x unchanged, y missing (gone), z's page failed (not gone)
		sight("x", "r1", 1, "h1"), end("r1", 1, true, "z"),
		// week 2: an incomplete run misses x: not gone; y back, changed
		sight("y", "r2", 2, "h2"), end("r2", 2, false),
		// week 3: x seen again (the gap of two weeks is over 8 days)
		sight("x", "r3", 3, "h1"), sight("y", "r3", 3, "h2"), end("r3", 3, true),
	}
	if err := st.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Idempotent: everything again changes nothing.
	if err := st.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	life, err := st.Lifetimes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := census.Period{}
	for id, want := range map[string][]string{
		"x": {"2026-W45", "2026-W46", "2026-W48"},
		"y": {"2026-W45", "2026-W47", "2026-W48"},
		"z": {"2026-W45"},
	} {
		l := life[id]
		if got := l.Weeks(p, census.DefaultGap); !slices.Equal(got, want) {
			t.Errorf("%s: active weeks %v, want %v", id, got, want)
		}
	}
	if n := len(life["x"].Sightings); n != 3 {
		t.Errorf("x has %d sightings after applying twice, want 3", n)
	}
	if g, gone := life["y"].GoneAt(); gone {
		t.Errorf("y is back but still gone at %v", g)
	}
	if len(life["y"].Gone) != 1 || life["y"].Gone[0].Run != "r1" {
		t.Errorf("y gone events %v, want one at r1", life["y"].Gone)
	}
	if g, gone := life["z"].GoneAt(); !gone || g.Run != "r3" {
		t.Errorf("z: gone=%v at %v; want gone at r3 (its page failed at r1, r2 was incomplete)", gone, g)
	}
	if v := life["y"].Versions(); v != 2 {
		t.Errorf("y has %d versions, want 2", v)
	}
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	type nums struct{ New, Changed, Back, Gone int }
	var got []nums
	for _, r := range runs {
		got = append(got, nums{r.New, r.Changed, r.Back, r.Gone})
	}
	want := []nums{{3, 0, 0, 0}, {0, 0, 0, 1}, {0, 1, 1, 0}, {0, 0, 0, 1}}
	if !slices.Equal(got, want) {
		t.Errorf("runs new/changed/back/gone %v, want %v", got, want)
	}
	// With a gap of three weeks x stays live through the weeks it was
	// not sighted (no gone event between).
	if got := life["x"].Weeks(p, 22*24*time.Hour); !slices.Equal(got, []string{"2026-W45", "2026-W46", "2026-W47", "2026-W48"}) {
		t.Errorf("x with a long gap: %v", got)
	}
	// A period: week 47 only.
	wk, err := census.ParsePeriod("2026-W47", "2026-W47")
	if err != nil {
		t.Fatal(err)
	}
	if life["x"].LiveIn(wk, census.DefaultGap) || !life["y"].LiveIn(wk, census.DefaultGap) {
		t.Errorf("week 47: x live %v (want false), y live %v (want true)", life["x"].LiveIn(wk, census.DefaultGap), life["y"].LiveIn(wk, census.DefaultGap))
	}
}

func TestApplyRefusesRecordsWithoutIDs(t *testing.T) {
	st := mustStore(t)
	for _, r := range []census.Record{
		{Sighting: &ad.Sighting{Arena: "a", Run: "r", At: monday(0)}},
		{RunEnd: &ad.RunEnd{Arena: "a"}},
		{},
	} {
		if err := st.Apply(context.Background(), []census.Record{r}); err == nil {
			t.Errorf("Apply(%+v) = nil, want an error", r)
		}
	}
}

func TestParsePeriod(t *testing.T) {
	loc := census.Stockholm()
	for _, c := range []struct {
		from, to string
		want     census.Period
		bad      bool
	}{
		{from: "2026-W49", to: "2026-W49", want: census.Period{From: time.Date(2026, 11, 30, 0, 0, 0, 0, loc), To: time.Date(2026, 12, 7, 0, 0, 0, 0, loc)}},
		{from: "2026-11", to: "2026-12", want: census.Period{From: time.Date(2026, 11, 1, 0, 0, 0, 0, loc), To: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)}},
		{from: "2026-12-07", want: census.Period{From: time.Date(2026, 12, 7, 0, 0, 0, 0, loc)}},
		{to: "2026", want: census.Period{To: time.Date(2027, 1, 1, 0, 0, 0, 0, loc)}},
		{from: "2021-W01", to: "2021-W01", want: census.Period{From: time.Date(2021, 1, 4, 0, 0, 0, 0, loc), To: time.Date(2021, 1, 11, 0, 0, 0, 0, loc)}},
		{from: "2025-W53", bad: true},
		{from: "2026-W53", to: "2026-W53", want: census.Period{From: time.Date(2026, 12, 28, 0, 0, 0, 0, loc), To: time.Date(2027, 1, 4, 0, 0, 0, 0, loc)}},
		{from: "2026-13", bad: true},
		{from: "2026-02-30", bad: true},
		{from: "yesterday", bad: true},
		{from: "2026-12", to: "2026-11", bad: true},
	} {
		got, err := census.ParsePeriod(c.from, c.to)
		if c.bad {
			if err == nil {
				t.Errorf("ParsePeriod(%q, %q) = %v, want an error", c.from, c.to, got)
			}
			continue
		}
		if err != nil || !got.From.Equal(c.want.From) || !got.To.Equal(c.want.To) {
			t.Errorf("ParsePeriod(%q, %q) = %v, %v; want %v", c.from, c.to, got, err, c.want)
		}
	}
}

// noDocs is an index with no documents.
type noDocs struct{}

func (noDocs) ForEachFact(context.Context, func(*index.Doc) error) error { return nil }
func (noDocs) ForEachDoc(context.Context, func(*index.Doc) error) error  { return nil }

// A run whose adverts dropped by more than half is flagged with the fields
// that came back empty; one whose fields came back empty without a drop
// too; an incomplete one says why.
func TestChangesFlagsBrokenRuns(t *testing.T) {
	ctx := context.Background()
	st := mustStore(t)
	var recs []census.Record
	for i := range 10 {
		recs = append(recs, sight(fmt.Sprint("a", i), "r0", 0, "h"))
	}
	r0 := end("r0", 0, true)
	r0.RunEnd.Sighted, r0.RunEnd.Empty = 10, map[string]int{ad.FieldAge: 5}
	recs = append(recs, r0, sight("a0", "r1", 1, "h"), sight("a1", "r1", 1, "h2"))
	r1 := end("r1", 1, true)
	r1.RunEnd.Sighted, r1.RunEnd.Empty = 2, map[string]int{ad.FieldTitle: 2, ad.FieldAge: 1}
	r2 := end("r2", 2, true)
	r2.RunEnd.Sighted, r2.RunEnd.Empty = 2, map[string]int{ad.FieldTitle: 2, ad.FieldBody: 2}
	r3 := end("r3", 3, false)
	r3.RunEnd.Why = "a listing page failed"
	recs = append(recs, r1, sight("a0", "r2", 2, "h"), sight("a1", "r2", 2, "h2"), r2, r3)
	if err := st.Apply(ctx, recs); err != nil {
		t.Fatal(err)
	}
	ch, err := census.ReportChanges(ctx, noDocs{}, st, monday(1).Add(-time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Flags) != 3 {
		t.Fatalf("flags %+v, want 3", ch.Flags)
	}
	f := ch.Flags[0]
	if f.Run != "r1" || f.Before != 10 || f.Sighted != 2 || len(f.Empty) == 0 || f.Empty[0].Field != ad.FieldTitle || f.Empty[0].Now != 1 {
		t.Errorf("dropped run flag %+v: want r1, 10 → 2, title empty first", f)
	}
	if f := ch.Flags[1]; f.Run != "r2" || len(f.Empty) != 1 || f.Empty[0].Field != ad.FieldBody {
		t.Errorf("emptier run flag %+v: want r2 with body", f)
	}
	if f := ch.Flags[2]; f.Run != "r3" || !strings.Contains(f.Why, "listing") {
		t.Errorf("incomplete run flag %+v", f)
	}
	a := ch.Arenas[0]
	if a.Changed != 1 || a.Gone != 8 || a.Before != 10 || a.Now != 2 || a.Trend != "shrank" {
		t.Errorf("arena %+v: want 1 changed, 8 gone, 10 → 2 (the incomplete run is no measure), shrank", a)
	}
}
