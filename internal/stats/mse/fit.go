package mse

import (
	"errors"
	"math"
)

// The model: for every observable cell c (a non-zero pattern over k lists)
//
//	log mu_c = sum over terms S contained in c of beta_S
//
// where the terms are the intercept (S = 0), main effects (S = {i}) and the
// chosen two-list interactions (S = {i, j}). The dark figure is
// mu_0 = exp(beta_0). The Poisson log-likelihood is maximised over the
// 2^k - 1 observable cells, zeros included.
//
// Every quantity the Newton iteration needs is a sum over cells containing a
// set of lists, so instead of a design matrix the fit uses the subset-sum
// ("zeta") transforms over the 2^k patterns: O(k 2^k) per iteration plus a
// p x p Cholesky solve, independent of the number of persons.

// errDiverged reports that the likelihood has no finite maximiser: some
// parameter runs off to plus or minus infinity (Fienberg & Rinaldo 2012's
// non-existent MLE). term is the index of the term blamed (the interaction
// with the largest absolute coefficient, else the largest term overall).
type errDiverged struct{ term int }

func (e *errDiverged) Error() string { return "maximum likelihood estimate does not exist" }

// errSingular reports that the design is rank deficient on the cells in use,
// so the parameters are not identifiable.
var errSingular = errors.New("model parameters are not identifiable (rank-deficient design)")

const (
	maxIter      = 200
	divergeTerm  = 25.0 // |beta| beyond this (non-intercept) means divergence: a factor e^-25 ≈ 1e-11
	divergeInter = 40.0 // |beta_0| beyond this means the dark figure is 0 or unbounded
)

// fitter holds work buffers; one per goroutine.
type fitter struct {
	k    int
	n    []float64 // counts by cell; n[0] = 0
	dead uint32    // lists excluded (no one on them): cells touching them are ignored
	live []bool    // cells in the likelihood: not touching dead lists nor structural zeros
	eta  []float64
	mu   []float64
	buf  []float64
	h    []float64 // p x p Hessian / Cholesky factor
	g    []float64
	d    []float64
	try  []float64
}

func newFitter(k int) *fitter {
	m := 1 << k
	return &fitter{k: k, eta: make([]float64, m), mu: make([]float64, m), buf: make([]float64, m), live: make([]bool, m)}
}

// setCounts sets the cell counts (len 1<<k, [0] ignored) and derives the dead
// lists.
func (f *fitter) setCounts(n []float64) {
	f.n = n
	f.dead = deadLists(n, f.k)
	f.setStructuralZeros(nil)
}

// setStructuralZeros marks as structural zeros (mu = 0, out of the
// likelihood) every cell containing one of the given pairs of lists: the
// extended MLE of a model whose interaction for that pair is -Inf, as
// SparseMSE fits a pair with no overlap.
func (f *fitter) setStructuralZeros(pairs []uint32) {
	for c := range f.live {
		ok := c != 0 && uint32(c)&f.dead == 0
		for _, p := range pairs {
			if uint32(c)&p == p {
				ok = false
			}
		}
		f.live[c] = ok
	}
}

// deadLists returns the mask of lists on which no one is observed.
func deadLists(n []float64, k int) uint32 {
	var alive uint32
	for c := 1; c < len(n); c++ {
		if n[c] > 0 {
			alive |= uint32(c)
		}
	}
	return (uint32(1)<<k - 1) &^ alive
}

// subsetSum replaces a[c] by the sum of a[s] over subsets s of c.
func subsetSum(a []float64, k int) {
	for i := 0; i < k; i++ {
		bit := 1 << i
		for c := range a {
			if c&bit != 0 {
				a[c] += a[c^bit]
			}
		}
	}
}

// supersetSum replaces a[s] by the sum of a[c] over supersets c of s.
func supersetSum(a []float64, k int) {
	for i := 0; i < k; i++ {
		bit := 1 << i
		for c := range a {
			if c&bit == 0 {
				a[c] += a[c|bit]
			}
		}
	}
}

// evaluate computes eta and mu for beta and returns the kernel of the
// log-likelihood, sum_c n_c eta_c - mu_c over live cells (without the
// -log n_c! constant). It returns -Inf if some mu overflows.
func (f *fitter) evaluate(terms []uint32, beta []float64) float64 {
	eta := f.eta
	clear(eta)
	for j, s := range terms {
		eta[s] += beta[j]
	}
	subsetSum(eta, f.k)
	ll := 0.0
	f.mu[0] = 0
	for c := 1; c < len(eta); c++ {
		if !f.live[c] {
			f.mu[c] = 0
			continue
		}
		m := math.Exp(eta[c])
		if math.IsInf(m, 1) {
			return math.Inf(-1)
		}
		f.mu[c] = m
		ll += f.n[c]*eta[c] - m
	}
	return ll
}

// hessian fills f.h (p x p, row-major) with X'WX for weights w (len 1<<k,
// zero on cells that are not live). w is overwritten.
func (f *fitter) hessian(terms []uint32, w []float64) {
	supersetSum(w, f.k)
	p := len(terms)
	for a := 0; a < p; a++ {
		for b := 0; b <= a; b++ {
			v := w[terms[a]|terms[b]]
			f.h[a*p+b] = v
			f.h[b*p+a] = v
		}
	}
}

// marginal fills out[j] = sum over live cells c containing terms[j] of v[c].
// v is overwritten.
func (f *fitter) marginal(terms []uint32, v []float64, out []float64) {
	supersetSum(v, f.k)
	for j, s := range terms {
		out[j] = v[s]
	}
}

func (f *fitter) ensure(p int) {
	if cap(f.h) < p*p {
		f.h = make([]float64, p*p)
	}
	f.h = f.h[:p*p]
	if cap(f.g) < p {
		f.g, f.d, f.try = make([]float64, p), make([]float64, p), make([]float64, p)
	}
	f.g, f.d, f.try = f.g[:p], f.d[:p], f.try[:p]
}

// cholSolve factors the p x p matrix a in place (lower triangle) and solves
// a x = b in place in b. free[j] false pins x[j] = 0 (the row and column are
// skipped). It reports false if the matrix is not numerically positive
// definite.
func cholSolve(a []float64, b []float64, p int, free []bool) bool {
	return cholSolveTol(a, b, p, free, 1e-13)
}

// identifiable reports whether the design (the terms over the live cells)
// has full column rank: X'X with unit weights is positive definite.
func (f *fitter) identifiable(terms []uint32) bool {
	p := len(terms)
	w := f.buf
	for c := range w {
		w[c] = 0
		if f.live[c] {
			w[c] = 1
		}
	}
	f.hessian(terms, w)
	clear(f.g)
	return cholSolveTol(f.h, f.g, p, nil, 1e-9)
}

func cholSolveTol(a []float64, b []float64, p int, free []bool, rel float64) bool {
	maxDiag := 0.0
	for i := 0; i < p; i++ {
		if (free == nil || free[i]) && a[i*p+i] > maxDiag {
			maxDiag = a[i*p+i]
		}
	}
	if !(maxDiag > 0) {
		return false
	}
	tol := rel * maxDiag
	for j := 0; j < p; j++ {
		if free != nil && !free[j] {
			continue
		}
		s := a[j*p+j]
		for m := 0; m < j; m++ {
			if free != nil && !free[m] {
				continue
			}
			s -= a[j*p+m] * a[j*p+m]
		}
		if !(s > tol) {
			return false
		}
		s = math.Sqrt(s)
		a[j*p+j] = s
		for i := j + 1; i < p; i++ {
			if free != nil && !free[i] {
				continue
			}
			t := a[i*p+j]
			for m := 0; m < j; m++ {
				if free != nil && !free[m] {
					continue
				}
				t -= a[i*p+m] * a[j*p+m]
			}
			a[i*p+j] = t / s
		}
	}
	// forward: L y = b
	for i := 0; i < p; i++ {
		if free != nil && !free[i] {
			b[i] = 0
			continue
		}
		t := b[i]
		for m := 0; m < i; m++ {
			if free != nil && !free[m] {
				continue
			}
			t -= a[i*p+m] * b[m]
		}
		b[i] = t / a[i*p+i]
	}
	// backward: L' x = y
	for i := p - 1; i >= 0; i-- {
		if free != nil && !free[i] {
			continue
		}
		t := b[i]
		for m := i + 1; m < p; m++ {
			if free != nil && !free[m] {
				continue
			}
			t -= a[m*p+i] * b[m]
		}
		b[i] = t / a[i*p+i]
	}
	return true
}

// startValues sets beta to the weighted least-squares fit of log(n+0.5) with
// weights n+0.5 (the usual glm start). It returns errSingular if the design
// is rank deficient on the live cells: the structural identifiability check.
func (f *fitter) startValues(terms []uint32, beta []float64) error {
	p := len(terms)
	f.ensure(p)
	w, wz := f.mu, f.buf
	w[0], wz[0] = 0, 0
	for c := 1; c < len(w); c++ {
		if !f.live[c] {
			w[c], wz[c] = 0, 0
			continue
		}
		w[c] = f.n[c] + 0.5
		wz[c] = w[c] * math.Log(w[c])
	}
	f.marginal(terms, wz, f.g)
	f.hessian(terms, w)
	if !cholSolve(f.h, f.g, p, nil) {
		return errSingular
	}
	copy(beta, f.g)
	return nil
}

// fit maximises the Poisson log-likelihood over beta (len(terms), terms[0]
// must be the intercept 0). If beta is non-nil it is the starting point
// (warm start) and receives the result; otherwise start values are computed.
// If fixIntercept, beta[0] is held at its given value (profile likelihood).
// It returns the log-likelihood kernel (see evaluate).
func (f *fitter) fit(terms []uint32, beta []float64, warm, fixIntercept bool) (float64, error) {
	p := len(terms)
	f.ensure(p)
	if !warm {
		if err := f.startValues(terms, beta); err != nil {
			return 0, err
		}
	}
	if !f.identifiable(terms) {
		return 0, errSingular
	}
	var free []bool
	if fixIntercept {
		free = make([]bool, p)
		for j := 1; j < p; j++ {
			free[j] = true
		}
	}
	ll := f.evaluate(terms, beta)
	if math.IsInf(ll, -1) {
		// A warm start can overflow; fall back to fresh start values.
		if fixIntercept {
			return 0, &errDiverged{term: 0}
		}
		if err := f.startValues(terms, beta); err != nil {
			return 0, err
		}
		ll = f.evaluate(terms, beta)
	}
	for iter := 0; iter < maxIter; iter++ {
		// gradient X'(n - mu) and Hessian X' diag(mu) X
		r := f.buf
		r[0] = 0
		for c := 1; c < len(r); c++ {
			r[c] = f.n[c] - f.mu[c]
			if !f.live[c] {
				r[c] = 0
			}
		}
		f.marginal(terms, r, f.g)
		w := f.eta // eta is recomputed by evaluate below
		copy(w, f.mu)
		f.hessian(terms, w)
		copy(f.d, f.g)
		if !cholSolve(f.h, f.d, p, free) {
			if iter == 0 && !warm {
				return 0, errSingular
			}
			return 0, &errDiverged{term: blame(terms, beta)}
		}
		// Newton step with step halving; the log-likelihood is concave.
		step := 1.0
		var llNew float64
		for h := 0; ; h++ {
			for j := range beta {
				f.try[j] = beta[j] + step*f.d[j]
			}
			llNew = f.evaluate(terms, f.try)
			if llNew >= ll-1e-12*math.Abs(ll) || h == 40 {
				break
			}
			step /= 2
		}
		maxStep := 0.0
		for j := range beta {
			maxStep = math.Max(maxStep, math.Abs(f.try[j]-beta[j]))
		}
		copy(beta, f.try)
		dll := llNew - ll
		ll = llNew
		if diverging(beta) {
			return 0, &errDiverged{term: blame(terms, beta)}
		}
		if maxStep < 1e-9 || (maxStep < 1e-6 && math.Abs(dll) < 1e-12*(1+math.Abs(ll))) {
			// leave eta and mu consistent with beta for the caller
			ll = f.evaluate(terms, beta)
			return ll, nil
		}
	}
	return 0, &errDiverged{term: blame(terms, beta)}
}

func diverging(beta []float64) bool {
	if math.Abs(beta[0]) > divergeInter || math.IsNaN(beta[0]) {
		return true
	}
	for _, b := range beta[1:] {
		if math.Abs(b) > divergeTerm || math.IsNaN(b) {
			return true
		}
	}
	return false
}

// blame picks the term to drop when the fit diverges: the two-list
// interaction with the largest |beta|, else the term (main effect or
// intercept) with the largest |beta|.
func blame(terms []uint32, beta []float64) int {
	best, bestAbs := -1, -1.0
	for j, s := range terms {
		if popcount(s) == 2 && math.Abs(beta[j]) > bestAbs {
			best, bestAbs = j, math.Abs(beta[j])
		}
	}
	if best >= 0 {
		return best
	}
	for j := range terms {
		if math.Abs(beta[j]) > bestAbs {
			best, bestAbs = j, math.Abs(beta[j])
		}
	}
	return best
}

func popcount(s uint32) int {
	n := 0
	for ; s != 0; s &= s - 1 {
		n++
	}
	return n
}

// covariance returns the inverse of the Fisher information X' diag(mu) X at
// the current mu (call right after a successful fit), row-major p x p.
func (f *fitter) covariance(terms []uint32) ([]float64, bool) {
	p := len(terms)
	w := f.buf
	copy(w, f.mu)
	f.hessian(terms, w)
	h := append([]float64(nil), f.h...)
	inv := make([]float64, p*p)
	col := make([]float64, p)
	for j := 0; j < p; j++ {
		copy(f.h, h)
		clear(col)
		col[j] = 1
		if !cholSolve(f.h, col, p, nil) {
			return nil, false
		}
		for i := 0; i < p; i++ {
			inv[i*p+j] = col[i]
		}
	}
	return inv, true
}
