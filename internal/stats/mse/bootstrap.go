package mse

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
)

// fillBootstrap fills in the confidence interval (CILow, CIHigh) by the
// bootstrap chosen in opt, or none (the estimate itself) when
// opt.Replicates < 0.
func (r *Result) fillBootstrap(ds *dataset, model *fitted, opt *Options) {
	r.CILow, r.CIHigh = r.Total, r.Total
	r.CIMethod = "none"
	if opt.Replicates <= 0 {
		return
	}
	var totals []float64
	var failed int
	if opt.Bootstrap == "bca" {
		totals, failed = runReplicates(opt, func(f *fitter, rng *rand.Rand, nb []float64) float64 {
			resamplePersons(rng, ds.n, ds.observed, nb)
			return pointTotal(f, nb, ds.k, opt, r.Lists)
		}, ds.k)
	} else {
		totals, failed = parametric(ds, model, r.Lists, opt)
	}
	r.Replicates, r.FailedReplicates = len(totals), failed
	if failed > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("bootstrap: %d of %d replicates had no finite estimate and were left out", failed, opt.Replicates))
	}
	if len(totals) == 0 {
		r.Warnings = append(r.Warnings, "bootstrap: every replicate failed; no interval")
		return
	}
	lo, hi := (1-opt.Level)/2, (1+opt.Level)/2
	if opt.Bootstrap == "bca" {
		a := jackknifeAcceleration(ds, opt, r.Lists)
		r.Acceleration = a
		below := 0
		for _, v := range totals {
			if v < r.Total {
				below++
			}
		}
		frac := float64(below) / float64(len(totals))
		if !finite(a) {
			r.Acceleration = 0
		}
		if frac == 0 || frac == 1 || !finite(a) {
			r.CILow, r.CIHigh = quantile8(totals, lo), quantile8(totals, hi)
			r.Warnings = append(r.Warnings, "bootstrap: bias correction undefined (every replicate on one side of the estimate); plain percentile interval")
			r.CIMethod = fmt.Sprintf("bootstrap percentile, persons resampled, model re-selected, %d replicates", len(totals))
		} else {
			z0 := normQuantile(frac)
			r.BiasZ0 = z0
			r.CILow = quantile8(totals, bcaLevel(lo, z0, a))
			r.CIHigh = quantile8(totals, bcaLevel(hi, z0, a))
			r.CIMethod = fmt.Sprintf("bootstrap BCa (SparseMSE), persons resampled, model re-selected, %d replicates, z0 %.3f, acceleration %.4f", len(totals), z0, a)
		}
	} else {
		r.CILow, r.CIHigh = quantile(totals, lo), quantile(totals, hi)
		how := "selected model refitted"
		if opt.Reselect {
			how = "model re-selected"
		}
		r.CIMethod = fmt.Sprintf("parametric bootstrap, percentile, %d replicates, %s", len(totals), how)
	}
	// A replicate table can hold fewer persons than were seen; the
	// population cannot, so the interval starts at the observed.
	if obs := float64(r.Observed); r.CILow < obs {
		r.CILow = obs
		r.Warnings = append(r.Warnings, "bootstrap: lower bound raised to the number of persons observed")
	}
}

// bcaLevel is the BCa-adjusted probability for nominal level alpha, bias
// correction z0 and acceleration a (Efron 1987; SparseMSE's bcaconfvalues).
func bcaLevel(alpha, z0, a float64) float64 {
	za := normQuantile(alpha) + z0
	return normCDF(z0 + za/(1-a*za))
}

// jackknifeAcceleration is SparseMSE's estimate of the BCa acceleration:
// the point estimate with one person removed from each observed capture
// history in turn, the third moment of the residuals weighted by the counts.
func jackknifeAcceleration(ds *dataset, opt *Options, names []string) float64 {
	f := newFitter(ds.k)
	nb := make([]float64, len(ds.n))
	var cells []int
	var jack []float64
	sw, swj := 0.0, 0.0
	for c := 1; c < len(ds.n); c++ {
		if ds.n[c] <= 0 {
			continue
		}
		copy(nb, ds.n)
		nb[c]--
		v := pointTotal(f, nb, ds.k, opt, names)
		if !finite(v) {
			return math.NaN()
		}
		cells = append(cells, c)
		jack = append(jack, v)
		sw += ds.n[c]
		swj += ds.n[c] * v
	}
	mean := swj / sw
	num, den := 0.0, 0.0
	for i, c := range cells {
		d := mean - jack[i]
		num += ds.n[c] * d * d * d
		den += ds.n[c] * d * d
	}
	if den == 0 {
		return 0
	}
	return num / (6 * math.Pow(den, 1.5))
}

// resamplePersons draws a multinomial sample of total persons from the
// cells in proportion to the observed counts n into nb (SparseMSE's
// rmultinom(1, nobs, countsobserved)).
func resamplePersons(rng *rand.Rand, n []float64, total float64, nb []float64) {
	clear(nb)
	// conditional binomials, cell by cell
	left, mass := total, total
	for c := 1; c < len(n) && left > 0; c++ {
		if n[c] <= 0 {
			continue
		}
		p := n[c] / mass
		var x float64
		if p >= 1 {
			x = left
		} else {
			x = binomialRand(rng, left, p)
		}
		nb[c] = x
		left -= x
		mass -= n[c]
	}
}

// binomialRand draws from Binomial(n, p) exactly: by geometric waiting
// times between successes when n·p is small (or n huge), else by n
// Bernoulli trials.
func binomialRand(rng *rand.Rand, n, p float64) float64 {
	if p <= 0 || n <= 0 {
		return 0
	}
	flip := p > 0.5
	if flip {
		p = 1 - p
	}
	var x float64
	if n*p < 30 || n > 1e6 {
		// geometric waiting times: the number of successes whose
		// positions (geometric gaps) fit in n trials; exact.
		lq := math.Log1p(-p)
		pos := 0.0
		for {
			pos += math.Floor(math.Log(1-rng.Float64())/lq) + 1
			if pos > n {
				break
			}
			x++
		}
	} else {
		for i := 0.0; i < n; i++ {
			if rng.Float64() < p {
				x++
			}
		}
	}
	if flip {
		x = n - x
	}
	return x
}

// runReplicates runs opt.Replicates replicates of one, in parallel; the
// replicate r uses PCG(opt.Seed, r), so the results do not depend on the
// number of workers. It returns the finite totals and the count of failures.
func runReplicates(opt *Options, one func(f *fitter, rng *rand.Rand, nb []float64) float64, k int) ([]float64, int) {
	R := opt.Replicates
	out := make([]float64, R)
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(opt.Workers, R)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			f := newFitter(k)
			src := rand.NewPCG(0, 0)
			rng := rand.New(src)
			nb := make([]float64, 1<<k)
			for {
				r := int(next.Add(1) - 1)
				if r >= R {
					return
				}
				src.Seed(opt.Seed, uint64(r))
				out[r] = one(f, rng, nb)
			}
		})
	}
	wg.Wait()
	totals := out[:0]
	failed := 0
	for _, v := range out {
		if finite(v) {
			totals = append(totals, v)
		} else {
			failed++
		}
	}
	return totals, failed
}

// parametric draws Poisson tables from the fitted cell means and refits the
// selected model (or selects again, with opt.Reselect) on each.
func parametric(ds *dataset, model *fitted, names []string, opt *Options) ([]float64, int) {
	f := newFitter(ds.k)
	f.setCounts(ds.n)
	f.use(model)
	mu := append([]float64(nil), f.mu...)
	var pairs []uint32
	for _, s := range model.terms {
		if popcount(s) == 2 {
			pairs = append(pairs, s)
		}
	}
	pairs = append(pairs, model.zeros...)
	return runReplicates(opt, func(f *fitter, rng *rand.Rand, nb []float64) float64 {
		for c := 1; c < len(nb); c++ {
			nb[c] = poissonRand(rng, mu[c])
		}
		ds := newDataset(nb, ds.k)
		if ds.check(names) != nil {
			return math.NaN()
		}
		f.setCounts(nb)
		var m *fitted
		var err error
		if opt.Reselect {
			m, _, err = selectModel(f, ds, names, opt)
		} else {
			m, _, err = fitRobust(f, ds, pairs)
		}
		if err != nil {
			return math.NaN()
		}
		return ds.observed + math.Exp(m.beta[0])
	}, ds.k)
}

// pointTotal selects and fits the model by opt on the counts nb and returns
// the estimated total; NaN when there is none.
func pointTotal(f *fitter, nb []float64, k int, opt *Options, names []string) float64 {
	ds := newDataset(nb, k)
	if ds.check(names) != nil {
		return math.NaN()
	}
	f.setCounts(nb)
	m, _, err := selectModel(f, ds, names, opt)
	if err != nil {
		return math.NaN()
	}
	tot := ds.observed + math.Exp(m.beta[0])
	if !finite(tot) {
		return math.NaN()
	}
	return tot
}

// quantile is the type-7 (linear interpolation) sample quantile; it sorts x.
func quantile(x []float64, q float64) float64 {
	sort.Float64s(x)
	h := q * float64(len(x)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-lo)*(x[i+1]-x[i])
}

// quantile8 is R's type-8 sample quantile (median-unbiased), which
// SparseMSE's bcaconfvalues uses; it sorts x.
func quantile8(x []float64, q float64) float64 {
	sort.Float64s(x)
	n := float64(len(x))
	h := 1.0/3 + q*(n+1.0/3)
	j := math.Floor(h + 4*2.220446e-16)
	g := h - j
	switch {
	case j < 1:
		return x[0]
	case j >= n:
		return x[len(x)-1]
	}
	i := int(j) - 1
	return (1-g)*x[i] + g*x[i+1]
}

// normCDF is the standard normal distribution function.
func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// normQuantile is its inverse, for 0 < p < 1.
func normQuantile(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }
