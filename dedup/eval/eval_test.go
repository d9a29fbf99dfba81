package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const eps = 1e-12

// assign builds an assignment of adverts a0, a1, … from parallel label
// slices; networks may be nil.
func assign(persons, networks []string) map[string]Labels {
	m := make(map[string]Labels, len(persons))
	for i, p := range persons {
		l := Labels{Person: p}
		if networks != nil {
			l.Network = networks[i]
		}
		m[fmt.Sprintf("a%d", i)] = l
	}
	return m
}

func approx(t *testing.T, name string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > eps {
		t.Errorf("%s = %.15g, want %.15g", name, got, want)
	}
}

// checkMetrics compares every field of m with want, floats within eps.
func checkMetrics(t *testing.T, level string, got, want Metrics) {
	t.Helper()
	if got.TrueClusters != want.TrueClusters || got.PredClusters != want.PredClusters || got.CountError != want.CountError {
		t.Errorf("%s clusters: true %d pred %d err %d, want %d %d %d", level,
			got.TrueClusters, got.PredClusters, got.CountError, want.TrueClusters, want.PredClusters, want.CountError)
	}
	gp, wp := got.Pairwise, want.Pairwise
	if gp.TruePairs != wp.TruePairs || gp.PredPairs != wp.PredPairs || gp.SharedPairs != wp.SharedPairs {
		t.Errorf("%s pairs: true %d pred %d shared %d, want %d %d %d", level,
			gp.TruePairs, gp.PredPairs, gp.SharedPairs, wp.TruePairs, wp.PredPairs, wp.SharedPairs)
	}
	approx(t, level+" relative count error", got.RelativeCountError, want.RelativeCountError)
	approx(t, level+" pairwise precision", gp.Precision, wp.Precision)
	approx(t, level+" pairwise recall", gp.Recall, wp.Recall)
	approx(t, level+" pairwise F1", gp.F1, wp.F1)
	approx(t, level+" B-cubed precision", got.BCubed.Precision, want.BCubed.Precision)
	approx(t, level+" B-cubed recall", got.BCubed.Recall, want.BCubed.Recall)
	approx(t, level+" B-cubed F1", got.BCubed.F1, want.BCubed.F1)
	approx(t, level+" ARI", got.ARI, want.ARI)
}

func harmonic(p, r float64) float64 { return 2 * p * r / (p + r) }

func mustEvaluate(t *testing.T, truth, pred map[string]Labels) *Report {
	t.Helper()
	rep, err := Evaluate(truth, pred)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return rep
}

func TestPerfectPrediction(t *testing.T) {
	truth := assign(
		[]string{"p1", "p1", "p1", "p2", "p2", "p3", "", "p4"},
		[]string{"n1", "n1", "n1", "n1", "n1", "n2", "n3", ""})
	// Same partition under other names (the label namespaces are unrelated);
	// empty labels are singletons and are matched by singletons.
	pred := assign(
		[]string{"X", "X", "X", "Y", "Y", "p1", "solo", ""},
		[]string{"B", "B", "B", "B", "B", "A", "", "C"})
	rep := mustEvaluate(t, truth, pred)
	one := Scores{1, 1, 1}
	checkMetrics(t, "persons", rep.Persons, Metrics{
		TrueClusters: 5, PredClusters: 5,
		Pairwise: PairScores{TruePairs: 4, PredPairs: 4, SharedPairs: 4, Scores: one},
		BCubed:   one, ARI: 1,
	})
	if rep.Networks == nil {
		t.Fatal("networks skipped")
	}
	checkMetrics(t, "networks", *rep.Networks, Metrics{
		TrueClusters: 4, PredClusters: 4,
		Pairwise: PairScores{TruePairs: 10, PredPairs: 10, SharedPairs: 10, Scores: one},
		BCubed:   one, ARI: 1,
	})
	if len(rep.MissingInPred) != 0 || len(rep.ExtraInPred) != 0 || rep.Adverts != 8 {
		t.Errorf("adverts %d missing %v extra %v", rep.Adverts, rep.MissingInPred, rep.ExtraInPred)
	}
}

func TestPerfectTrivialClusterings(t *testing.T) {
	// All singletons on both sides, and all in one cluster on both sides:
	// no pairs or all pairs; every score is 1 by convention.
	for name, labels := range map[string][]string{
		"singletons": {"a", "b", "c", "d"},
		"one":        {"a", "a", "a", "a"},
		"single ad":  {"a"},
	} {
		rep := mustEvaluate(t, assign(labels, nil), assign(labels, nil))
		m := rep.Persons
		for what, v := range map[string]float64{
			"pairwise P": m.Pairwise.Precision, "pairwise R": m.Pairwise.Recall, "pairwise F1": m.Pairwise.F1,
			"B3 P": m.BCubed.Precision, "B3 R": m.BCubed.Recall, "B3 F1": m.BCubed.F1, "ARI": m.ARI,
		} {
			if v != 1 {
				t.Errorf("%s: %s = %v, want 1", name, what, v)
			}
		}
	}
}

// Truth: clusters of sizes 3, 2, 1 (n = 6): 3+1 = 4 true pairs of 15.
var truth321 = []string{"p", "p", "p", "q", "q", "r"}

func TestEverythingMerged(t *testing.T) {
	rep := mustEvaluate(t, assign(truth321, nil), assign([]string{"m", "m", "m", "m", "m", "m"}, nil))
	if rep.Networks != nil || rep.NetworksSkipped == "" {
		t.Errorf("networks = %+v, skipped %q; want skipped", rep.Networks, rep.NetworksSkipped)
	}
	p, b := 4.0/15, 14.0/36 // B-cubed precision Σa²/n² = (9+4+1)/36
	checkMetrics(t, "persons", rep.Persons, Metrics{
		TrueClusters: 3, PredClusters: 1, CountError: -2, RelativeCountError: -2.0 / 3,
		Pairwise: PairScores{TruePairs: 4, PredPairs: 15, SharedPairs: 4,
			Scores: Scores{Precision: p, Recall: 1, F1: harmonic(p, 1)}},
		BCubed: Scores{Precision: b, Recall: 1, F1: harmonic(b, 1)},
		ARI:    0, // index 4 = expected 4·15/15
	})
}

func TestEverythingSplit(t *testing.T) {
	rep := mustEvaluate(t, assign(truth321, nil), assign([]string{"1", "2", "3", "4", "5", "6"}, nil))
	checkMetrics(t, "persons", rep.Persons, Metrics{
		TrueClusters: 3, PredClusters: 6, CountError: 3, RelativeCountError: 1,
		// No predicted pairs: precision 1 by convention, recall 0.
		Pairwise: PairScores{TruePairs: 4, PredPairs: 0, SharedPairs: 0,
			Scores: Scores{Precision: 1, Recall: 0, F1: 0}},
		// B-cubed recall = Σ_i a_i·(1/a_i)/n = #true clusters / n.
		BCubed: Scores{Precision: 1, Recall: 0.5, F1: harmonic(1, 0.5)},
		ARI:    0,
	})
}

// TestTextbookExample is the example of Manning, Raghavan & Schütze,
// "Introduction to Information Retrieval" §16.3 (Fig. 16.4): 17 items, three
// clusters {x×5, o}, {x, o×4, ◇}, {x×2, ◇×3}. The book gives TP = 20,
// FP = 20, FN = 24, TN = 72 (Rand index 0.68). By hand:
//
//	B-cubed precision = (1/17)(26/6 + 18/6 + 13/5) = 149/255
//	B-cubed recall    = (1/17)(30/8 + 17/5 + 10/4) = 193/340
//	ARI = (20 − 44·40/136)/((44+40)/2 − 44·40/136) = 120/494 = 60/247
func TestTextbookExample(t *testing.T) {
	class := strings.Split("x x x x x o x o o o o d x x d d d", " ")
	cluster := strings.Split("1 1 1 1 1 1 2 2 2 2 2 2 3 3 3 3 3", " ")
	rep := mustEvaluate(t, assign(class, class), assign(cluster, cluster))
	pp, pr := 20.0/40, 20.0/44
	bp, br := 149.0/255, 193.0/340
	want := Metrics{
		TrueClusters: 3, PredClusters: 3,
		Pairwise: PairScores{TruePairs: 44, PredPairs: 40, SharedPairs: 20,
			Scores: Scores{Precision: pp, Recall: pr, F1: harmonic(pp, pr)}},
		BCubed: Scores{Precision: bp, Recall: br, F1: harmonic(bp, br)},
		ARI:    60.0 / 247,
	}
	checkMetrics(t, "persons", rep.Persons, want)
	if rep.Networks == nil {
		t.Fatal("networks skipped")
	}
	checkMetrics(t, "networks", *rep.Networks, want)
	// Rand index from the pair counts, as in the book.
	all := int64(17 * 16 / 2)
	tn := all - rep.Persons.Pairwise.TruePairs - rep.Persons.Pairwise.PredPairs + rep.Persons.Pairwise.SharedPairs
	if tn != 72 {
		t.Errorf("TN = %d, want 72", tn)
	}
}

func TestMissingAndExtra(t *testing.T) {
	truth := map[string]Labels{
		"a": {"P", "N"}, "b": {"P", "N"}, "c": {"P", "N"}, "d": {"Q", "N"},
	}
	pred := map[string]Labels{
		"a": {"x", "n"}, "b": {"x", "n"}, "d": {"y", "n"},
		"z": {"x", "n"}, "e": {"x", "n"}, // extra: ignored
	}
	rep := mustEvaluate(t, truth, pred)
	if !slices.Equal(rep.MissingInPred, []string{"c"}) || !slices.Equal(rep.ExtraInPred, []string{"e", "z"}) {
		t.Errorf("missing %v extra %v", rep.MissingInPred, rep.ExtraInPred)
	}
	if rep.Adverts != 4 {
		t.Errorf("adverts = %d, want 4", rep.Adverts)
	}
	// Persons: truth {a,b,c} {d}; pred {a,b} {c} {d} (c a singleton).
	br := (2.0/3 + 2.0/3 + 1.0/3 + 1) / 4 // per-advert recall: a, b 2/3; c 1/3; d 1
	checkMetrics(t, "persons", rep.Persons, Metrics{
		TrueClusters: 2, PredClusters: 3, CountError: 1, RelativeCountError: 0.5,
		Pairwise: PairScores{TruePairs: 3, PredPairs: 1, SharedPairs: 1,
			Scores: Scores{Precision: 1, Recall: 1.0 / 3, F1: harmonic(1, 1.0/3)}},
		BCubed: Scores{Precision: 1, Recall: br, F1: harmonic(1, br)},
		ARI:    (1 - 3.0/6) / (2 - 3.0/6),
	})
	// Networks: truth one network of 4; pred {a,b,d} {c}.
	bp := (3.0*1 + 1) / 4
	bn := (3*(3.0/4) + 1.0/4) / 4
	checkMetrics(t, "networks", *rep.Networks, Metrics{
		TrueClusters: 1, PredClusters: 2, CountError: 1, RelativeCountError: 1,
		Pairwise: PairScores{TruePairs: 6, PredPairs: 3, SharedPairs: 3,
			Scores: Scores{Precision: 1, Recall: 0.5, F1: harmonic(1, 0.5)}},
		BCubed: Scores{Precision: bp, Recall: bn, F1: harmonic(bp, bn)},
		ARI:    0, // one true cluster: expected = index
	})
}

func TestEverythingMissing(t *testing.T) {
	rep := mustEvaluate(t, assign(truth321, truth321), nil)
	if len(rep.MissingInPred) != 6 {
		t.Errorf("missing = %v", rep.MissingInPred)
	}
	if rep.Persons.PredClusters != 6 || rep.Persons.Pairwise.PredPairs != 0 {
		t.Errorf("persons = %+v, want all singletons", rep.Persons)
	}
	if rep.Networks != nil || !strings.Contains(rep.NetworksSkipped, "prediction") {
		t.Errorf("networks %+v skipped %q", rep.Networks, rep.NetworksSkipped)
	}
}

func TestNetworkSkipped(t *testing.T) {
	withNet := assign(truth321, truth321)
	noNet := assign(truth321, nil)
	for _, c := range []struct {
		name        string
		truth, pred map[string]Labels
		skipped     string
	}{
		{"pred without networks", withNet, noNet, "prediction has no network_id labels"},
		{"truth without networks", noNet, withNet, "truth has no network_id labels"},
		{"both", withNet, withNet, ""},
	} {
		rep := mustEvaluate(t, c.truth, c.pred)
		if rep.NetworksSkipped != c.skipped || (rep.Networks == nil) != (c.skipped != "") {
			t.Errorf("%s: networks %v skipped %q, want %q", c.name, rep.Networks, rep.NetworksSkipped, c.skipped)
		}
	}
}

func TestEmptyTruth(t *testing.T) {
	if _, err := Evaluate(nil, assign(truth321, nil)); !errors.Is(err, ErrEmptyTruth) {
		t.Errorf("err = %v, want ErrEmptyTruth", err)
	}
}

// bruteMetrics computes the metrics by the definitions, enumerating pairs
// and adverts, as Evaluate resolves labels: missing or empty means singleton.
func bruteMetrics(truth, pred map[string]Labels, level func(Labels) string) Metrics {
	ids := make([]string, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	key := func(m map[string]Labels, id string) string {
		l, ok := m[id]
		if !ok || level(l) == "" {
			return "\x00singleton:" + id
		}
		return level(l)
	}
	n := len(ids)
	tk, pk := make([]string, n), make([]string, n)
	tset, pset := map[string]bool{}, map[string]bool{}
	for i, id := range ids {
		tk[i], pk[i] = key(truth, id), key(pred, id)
		tset[tk[i]], pset[pk[i]] = true, true
	}
	var tp, fp, fn, tn int64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			st, sp := tk[i] == tk[j], pk[i] == pk[j]
			switch {
			case st && sp:
				tp++
			case sp:
				fp++
			case st:
				fn++
			default:
				tn++
			}
		}
	}
	var bp, br float64
	for i := range n {
		var inter, sizeT, sizeP float64
		for j := range n {
			st, sp := tk[i] == tk[j], pk[i] == pk[j]
			if st {
				sizeT++
			}
			if sp {
				sizeP++
			}
			if st && sp {
				inter++
			}
		}
		bp += inter / sizeP
		br += inter / sizeT
	}
	bp /= float64(n)
	br /= float64(n)

	var m Metrics
	m.TrueClusters, m.PredClusters = len(tset), len(pset)
	m.CountError = m.PredClusters - m.TrueClusters
	m.RelativeCountError = float64(m.CountError) / float64(m.TrueClusters)
	m.Pairwise = PairScores{TruePairs: tp + fn, PredPairs: tp + fp, SharedPairs: tp}
	m.Pairwise.Precision, m.Pairwise.Recall = 1, 1
	if tp+fp > 0 {
		m.Pairwise.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		m.Pairwise.Recall = float64(tp) / float64(tp+fn)
	}
	m.Pairwise.F1 = f1(m.Pairwise.Precision, m.Pairwise.Recall)
	m.BCubed = Scores{bp, br, f1(bp, br)}
	// ARI from the pair confusion matrix (the form scikit-learn uses), a
	// different formula from Evaluate's.
	m.ARI = 1
	if fn != 0 || fp != 0 {
		num := 2 * float64(tp*tn-fn*fp)
		den := float64((tp+fn)*(fn+tn) + (tp+fp)*(fp+tn))
		m.ARI = num / den
	}
	return m
}

func randomLabels(rng *rand.Rand, k int, emptyRate float64) string {
	if rng.Float64() < emptyRate {
		return ""
	}
	return fmt.Sprintf("c%d", rng.IntN(k))
}

func TestAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240601, 7))
	for iter := range 500 {
		n := 1 + rng.IntN(40)
		kt, kp := 1+rng.IntN(n), 1+rng.IntN(n)
		empty := []float64{0, 0.1}[rng.IntN(2)]
		truth := map[string]Labels{}
		pred := map[string]Labels{}
		for i := range n {
			id := fmt.Sprintf("a%d", i)
			truth[id] = Labels{randomLabels(rng, kt, empty), randomLabels(rng, kt, empty)}
			if rng.Float64() < 0.1 {
				continue // missing from pred
			}
			pred[id] = Labels{randomLabels(rng, kp, empty), randomLabels(rng, kp, empty)}
		}
		for i := range rng.IntN(3) {
			pred[fmt.Sprintf("extra%d", i)] = Labels{"c0", "c0"}
		}
		rep, err := Evaluate(truth, pred)
		if err != nil {
			t.Fatal(err)
		}
		level := fmt.Sprintf("iter %d (n=%d) ", iter, n)
		checkMetrics(t, level+"persons", rep.Persons, bruteMetrics(truth, pred, func(l Labels) string { return l.Person }))
		if rep.Networks != nil {
			checkMetrics(t, level+"networks", *rep.Networks, bruteMetrics(truth, pred, func(l Labels) string { return l.Network }))
		}
		if t.Failed() {
			t.Fatalf("truth %v pred %v", truth, pred)
		}
	}
}

func TestReportJSON(t *testing.T) {
	rep := mustEvaluate(t, assign(truth321, nil), assign(truth321, nil))
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`"adverts":6`, `"missing_in_pred":[]`, `"extra_in_pred":[]`,
		`"persons":{"true_clusters":3,"pred_clusters":3,"count_error":0,"relative_count_error":0,`,
		`"pairwise":{"true_pairs":4,"pred_pairs":4,"shared_pairs":4,"precision":1,"recall":1,"f1":1}`,
		`"bcubed":{"precision":1,"recall":1,"f1":1}`, `"ari":1`,
		`"networks_skipped":"truth has no network_id labels"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	if strings.Contains(s, `"networks":`) {
		t.Errorf("skipped networks should be omitted: %s", s)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.Persons != rep.Persons {
		t.Errorf("round trip: %v %+v", err, back.Persons)
	}
}

// synthetic builds n adverts in persons of 1–9 adverts and networks of about
// 20 persons, and a prediction that splits 5 % of adverts off, merges 2 % of
// persons with the next, and misses 1 % of adverts.
func synthetic(n int) (truth, pred map[string]Labels) {
	rng := rand.New(rand.NewPCG(1, 2))
	truth = make(map[string]Labels, n)
	pred = make(map[string]Labels, n)
	person := 0
	left := 0
	for i := range n {
		if left == 0 {
			person++
			left = 1 + rng.IntN(9)
		}
		left--
		id := fmt.Sprintf("ad%07d", i)
		p := fmt.Sprintf("p%d", person)
		net := fmt.Sprintf("n%d", person/20)
		truth[id] = Labels{p, net}
		switch r := rng.Float64(); {
		case r < 0.01:
			// missing
		case r < 0.06:
			pred[id] = Labels{"split" + id, net}
		default:
			pp := person
			if pp%50 == 0 {
				pp++ // merged with the next person
			}
			pred[id] = Labels{fmt.Sprintf("q%d", pp), fmt.Sprintf("m%d", pp/25)}
		}
	}
	return truth, pred
}

func BenchmarkEvaluate1M(b *testing.B) {
	truth, pred := synthetic(1_000_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(truth, pred); err != nil {
			b.Fatal(err)
		}
	}
}
