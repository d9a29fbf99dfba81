package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"adcensus/index"
	"adcensus/index/census"
	"adcensus/pipeline"
)

// openCensus opens the census file (census.db) when the node runs the
// census stage, which runs beside every index.
func (n *node) openCensus() error {
	if !n.has("census") && !n.has("index") {
		return nil
	}
	st, err := census.Open(filepath.Join(n.dataDir, census.File))
	if err != nil {
		return err
	}
	n.census = st
	return nil
}

// resetCensus deletes the census file and opens it empty, for a rebuild by
// replay.
func (n *node) resetCensus() error {
	if n.census != nil {
		if err := n.census.Close(); err != nil {
			return err
		}
		n.census = nil
	}
	path := filepath.Join(n.dataDir, census.File)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	st, err := census.Open(path)
	if err != nil {
		return err
	}
	n.census = st
	return nil
}

// openCensusRead opens the census file of a data directory for reading;
// nil (and no error) when there is none yet.
func openCensusRead(dataDir string) (*census.Store, error) {
	path := filepath.Join(dataDir, census.File)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return census.OpenReadOnly(path)
}

// periodFlags are the flags every period-aware export takes (besides
// --from, whose name some commands already used for something else).
type periodFlags struct {
	to, basis *string
	gap       *time.Duration
	apiFlag   *string
	api       string
}

// addPeriodFlags adds --to, --basis and --gap, and with withAPI --api.
func addPeriodFlags(fs *flag.FlagSet, withAPI bool) *periodFlags {
	pf := &periodFlags{
		to:    fs.String("to", "", "end of the period (inclusive): a date, ISO week, month or year"),
		basis: fs.String("basis", census.BasisSeen, `"seen": adverts live in the period by their crawl sightings, persons with one; "posted": by posting date (or first fetch), as before the census`),
		gap:   fs.Duration("gap", census.DefaultGap, "longest time between two sightings of an advert during which it counts as live throughout"),
	}
	if withAPI {
		pf.apiFlag = fs.String("api", "", "read through the API at this URL (an index replica's 'stages --serve', or 'serve') instead of --data: works while the index stage writes")
	}
	return pf
}

// query checks the flags and returns the census query of the period.
func (pf *periodFlags) query(from string) (census.Query, error) {
	if pf.api == "" && pf.apiFlag != nil {
		pf.api = *pf.apiFlag
	}
	if err := census.CheckBasis(*pf.basis); err != nil {
		return census.Query{}, usageError{"--" + err.Error()}
	}
	if *pf.gap <= 0 {
		return census.Query{}, usageError{"--gap must be more than 0"}
	}
	p, err := census.ParsePeriod(from, *pf.to)
	if err != nil {
		return census.Query{}, usageError{err.Error()}
	}
	return census.Query{Period: p, Basis: *pf.basis, Gap: *pf.gap}, nil
}

// values adds the period to an API request.
func (pf *periodFlags) values(q url.Values, from string) {
	if from != "" {
		q.Set("from", from)
	}
	if *pf.to != "" {
		q.Set("to", *pf.to)
	}
	q.Set("basis", *pf.basis)
	q.Set("gap", pf.gap.String())
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// dimSnapshot is export counts' extra dimension: one row per crawl run.
const dimSnapshot = "snapshot"

// checkCountDims checks export counts' --by: the index's dimensions, or
// snapshot alone.
func checkCountDims(dims []string) error {
	if slices.Contains(dims, dimSnapshot) {
		if len(dims) != 1 {
			return usageError{"--by snapshot takes no other dimension (a run is of one arena)"}
		}
		return nil
	}
	return index.ValidateDimensions(dims)
}

// periodCounts counts over the period of q: by posting date without the
// census (basis posted, no period: the index's own counts), else from the
// census's sightings.
func periodCounts(ctx context.Context, dataDir string, ix index.Store, dims []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error) {
	if q.Basis == census.BasisPosted && q.Period.IsZero() {
		return ix.Counts(ctx, dims, opt)
	}
	st, err := openCensusRead(dataDir)
	if err != nil {
		return nil, err
	}
	if st != nil {
		defer st.Close()
	}
	return censusCounts(ctx, dataDir, ix, st, dims, q, opt)
}

// censusCounts is periodCounts with the census store open (nil: none).
func censusCounts(ctx context.Context, dataDir string, ix index.Store, st *census.Store, dims []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error) {
	if len(dims) == 1 && dims[0] == dimSnapshot {
		if st == nil {
			return nil, fmt.Errorf("no crawl runs recorded in %s (census.db): --by snapshot needs crawls by 'adcensus run'", dataDir)
		}
		return census.SnapshotCounts(ctx, ix, st, q.Period, opt)
	}
	return census.Counts(ctx, ix, st, dims, q, opt)
}

// periodProvenance adds the period and basis to an export's provenance.
func periodProvenance(p map[string]any, q census.Query) map[string]any {
	if p == nil {
		p = map[string]any{}
	}
	per := map[string]any{"basis": q.Basis}
	if !q.Period.From.IsZero() {
		per["from"] = q.Period.From.Format(time.RFC3339)
	}
	if !q.Period.To.IsZero() {
		per["to"] = q.Period.To.Format(time.RFC3339)
	}
	if q.Basis != census.BasisPosted {
		per["gap"] = q.Gap.String()
	}
	p["period"] = per
	return p
}

// periodSource returns what a facts or overlap export reads for the
// period of q: the index itself by posting date without a period (as
// before the census), else the adverts live (or posted) in the period.
func periodSource(ctx context.Context, dataDir string, ix index.Store, q census.Query) (census.Docs, error) {
	if q.Basis == census.BasisPosted && q.Period.IsZero() {
		return ix, nil
	}
	st, err := openCensusRead(dataDir)
	if err != nil {
		return nil, err
	}
	if st != nil {
		defer st.Close() // the lifetimes are read now
	}
	return census.NewPeriodSource(ctx, ix, st, q)
}

// searchFrom reads search's --from: a number of hits to skip, or the start
// of a period (a date, ISO week or month; a year is written 2026-01).
func searchFrom(s string) (*int, string) {
	n, err := strconv.Atoi(s)
	if err == nil {
		return &n, ""
	}
	zero := 0
	return &zero, s
}

// periodIDs returns the advert ids of the period of q for a search, nil
// when no period is asked (every advert).
func periodIDs(ctx context.Context, dataDir string, ix index.Store, q census.Query) ([]string, error) {
	if q.Period.IsZero() {
		return nil, nil
	}
	src, err := periodSource(ctx, dataDir, ix, q)
	if err != nil {
		return nil, err
	}
	return census.IDs(ctx, src)
}

// apiPeriodDocs is the API's Options.PeriodDocs, as apiPeriods.
func apiPeriodDocs(dataDir string, ix index.Store, st *census.Store) func(ctx context.Context, q census.Query) (census.Docs, error) {
	return func(ctx context.Context, q census.Query) (census.Docs, error) {
		if st != nil {
			return census.NewPeriodSource(ctx, ix, st, q)
		}
		return periodSource(ctx, dataDir, ix, q)
	}
}

// apiPeriods is the API's Options.Periods over the index and census of a
// data directory: st when the process holds the census open (stages
// --serve), else the file opened read-only for each request.
func apiPeriods(dataDir string, ix index.Store, st *census.Store) func(ctx context.Context, by []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error) {
	return func(ctx context.Context, by []string, q census.Query, opt index.CountOptions) ([]index.CountRow, error) {
		if err := checkCountDims(by); err != nil {
			return nil, err
		}
		if st != nil {
			return censusCounts(ctx, dataDir, ix, st, by, q, opt)
		}
		return periodCounts(ctx, dataDir, ix, by, q, opt)
	}
}

// censusDurable is the node's census consumer: the single pipeline's, or
// its index replica's own on a NATS cluster.
func (n *node) censusDurable() string {
	if n.indexDurable == "" || n.indexDurable == pipeline.DurableIndex {
		return pipeline.DurableCensus
	}
	return pipeline.CensusDurable(strings.TrimPrefix(n.indexDurable, pipeline.DurableIndexPrefix))
}

// pagingFlag is the search flag that pages: --from, or --offset when
// --from starts a period.
func pagingFlag(periodFrom string) string {
	if periodFrom != "" {
		return "--offset"
	}
	return "--from"
}

// periodStore returns ix limited to the adverts of q's period, or ix
// itself without a period.
func periodStore(ctx context.Context, dataDir string, ix index.Store, q census.Query) (index.Store, error) {
	ids, err := periodIDs(ctx, dataDir, ix, q)
	if err != nil || ids == nil {
		return ix, err
	}
	return census.Restrict(ix, ids), nil
}
