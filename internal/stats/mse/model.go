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
	// zeros are two-list interactions at their extended MLE, -Inf: no one
	// is on both lists, and the cells containing both are structural zeros
	// (SparseMSE's "empty overlaps" in a model). Each counts as a parameter
	// in AIC and BIC, as in SparseMSE's modelfit.
	zeros []uint32
	beta  []float64
	ll    float64 // full Poisson log-likelihood, constant included
}

func (m *fitted) npar() float64 { return float64(len(m.terms) + len(m.zeros)) }
func (m *fitted) aic() float64  { return -2*m.ll + 2*m.npar() }
func (m *fitted) bic(observed float64) float64 {
	return -2*m.ll + math.Log(observed)*m.npar()
}

// has reports whether pair p is in the model, fitted or at -Inf.
func (m *fitted) has(p uint32) bool {
	for _, s := range m.terms {
		if s == p {
			return true
		}
	}
	for _, s := range m.zeros {
		if s == p {
			return true
		}
	}
	return false
}

// use makes f's live cells those of m (structural zeros of m.zeros) and
// evaluates mu at m's estimate.
func (f *fitter) use(m *fitted) {
	f.setStructuralZeros(m.zeros)
	f.evaluate(m.terms, m.beta)
}

// fitModel fits exactly the given terms with the given pairs at -Inf.
func fitModel(f *fitter, ds *dataset, terms, zeros []uint32, start []float64) (*fitted, error) {
	f.setStructuralZeros(zeros)
	beta := make([]float64, len(terms))
	warm := start != nil
	if warm {
		copy(beta, start)
	}
	ll, err := f.fit(terms, beta, warm, false)
	if err != nil {
		return nil, err
	}
	return &fitted{terms: append([]uint32(nil), terms...), zeros: append([]uint32(nil), zeros...), beta: beta, ll: ll - ds.logFact}, nil
}

// checkModel is SparseMSE's checkident: whether the model with these terms
// and structural-zero pairs is identifiable (full-rank design on the cells
// in use) and its MLE exists (linear program; see lp.go). It returns nil or
// errSingular / errNoMLE.
func checkModel(f *fitter, terms, zeros []uint32) error {
	f.setStructuralZeros(zeros)
	f.ensure(len(terms))
	if !f.identifiable(terms) {
		return errSingular
	}
	if ok, decided := f.mleExists(terms); decided && !ok {
		return errNoMLE
	}
	return nil
}

// errNoMLE reports that the linear-programming check found no finite
// (extended) maximum likelihood estimate.
var errNoMLE = errors.New("maximum likelihood estimate does not exist")

// dropNote records an interaction left out of a model and why.
type dropNote struct {
	pair   uint32
	reason string
}

const (
	reasonNoOverlap = "no overlap"
	reasonDiverges  = "MLE does not exist with it"
	reasonSingular  = "not identifiable with it (rank-deficient design)"
	reasonDeadList  = "one of its lists has no one on it"
)

func reasonFor(err error) string {
	if errors.Is(err, errSingular) {
		return reasonSingular
	}
	return reasonDiverges
}

// fitRobust fits the main effects plus the wanted interactions. A wanted
// interaction whose lists do not overlap is fitted at its extended MLE, -Inf
// (the cells containing both lists become structural zeros), as SparseMSE
// does; one involving an empty list is left out; and while the model is not
// identifiable or its MLE does not exist, the interaction blamed (the last
// asked for, or the one whose coefficient diverges) is dropped. It fails
// with ErrNotIdentifiable only if the main-effects part itself cannot be
// fitted.
func fitRobust(f *fitter, ds *dataset, pairs []uint32) (*fitted, []dropNote, error) {
	var notes []dropNote
	var zeros []uint32
	terms := ds.mainTerms()
	nMain := len(terms)
	for _, p := range pairs {
		switch {
		case p&ds.dead != 0:
			notes = append(notes, dropNote{p, reasonDeadList})
		case ds.over[p] == 0:
			zeros = append(zeros, p)
		default:
			terms = append(terms, p)
		}
	}
	dropLast := func(err error) bool {
		// drop the last interaction asked for (fitted or at -Inf)
		switch {
		case len(terms) > nMain:
			notes = append(notes, dropNote{terms[len(terms)-1], reasonFor(err)})
			terms = terms[:len(terms)-1]
		case len(zeros) > 0:
			notes = append(notes, dropNote{zeros[len(zeros)-1], reasonFor(err)})
			zeros = zeros[:len(zeros)-1]
		default:
			return false
		}
		return true
	}
	for {
		if err := checkModel(f, terms, zeros); err != nil {
			if !dropLast(err) {
				return nil, notes, fmt.Errorf("%w: the main-effects model has no finite maximum likelihood estimate (%v)", ErrNotIdentifiable, err)
			}
			continue
		}
		m, err := fitModel(f, ds, terms, zeros, nil)
		if err == nil {
			return m, notes, nil
		}
		var dv *errDiverged
		switch {
		case errors.As(err, &dv) && dv.term >= nMain:
			notes = append(notes, dropNote{terms[dv.term], reasonDiverges})
			terms = append(terms[:dv.term:dv.term], terms[dv.term+1:]...)
		case errors.Is(err, errSingular) && dropLast(err):
		default:
			if dropLast(err) {
				continue
			}
			return nil, notes, fmt.Errorf("%w: the main-effects model has no finite maximum likelihood estimate (%v)", ErrNotIdentifiable, err)
		}
	}
}

// candidate fits cur plus pair p (at -Inf if its lists do not overlap) after
// checking identifiability and existence; it returns the fit or the reason
// it cannot be added.
func candidate(f *fitter, ds *dataset, cur *fitted, p uint32, start []float64) (*fitted, error) {
	terms, zeros := cur.terms[:len(cur.terms):len(cur.terms)], cur.zeros[:len(cur.zeros):len(cur.zeros)]
	if ds.over[p] == 0 {
		zeros = append(zeros, p)
		start = append(start[:0], cur.beta...)
	} else {
		terms = append(terms, p)
		start = append(append(start[:0], cur.beta...), 0)
	}
	if err := checkModel(f, terms, zeros); err != nil {
		return nil, err
	}
	return fitModel(f, ds, terms, zeros, start)
}

// stepwise does forward selection of two-list interactions from the
// main-effects model by opt.Criterion ("aic", "bic" or "pvalue"). Every
// pair of live lists is a candidate; with the p-value rule that includes
// pairs with no overlap, which enter at their extended MLE (-Inf) as in
// SparseMSE (AIC and BIC never add them); at every step each
// candidate is checked for identifiability and existence of the MLE
// (checkModel) with the current model, so a pair refused at one step may be
// added at a later one. The notes are the candidates refused at the last
// step.
func stepwise(f *fitter, ds *dataset, opt *Options) (*fitted, []dropNote, error) {
	mt := ds.mainTerms()
	if err := checkModel(f, mt, nil); err != nil && !errors.Is(err, errNoMLE) {
		return nil, nil, fmt.Errorf("%w: the main-effects model is not identifiable (%v)", ErrNotIdentifiable, err)
	}
	cur, err := fitModel(f, ds, mt, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: the main-effects model has no finite maximum likelihood estimate (%v)", ErrNotIdentifiable, err)
	}
	// candidates: every pair of live lists, in SparseMSE's order (the first
	// list varying slowest), which breaks ties between equal p-values
	var cands []uint32
	for i := 0; i < ds.k; i++ {
		for j := i + 1; j < ds.k; j++ {
			if p := uint32(1)<<i | uint32(1)<<j; p&ds.dead == 0 {
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
	var refused []dropNote
	start := make([]float64, 0, len(cur.terms)+len(cands))
	for {
		if opt.MaxInteractions > 0 && len(cur.terms)+len(cur.zeros)-len(mt) >= opt.MaxInteractions {
			return cur, refused, nil
		}
		refused = refused[:0]
		var next *fitted
		if opt.Criterion == "pvalue" {
			next = stepPValue(f, ds, cur, cands, opt.PThreshold, start, &refused)
		} else {
			best := math.Inf(1)
			for _, p := range cands {
				if cur.has(p) {
					continue
				}
				if ds.over[p] == 0 {
					// AIC and BIC are not calibrated for a parameter at
					// -Inf (Chan, Silverman & Vincent 2021, section 5):
					// only the p-value rule adds an empty overlap.
					refused = append(refused, dropNote{p, reasonNoOverlap})
					continue
				}
				m, err := candidate(f, ds, cur, p, start)
				if err != nil {
					refused = append(refused, dropNote{p, reasonFor(err)})
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
			return cur, refused, nil
		}
		cur = next
	}
}

// stepPValue is one step of SparseMSE's stepwisefit: for each candidate pair
// the number of persons on both lists is, under the current model, Poisson
// with mean the fitted total of those cells (an empty overlap has p-value
// P(X = 0)); the candidate with the smallest min(P(X <= n), P(X >= n)) below
// the threshold whose model is identifiable and has an MLE is added (ties:
// the first in candidate order).
func stepPValue(f *fitter, ds *dataset, cur *fitted, cands []uint32, thresh float64, start []float64, refused *[]dropNote) *fitted {
	f.use(cur)
	mu := append([]float64(nil), f.mu...)
	supersetSum(mu, ds.k)
	type cand struct {
		p    uint32
		pval float64
	}
	var cs []cand
	for _, p := range cands {
		if cur.has(p) {
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
		m, err := candidate(f, ds, cur, c.p, start)
		if err != nil {
			*refused = append(*refused, dropNote{c.p, reasonFor(err)})
			continue
		}
		return m
	}
	return nil
}
