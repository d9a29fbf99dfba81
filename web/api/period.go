package api

import (
	"context"
	"net/http"
	"time"

	"adcensus/index"
	"adcensus/index/census"
)

// PeriodCounts counts over a period (census.Counts, or the snapshot
// counts for by = ["snapshot"]); Options.Periods.
type PeriodCounts func(ctx context.Context, by []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error)

// periodQuery reads the period parameters of a request: from, to (dates,
// ISO weeks, months, years), basis (seen or posted) and gap (a duration).
func periodQuery(r *http.Request) (census.Query, error) {
	v := r.URL.Query()
	q := census.Query{Basis: census.BasisSeen, Gap: census.DefaultGap}
	if b := v.Get("basis"); b != "" {
		if err := census.CheckBasis(b); err != nil {
			return q, badRequest("%v", err)
		}
		q.Basis = b
	}
	if g := v.Get("gap"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d <= 0 {
			return q, badRequest("gap=%q: want a positive duration such as 192h", g)
		}
		q.Gap = d
	}
	p, err := census.ParsePeriod(v.Get("from"), v.Get("to"))
	if err != nil {
		return q, badRequest("%v", err)
	}
	q.Period = p
	return q, nil
}

// counts answers export counts for the request's period: the index's own
// counts by posting date without a period, else Options.Periods.
func (s *server) counts(r *http.Request, by []string, opt index.CountOptions) ([]index.CountRow, error) {
	q, err := periodQuery(r)
	if err != nil {
		return nil, err
	}
	if q.Basis == census.BasisPosted && q.Period.IsZero() {
		return s.store.Counts(r.Context(), by, opt)
	}
	setWhat(r, "basis", q.Basis)
	if !q.Period.IsZero() {
		setWhat(r, "period", q.Period.String())
	}
	if s.opt.Periods == nil {
		if q.Period.IsZero() {
			return s.store.Counts(r.Context(), by, opt) // no census: by posting date
		}
		return nil, badRequest("this server has no census of crawl sightings: ask without from and to")
	}
	return s.opt.Periods(r.Context(), by, q, opt)
}
