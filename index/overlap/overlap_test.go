package overlap_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/index"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
)

// smallSet: p1 {a}, p2 {a,b} (two adverts on a), p3 {b,c}, p4 {a},
// p5 {a,b,c}, and an unassigned advert x on c (its own person).
func smallSet() overlap.Docs {
	return overlap.Docs{
		{ID: "1", Arena: "a", PersonID: "p1"},
		{ID: "2", Arena: "a", PersonID: "p2"},
		{ID: "3", Arena: "a", PersonID: "p2"},
		{ID: "4", Arena: "b", PersonID: "p2"},
		{ID: "5", Arena: "c", PersonID: "p3"},
		{ID: "6", Arena: "b", PersonID: "p3"},
		{ID: "7", Arena: "a", PersonID: "p4"},
		{ID: "8", Arena: "c", PersonID: "p5"},
		{ID: "9", Arena: "b", PersonID: "p5"},
		{ID: "10", Arena: "a", PersonID: "p5"},
		{ID: "x", Arena: "c"},
	}
}

func MustCompute(tb testing.TB, docs overlap.Docs) *overlap.Overlap {
	tb.Helper()
	o, err := overlap.Compute(context.Background(), docs)
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func TestOverlapSmallSet(t *testing.T) {
	o := MustCompute(t, smallSet())
	want := &overlap.Overlap{
		Arenas:   []string{"a", "b", "c"},
		Persons:  6,
		PerArena: []overlap.ArenaCount{{"a", 4}, {"b", 3}, {"c", 3}},
		Spread:   []overlap.SpreadCount{{1, 3}, {2, 2}, {3, 1}},
		Pairs:    []overlap.PairCount{{"a", "b", 2}, {"a", "c", 1}, {"b", "c", 2}},
		Histories: []overlap.History{
			{[]string{"a"}, 2}, {[]string{"c"}, 1},
			{[]string{"a", "b"}, 1}, {[]string{"b", "c"}, 1},
			{[]string{"a", "b", "c"}, 1},
		},
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("overlap=%+v\nwant    %+v", o, want)
	}
	pats, err := o.Patterns()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pats, map[uint32]int64{0b001: 2, 0b100: 1, 0b011: 1, 0b110: 1, 0b111: 1}; !maps.Equal(got, want) {
		t.Fatalf("patterns=%v, want %v", got, want)
	}
	tab, err := o.Table()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tab.Observed(), int64(6); got != want {
		t.Fatalf("table observed=%d, want %d", got, want)
	}
	if got, want := tab.Count(0b011), int64(1); got != want {
		t.Fatalf("table a+b only=%d, want %d", got, want)
	}
}

func TestOverlapIndependentOfDocumentOrder(t *testing.T) {
	docs := smallSet()
	want := MustCompute(t, docs)
	slices.Reverse(docs)
	if got := MustCompute(t, docs); !reflect.DeepEqual(got, want) {
		t.Fatalf("reversed order: %+v\nwant %+v", got, want)
	}
}

func TestPersonArenas(t *testing.T) {
	c, err := overlap.Collect(context.Background(), smallSet())
	if err != nil {
		t.Fatal(err)
	}
	for person, want := range map[string][]string{
		"p1": {"a"}, "p2": {"a", "b"}, "p5": {"a", "b", "c"}, "ad:x": {"c"}, "nobody": nil,
	} {
		if got := c.PersonArenas(person); !slices.Equal(got, want) {
			t.Errorf("PersonArenas(%q)=%v, want %v", person, got, want)
		}
	}
}

func TestTooFewArenas(t *testing.T) {
	o := MustCompute(t, overlap.Docs{{ID: "1", Arena: "a", PersonID: "p1"}, {ID: "2", Arena: "a", PersonID: "p2"}})
	if _, err := o.Estimate(mse.Options{Replicates: -1}); !errors.Is(err, overlap.ErrTooFewArenas) {
		t.Fatalf("err=%v, want ErrTooFewArenas", err)
	}
	r, err := overlap.NewReport(o, overlap.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Estimate != nil || !strings.Contains(r.EstimateError, "at least 2 arenas") {
		t.Fatalf("estimate=%v error=%q", r.Estimate, r.EstimateError)
	}
	if got, want := len(r.Pairs), 0; got != want {
		t.Fatalf("pairs=%d, want %d", got, want)
	}
}

func TestTooManyArenas(t *testing.T) {
	var docs overlap.Docs
	for i := range mse.MaxLists + 1 {
		docs = append(docs, &index.Doc{ID: fmt.Sprint(i), Arena: fmt.Sprintf("arena%02d", i), PersonID: "p"})
	}
	if _, err := MustCompute(t, docs).Table(); !errors.Is(err, overlap.ErrTooManyArenas) {
		t.Fatalf("err=%v, want ErrTooManyArenas", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := overlap.Compute(ctx, smallSet()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err=%v, want context.Canceled", err)
	}
}

func TestReportSuppression(t *testing.T) {
	r, err := overlap.NewReport(MustCompute(t, smallSet()), overlap.ReportOptions{MinCell: 2, NoEstimate: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Spread []map[string]any `json:"spread"`
		Hist   []map[string]any `json:"histories"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	// p5 alone on all three arenas is a primary cell; with primary
	// suppression only, total − spread 1 − spread 2 would give it away.
	if got.Spread[2]["suppression"] != index.SuppressPrimary {
		t.Fatalf("spread 3 = %v, want primary suppression", got.Spread[2])
	}
	if d := derivable(MustCompute(t, smallSet()), r); len(d) > 0 {
		t.Fatalf("suppressed cells derivable from the visible ones: %v", d)
	}
	for _, h := range got.Hist {
		if h["persons"] == 1.0 {
			t.Fatalf("history cell of 1 not suppressed: %v", h)
		}
	}
	// Zero is not a small cell.
	o := MustCompute(t, overlap.Docs{{ID: "1", Arena: "a", PersonID: "p"}, {ID: "2", Arena: "b", PersonID: "q"}})
	r, err = overlap.NewReport(o, overlap.ReportOptions{MinCell: 5, NoEstimate: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Pairs[0].Cell; c.Suppressed || c.Persons == nil || *c.Persons != 0 {
		t.Fatalf("zero pair cell=%+v, want 0 unsuppressed", c)
	}
	if !r.Persons.Suppressed {
		t.Fatalf("total of 2 not suppressed at min cell 5")
	}
}

func TestReportWithholdsEstimateOfASuppressedTotal(t *testing.T) {
	r, err := overlap.NewReport(MustCompute(t, smallSet()), overlap.ReportOptions{MinCell: 10, MSE: mse.Options{Replicates: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Estimate != nil || !strings.Contains(r.EstimateError, "withheld") {
		t.Fatalf("estimate=%v error=%q", r.Estimate, r.EstimateError)
	}
}

// synthetic draws n persons, each on arena i independently with
// probability p[i], and returns their adverts (persons seen nowhere have
// none), with one to three adverts per arena used.
func synthetic(n int, p []float64, seed uint64) overlap.Docs {
	rng := rand.New(rand.NewPCG(seed, 1))
	var docs overlap.Docs
	for i := range n {
		for a, pa := range p {
			if rng.Float64() < pa {
				for j := range 1 + rng.IntN(3) {
					docs = append(docs, &index.Doc{
						ID: fmt.Sprintf("%d-%d-%d", i, a, j), Arena: fmt.Sprintf("arena%c", 'A'+a), PersonID: fmt.Sprintf("P%d", i),
					})
				}
			}
		}
	}
	return docs
}

func TestEstimateRecoversIndependentPopulation(t *testing.T) {
	const n = 10_000
	for _, tc := range []struct {
		name string
		p    []float64
		crit string
	}{
		{"main effects", []float64{0.3, 0.4, 0.5}, "none"},
		{"aic selection", []float64{0.3, 0.4, 0.5}, "aic"},
		{"low capture", []float64{0.15, 0.2, 0.25}, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := MustCompute(t, synthetic(n, tc.p, 7))
			res, err := o.Estimate(mse.Options{Criterion: tc.crit, Replicates: 200, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := res.Observed, int64(o.Persons); got != want {
				t.Fatalf("observed=%d, want %d", got, want)
			}
			if rel := math.Abs(res.Total-n) / n; rel > 0.04 {
				t.Fatalf("total=%.0f (observed %d), want %d within 4%%: off by %.1f%%", res.Total, res.Observed, n, 100*rel)
			}
			if !(res.CILow <= n && n <= res.CIHigh) {
				t.Errorf("interval %.0f–%.0f misses the true %d", res.CILow, res.CIHigh, n)
			}
		})
	}
}

func TestReportText(t *testing.T) {
	r, err := overlap.NewReport(MustCompute(t, synthetic(2000, []float64{0.3, 0.4, 0.5}, 3)), overlap.ReportOptions{MinCell: 5, MSE: mse.Options{Replicates: -1}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"arenaA + arenaB", "exactly 3 arenas", "estimated total:", "capture history"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

func ExampleOverlap_Estimate() {
	o, _ := overlap.Compute(context.Background(), synthetic(10_000, []float64{0.3, 0.4, 0.5}, 7))
	res, err := o.Estimate(mse.Options{Criterion: "none", Replicates: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("observed %d, estimated total within 4%% of 10000: %v\n", res.Observed, math.Abs(res.Total-10_000) < 400)
	// Output:
	// observed 7946, estimated total within 4% of 10000: true
}

// reportCells lists every count of a report as a sum of capture histories
// (indexes into r.Histories), with its name and cell.
func reportCells(r *overlap.Report) (names []string, sums [][]int, cells []overlap.Cell) {
	has := func(h overlap.ReportHistory, a string) bool { return slices.Contains(h.Arenas, a) }
	add := func(name string, c overlap.Cell, keep func(h overlap.ReportHistory) bool) {
		var sum []int
		for i, h := range r.Histories {
			if keep(h) {
				sum = append(sum, i)
			}
		}
		names, sums, cells = append(names, name), append(sums, sum), append(cells, c)
	}
	for _, h := range r.Histories {
		add("history "+strings.Join(h.Arenas, "+"), h.Cell, func(o overlap.ReportHistory) bool { return slices.Equal(o.Arenas, h.Arenas) })
	}
	for _, a := range r.Arenas {
		add("arena "+a.Arena, a.Cell, func(h overlap.ReportHistory) bool { return has(h, a.Arena) })
	}
	for _, sp := range r.Spread {
		add(fmt.Sprintf("spread %d", sp.Arenas), sp.Cell, func(h overlap.ReportHistory) bool { return len(h.Arenas) == sp.Arenas })
	}
	for _, p := range r.Pairs {
		add("pair "+p.A+"+"+p.B, p.Cell, func(h overlap.ReportHistory) bool { return has(h, p.A) && has(h, p.B) })
	}
	add("total", r.Persons, func(overlap.ReportHistory) bool { return true })
	return names, sums, cells
}

// derivable attacks r: it enumerates every assignment of counts (at least
// 1, at most o.Persons) to the withheld histories that agrees with every
// visible count, and returns the names of the withheld counts that take
// one value only.
func derivable(o *overlap.Overlap, r *overlap.Report) []string {
	names, sums, cells := reportCells(r)
	vals := make([]int, len(r.Histories))
	var unknown []int
	for i, h := range r.Histories {
		if h.Persons != nil {
			vals[i] = *h.Persons
		} else {
			unknown = append(unknown, i)
		}
	}
	seen := make([]map[int]bool, len(names))
	for i := range seen {
		seen[i] = map[int]bool{}
	}
	var try func(k int)
	try = func(k int) {
		if k == len(unknown) {
			total := make([]int, len(sums))
			for j, sum := range sums {
				for _, i := range sum {
					total[j] += vals[i]
				}
				if c := cells[j]; c.Persons != nil && *c.Persons != total[j] {
					return
				}
			}
			for j := range sums {
				seen[j][total[j]] = true
			}
			return
		}
		for v := 1; v <= o.Persons; v++ {
			vals[unknown[k]] = v
			try(k + 1)
		}
	}
	try(0)
	var out []string
	for j, c := range cells {
		if c.Suppressed && len(seen[j]) < 2 {
			out = append(out, fmt.Sprintf("%s = %v", names[j], slices.Sorted(maps.Keys(seen[j]))))
		}
	}
	return out
}

// A table where primary suppression alone is undone by subtraction: the
// one person on both arenas is arena a's total minus the persons on a
// only. Secondary suppression must withhold more, and nothing withheld may
// be derivable.
func TestReportSecondarySuppression(t *testing.T) {
	var docs overlap.Docs
	person := func(id string, arenas ...string) {
		for _, a := range arenas {
			docs = append(docs, &index.Doc{ID: id + a, Arena: a, PersonID: id})
		}
	}
	for i := range 6 {
		person(fmt.Sprintf("a%d", i), "a")
	}
	for i := range 5 {
		person(fmt.Sprintf("b%d", i), "b")
	}
	for i := range 3 {
		person(fmt.Sprintf("c%d", i), "c")
	}
	person("ab", "a", "b")
	for i := range 5 {
		person(fmt.Sprintf("bc%d", i), "b", "c")
	}
	o := MustCompute(t, docs)
	r, err := overlap.NewReport(o, overlap.ReportOptions{MinCell: 5, NoEstimate: true})
	if err != nil {
		t.Fatal(err)
	}
	// Primary only: the a+b history (1) and the c history (3), the a+b
	// pair (1) are withheld; arena a (7) − history a (6) gives a+b.
	names, _, cells := reportCells(r)
	var primary []string
	exact := map[string]int{}
	for i, h := range o.Histories {
		exact[names[i]] = h.Persons
	}
	for j, c := range cells {
		if c.Suppression == index.SuppressPrimary {
			primary = append(primary, names[j])
		}
	}
	slices.Sort(primary)
	if want := []string{"history a+b", "history c", "pair a+b", "pair a+c"}; !slices.Equal(primary, want) {
		// pair a+c is 0 and so never suppressed; keep the list honest.
		if want := []string{"history a+b", "history c", "pair a+b"}; !slices.Equal(primary, want) {
			t.Fatalf("primary cells %v, want %v", primary, want)
		}
	}
	weak := &overlap.Report{Histories: slices.Clone(r.Histories), Arenas: slices.Clone(r.Arenas), Spread: slices.Clone(r.Spread),
		Pairs: slices.Clone(r.Pairs), Persons: r.Persons}
	unsuppress := func(c *overlap.Cell, n int) {
		if c.Suppression == index.SuppressSecondary {
			*c = overlap.Cell{Persons: &n}
		}
	}
	for i := range weak.Histories {
		unsuppress(&weak.Histories[i].Cell, o.Histories[i].Persons)
	}
	for i := range weak.Arenas {
		unsuppress(&weak.Arenas[i].Cell, o.PerArena[i].Persons)
	}
	for i := range weak.Spread {
		unsuppress(&weak.Spread[i].Cell, o.Spread[i].Persons)
	}
	for i := range weak.Pairs {
		unsuppress(&weak.Pairs[i].Cell, o.Pairs[i].Persons)
	}
	unsuppress(&weak.Persons, o.Persons)
	if d := derivable(o, weak); len(d) == 0 {
		t.Fatalf("primary suppression alone is not attackable here; the test proves nothing")
	}
	secondary := 0
	for _, c := range cells {
		if c.Suppression == index.SuppressSecondary {
			secondary++
		}
	}
	if secondary == 0 {
		t.Fatalf("no secondary suppression")
	}
	if d := derivable(o, r); len(d) > 0 {
		t.Fatalf("suppressed cells derivable from the visible ones: %v", d)
	}
	// Visible counts are exact.
	for j, c := range cells {
		if n, ok := exact[names[j]]; ok && c.Persons != nil && *c.Persons != n {
			t.Fatalf("%s = %d, want %d", names[j], *c.Persons, n)
		}
	}
}
