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
	return periodQueryFrom(r, r.URL.Query().Get("from"))
}

// periodQueryFrom is periodQuery with the period's start given (search,
// whose from is also its paging offset).
func periodQueryFrom(r *http.Request, from string) (census.Query, error) {
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
	p, err := census.ParsePeriod(from, v.Get("to"))
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

// PeriodDocs returns the adverts of a period by the census
// (census.NewPeriodSource over the index); Options.PeriodDocs.
type PeriodDocs func(ctx context.Context, q census.Query) (census.Docs, error)

// periodDocs returns what facts, overlap and patterns read for the
// request's period (from, to, basis, gap as for export counts): nil for the
// whole index by posting date, as before the census, which is also the
// answer without a period when the server has no census.
func (s *server) periodDocs(r *http.Request) (census.Docs, error) {
	return s.periodDocsFrom(r, r.URL.Query().Get("from"))
}

// periodDocsFrom is periodDocs with the period's start given.
func (s *server) periodDocsFrom(r *http.Request, from string) (census.Docs, error) {
	q, err := periodQueryFrom(r, from)
	if err != nil {
		return nil, err
	}
	if q.Basis == census.BasisPosted && q.Period.IsZero() {
		return nil, nil
	}
	if s.opt.PeriodDocs == nil {
		if q.Period.IsZero() {
			return nil, nil
		}
		return nil, badRequest("this server has no census of crawl sightings: ask without from and to")
	}
	setWhat(r, "basis", q.Basis)
	if !q.Period.IsZero() {
		setWhat(r, "period", q.Period.String())
	}
	return s.opt.PeriodDocs(r.Context(), q)
}

// periodIDs returns the ids of the adverts of the request's period for
// search and patterns (from as given, to, basis, gap), nil without a
// period: as on the command line, these search every advert then.
func (s *server) periodIDs(r *http.Request, from string) ([]string, error) {
	q, err := periodQueryFrom(r, from)
	if err != nil || q.Period.IsZero() {
		return nil, err
	}
	docs, err := s.periodDocsFrom(r, from)
	if err != nil {
		return nil, err
	}
	if docs == nil {
		return nil, nil
	}
	return census.IDs(r.Context(), docs)
}

// periodStore returns the index limited to the request's period, or the
// whole index without a period.
func (s *server) periodStore(r *http.Request) (index.Store, error) {
	ids, err := s.periodIDs(r, r.URL.Query().Get("from"))
	if err != nil || ids == nil {
		return s.store, err
	}
	return census.Restrict(s.store, ids), nil
}
