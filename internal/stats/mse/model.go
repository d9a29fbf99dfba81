package mse

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// dataset is a table prepared for fitting: counts as floats by pattern, the
// overlap of every set of lists, and the lists no one is on.
type dataset struct {
	k        int
	n        []float64 // by pattern; n[0] = 0
	over     []float64 // over[s] = persons on every list in s
	dead     uint32
	observed float64
	logFact  float64 // sum of log(n_c!) over cells: the likelihood constant
}

func newDataset(n []float64, k int) *dataset {
	ds := &dataset{k: k, n: n, over: append([]float64(nil), n...)}
	ds.over[0] = 0
	supersetSum(ds.over, k)
	ds.observed = ds.over[0]
	ds.dead = deadLists(n, k)
	for c := 1; c < len(n); c++ {
		lg, _ := math.Lgamma(n[c] + 1)
		ds.logFact += lg
	}
	return ds
}

// mainTerms is the intercept and the main effects of the live lists.
func (ds *dataset) mainTerms() []uint32 {
	t := []uint32{0}
	for i := 0; i < ds.k; i++ {
		if ds.dead&(1<<i) == 0 {
			t = append(t, 1<<i)
		}
	}
	return t
}

// check reports why the dark figure cannot be estimated from ds at all
// (before any model is fitted), or nil.
func (ds *dataset) check(names []string) error {
	live := ds.k - popcount(ds.dead)
	if live < 2 {
		return fmt.Errorf("%w: fewer than 2 lists have anyone on them", ErrNotIdentifiable)
	}
	for i := 0; i < ds.k; i++ {
		if ds.dead&(1<<i) == 0 && ds.over[1<<i] == ds.observed {
			return fmt.Errorf("%w: every observed person is on list %s, so the lists say nothing about persons missed by it", ErrNotIdentifiable, names[i])
		}
	}
	return nil
}

// fitted is a converged fit.
type fitted struct {
	terms []uint32
	beta  []float64
	ll    float64 // full Poisson log-likelihood, constant included
}

func (m *fitted) aic() float64 { return -2*m.ll + 2*float64(len(m.terms)) }
func (m *fitted) bic(observed float64) float64 {
	return -2*m.ll + math.Log(observed)*float64(len(m.terms))
}

// fitModel fits exactly the given terms.
func fitModel(f *fitter, ds *dataset, terms []uint32, start []float64) (*fitted, error) {
	beta := make([]float64, len(terms))
	warm := start != nil
	if warm {
		copy(beta, start)
	}
	ll, err := f.fit(terms, beta, warm, false)
	if err != nil {
		return nil, err
	}
	return &fitted{terms: append([]uint32(nil), terms...), beta: beta, ll: ll - ds.logFact}, nil
}

// dropNote records an interaction left out of a model and why.
type dropNote struct {
	pair   uint32
	reason string
}

const (
	reasonNoOverlap = "no overlap"
	reasonDiverges  = "MLE does not exist with it (a parameter diverges)"
	reasonSingular  = "not identifiable with it (rank-deficient design)"
	reasonDeadList  = "one of its lists has no one on it"
)

// fitRobust fits the main effects plus the wanted interactions, leaving out
// interactions whose lists do not overlap (or involve an empty list), and
// dropping, one at a time, any interaction blamed for a diverging fit. It
// fails with ErrNotIdentifiable only if the main-effects part itself cannot
// be fitted.
//
// With extended, a wanted interaction whose lists do not overlap is instead
// fitted at its extended MLE, -Inf: the cells containing both lists become
// structural zeros (as SparseMSE does). The bootstrap refits the selected
// model this way, so that a replicate in which a selected overlap happens to
// be empty is not fitted with that interaction silently set to 0.
func fitRobust(f *fitter, ds *dataset, pairs []uint32, extended bool) (*fitted, []dropNote, error) {
	var notes []dropNote
	var zeros []uint32
	terms := ds.mainTerms()
	for _, p := range pairs {
		switch {
		case p&ds.dead != 0:
			notes = append(notes, dropNote{p, reasonDeadList})
		case ds.over[p] == 0 && extended:
			zeros = append(zeros, p)
		case ds.over[p] == 0:
			notes = append(notes, dropNote{p, reasonNoOverlap})
		default:
			terms = append(terms, p)
		}
	}
	f.setStructuralZeros(zeros)
	for {
		m, err := fitModel(f, ds, terms, nil)
		if err == nil {
			return m, notes, nil
		}
		var dv *errDiverged
		nMain := len(ds.mainTerms())
		switch {
		case errors.As(err, &dv) && dv.term >= nMain:
			notes = append(notes, dropNote{terms[dv.term], reasonDiverges})
			terms = append(terms[:dv.term:dv.term], terms[dv.term+1:]...)
		case errors.Is(err, errSingular) && len(terms) > nMain:
			// drop the last interaction asked for
			notes = append(notes, dropNote{terms[len(terms)-1], reasonSingular})
			terms = terms[:len(terms)-1]
		default:
			return nil, notes, fmt.Errorf("%w: the main-effects model has no finite maximum likelihood estimate (%v)", ErrNotIdentifiable, err)
		}
	}
}

// stepwise does forward selection of two-list interactions from the
// main-effects model. crit is "aic", "bic" or "pvalue".
func stepwise(f *fitter, ds *dataset, opt *Options) (*fitted, []dropNote, error) {
	cur, err := fitModel(f, ds, ds.mainTerms(), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the main-effects model has no finite maximum likelihood estimate (%v)", ErrNotIdentifiable, err)
	}
	var notes []dropNote
	// candidates: every pair of live lists with a non-empty overlap
	var cands []uint32
	for i := 0; i < ds.k; i++ {
		for j := i + 1; j < ds.k; j++ {
			p := uint32(1)<<i | uint32(1)<<j
			switch {
			case p&ds.dead != 0:
				// lists with no one on them are reported once, elsewhere
			case ds.over[p] == 0:
				notes = append(notes, dropNote{p, reasonNoOverlap})
			default:
				cands = append(cands, p)
			}
		}
	}
	score := func(m *fitted) float64 {
		if opt.Criterion == "bic" {
			return m.bic(ds.observed)
		}
		return m.aic()
	}
	excluded := make(map[uint32]bool)
	exclude := func(p uint32, err error) {
		if excluded[p] {
			return
		}
		excluded[p] = true
		r := reasonDiverges
		if errors.Is(err, errSingular) {
			r = reasonSingular
		}
		notes = append(notes, dropNote{p, r})
	}
	inModel := func(p uint32) bool {
		for _, s := range cur.terms {
			if s == p {
				return true
			}
		}
		return false
	}
	start := make([]float64, 0, len(cur.terms)+len(cands))
	for {
		if opt.MaxInteractions > 0 && len(cur.terms)-len(ds.mainTerms()) >= opt.MaxInteractions {
			return cur, notes, nil
		}
		var next *fitted
		if opt.Criterion == "pvalue" {
			next = stepPValue(f, ds, cur, cands, inModel, excluded, exclude, opt.PThreshold)
		} else {
			best := math.Inf(1)
			for _, p := range cands {
				if excluded[p] || inModel(p) {
					continue
				}
				start = append(append(start[:0], cur.beta...), 0)
				m, err := fitModel(f, ds, append(cur.terms[:len(cur.terms):len(cur.terms)], p), start)
				if err != nil {
					exclude(p, err)
					continue
				}
				if s := score(m); s < best {
					best, next = s, m
				}
			}
			if next != nil && !(best < score(cur)-opt.MinImprovement) {
				next = nil
			}
		}
		if next == nil {
			return cur, notes, nil
		}
		cur = next
	}
}

// stepPValue is one step of the SparseMSE-style selection: for each
// candidate pair, the number of persons on both lists is, under the current
// model, Poisson with mean the fitted total of those cells; the candidate with
// the smallest two-sided-min Poisson p-value below the threshold whose model
// can be fitted is added.
func stepPValue(f *fitter, ds *dataset, cur *fitted, cands []uint32, inModel func(uint32) bool,
	excluded map[uint32]bool, exclude func(uint32, error), thresh float64) *fitted {
	f.evaluate(cur.terms, cur.beta)
	mu := append([]float64(nil), f.mu...)
	supersetSum(mu, ds.k)
	type cand struct {
		p    uint32
		pval float64
	}
	var cs []cand
	for _, p := range cands {
		if excluded[p] || inModel(p) {
			continue
		}
		nstar, lam := ds.over[p], mu[p]
		pv := math.Min(poissonLE(nstar, lam), poissonGE(nstar, lam))
		if pv < thresh {
			cs = append(cs, cand{p, pv})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].pval < cs[j].pval })
	for _, c := range cs {
		start := append(append([]float64(nil), cur.beta...), 0)
		m, err := fitModel(f, ds, append(cur.terms[:len(cur.terms):len(cur.terms)], c.p), start)
		if err != nil {
			exclude(c.p, err)
			continue
		}
		return m
	}
	return nil
}
