// Package eval compares a predicted assignment of adverts to persons and
// networks with a labelled truth, as researchers do to check the
// de-duplication stage.
//
// Both assignments are clusterings of the same adverts, once by person and
// once by network. For each level the report gives the cluster counts and the
// count error (the quantity the mapping publishes), pairwise
// precision/recall/F1, B-cubed precision/recall/F1 and the Adjusted Rand
// Index. Every metric is computed from the contingency table of true against
// predicted clusters in time linear in the number of adverts; pairs of
// adverts are never enumerated.
package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Scores is a precision/recall/F1 triple.
type Scores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// PairScores are the pairwise scores with the pair counts they come from.
// A pair is two distinct adverts in the same cluster.
type PairScores struct {
	TruePairs   int64 `json:"true_pairs"`   // pairs in the same true cluster
	PredPairs   int64 `json:"pred_pairs"`   // pairs in the same predicted cluster
	SharedPairs int64 `json:"shared_pairs"` // pairs in both (true positives)
	Scores
}

// Metrics compares one level of clustering (persons or networks).
type Metrics struct {
	// TrueClusters and PredClusters count the clusters over the evaluated
	// adverts (those in the truth). Adverts missing from the prediction and
	// adverts with an empty label count as singletons.
	TrueClusters int `json:"true_clusters"`
	PredClusters int `json:"pred_clusters"`
	// CountError is PredClusters − TrueClusters: positive means the
	// prediction overcounts (splits), negative that it undercounts (merges).
	CountError int `json:"count_error"`
	// RelativeCountError is CountError / TrueClusters.
	RelativeCountError float64 `json:"relative_count_error"`
	// Pairwise precision is SharedPairs/PredPairs and recall
	// SharedPairs/TruePairs; a ratio with no pairs in its denominator is 1
	// (nothing wrongly merged, or nothing to find).
	Pairwise PairScores `json:"pairwise"`
	// BCubed precision is the mean over adverts of the share of the
	// advert's predicted cluster that is in its true cluster; recall the
	// mean share of its true cluster that is in its predicted cluster.
	BCubed Scores `json:"bcubed"`
	// ARI is the Adjusted Rand Index (Hubert & Arabie): 1 for identical
	// clusterings, about 0 for chance agreement, possibly negative. It is 1
	// when both clusterings are the same trivial one (all singletons, or all
	// in one cluster).
	ARI float64 `json:"ari"`
}

// Report is the result of Evaluate.
type Report struct {
	// Adverts is the number of adverts evaluated: those in the truth.
	Adverts int `json:"adverts"`
	// MissingInPred lists (sorted) the adverts of the truth absent from the
	// prediction; each was scored as a singleton person and network.
	MissingInPred []string `json:"missing_in_pred"`
	// ExtraInPred lists (sorted) the adverts of the prediction absent from
	// the truth; they were ignored.
	ExtraInPred []string `json:"extra_in_pred"`
	Persons     Metrics  `json:"persons"`
	// Networks is nil when the network level was skipped; NetworksSkipped
	// then says why.
	Networks        *Metrics `json:"networks,omitempty"`
	NetworksSkipped string   `json:"networks_skipped,omitempty"`
}

// ErrEmptyTruth is returned by Evaluate when the truth has no adverts.
var ErrEmptyTruth = errors.New("eval: truth has no adverts")

// Evaluate compares pred with truth over the adverts of truth. Adverts
// missing from pred count as singletons and are listed in MissingInPred;
// adverts only in pred are listed in ExtraInPred and otherwise ignored.
// An empty Person or Network label makes the advert a singleton at that
// level.
//
// Network metrics are computed only when both truth and pred carry at least
// one non-empty Network label; otherwise (as when the prediction file had no
// network_id column) Networks is nil and NetworksSkipped says why.
func Evaluate(truth, pred map[string]Labels) (*Report, error) {
	n := len(truth)
	if n == 0 {
		return nil, ErrEmptyTruth
	}
	if n >= math.MaxInt32 {
		return nil, fmt.Errorf("eval: %d adverts is too many", n)
	}
	rep := &Report{Adverts: n, MissingInPred: []string{}, ExtraInPred: []string{}}

	doNet := true
	switch {
	case !hasNetwork(truth):
		doNet, rep.NetworksSkipped = false, "truth has no network_id labels"
	case !hasNetwork(pred):
		doNet, rep.NetworksSkipped = false, "prediction has no network_id labels"
	}

	tP, pP := newInterner(n), newInterner(n)
	var tN, pN *interner
	if doNet {
		tN, pN = newInterner(n), newInterner(n)
	}
	for id, t := range truth {
		p, ok := pred[id]
		if !ok {
			rep.MissingInPred = append(rep.MissingInPred, id)
		}
		// A missing advert has p == Labels{}: singletons at both levels.
		tP.add(t.Person)
		pP.add(p.Person)
		if doNet {
			tN.add(t.Network)
			pN.add(p.Network)
		}
	}
	// pred holds n − missing adverts of the truth; look for extras only if
	// it holds more.
	if len(pred) > n-len(rep.MissingInPred) {
		for id := range pred {
			if _, ok := truth[id]; !ok {
				rep.ExtraInPred = append(rep.ExtraInPred, id)
			}
		}
	}
	slices.Sort(rep.MissingInPred)
	slices.Sort(rep.ExtraInPred)

	rep.Persons = compare(tP.ids, tP.next, pP.ids, pP.next)
	if doNet {
		m := compare(tN.ids, tN.next, pN.ids, pN.next)
		rep.Networks = &m
	}
	return rep, nil
}

func hasNetwork(m map[string]Labels) bool {
	for _, l := range m {
		if l.Network != "" {
			return true
		}
	}
	return false
}

// interner numbers cluster labels densely in order of first appearance; an
// empty label gets a fresh number each time (a singleton).
type interner struct {
	m    map[string]int32
	ids  []int32
	next int32
}

func newInterner(n int) *interner {
	return &interner{m: make(map[string]int32), ids: make([]int32, 0, n)}
}

func (in *interner) add(label string) {
	if label == "" {
		in.ids = append(in.ids, in.next)
		in.next++
		return
	}
	id, ok := in.m[label]
	if !ok {
		id = in.next
		in.m[label] = id
		in.next++
	}
	in.ids = append(in.ids, id)
}

// compare scores the clustering p against the truth t, both given as the
// dense cluster number of each advert (t[k] < nt, p[k] < np). It walks the
// non-zero cells of the contingency table once, grouping the adverts by
// true cluster with a counting sort: O(n) time and memory.
func compare(t []int32, nt int32, p []int32, np int32) Metrics {
	n := len(t)
	a := make([]int64, nt) // true cluster sizes
	b := make([]int64, np) // predicted cluster sizes
	for k := range t {
		a[t[k]]++
		b[p[k]]++
	}

	// Counting sort of adverts by true cluster: start[i] is where cluster i
	// begins in byTrue.
	start := make([]int32, nt+1)
	for i := range a {
		start[i+1] = start[i] + int32(a[i])
	}
	byTrue := make([]int32, n) // predicted cluster of each advert, grouped by true cluster
	fill := slices.Clone(start[:nt])
	for k := range t {
		byTrue[fill[t[k]]] = p[k]
		fill[t[k]]++
	}

	cnt := make([]int64, np)   // scratch: n_ij for the current true cluster i
	colSq := make([]int64, np) // Σ_i n_ij² per predicted cluster j
	touched := make([]int32, 0, 64)
	var shared int64      // Σ_ij C(n_ij, 2)
	var recallSum float64 // Σ_i (Σ_j n_ij²) / a_i
	for i := range nt {
		touched = touched[:0]
		for _, j := range byTrue[start[i]:start[i+1]] {
			if cnt[j] == 0 {
				touched = append(touched, j)
			}
			cnt[j]++
		}
		var rowSq int64
		for _, j := range touched {
			c := cnt[j]
			cnt[j] = 0
			shared += pairs(c)
			rowSq += c * c
			colSq[j] += c * c
		}
		recallSum += float64(rowSq) / float64(a[i])
	}
	var precisionSum float64
	for j := range b {
		precisionSum += float64(colSq[j]) / float64(b[j])
	}

	var m Metrics
	m.TrueClusters, m.PredClusters = int(nt), int(np)
	m.CountError = m.PredClusters - m.TrueClusters
	m.RelativeCountError = float64(m.CountError) / float64(m.TrueClusters)

	var truePairs, predPairs int64
	for _, x := range a {
		truePairs += pairs(x)
	}
	for _, x := range b {
		predPairs += pairs(x)
	}
	m.Pairwise = PairScores{TruePairs: truePairs, PredPairs: predPairs, SharedPairs: shared}
	m.Pairwise.Precision = ratio(shared, predPairs)
	m.Pairwise.Recall = ratio(shared, truePairs)
	m.Pairwise.F1 = f1(m.Pairwise.Precision, m.Pairwise.Recall)

	m.BCubed.Precision = precisionSum / float64(n)
	m.BCubed.Recall = recallSum / float64(n)
	m.BCubed.F1 = f1(m.BCubed.Precision, m.BCubed.Recall)

	m.ARI = ari(shared, truePairs, predPairs, pairs(int64(n)))
	return m
}

func pairs(x int64) int64 { return x * (x - 1) / 2 }

func ratio(num, den int64) float64 {
	if den == 0 {
		return 1
	}
	return float64(num) / float64(den)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// ari is the Adjusted Rand Index from the pair counts: index = shared,
// expected = truePairs·predPairs/all, max = (truePairs+predPairs)/2. The
// products exceed int64 for a million adverts, so it works in float64.
func ari(shared, truePairs, predPairs, all int64) float64 {
	if all == 0 {
		return 1
	}
	// max − expected = 0 exactly when both clusterings are all singletons
	// or both a single cluster; test that in integers, not floats.
	if (truePairs == 0 && predPairs == 0) || (truePairs == all && predPairs == all) {
		return 1
	}
	expected := float64(truePairs) * float64(predPairs) / float64(all)
	maxIndex := (float64(truePairs) + float64(predPairs)) / 2
	return (float64(shared) - expected) / (maxIndex - expected)
}
