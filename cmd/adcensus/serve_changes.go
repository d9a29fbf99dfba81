package main

import (
	"context"
	"time"

	"adcensus/index"
	"adcensus/index/census"
	"adcensus/web/api"
)

// apiTrend is the API's Options.Trend over the index and the census of a
// data directory (as apiChanges).
func apiTrend(dataDir string, ix index.Store, held *census.Store) api.TrendFunc {
	return func(ctx context.Context, by, period string, q census.Query, minCell int) ([]census.TrendRow, error) {
		st := held
		if st == nil {
			var err error
			if st, err = openCensusRead(dataDir); err != nil {
				return nil, err
			}
			if st == nil {
				return nil, api.ErrNoCensus
			}
			defer st.Close()
		}
		return census.Trend(ctx, ix, st, by, period, q, minCell)
	}
}

// apiChanges is the API's Options.Changes over the index and the census of
// a data directory (census.db opened read-only for each request, as
// 'adcensus changes', unless the process holds it): since a run (ok=false when there is no such ended
// run) or a time.
func apiChanges(dataDir string, ix index.Store, held *census.Store) api.ChangesFunc {
	return func(ctx context.Context, run string, since time.Time, minCell int) (*census.Changes, bool, error) {
		st := held // serve --pipeline: the process's own
		if st == nil {
			var err error
			if st, err = openCensusRead(dataDir); err != nil {
				return nil, false, err
			}
			if st == nil {
				return nil, false, api.ErrNoCensus
			}
			defer st.Close()
		}
		if run != "" {
			t, err := st.SinceRun(run)
			if err != nil {
				return nil, false, nil
			}
			since = t
		}
		ch, err := census.ReportChanges(ctx, ix, st, since, minCell)
		return ch, err == nil, err
	}
}
