package mse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataDir holds the published tables: $ADCENSUS_MSE_DATA, else shared/
// next to the repository's checkout (/work/main and /work/shared), which
// is ../../../../shared from this package. (It was ../../../shared, inside
// the checkout, where there is none: the tests on the shipped tables were
// all skipped.)
var dataDir = func() string {
	if d := os.Getenv("ADCENSUS_MSE_DATA"); d != "" {
		return d
	}
	return "../../../../shared/data/mse/"
}()

func loadShipped(t testing.TB, name string) *Table {
	t.Helper()
	fh, err := os.Open(filepath.Join(dataDir, name))
	if err != nil {
		t.Skipf("published MSE table %s not available (%v); expected at %s relative to internal/stats/mse", name, err, dataDir)
	}
	defer fh.Close()
	tb, err := ReadTable(fh)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return tb
}

func shippedNames(t *testing.T) []string {
	files, _ := filepath.Glob(filepath.Join(dataDir, "*.csv"))
	if len(files) == 0 {
		t.Skipf("no published MSE tables under %s (shared/data/mse missing)", dataDir)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	return names
}

func TestReadShippedTables(t *testing.T) {
	want := map[string]struct {
		lists    int
		observed int64
	}{
		"UKdat.csv": {6, 2744}, "UKdat_5.csv": {5, 2744},
		"Ned.csv": {6, 8234}, "Ned_5.csv": {5, 8234},
		"NewOrl.csv": {8, 185}, "NewOrl_5.csv": {5, 185},
		"Western.csv": {5, 345},
	}
	for _, name := range shippedNames(t) {
		tb := loadShipped(t, name)
		w, ok := want[name]
		if !ok {
			continue
		}
		if tb.NumLists() != w.lists || tb.Observed() != w.observed {
			t.Errorf("%s: %d lists, %d observed; want %d, %d", name, tb.NumLists(), tb.Observed(), w.lists, w.observed)
		}
	}
	tb := loadShipped(t, "UKdat_5.csv")
	if got := tb.Count(0b00101); got != 19 { // LA and PFNCA
		t.Errorf("UKdat_5 LA+PFNCA = %d, want 19", got)
	}
	if strings.Join(tb.Lists, ",") != "LA,NG,PFNCA,GO,GP" || tb.CountName != "count" {
		t.Errorf("header: %v %q", tb.Lists, tb.CountName)
	}
}

// The Home Office estimate (Silverman 2014) for the 5-list UK data is 11,313,
// "10,000 to 13,000".
func TestUK5Published(t *testing.T) {
	tb := loadShipped(t, "UKdat_5.csv")
	r, err := Estimate(tb, Options{Criterion: "aic", Bootstrap: "parametric", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total < 10000 || r.Total > 13000 {
		t.Fatalf("total %.1f outside 10,000–13,000", r.Total)
	}
	if math.Abs(r.Total-11313) > 1 {
		t.Errorf("total %.2f; the AIC-stepwise model reproduces the published 11,313", r.Total)
	}
	if r.Observed != 2744 || math.Abs(float64(r.Observed)+r.Hidden-r.Total) > 1e-6 {
		t.Errorf("observed %d hidden %.1f total %.1f", r.Observed, r.Hidden, r.Total)
	}
	wantInter := "LA:NG,NG:GP,PFNCA:GP,LA:PFNCA,GO:GP,NG:GO"
	if got := strings.Join(r.Interactions, ","); got != wantInter {
		t.Errorf("interactions %s, want %s", got, wantInter)
	}
	for _, iv := range []Interval{{r.CILow, r.CIHigh, "bootstrap"}, *r.Profile, *r.Wald} {
		if !(iv.Low < r.Total && r.Total < iv.High) || iv.Low < 9000 || iv.High > 15000 {
			t.Errorf("%s interval %.0f–%.0f implausible around %.0f", iv.Method, iv.Low, iv.High, r.Total)
		}
	}
	if r.Replicates+r.FailedReplicates != 1000 {
		t.Errorf("replicates %d + %d", r.Replicates, r.FailedReplicates)
	}
	if !hasWarning(r, "interaction LA:GP not considered: no overlap") {
		t.Errorf("missing no-overlap warning: %q", r.Warnings)
	}
	// The SparseMSE p-value rule (threshold 0.02) picks the same model.
	rp, err := Estimate(tb, Options{Criterion: "pvalue", Replicates: -1, NoProfile: true})
	if err != nil || math.Abs(rp.Total-r.Total) > 1e-6 {
		t.Errorf("pvalue: %v %v", rp.Total, err)
	}
}

func hasWarning(r *Result, s string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, s) {
			return true
		}
	}
	return false
}

func checkFinite(t *testing.T, label string, r *Result) {
	t.Helper()
	vals := []float64{r.Hidden, r.Total, r.CILow, r.CIHigh, r.LogLik, r.Deviance, r.AIC, r.BIC}
	for _, c := range r.Coefficients {
		vals = append(vals, c.Estimate, c.SE)
	}
	for _, iv := range []*Interval{r.Profile, r.Wald} {
		if iv != nil {
			vals = append(vals, iv.Low, iv.High)
		}
	}
	for i, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s: value %d is %v", label, i, v)
		}
	}
	if r.Hidden < 0 || r.Total < float64(r.Observed) || r.CILow > r.CIHigh {
		t.Errorf("%s: hidden %v total %v CI %v–%v", label, r.Hidden, r.Total, r.CILow, r.CIHigh)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("%s: JSON: %v", label, err)
	}
	if err := r.WriteText(&bytes.Buffer{}); err != nil {
		t.Errorf("%s: WriteText: %v", label, err)
	}
}

// Every shipped table gives a finite estimate, or an ErrNotIdentifiable error,
// under every criterion and every bootstrap (few replicates: the BCa
// bootstrap selects the model again on each, with the LP check per
// candidate).
func TestAllShippedFiniteOrNotIdentifiable(t *testing.T) {
	for _, name := range shippedNames(t) {
		tb := loadShipped(t, name)
		for _, crit := range []string{"aic", "bic", "pvalue", "none"} {
			for _, o := range []Options{
				{Bootstrap: "parametric", Replicates: 100},
				{Bootstrap: "parametric", Reselect: true, Replicates: 10},
				{Bootstrap: "bca", Replicates: 10},
			} {
				if o.Bootstrap == "bca" && (crit == "aic" || crit == "bic") {
					continue // AIC re-selection per replicate is the slow case; covered by the parametric re-selection
				}
				o.Criterion, o.Seed = crit, 7
				label := fmt.Sprintf("%s/%s/%s/reselect=%v", name, crit, o.Bootstrap, o.Reselect)
				r, err := Estimate(tb, o)
				if err != nil {
					if !errors.Is(err, ErrNotIdentifiable) {
						t.Errorf("%s: %v", label, err)
					}
					continue
				}
				checkFinite(t, label, r)
				if r.Replicates < o.Replicates*9/10 {
					t.Errorf("%s: only %d of %d replicates succeeded", label, r.Replicates, o.Replicates)
				}
			}
		}
	}
}

// expectedTable is the table of expected counts (rounded) of an independent
// model with population N and capture probabilities p.
func expectedTable(t *testing.T, N float64, p []float64) *Table {
	t.Helper()
	k := len(p)
	counts := map[uint32]int64{}
	names := make([]string, k)
	for i := range names {
		names[i] = string(rune('A' + i))
	}
	for c := uint32(1); c < 1<<k; c++ {
		pr := 1.0
		for i := 0; i < k; i++ {
			if c&(1<<i) != 0 {
				pr *= p[i]
			} else {
				pr *= 1 - p[i]
			}
		}
		counts[c] = int64(math.Round(N * pr))
	}
	tb, err := NewTable(names, counts)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestSyntheticIndependent(t *testing.T) {
	tb := expectedTable(t, 10000, []float64{0.3, 0.4, 0.5})
	for _, crit := range []string{"none", "aic", "bic", "pvalue"} {
		r, err := Estimate(tb, Options{Criterion: crit, Replicates: 200})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Total-10000)/10000 > 0.01 {
			t.Errorf("%s: total %.1f, want 10000 ± 1%%", crit, r.Total)
		}
		if len(r.Interactions) != 0 {
			t.Errorf("%s: selected %v for an independent table", crit, r.Interactions)
		}
		if !(r.CILow < 10000 && 10000 < r.CIHigh) || !(r.Profile.Low < 10000 && 10000 < r.Profile.High) {
			t.Errorf("%s: intervals %v–%v, %+v miss 10000", crit, r.CILow, r.CIHigh, r.Profile)
		}
	}
}

// With expected counts of a model with an A:B interaction, the fixed model
// recovers N, and the main-effects model does not.
func TestSyntheticInteraction(t *testing.T) {
	const N = 50000
	p := []float64{0.2, 0.1, 0.15, 0.25}
	// log mu_c = log N0 + sum log odds + gamma*[A and B]; normalise so the
	// expected total over all 16 cells is N.
	const gamma = 1.0
	w := make([]float64, 16)
	sum := 0.0
	for c := 0; c < 16; c++ {
		v := 1.0
		for i := 0; i < 4; i++ {
			if c&(1<<i) != 0 {
				v *= p[i] / (1 - p[i])
			}
		}
		if c&3 == 3 {
			v *= math.Exp(gamma)
		}
		w[c] = v
		sum += v
	}
	counts := map[uint32]int64{}
	for c := 1; c < 16; c++ {
		counts[uint32(c)] = int64(math.Round(N * w[c] / sum))
	}
	tb, err := NewTable([]string{"A", "B", "C", "D"}, counts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(tb, Options{Interactions: []string{"A:B"}, Replicates: 100})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Total-N)/N > 0.01 {
		t.Errorf("fixed A:B: total %.0f, want %d ± 1%%", r.Total, N)
	}
	if r.Criterion != "fixed" || strings.Join(r.Interactions, ",") != "A:B" {
		t.Errorf("criterion %s interactions %v", r.Criterion, r.Interactions)
	}
	r, err = Estimate(tb, Options{Criterion: "aic", Replicates: -1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Total-N)/N > 0.01 || len(r.Interactions) == 0 || r.Interactions[0] != "A:B" {
		t.Errorf("aic: total %.0f, interactions %v", r.Total, r.Interactions)
	}
	main, _ := Estimate(tb, Options{Criterion: "none", Replicates: -1})
	if math.Abs(main.Total-N)/N < 0.05 {
		t.Errorf("main-effects total %.0f should be biased for this table", main.Total)
	}
}

// Two lists: the model is the Lincoln–Petersen estimator n_A n_B / n_AB.
func TestTwoListsLincolnPetersen(t *testing.T) {
	tb, err := NewTable([]string{"A", "B"}, map[uint32]int64{1: 60, 2: 40, 3: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, crit := range []string{"pvalue", "aic"} {
		r, err := Estimate(tb, Options{Criterion: crit, Replicates: 200})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Total-80.0*60/20) > 1e-6 {
			t.Errorf("%s: total %v, want 240", crit, r.Total)
		}
		// AIC tries every pair; the p-value rule only those whose overlap
		// is surprising (here it is fitted exactly).
		if crit == "aic" && !hasWarning(r, "A:B not considered: not identifiable") {
			t.Errorf("warnings %q", r.Warnings)
		}
		checkFinite(t, "two lists", r)
	}
}

func TestNotIdentifiable(t *testing.T) {
	cases := []struct {
		name   string
		lists  []string
		counts map[uint32]int64
		want   string
	}{
		{"no overlap", []string{"A", "B"}, map[uint32]int64{1: 10, 2: 5}, "main-effects model"},
		{"one list holds everyone", []string{"A", "B", "C"}, map[uint32]int64{1: 10, 3: 5, 5: 2}, "every observed person is on list A"},
		{"one live list", []string{"A", "B", "C"}, map[uint32]int64{2: 10}, "fewer than 2 lists"},
	}
	for _, c := range cases {
		tb, err := NewTable(c.lists, c.counts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Estimate(tb, Options{})
		if !errors.Is(err, ErrNotIdentifiable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want ErrNotIdentifiable mentioning %q", c.name, err, c.want)
		}
	}
}

// A list no one is on is left out, and the estimate equals that of the table
// without it.
func TestEmptyListLeftOut(t *testing.T) {
	a, _ := NewTable([]string{"A", "B", "C"}, map[uint32]int64{1: 100, 2: 80, 4: 60, 3: 20, 5: 15, 6: 10, 7: 3})
	b, _ := NewTable([]string{"A", "B", "X", "C"}, map[uint32]int64{1: 100, 2: 80, 8: 60, 3: 20, 9: 15, 10: 10, 11: 3})
	ra, err := Estimate(a, Options{Replicates: 100})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Estimate(b, Options{Replicates: 100})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ra.Total-rb.Total) > 1e-6*ra.Total || math.Abs(ra.CILow-rb.CILow) > 1e-6*ra.Total {
		t.Errorf("totals %v vs %v, CI %v vs %v", ra.Total, rb.Total, ra.CILow, rb.CILow)
	}
	if !hasWarning(rb, "list X has no one on it") {
		t.Errorf("warnings %q", rb.Warnings)
	}
}

// A saturated 3-list model with an empty ABC cell has no finite MLE; the
// interaction blamed for the divergence is dropped with a warning.
func TestDivergentInteractionDropped(t *testing.T) {
	tb, _ := NewTable([]string{"A", "B", "C"}, map[uint32]int64{1: 50, 2: 40, 4: 30, 3: 8, 5: 6, 6: 7})
	r, err := Estimate(tb, Options{Interactions: []string{"A:B", "A:C", "B:C"}, Replicates: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(r, "MLE does not exist") || len(r.Interactions) != 2 {
		t.Errorf("interactions %v warnings %q", r.Interactions, r.Warnings)
	}
	checkFinite(t, "divergent", r)
	// Stepwise never adds the third one, for the same reason.
	r, err = Estimate(tb, Options{Criterion: "aic", MinImprovement: -1e9, Replicates: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Interactions) != 2 || !hasWarning(r, "not considered: MLE does not exist") {
		t.Errorf("forced stepwise: %v %q", r.Interactions, r.Warnings)
	}
	// A fixed interaction without overlap is fitted at its extended MLE
	// (-Inf: the cells with both lists are structural zeros), as in
	// SparseMSE's modelfit, and flagged as a boundary fit.
	tb, _ = NewTable([]string{"A", "B", "C"}, map[uint32]int64{1: 50, 2: 40, 4: 30, 5: 6, 6: 7})
	r, err = Estimate(tb, Options{Interactions: []string{"A:B"}, Replicates: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(r, "boundary fit: interaction A:B is at its extended MLE") || strings.Join(r.EmptyOverlaps, ",") != "A:B" || strings.Join(r.Interactions, ",") != "A:B" {
		t.Errorf("%v %v %q", r.Interactions, r.EmptyOverlaps, r.Warnings)
	}
	checkFinite(t, "empty overlap", r)
	// Without A:B the total is larger: the fitted A∧B cells (count 0) hold
	// persons the extended MLE puts at zero.
	r0, err := Estimate(tb, Options{Criterion: "none", Replicates: -1})
	if err != nil || !(r0.Total > r.Total) {
		t.Errorf("main effects %v vs extended %v (%v)", r0.Total, r.Total, err)
	}
}

func TestOptionsErrors(t *testing.T) {
	tb, _ := NewTable([]string{"A", "B", "C"}, map[uint32]int64{1: 50, 2: 40, 4: 30, 3: 8})
	for _, o := range []Options{{Criterion: "cp"}, {Level: 1.5}, {Interactions: []string{"A:Q"}}, {Interactions: []string{"AB"}}, {Interactions: []string{"A:A"}}} {
		if _, err := Estimate(tb, o); err == nil || errors.Is(err, ErrNotIdentifiable) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
}

func TestBootstrapDeterministic(t *testing.T) {
	tb := loadShipped(t, "Western.csv")
	a, _ := Estimate(tb, Options{Seed: 42, Workers: 1, NoProfile: true, Replicates: 200})
	b, _ := Estimate(tb, Options{Seed: 42, Workers: 4, NoProfile: true, Replicates: 200})
	c, _ := Estimate(tb, Options{Seed: 43, NoProfile: true, Replicates: 200})
	if a.CILow != b.CILow || a.CIHigh != b.CIHigh {
		t.Errorf("same seed, different workers: %v–%v vs %v–%v", a.CILow, a.CIHigh, b.CILow, b.CIHigh)
	}
	if a.CILow == c.CILow && a.CIHigh == c.CIHigh {
		t.Errorf("different seeds gave identical intervals")
	}
}

func TestWriteTextAndJSON(t *testing.T) {
	tb := loadShipped(t, "UKdat_5.csv")
	r, err := Estimate(tb, Options{Replicates: 100})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"observed persons:", "2744", "estimated total:", "11313", "profile likelihood", "LA:NG", "warnings:"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, buf.String())
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"observed":2744`, `"ci_low":`, `"interactions":["LA:NG"`, `"profile_ci":{`} {
		if !bytes.Contains(js, []byte(s)) {
			t.Errorf("JSON lacks %s: %s", s, js)
		}
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"empty", "", 0, 0, "empty input"},
		{"one list", "A,n\n1,5\n", 1, 0, "at least 2 list columns"},
		{"too many lists", strings.Repeat("L,", 21) + "n\n", 1, 0, "at most 20"},
		{"dup name", "A,A,n\n", 1, 2, "duplicate column name"},
		{"empty name", "A,,n\n", 1, 2, "empty column name"},
		{"not 0/1", "A,B,n\n1,0,3\n0,2,4\n", 3, 2, `value "2" is not 0 or 1`},
		{"negative", "A,B,n\n1,0,-3\n", 2, 3, "negative count -3"},
		{"fraction", "A,B,n\n1,0,2.5\n", 2, 3, `count "2.5" is not an integer`},
		{"float int", "A,B,n\n1,0,2.0\n", 2, 3, "plain integer"},
		{"word", "A,B,n\n1,0,many\n", 2, 3, "not a non-negative integer"},
		{"20 digits", "A,B,n\n1,0,12345678901234567890\n", 2, 3, "count 12345678901234567890 is too large (at most 9223372036854775807)"},
		{"huge float", "A,B,n\n1,0,1e30\n", 2, 3, "too large"},
		{"semicolons", "A;B;n\n1;0;3\n", 1, 0, "separated by semicolons: the file must be comma-separated"},
		{"tabs", "A\tB\tn\n1\t0\t3\n", 1, 0, "separated by tabs"},
		{"empty count", "A,B,n\n1,0,\n", 2, 3, "empty count"},
		{"columns", "A,B,n\n1,0,3\n1,1\n", 3, 0, "has 2 columns; the header has 3"},
		{"duplicate", "A,B,n\n1,0,3\n0,1,2\n\n1,0,4\n", 5, 0, "duplicate pattern 1,0 (first given on line 2)"},
		{"all zero", "A,B,n\n0,0,3\n", 2, 0, "all-zero pattern"},
		{"nobody", "A,B,n\n1,0,0\n", 0, 0, "no observed persons"},
		{"quote", "A,B,n\n1,\"0,3\n", 2, 0, "CSV syntax"},
	}
	for _, c := range cases {
		_, err := ReadTable(strings.NewReader(c.in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want *ParseError", c.name, err)
			continue
		}
		if !strings.Contains(pe.Error(), c.msg) || pe.Line != c.line || (c.col != 0 && pe.Column != c.col) {
			t.Errorf("%s: got %q (line %d col %d), want line %d col %d %q", c.name, pe.Error(), pe.Line, pe.Column, c.line, c.col, c.msg)
		}
	}
	// The column is named in the message.
	_, err := ReadTable(strings.NewReader("LA,NG,count\n1,x,3\n"))
	if err == nil || err.Error() != `mse: line 2, column 2 (NG): value "x" is not 0 or 1` {
		t.Errorf("message: %v", err)
	}
	// Spaces, BOM and an explicit zero count are accepted.
	tb, err := ReadTable(strings.NewReader("\ufeffA, B ,n\n1, 0, 3\n0,1,0\n1,1,2\n"))
	if err != nil || tb.Lists[0] != "A" || tb.Lists[1] != "B" || tb.Observed() != 5 {
		t.Errorf("lenient parse: %v %+v", err, tb)
	}
}

func TestNewTableErrors(t *testing.T) {
	bad := []struct {
		lists  []string
		counts map[uint32]int64
	}{
		{[]string{"A"}, map[uint32]int64{1: 1}},
		{[]string{"A", "A"}, map[uint32]int64{1: 1}},
		{[]string{"A", "B"}, map[uint32]int64{0: 1}},
		{[]string{"A", "B"}, map[uint32]int64{4: 1}},
		{[]string{"A", "B"}, map[uint32]int64{1: -1}},
		{[]string{"A", "B"}, map[uint32]int64{}},
	}
	for _, b := range bad {
		if _, err := NewTable(b.lists, b.counts); err == nil {
			t.Errorf("NewTable(%v, %v) accepted", b.lists, b.counts)
		}
	}
}

func TestSpecialFunctions(t *testing.T) {
	if got, want := poissonLE(2, 1), math.Exp(-1)*2.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("P(X<=2; 1) = %v, want %v", got, want)
	}
	if got, want := poissonGE(1, 3), 1-math.Exp(-3); math.Abs(got-want) > 1e-12 {
		t.Errorf("P(X>=1; 3) = %v, want %v", got, want)
	}
	if got := poissonLE(120, 100) + poissonGE(121, 100); math.Abs(got-1) > 1e-12 {
		t.Errorf("tails sum to %v", got)
	}
	if got := chi2Quantile1(0.95); math.Abs(got-3.841458820694124) > 1e-9 {
		t.Errorf("chi2 0.95 = %v", got)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, lam := range []float64{0.3, 4, 25, 900} {
		const n = 200000
		var s, s2 float64
		for i := 0; i < n; i++ {
			x := poissonRand(r, lam)
			s += x
			s2 += x * x
		}
		mean := s / n
		v := s2/n - mean*mean
		if math.Abs(mean-lam) > 5*math.Sqrt(lam/n) || math.Abs(v/lam-1) > 0.03 {
			t.Errorf("Poisson(%v): mean %v var %v", lam, mean, v)
		}
	}
}

// BenchmarkBootstrapUK5 is the whole default Estimate on the 5-list UK
// table: AIC stepwise selection, profile interval and 1,000 parametric
// bootstrap replicates refitting the selected model.
// BenchmarkBootstrapUK5 is the whole default Estimate on UKdat_5: the
// SparseMSE stepwise selection, the profile interval, the other rule's
// estimate and the BCa bootstrap (1,000 replicates, each selecting the
// model again, plus the jackknife).
func BenchmarkBootstrapUK5(b *testing.B) {
	tb := loadShipped(b, "UKdat_5.csv")
	for b.Loop() {
		if _, err := Estimate(tb, Options{Replicates: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBootstrapUK5Parametric refits the selected model on 1,000
// Poisson tables (no re-selection), the fast interval.
func BenchmarkBootstrapUK5Parametric(b *testing.B) {
	tb := loadShipped(b, "UKdat_5.csv")
	for b.Loop() {
		if _, err := Estimate(tb, Options{Replicates: 1000, Bootstrap: "parametric"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBootstrapUK5Reselect(b *testing.B) {
	tb := loadShipped(b, "UKdat_5.csv")
	for b.Loop() {
		if _, err := Estimate(tb, Options{Replicates: 1000, Bootstrap: "parametric", Reselect: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIntervalNotBelowObserved(t *testing.T) {
	tab, err := NewTable([]string{"a", "b"}, map[uint32]int64{0b01: 6, 0b10: 9, 0b11: 61})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Estimate(tab, Options{Replicates: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.CILow < float64(res.Observed) || res.CIHigh < res.CILow {
		t.Fatalf("interval %v–%v with %d observed", res.CILow, res.CIHigh, res.Observed)
	}
}
