package overlap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"adcensus/index"
	"adcensus/internal/stats/mse"
)

// ReportOptions controls NewReport.
type ReportOptions struct {
	// MinCell suppresses small cells: a count from 1 to MinCell-1 is
	// withheld (written null, Suppressed set, Suppression "primary"), then
	// further counts ("secondary") until no withheld count can be derived
	// from the visible ones (index.SuppressAdditive; docs/OVERLAP.md).
	// 0 or 1 suppresses nothing.
	MinCell int
	// NoEstimate skips the multiple-systems estimate.
	NoEstimate bool
	// MSE is passed to mse.Estimate.
	MSE mse.Options
	// Provenance is written as given (nil is written as {}).
	Provenance map[string]any
	// Within is the overlap of every arena when o is of a subset of them
	// (OnArenas): small cells are then withheld jointly with Within's own
	// report, so that the two reports side by side disclose no small cell
	// of either (a person count of the subset, subtracted from the whole,
	// would otherwise give the persons seen only on the other arenas).
	// NewReport returns ErrDisclosive when that is not possible without
	// hiding a count Within's report shows. Nil: o is the whole overlap.
	Within *Overlap
	// Cache, if set, answers the estimate for a table and MSE options it
	// has answered before (the API's repeated asks).
	Cache *mse.Cache
	// Seen is the interval of the persons observed (index.Seen), written
	// beside the total when it is of the same persons and the total is
	// not suppressed; nil: none.
	Seen *index.Seen
}

// Cell is a count that may be suppressed: Persons is nil when Suppressed,
// and Suppression says why ("primary": below the minimum; "secondary":
// withheld so that a primary cell cannot be derived from the others).
type Cell struct {
	Persons     *int   `json:"persons"`
	Suppressed  bool   `json:"suppressed,omitempty"`
	Suppression string `json:"suppression,omitempty"`
}

func cell(n int, suppression string) Cell {
	if suppression != "" {
		return Cell{Suppressed: true, Suppression: suppression}
	}
	return Cell{Persons: &n}
}

// suppression computes which counts of o to withhold. Every count of the
// report is a sum of capture histories (a person has exactly one), so the
// histories are the leaves and the rest their sums.
func suppression(o *Overlap, minCell int) (histories, arenas, spread, pairs []string, total string) {
	values := make([]int, len(o.Histories))
	for i, h := range o.Histories {
		values[i] = h.Persons
	}
	has := func(h History, a string) bool { _, ok := slices.BinarySearch(h.Arenas, a); return ok }
	var sums [][]int
	add := func(keep func(h History) bool) {
		var sum []int
		for i, h := range o.Histories {
			if keep(h) {
				sum = append(sum, i)
			}
		}
		sums = append(sums, sum)
	}
	for _, a := range o.PerArena {
		add(func(h History) bool { return has(h, a.Arena) })
	}
	for _, sp := range o.Spread {
		add(func(h History) bool { return len(h.Arenas) == sp.Arenas })
	}
	for _, p := range o.Pairs {
		add(func(h History) bool { return has(h, p.A) && has(h, p.B) })
	}
	add(func(History) bool { return true })
	histories, st := index.SuppressAdditive(values, sums, minCell)
	na, ns, np := len(o.PerArena), len(o.Spread), len(o.Pairs)
	return histories, st[:na], st[na : na+ns], st[na+ns : na+ns+np], st[na+ns+np]
}

// String is the count, or "suppressed".
func (c Cell) String() string {
	if c.Persons == nil {
		return "suppressed"
	}
	return strconv.Itoa(*c.Persons)
}

// ReportArena is the persons on one arena.
type ReportArena struct {
	Arena string `json:"arena"`
	Cell
}

// ReportSpread is the persons on exactly Arenas arenas.
type ReportSpread struct {
	Arenas int `json:"arenas"`
	Cell
}

// ReportPair is the persons on both arenas A and B.
type ReportPair struct {
	A string `json:"a"`
	B string `json:"b"`
	Cell
}

// ReportHistory is the persons seen on exactly these arenas.
type ReportHistory struct {
	Arenas []string `json:"arenas"`
	Cell
}

// Report is an overlap fit to leave the program: every count is suppressed
// below MinCell, and the estimate, computed from exact counts, reports only
// aggregates. It is withheld when the observed total itself is suppressed.
type Report struct {
	Provenance map[string]any  `json:"provenance"`
	MinCell    int             `json:"min_cell"`
	Arenas     []ReportArena   `json:"arenas"`
	Persons    Cell            `json:"total"`
	Spread     []ReportSpread  `json:"spread"`
	Pairs      []ReportPair    `json:"pairs"`
	Histories  []ReportHistory `json:"histories"`
	// Estimate is nil when it was skipped or failed; EstimateError then
	// says why (empty when skipped).
	Estimate      *mse.Result `json:"estimate"`
	EstimateError string      `json:"estimate_error,omitempty"`
	// Seen is the interval of the persons observed (ReportOptions.Seen).
	Seen *index.Seen `json:"seen,omitempty"`
	// Combined is the estimate with the de-duplication's uncertainty
	// added (Combine); nil when not computed.
	Combined *Combined `json:"combined,omitempty"`
}

// NewReport suppresses o's small cells and, unless opt.NoEstimate, adds the
// multiple-systems estimate. An estimate that cannot be made (too few
// arenas, not identifiable) is reported in EstimateError, not as an error;
// an invalid opt.MSE is returned as an error.
func NewReport(o *Overlap, opt ReportOptions) (*Report, error) {
	hs, as, ss, ps, ts := suppression(o, opt.MinCell)
	if opt.Within != nil && opt.MinCell > 1 {
		var err error
		if hs, as, ss, ps, ts, err = jointSuppression(o, opt.Within, opt.MinCell); err != nil {
			return nil, err
		}
	}
	r := &Report{
		Provenance: opt.Provenance, MinCell: opt.MinCell, Persons: cell(o.Persons, ts),
		Arenas: []ReportArena{}, Spread: []ReportSpread{}, Pairs: []ReportPair{}, Histories: []ReportHistory{},
	}
	if r.Provenance == nil {
		r.Provenance = map[string]any{}
	}
	for i, a := range o.PerArena {
		r.Arenas = append(r.Arenas, ReportArena{Arena: a.Arena, Cell: cell(a.Persons, as[i])})
	}
	for i, s := range o.Spread {
		r.Spread = append(r.Spread, ReportSpread{Arenas: s.Arenas, Cell: cell(s.Persons, ss[i])})
	}
	for i, p := range o.Pairs {
		r.Pairs = append(r.Pairs, ReportPair{A: p.A, B: p.B, Cell: cell(p.Persons, ps[i])})
	}
	for i, h := range o.Histories {
		r.Histories = append(r.Histories, ReportHistory{Arenas: h.Arenas, Cell: cell(h.Persons, hs[i])})
	}
	if s := opt.Seen; s != nil && !r.Persons.Suppressed && s.Persons == o.Persons {
		r.Seen = s
	}
	if opt.NoEstimate {
		return r, nil
	}
	if r.Persons.Suppressed {
		// The estimate reports the observed total.
		r.EstimateError = "withheld: the number of persons observed is suppressed"
		return r, nil
	}
	var res *mse.Result
	var err error
	if opt.Cache != nil {
		var t *mse.Table
		if t, err = o.Table(); err == nil {
			res, err = opt.Cache.Estimate(t, opt.MSE)
		}
	} else {
		res, err = o.Estimate(opt.MSE)
	}
	switch {
	case err == nil:
		r.Estimate = res
		r.Provenance = maps.Clone(r.Provenance)
		r.Provenance["estimate"] = estimateProvenance(res, opt.MSE)
	case errors.Is(err, ErrTooFewArenas), errors.Is(err, ErrTooManyArenas), errors.Is(err, mse.ErrNotIdentifiable):
		r.EstimateError = err.Error()
	default:
		return nil, err
	}
	return r, nil
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes r as human-readable tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("Arenas used and overlap (distinct persons; cells below %d suppressed)\n\n", max(r.MinCell, 1))
	p("arena\tpersons\n")
	for _, a := range r.Arenas {
		p("%s\t%s\n", a.Arena, a.Cell)
	}
	if s := r.Seen; s != nil {
		p("all arenas\t%s\t(%g %% interval %d–%d, estimate %.1f)\n\n", r.Persons, s.Level*100, s.Low, s.High, s.Estimate)
	} else {
		p("all arenas\t%s\n\n", r.Persons)
	}
	p("seen on\tpersons\n")
	for _, s := range r.Spread {
		unit := "arenas"
		if s.Arenas == 1 {
			unit = "arena"
		}
		p("exactly %d %s\t%s\n", s.Arenas, unit, s.Cell)
	}
	if len(r.Pairs) > 0 {
		p("\narena pair\tpersons on both\n")
		for _, pr := range r.Pairs {
			p("%s + %s\t%s\n", pr.A, pr.B, pr.Cell)
		}
	}
	p("\ncapture history (exactly these arenas)\tpersons\n")
	for _, h := range r.Histories {
		p("%s\t%s\n", strings.Join(h.Arenas, " + "), h.Cell)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	switch {
	case r.Estimate != nil:
		if err := r.Estimate.WriteText(w); err != nil {
			return err
		}
		return r.Combined.writeText(w)
	case r.EstimateError != "":
		_, err := fmt.Fprintf(w, "No multiple-systems estimate: %s\n", r.EstimateError)
		return err
	}
	return nil
}

// estimateProvenance is how the estimate was made, for the report's
// provenance: the method, the selection rule, the bootstrap, its
// replicates, seed and level (docs/MSE.md).
func estimateProvenance(res *mse.Result, opt mse.Options) map[string]any {
	boot := opt.Bootstrap
	if boot == "" {
		boot = "bca"
	}
	return map[string]any{
		"method":     "multiple-systems estimate, Poisson log-linear model with two-list interactions (internal/stats/mse; docs/MSE.md)",
		"criterion":  res.Criterion,
		"bootstrap":  boot,
		"interval":   res.CIMethod,
		"replicates": res.Replicates,
		"seed":       opt.Seed,
		"level":      res.Level,
	}
}
