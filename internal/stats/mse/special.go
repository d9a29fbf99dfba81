package mse

import (
	"math"
	"math/rand/v2"
)

// gammaP is the regularised lower incomplete gamma function P(a, x), a > 0,
// x >= 0 (series for x < a+1, Lentz continued fraction otherwise).
func gammaP(a, x float64) float64 {
	if x <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(a)
	front := a*math.Log(x) - x - lg
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 10000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-16 {
				break
			}
		}
		return math.Min(1, sum*math.Exp(front))
	}
	return 1 - gammaQcf(a, x, front)
}

// gammaQcf is Q(a, x) by continued fraction, valid for x >= a+1.
func gammaQcf(a, x, front float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 10000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return math.Max(0, math.Min(1, math.Exp(front)*h))
}

// poissonLE is P(X <= n) for X ~ Poisson(lambda).
func poissonLE(n, lambda float64) float64 {
	if n < 0 {
		return 0
	}
	if lambda <= 0 {
		return 1
	}
	return gammaQ(n+1, lambda)
}

// gammaQ is the regularised upper incomplete gamma function Q(a, x) =
// 1 - P(a, x), computed directly where it is small (x >= a+1), so that tiny
// tail probabilities keep their precision (they order the candidates in the
// p-value rule, as R's ppois does).
func gammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	if x < a+1 {
		return 1 - gammaP(a, x)
	}
	lg, _ := math.Lgamma(a)
	return gammaQcf(a, x, a*math.Log(x)-x-lg)
}

// poissonGE is P(X >= n) for X ~ Poisson(lambda).
func poissonGE(n, lambda float64) float64 {
	if n <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	return gammaP(n, lambda)
}

// chi2Quantile1 is the quantile of the chi-squared distribution with one
// degree of freedom at probability level (0 < level < 1).
func chi2Quantile1(level float64) float64 {
	z := math.Sqrt2 * math.Erfinv(level)
	return z * z
}

// poissonRand draws from Poisson(lambda): sequential inversion for small
// means, Hörmann's PTRS transformed rejection (1993) for lambda >= 10.
func poissonRand(r *rand.Rand, lambda float64) float64 {
	if !(lambda > 0) {
		return 0
	}
	if lambda < 10 {
		u := r.Float64()
		p := math.Exp(-lambda)
		f := p
		x := 0.0
		for u > f && x < 1000 {
			x++
			p *= lambda / x
			f += p
		}
		return x
	}
	slam := math.Sqrt(lambda)
	loglam := math.Log(lambda)
	b := 0.931 + 2.53*slam
	a := -0.059 + 0.02483*b
	invalpha := 1.1239 + 1.1328/(b-3.4)
	vr := 0.9277 - 3.6224/(b-2)
	for {
		u := r.Float64() - 0.5
		v := r.Float64()
		us := 0.5 - math.Abs(u)
		k := math.Floor((2*a/us+b)*u + lambda + 0.43)
		if us >= 0.07 && v <= vr {
			return k
		}
		if k < 0 || (us < 0.013 && v > us) {
			continue
		}
		lg, _ := math.Lgamma(k + 1)
		if math.Log(v)+math.Log(invalpha)-math.Log(a/(us*us)+b) <= -lambda+k*loglam-lg {
			return k
		}
	}
}
