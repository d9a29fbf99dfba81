package overlap_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"adcensus/index"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
)

// factDocs is a Docs that also has a fact walk, counting its use.
type factDocs struct {
	overlap.Docs
	facts int
}

func (f *factDocs) ForEachFact(ctx context.Context, fn func(*index.Doc) error) error {
	f.facts++
	return f.Docs.ForEachDoc(ctx, fn)
}

// OnArenas keeps the adverts of the arenas asked, through the source's
// fact walk when it has one; none asked keeps every advert.
func TestOnArenas(t *testing.T) {
	src := &factDocs{Docs: overlap.Docs{
		{ID: "1", Arena: "a", PersonID: "p1"}, {ID: "2", Arena: "b", PersonID: "p1"},
		{ID: "3", Arena: "c", PersonID: "p2"}, {ID: "4", Arena: "b", PersonID: "p3"}, {ID: "5", PersonID: "p4"},
	}}
	o, err := overlap.Compute(context.Background(), overlap.OnArenas(src, []string{"a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if o.Persons != 2 || len(o.Arenas) != 2 || o.Pairs[0].Persons != 1 || src.facts != 1 {
		t.Fatalf("a, b: %+v (fact walks %d)", o, src.facts)
	}
	o, err = overlap.Compute(context.Background(), overlap.OnArenas(src, []string{index.Unknown}))
	if err != nil || o.Persons != 1 {
		t.Fatalf("unknown arena: %+v %v", o, err)
	}
	if overlap.OnArenas(src, nil) != overlap.DocSource(src) {
		t.Fatal("no arenas: not the source itself")
	}
}

// DrawTable merges the persons joined in a replicate (their arenas
// united) and takes the residual from the cells in proportion.
func TestDrawTable(t *testing.T) {
	lists := []string{"a", "b"}
	// persons 0 (a), 1 (b), 2 (a), 3 (a+b); 1 is joined into 0.
	masks := []uint32{1, 2, 1, 3}
	find := func(i int) int {
		if i == 1 {
			return 0
		}
		return i
	}
	tb, err := overlap.DrawTable(lists, masks, find, 0)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Count(1) != 1 || tb.Count(2) != 0 || tb.Count(3) != 2 || tb.Observed() != 3 {
		t.Fatalf("joined: a %d, b %d, ab %d", tb.Count(1), tb.Count(2), tb.Count(3))
	}
	// 100 persons on a, 100 on b, 50 on both; remove 25 (10 %).
	masks = nil
	for range 100 {
		masks = append(masks, 1, 2)
	}
	for range 50 {
		masks = append(masks, 3)
	}
	tb, err = overlap.DrawTable(lists, masks, func(i int) int { return i }, 25)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Count(1) != 90 || tb.Count(2) != 90 || tb.Count(3) != 45 {
		t.Fatalf("residual: a %d, b %d, ab %d", tb.Count(1), tb.Count(2), tb.Count(3))
	}
}

// Combine widens the bootstrap interval by the de-duplication's spread,
// each side on the log scale; with no spread it is the bootstrap's
// interval around the redrawn median; too few draws or no interval give
// nothing.
func TestCombine(t *testing.T) {
	res := &mse.Result{Total: 100, CILow: 90, CIHigh: 120, Level: 0.95, Replicates: 1000}
	same := make([]float64, 50)
	for i := range same {
		same[i] = 100
	}
	c := overlap.Combine(res, same, 0)
	if c == nil || math.Abs(c.Low-90) > 1e-9 || math.Abs(c.High-120) > 1e-9 || c.Total != 100 {
		t.Fatalf("no spread: %+v", c)
	}
	spread := make([]float64, 101)
	for i := range spread {
		spread[i] = 80 + 0.4*float64(i) // 80 … 120, median 100
	}
	c = overlap.Combine(res, spread, 3)
	if c == nil || c.Total != 100 || c.Failed != 3 || c.Replicates != 101 {
		t.Fatalf("spread: %+v", c)
	}
	z := 1.959963984540054 / 1.6448536269514722
	wantLow := 100 * math.Exp(-math.Hypot(math.Log(100.0/90), z*math.Log(100/c.DedupLow)))
	wantHigh := 100 * math.Exp(math.Hypot(math.Log(120.0/100), z*math.Log(c.DedupHigh/100)))
	if math.Abs(c.Low-wantLow) > 1e-6 || math.Abs(c.High-wantHigh) > 1e-6 || c.Low >= 90 || c.High <= 120 {
		t.Fatalf("spread: %v–%v, want %v–%v", c.Low, c.High, wantLow, wantHigh)
	}
	if overlap.Combine(res, same[:19], 0) != nil {
		t.Fatal("19 draws combined")
	}
	if overlap.Combine(&mse.Result{Total: 100, CILow: 100, CIHigh: 100, Replicates: -1}, same, 0) != nil {
		t.Fatal("combined without a bootstrap interval")
	}
}

// The report's CSV holds the persons seen with their interval, the
// estimate, the combined estimate and the provenance, one table.
func TestReportCSVSeen(t *testing.T) {
	o := overlap.NewCollector()
	n := 0
	add := func(persons int, arenas ...string) {
		for range persons {
			n++
			for _, a := range arenas {
				o.Add(&index.Doc{ID: fmt.Sprintf("%d%s", n, a), Arena: a, PersonID: fmt.Sprintf("p%d", n)})
			}
		}
	}
	add(20, "a")
	add(15, "b")
	add(10, "a", "b")
	ov := o.Overlap()
	seen := &index.Seen{Persons: ov.Persons, Estimate: 44.5, Low: 40, High: 47, Level: 0.9, Method: "m", Calibration: "c"}
	rep, err := overlap.NewReport(ov, overlap.ReportOptions{MSE: mse.Options{Replicates: 50}, Seen: seen,
		Provenance: map[string]any{"adcensus_version": "=1", "period": map[string]any{"basis": "seen"}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seen != seen {
		t.Fatal("seen not attached")
	}
	var buf bytes.Buffer
	if err := rep.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"section,arenas,persons,estimate,ci_low,ci_high,note\n",
		"\nseen,*,45,44.5,40,47,level 0.9; m; calibration: c\n",
		"\nprovenance,adcensus_version,,,,,'=1\n",
		`provenance,period,,,,,"{""basis"":""seen""}"`,
		"\nprovenance,estimate,",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("csv lacks %q:\n%s", want, out)
		}
	}
	// A seen of other persons is not put beside the total.
	other := *seen
	other.Persons++
	rep, err = overlap.NewReport(ov, overlap.ReportOptions{NoEstimate: true, Seen: &other})
	if err != nil || rep.Seen != nil {
		t.Fatalf("seen of %d persons beside a total of %d: %v", other.Persons, ov.Persons, err)
	}
}

// A report of a subset of the arenas is suppressed jointly with the
// report of all of them: the persons seen on a or b, subtracted from the
// total of all arenas, would give the 2 persons seen only on c, which
// the whole report withholds.
func TestReportWithinSuppression(t *testing.T) {
	build := func(c int) (*overlap.Overlap, *overlap.Overlap) {
		col, sub := overlap.NewCollector(), overlap.NewCollector()
		n := 0
		add := func(persons int, arenas ...string) {
			for range persons {
				n++
				for _, a := range arenas {
					d := &index.Doc{ID: fmt.Sprintf("%d%s", n, a), Arena: a, PersonID: fmt.Sprintf("p%d", n)}
					col.Add(d)
					if a != "c" {
						sub.Add(d)
					}
				}
			}
		}
		add(10, "a")
		add(10, "b")
		add(10, "a", "b")
		add(8, "a", "c")
		add(c, "c")
		return sub.Overlap(), col.Overlap()
	}
	sub, full := build(2)
	whole, err := overlap.NewReport(full, overlap.ReportOptions{MinCell: 5, NoEstimate: true})
	if err != nil {
		t.Fatal(err)
	}
	if whole.Persons.Suppressed || whole.Histories[2].Arenas[0] != "c" || !whole.Histories[2].Suppressed {
		t.Fatalf("whole report: total %v, histories %+v", whole.Persons, whole.Histories)
	}
	alone, err := overlap.NewReport(sub, overlap.ReportOptions{MinCell: 5, NoEstimate: true})
	if err != nil || alone.Persons.Suppressed || *whole.Persons.Persons-*alone.Persons.Persons != 2 {
		t.Fatalf("without Within the subset's total gives the withheld cell away: %v", err)
	}
	rep, err := overlap.NewReport(sub, overlap.ReportOptions{MinCell: 5, NoEstimate: true, Within: full})
	if err == nil {
		if !rep.Persons.Suppressed {
			t.Fatalf("the subset's total %v shown beside the whole's %v", rep.Persons, whole.Persons)
		}
		t.Logf("subset report: total %v, arenas %+v", rep.Persons, rep.Arenas)
	} else if !errors.Is(err, overlap.ErrDisclosive) {
		t.Fatal(err)
	} else {
		t.Logf("subset refused: %v", err)
	}
	// With 20 persons only on c, nothing needs hiding.
	sub, full = build(20)
	rep, err = overlap.NewReport(sub, overlap.ReportOptions{MinCell: 5, NoEstimate: true, Within: full})
	if err != nil || rep.Persons.Suppressed || *rep.Persons.Persons != 38 {
		t.Fatalf("large cells: %v %+v", err, rep)
	}
}
