package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"adcensus/index"
	"adcensus/index/census"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
)

// SeenSource puts the persons count's interval (index.Seen; docs/DEDUP.md,
// "The count's interval") beside the counts of /api/export/counts and
// /api/overlap, and carries the de-duplication's uncertainty into the
// overlap's estimate (overlap.Combined); Options.Seen. The API cannot
// compute it (it needs the cluster stage's state): cmd/adcensus provides
// it. Both methods answer for the adverts of the period q on arenas (all
// when empty); Seen returns nil, nil when there is nothing to say it from.
type SeenSource interface {
	Seen(ctx context.Context, q census.Query, arenas []string) (*index.Seen, error)
	Combine(ctx context.Context, q census.Query, arenas []string, rep *overlap.Report, opt mse.Options) error
}

// seen returns the interval for the request's period and arenas, nil when
// the server has none or it failed: the counts are answered without it,
// and a failure is logged.
func (s *server) seen(r *http.Request, arenas []string) *index.Seen {
	if s.opt.Seen == nil {
		return nil
	}
	q, err := periodQuery(r)
	if err != nil {
		return nil
	}
	sn, err := s.opt.Seen.Seen(r.Context(), q, arenas)
	if err != nil {
		s.log.Warn("persons count's interval", "error", err)
		return nil
	}
	return sn
}

// combine sets rep.Combined when the server has a SeenSource (failures
// are logged; the estimate stands without it).
func (s *server) combine(r *http.Request, arenas []string, rep *overlap.Report) {
	if s.opt.Seen == nil || rep.Seen == nil || rep.Estimate == nil {
		return
	}
	q, err := periodQuery(r)
	if err != nil {
		return
	}
	if err := s.opt.Seen.Combine(r.Context(), q, arenas, rep, s.opt.MSE); err != nil {
		s.log.Warn("overlap estimate with the de-duplication's uncertainty", "error", err)
	}
}

// overlapOf computes the overlap of src on arenas (all when none) and,
// for a subset, the overlap of all arenas it is suppressed jointly with
// (overlap.ReportOptions.Within). An arena with no advert is refused.
func overlapOf(ctx context.Context, src overlap.DocSource, arenas []string) (o, within *overlap.Overlap, err error) {
	o, err = overlap.Compute(ctx, overlap.OnArenas(src, arenas))
	if err != nil || len(arenas) == 0 {
		return o, nil, err
	}
	for _, a := range arenas {
		if !slices.Contains(o.Arenas, a) {
			return nil, nil, badRequest("arena=%s: %q has no advert in the period", strings.Join(arenas, ","), a)
		}
	}
	within, err = overlap.Compute(ctx, src)
	return o, within, err
}
