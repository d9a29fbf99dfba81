package mse

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
)

// ErrNotIdentifiable is returned (wrapped, with the reason) by Estimate when
// no finite estimate of the dark figure exists for the table: fewer than two
// lists with anyone on them, a list that everyone observed is on, or a
// main-effects model whose maximum likelihood estimate does not exist (for
// example two lists with no overlap at all).
var ErrNotIdentifiable = errors.New("mse: dark figure not identifiable")

// Options control Estimate. The zero value selects interactions stepwise by
// AIC and gives a 95 % parametric-bootstrap interval from 1,000 replicates
// (seed 0) plus a profile-likelihood interval.
type Options struct {
	// Criterion for forward stepwise selection of two-list interactions:
	// "pvalue" (default; SparseMSE's stepwisefit: add the pair with the
	// smallest Poisson p-value while it is below PThreshold), "aic", "bic"
	// (penalty log(observed persons) per parameter), or "none" (main effects
	// only). Ignored when Interactions is set.
	Criterion string
	// Interactions, if non-empty, fixes the model: main effects plus these
	// pairs, written "A:B" with list names. No selection is done.
	Interactions []string
	// PThreshold is the p-value threshold for Criterion "pvalue"
	// (default 0.02, as in SparseMSE).
	PThreshold float64
	// MinImprovement: with "aic"/"bic", a term is added only if it lowers
	// the criterion by more than this (default 0).
	MinImprovement float64
	// MaxInteractions caps the number of interactions selected (0: no cap).
	MaxInteractions int

	// Level of the confidence intervals (default 0.95).
	Level float64
	// Bootstrap is the interval's method: "bca" (default; SparseMSE's
	// estimatepopulation: persons resampled with the observed total fixed,
	// the model selected again on every replicate, bias-corrected and
	// accelerated percentile interval with a jackknife acceleration) or
	// "parametric" (Poisson tables from the fitted cell means, the selected
	// model refitted, or selected again with Reselect; percentile interval).
	Bootstrap string
	// Replicates of the bootstrap (0: 1000; negative: none).
	Replicates int
	// Seed of the bootstrap; replicate r uses PCG(Seed, r), so results do
	// not depend on Workers.
	Seed uint64
	// Reselect re-runs model selection on every parametric bootstrap
	// replicate, so the interval reflects model uncertainty (slower).
	// Otherwise the selected model is refitted. The "bca" bootstrap always
	// selects again.
	Reselect bool
	// Workers for the bootstrap (0: GOMAXPROCS).
	Workers int
	// NoProfile skips the profile-likelihood interval.
	NoProfile bool
	// NoCompare skips the estimate by the other criterion (Alternative).
	NoCompare bool
}

// Interval is a confidence interval for the total population.
type Interval struct {
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	Method string  `json:"method"`
}

// Coef is one fitted log-linear parameter.
type Coef struct {
	Term     string  `json:"term"`
	Estimate float64 `json:"estimate"`
	SE       float64 `json:"se"`
}

// Result is the outcome of Estimate. Counts are persons; Hidden and Total are
// expected values under the fitted model and are not rounded.
type Result struct {
	Lists    []string `json:"lists"`
	Observed int64    `json:"observed"`
	Hidden   float64  `json:"hidden"`
	Total    float64  `json:"total"`
	// CILow and CIHigh bound the total population: the percentile interval
	// of the parametric bootstrap (equal to Total when Replicates < 0).
	CILow    float64 `json:"ci_low"`
	CIHigh   float64 `json:"ci_high"`
	Level    float64 `json:"level"`
	CIMethod string  `json:"ci_method"`
	// Replicates that gave an estimate, and those that did not (no finite
	// MLE even after dropping interactions); failures are excluded.
	Replicates       int `json:"replicates"`
	FailedReplicates int `json:"failed_replicates"`
	// BiasZ0 and Acceleration are the BCa bootstrap's bias correction
	// (the normal quantile of the share of replicates below the estimate)
	// and its jackknife acceleration (Bootstrap "bca" only).
	BiasZ0       float64 `json:"bca_z0,omitempty"`
	Acceleration float64 `json:"bca_acceleration,omitempty"`
	// Profile is the profile-likelihood interval for the total (nil if
	// skipped or a bound was not found); Wald is exp(beta_0 ± z se) plus
	// the observed count, as in SparseMSE's estimatepopulation.0.
	Profile *Interval `json:"profile_ci,omitempty"`
	Wald    *Interval `json:"wald_ci,omitempty"`

	Criterion    string   `json:"criterion"`
	Terms        []string `json:"terms"`        // main effects then interactions
	Interactions []string `json:"interactions"` // the selected two-list interactions
	Coefficients []Coef   `json:"coefficients"`
	LogLik       float64  `json:"loglik"`
	Deviance     float64  `json:"deviance"`
	DF           int      `json:"df"` // residual degrees of freedom
	AIC          float64  `json:"aic"`
	BIC          float64  `json:"bic"`
	// EmptyOverlaps are the interactions in the model at their extended
	// MLE, -Inf: no one is on both lists (also listed in Interactions).
	EmptyOverlaps []string `json:"empty_overlaps,omitempty"`
	// Alternative is the estimate by the other selection rule (AIC when
	// Criterion is "pvalue", else the p-value rule), refitted without an
	// interval; Disagree is set when its total lies outside the interval.
	Alternative *Alternative `json:"alternative,omitempty"`
	// Unstable lists why the estimate should be read with care: pairs of
	// lists with no overlap, an interval wider than the estimate, a fit at
	// the boundary of the parameter space, a disagreement between the
	// selection rules. Each is also in Warnings.
	Unstable []string `json:"unstable,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Alternative is the point estimate by another model-selection rule.
type Alternative struct {
	Criterion    string   `json:"criterion"`
	Total        float64  `json:"total"`
	Interactions []string `json:"interactions"`
	Disagree     bool     `json:"disagree"`
}

func (o Options) withDefaults() (Options, error) {
	o.Criterion = strings.ToLower(strings.TrimSpace(o.Criterion))
	if o.Criterion == "" {
		o.Criterion = "pvalue"
	}
	switch o.Criterion {
	case "aic", "bic", "pvalue", "none":
	default:
		return o, fmt.Errorf("mse: unknown criterion %q (want aic, bic, pvalue or none)", o.Criterion)
	}
	if len(o.Interactions) > 0 {
		o.Criterion = "fixed"
	}
	o.Bootstrap = strings.ToLower(strings.TrimSpace(o.Bootstrap))
	switch o.Bootstrap {
	case "":
		o.Bootstrap = "bca"
	case "bca", "parametric":
	default:
		return o, fmt.Errorf("mse: unknown bootstrap %q (want bca or parametric)", o.Bootstrap)
	}
	if o.PThreshold == 0 {
		o.PThreshold = 0.02
	}
	if o.Level == 0 {
		o.Level = 0.95
	}
	if !(o.Level > 0 && o.Level < 1) {
		return o, fmt.Errorf("mse: confidence level %v not in (0, 1)", o.Level)
	}
	if o.Replicates == 0 {
		o.Replicates = 1000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// Estimate fits the model chosen by opt to t and estimates the dark figure
// and the total population with confidence intervals. It returns an error
// wrapping ErrNotIdentifiable when no finite estimate exists; the Result never
// holds NaN or infinite values.
func Estimate(t *Table, opt Options) (*Result, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	k := len(t.Lists)
	n := make([]float64, len(t.counts))
	for c, v := range t.counts {
		n[c] = float64(v)
	}
	ds := newDataset(n, k)
	res := &Result{Lists: append([]string(nil), t.Lists...), Observed: t.Observed(), Level: opt.Level, Criterion: opt.Criterion}
	if err := ds.check(t.Lists); err != nil {
		return nil, err
	}
	for i := 0; i < k; i++ {
		if ds.dead&(1<<i) != 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("list %s has no one on it: left out of the model", t.Lists[i]))
		}
	}

	f := newFitter(k)
	f.setCounts(n)
	model, notes, err := selectModel(f, ds, t.Lists, &opt)
	if err != nil {
		return nil, err
	}
	for _, nt := range notes {
		verb := "not considered"
		if opt.Criterion == "fixed" {
			verb = "dropped"
		}
		res.Warnings = append(res.Warnings, fmt.Sprintf("interaction %s %s: %s", termName(nt.pair, t.Lists), verb, nt.reason))
	}

	res.describe(f, ds, model)
	res.fillWald(f, ds, model)
	if !opt.NoProfile {
		res.fillProfile(f, ds, model)
	}
	res.fillBootstrap(ds, model, &opt)
	if !opt.NoCompare {
		res.compare(f, ds, &opt)
	}
	res.checkStability(f, ds, model)
	return res, nil
}

// describe fills in the estimate and the selected model: its fit
// statistics and terms.
func (r *Result) describe(f *fitter, ds *dataset, model *fitted) {
	lists := r.Lists
	f.use(model)
	hidden := math.Exp(model.beta[0])
	r.Hidden = hidden
	r.Total = ds.observed + hidden
	r.LogLik = model.ll
	r.AIC = model.aic()
	r.BIC = model.bic(ds.observed)
	r.DF = liveCells(f) - len(model.terms)
	r.Deviance = deviance(f, ds, model)
	for _, s := range model.terms {
		if s == 0 {
			continue
		}
		r.Terms = append(r.Terms, termName(s, lists))
		if popcount(s) == 2 {
			r.Interactions = append(r.Interactions, termName(s, lists))
		}
	}
	for _, s := range model.zeros {
		r.Interactions = append(r.Interactions, termName(s, lists))
		r.EmptyOverlaps = append(r.EmptyOverlaps, termName(s, lists))
	}
	if r.Interactions == nil {
		r.Interactions = []string{}
	}
}

// fillWald fills in the Wald interval and the standard errors from the
// observed information, when the covariance can be computed.
func (r *Result) fillWald(f *fitter, ds *dataset, model *fitted) {
	lists, level := r.Lists, r.Level
	f.use(model)
	if cov, ok := f.covariance(model.terms); ok {
		p := len(model.terms)
		for j, s := range model.terms {
			r.Coefficients = append(r.Coefficients, Coef{Term: termName(s, lists), Estimate: model.beta[j], SE: math.Sqrt(math.Max(0, cov[j*p+j]))})
		}
		z := math.Sqrt(chi2Quantile1(level))
		se := math.Sqrt(math.Max(0, cov[0]))
		lo, hi := ds.observed+math.Exp(model.beta[0]-z*se), ds.observed+math.Exp(model.beta[0]+z*se)
		if finite(lo) && finite(hi) {
			r.Wald = &Interval{Low: lo, High: hi, Method: "Wald on log(hidden)"}
		}
	}
}

// fillProfile fills in the profile-likelihood interval, or warns which bound
// was not found.
func (r *Result) fillProfile(f *fitter, ds *dataset, model *fitted) {
	level := r.Level
	f.setStructuralZeros(model.zeros)
	lo, hi, okLo, okHi := profileInterval(f, ds, model, level)
	switch {
	case okLo && okHi:
		r.Profile = &Interval{Low: lo, High: hi, Method: "profile likelihood"}
	case !okLo:
		r.Warnings = append(r.Warnings, "profile-likelihood interval: lower bound not found")
	default:
		r.Warnings = append(r.Warnings, "profile-likelihood interval: upper bound not found (likelihood too flat)")
	}
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// selectModel fits the model asked for by opt.
func selectModel(f *fitter, ds *dataset, names []string, opt *Options) (*fitted, []dropNote, error) {
	switch opt.Criterion {
	case "fixed":
		pairs, err := parsePairs(opt.Interactions, names)
		if err != nil {
			return nil, nil, err
		}
		return fitRobust(f, ds, pairs)
	case "none":
		return fitRobust(f, ds, nil)
	default:
		return stepwise(f, ds, opt)
	}
}

func parsePairs(specs []string, names []string) ([]uint32, error) {
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	var pairs []uint32
	seen := make(map[uint32]bool)
	for _, s := range specs {
		a, b, ok := strings.Cut(s, ":")
		ia, okA := idx[strings.TrimSpace(a)]
		ib, okB := idx[strings.TrimSpace(b)]
		if !ok || !okA || !okB || ia == ib {
			return nil, fmt.Errorf("mse: interaction %q is not two distinct list names joined by ':' (lists: %s)", s, strings.Join(names, ", "))
		}
		p := uint32(1)<<ia | uint32(1)<<ib
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	return pairs, nil
}

// termName names a term: "(intercept)", "LA" or "LA:NG".
func termName(s uint32, names []string) string {
	if s == 0 {
		return "(intercept)"
	}
	var parts []string
	for i := range names {
		if s&(1<<i) != 0 {
			parts = append(parts, names[i])
		}
	}
	return strings.Join(parts, ":")
}

// deviance is 2 sum n log(n/mu) - (n - mu) over live observable cells.
func deviance(f *fitter, ds *dataset, m *fitted) float64 {
	f.use(m)
	d := 0.0
	for c := 1; c < len(ds.n); c++ {
		if !f.live[c] {
			continue
		}
		n, mu := ds.n[c], f.mu[c]
		if n > 0 {
			d += n * math.Log(n/mu)
		}
		d -= n - mu
	}
	return 2 * d
}

// profileInterval finds the values of beta_0 (log hidden) at which the
// profile log-likelihood drops chi2_1(level)/2 below its maximum, and returns
// the corresponding totals.
func profileInterval(f *fitter, ds *dataset, model *fitted, level float64) (lo, hi float64, okLo, okHi bool) {
	target := chi2Quantile1(level) / 2
	b0 := model.beta[0]
	llMax := model.ll + ds.logFact // kernel scale, as returned by fit
	beta := make([]float64, len(model.terms))
	// drop(c) is llMax - profile ll at beta_0 = c; warm starts follow c.
	last := make([]float64, len(model.terms))
	drop := func(c float64) (float64, bool) {
		copy(beta, last)
		beta[0] = c
		ll, err := f.fit(model.terms, beta, true, true)
		if err != nil {
			return 0, false
		}
		copy(last, beta)
		return llMax - ll, true
	}
	bound := func(dir float64) (float64, bool) {
		copy(last, model.beta)
		inner, step := b0, 0.1
		var outer float64
		for {
			outer = b0 + dir*step
			d, ok := drop(outer)
			if !ok || math.Abs(outer) > divergeInter {
				return 0, false
			}
			if d >= target {
				break
			}
			inner = outer
			step *= 2
		}
		// bisection between inner (drop < target) and outer (drop >= target)
		for i := 0; i < 60 && math.Abs(outer-inner) > 1e-9; i++ {
			mid := (inner + outer) / 2
			d, ok := drop(mid)
			if !ok {
				return 0, false
			}
			if d >= target {
				outer = mid
			} else {
				inner = mid
			}
		}
		return (inner + outer) / 2, true
	}
	cLo, okLo := bound(-1)
	cHi, okHi := bound(+1)
	return ds.observed + math.Exp(cLo), ds.observed + math.Exp(cHi), okLo, okHi
}

func liveCells(f *fitter) int {
	n := 0
	for _, ok := range f.live {
		if ok {
			n++
		}
	}
	return n
}

// compare fits the model chosen by the other selection rule (AIC for the
// p-value rule, the p-value rule otherwise) and records its estimate; when
// it lies outside the interval, both are shown and the result is flagged.
func (r *Result) compare(f *fitter, ds *dataset, opt *Options) {
	alt := *opt
	alt.Interactions = nil
	alt.Criterion = "pvalue"
	if opt.Criterion == "pvalue" {
		alt.Criterion = "aic"
	}
	f.setCounts(ds.n)
	m, _, err := selectModel(f, ds, r.Lists, &alt)
	if err != nil {
		return
	}
	a := &Alternative{Criterion: alt.Criterion, Total: ds.observed + math.Exp(m.beta[0]), Interactions: []string{}}
	for _, s := range m.terms {
		if popcount(s) == 2 {
			a.Interactions = append(a.Interactions, termName(s, r.Lists))
		}
	}
	for _, s := range m.zeros {
		a.Interactions = append(a.Interactions, termName(s, r.Lists))
	}
	lo, hi, what := r.CILow, r.CIHigh, "interval"
	if r.Replicates == 0 && r.Wald != nil {
		lo, hi, what = r.Wald.Low, r.Wald.High, "Wald interval"
	}
	if r.Replicates > 0 || r.Wald != nil {
		a.Disagree = a.Total < lo || a.Total > hi
	}
	r.Alternative = a
	if a.Disagree {
		r.unstable(fmt.Sprintf("selection rules disagree: %s gives %.0f (interactions: %s), outside the %g%% %s %.0f – %.0f of the %s estimate %.0f",
			strings.ToUpper(alt.Criterion), a.Total, orNone(a.Interactions), r.Level*100, what, lo, hi, criterionLabel(r.Criterion), r.Total))
	}
}

func criterionLabel(c string) string {
	switch c {
	case "aic", "bic":
		return strings.ToUpper(c)
	case "pvalue":
		return "p-value rule's"
	}
	return c + " model's"
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (r *Result) unstable(msg string) {
	r.Unstable = append(r.Unstable, msg)
	r.Warnings = append(r.Warnings, "unstable: "+msg)
}

// Thresholds of the stability warnings.
const (
	hugeInterval = 1.0  // interval width above this multiple of the estimate
	boundaryCoef = 10.0 // |coefficient| (log scale) of a fit near the boundary
	boundarySE   = 5.0  // standard error (log scale) of such a fit
)

// checkStability flags an estimate that should be read with care: list
// pairs with no overlap (their interaction is either at -Inf in the model,
// a boundary fit, or assumed 0 without evidence), an interval wider than
// the estimate itself, and coefficients near the boundary of the parameter
// space (huge values or standard errors).
func (r *Result) checkStability(f *fitter, ds *dataset, model *fitted) {
	var none []string
	for i := 0; i < ds.k; i++ {
		for j := i + 1; j < ds.k; j++ {
			p := uint32(1)<<i | uint32(1)<<j
			if p&ds.dead == 0 && ds.over[p] == 0 && !model.has(p) {
				none = append(none, termName(p, r.Lists))
			}
		}
	}
	if len(none) > 0 {
		r.unstable(fmt.Sprintf("%d list pair(s) with no overlap, their interaction assumed 0 without evidence: %s", len(none), strings.Join(none, ", ")))
	}
	for _, z := range model.zeros {
		pz := probEmpty(f, ds, model, z)
		r.unstable(fmt.Sprintf("boundary fit: interaction %s is at its extended MLE (-Inf): no one is on both lists, so the cells with both are structural zeros; P(no overlap | model without it) = %.2g",
			termName(z, r.Lists), pz))
	}
	if r.Replicates > 0 && r.CIHigh-r.CILow > hugeInterval*r.Total {
		r.unstable(fmt.Sprintf("huge interval: %.0f – %.0f is wider than the estimate %.0f", r.CILow, r.CIHigh, r.Total))
	}
	for _, c := range r.Coefficients {
		if c.Term == "(intercept)" {
			continue
		}
		if math.Abs(c.Estimate) > boundaryCoef || c.SE > boundarySE {
			r.unstable(fmt.Sprintf("boundary fit: coefficient %s = %.2f (s.e. %.2f) is near the edge of the parameter space", c.Term, c.Estimate, c.SE))
		}
	}
}

// probEmpty is SparseMSE's poisspempty: the probability that the overlap of
// pair z is empty under the model without that interaction, exp(-mu) with
// mu the fitted total of the cells containing both lists.
func probEmpty(f *fitter, ds *dataset, model *fitted, z uint32) float64 {
	var zeros []uint32
	for _, s := range model.zeros {
		if s != z {
			zeros = append(zeros, s)
		}
	}
	m, err := fitModel(f, ds, model.terms, zeros, model.beta)
	if err != nil {
		return math.NaN()
	}
	f.use(m)
	mu := 0.0
	for c := 1; c < len(f.mu); c++ {
		if uint32(c)&z == z {
			mu += f.mu[c]
		}
	}
	return math.Exp(-mu)
}
