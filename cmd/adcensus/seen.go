package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"adcensus/dedup/cluster"
	"adcensus/dedup/countci"
	"adcensus/index"
	"adcensus/index/census"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
	"adcensus/web/api"
)

// The persons count's interval on the data directory (docs/DEDUP.md,
// "The count's interval"): the adverts a count or an overlap is of are
// read from the index (their person as counted, city, age), what the
// rules compare of them from the cluster stage's state (cluster.db:
// names, contacts, photos, texts), and countci puts the interval on
// their persons. It is computed on demand, from the state as it is, so
// it follows every rebuild of persons; nothing is stored.

// seenData is the interval of a set of adverts' persons with what the
// overlap's combined estimate needs: the evidence (its persons, in order)
// and each person's arenas.
type seenData struct {
	seen     *index.Seen
	ev       *countci.Evidence
	arenasOf [][]string // by index into ev.Persons, sorted
}

// seenFrom computes the interval of the persons of the adverts of src
// (only those on arenas, when given) with the cluster state cl.
func seenFrom(ctx context.Context, cl *cluster.Cluster, src census.Docs, arenas []string) (*seenData, error) {
	var ads []countci.Advert
	seen := map[string]bool{}
	personArenas := map[string][]string{}
	err := src.ForEachDoc(ctx, func(d *index.Doc) error {
		arena := d.Dimension(index.DimArena)
		if len(arenas) > 0 && !slices.Contains(arenas, arena) {
			return nil
		}
		id := d.ClusterID()
		if seen[id] {
			return nil
		}
		seen[id] = true
		p := d.Person()
		if as := personArenas[p]; !slices.Contains(as, arena) {
			personArenas[p] = append(as, arena)
		}
		ads = append(ads, countci.Advert{ID: id, Person: p, Name: d.Name, City: d.City, Age: d.Age, Contacts: slices.Clone(d.Contacts)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	iv, ev, err := countci.FromState(cl, ads, nil)
	if err != nil {
		return nil, err
	}
	sd := &seenData{seen: seenOf(iv, ev), ev: ev, arenasOf: make([][]string, len(ev.Persons))}
	if len(arenas) > 0 {
		sd.seen.Evidence = nil
	}
	for i, p := range ev.Persons {
		sd.arenasOf[i] = slices.Sorted(slices.Values(personArenas[p]))
	}
	return sd, nil
}

// combineDraws is the number of the count's replicates over which the
// overlap's estimate is made again (overlap.Combined).
const combineDraws = 200

// combine sets rep.Combined: the estimate made again on the capture-history
// table of each of the first combineDraws replicates of the count's
// interval (model selected again, no bootstrap), added to the bootstrap
// interval (overlap.Combine). Nothing when rep has no estimate or no
// interval beside its total.
func (sd *seenData) combine(rep *overlap.Report, opt mse.Options) {
	if rep.Estimate == nil || rep.Seen == nil || rep.Seen != sd.seen {
		return
	}
	lists := rep.Estimate.Lists
	masks := make([]uint32, len(sd.arenasOf))
	for i, as := range sd.arenasOf {
		for _, a := range as {
			if j := slices.Index(lists, a); j >= 0 {
				masks[i] |= 1 << j
			}
		}
	}
	point := opt
	point.Replicates, point.NoProfile, point.NoCompare = -1, true, true
	var totals []float64
	failed := 0
	countci.SimulateEach(sd.ev, &countci.Default, combineDraws, countci.Seed, func(_ int, find func(int) int, removed float64) {
		t, err := overlap.DrawTable(lists, masks, find, removed)
		if err != nil {
			failed++
			return
		}
		res, err := mse.Estimate(t, point)
		if err != nil || res.Total <= 0 {
			failed++
			return
		}
		totals = append(totals, res.Total)
	})
	rep.Combined = overlap.Combine(rep.Estimate, totals, failed)
}

// seenOf is the index.Seen of an interval.
func seenOf(iv countci.Interval, ev *countci.Evidence) *index.Seen {
	lo, hi := countBounds(iv)
	s := &index.Seen{
		Persons: iv.Persons, Estimate: math.Round(iv.Estimate*10) / 10, Low: lo, High: hi, Level: iv.Level,
		Evidence: ev.Counts, ImagesCompared: ev.ImagesCompared,
		Method: countci.Method, Calibration: countci.Default.Source,
	}
	if s.Evidence == nil {
		s.Evidence = map[string]int{}
	}
	return s
}

// seenCLI is the interval for an export on the command line: nil when the
// data directory has no cluster state, and nil with a note on stderr when
// it cannot be read (the export goes on without the interval).
func seenCLI(ctx context.Context, stderr io.Writer, dataDir string, src census.Docs, arenas []string) *seenData {
	path := filepath.Join(dataDir, clusterStateFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil // an index without the cluster stage's state (copied, or built elsewhere)
	} else if err != nil {
		fmt.Fprintf(stderr, "note: the persons count is written without its interval: %v\n", err)
		return nil
	}
	cl, err := cluster.OpenReadOnly(path)
	if err != nil {
		fmt.Fprintf(stderr, "note: the persons count is written without its interval: %v\n", err)
		return nil
	}
	defer cl.Close()
	s, err := seenFrom(ctx, cl, src, arenas)
	if err != nil {
		fmt.Fprintf(stderr, "note: the persons count is written without its interval: %v\n", err)
		return nil
	}
	return s
}

// seenCache is the API's Options.Seen: the interval of a period's persons
// (and arenas) and the overlap's combined estimate, computed with the
// cluster state the explainer holds open and kept per (period, arenas,
// version of the cluster state file): a new state (a rebuild, a new run)
// gives new answers. serve's index does not change while it serves.
type seenCache struct {
	ex    *explainer
	docs  func(ctx context.Context, q census.Query) (census.Docs, error)
	whole census.Docs

	mu       sync.Mutex
	ver      string
	items    map[string]*seenData
	combined map[string]*overlap.Combined
	// failed is when the cluster state last could not be opened (held by
	// a writer beyond the lock wait): for seenRetry after it the counts
	// go without the interval at once instead of waiting again.
	failed time.Time
}

// seenRetry is how long after a failure to open the cluster state the
// interval is not tried again.
const seenRetry = time.Minute

// seenCacheMax bounds the cached answers (each holds the evidence of its
// adverts, the persons and their candidate links: megabytes on a large
// index); beyond it the cache starts afresh.
const seenCacheMax = 32

var _ api.SeenSource = (*seenCache)(nil)

func newSeenCache(ex *explainer, whole census.Docs, docs func(ctx context.Context, q census.Query) (census.Docs, error)) *seenCache {
	return &seenCache{ex: ex, docs: docs, whole: whole}
}

func seenKey(q census.Query, arenas []string) string {
	arenas = slices.Sorted(slices.Values(arenas))
	return strings.Join([]string{q.Basis, q.Gap.String(), q.Period.From.String(), q.Period.To.String(), strings.Join(arenas, "\x00")}, "\x01")
}

// data calls fn with the seenData of (q, arenas), cached or computed
// (nil when there is no cluster state). fn runs with c.ex's lock held
// unless the answer was cached for the state file as it is.
func (c *seenCache) data(ctx context.Context, q census.Query, arenas []string, fn func(sd *seenData, key string)) error {
	key := seenKey(q, arenas)
	c.mu.Lock()
	failed := c.failed
	c.mu.Unlock()
	if !failed.IsZero() && time.Since(failed) < seenRetry {
		return fmt.Errorf("the cluster state could not be opened %s ago; not tried again before %s", time.Since(failed).Round(time.Second), seenRetry)
	}
	// A cached answer for the state file as it is now needs no state
	// opened (a large one takes seconds to load).
	if fi, err := os.Stat(c.ex.path); errors.Is(err, os.ErrNotExist) {
		fn(nil, key)
		return nil
	} else if err == nil {
		c.mu.Lock()
		sd, ok := c.items[key]
		ok = ok && c.ver == stateVersion(fi)
		c.mu.Unlock()
		if ok {
			fn(sd, key)
			return nil
		}
	}
	opened := false
	found, err := c.ex.with(func(cl *cluster.Cluster, ver string) error {
		opened = true
		c.mu.Lock()
		if c.ver != ver || len(c.items) >= seenCacheMax {
			c.ver, c.items, c.combined = ver, map[string]*seenData{}, map[string]*overlap.Combined{}
		}
		sd, ok := c.items[key]
		c.mu.Unlock()
		if !ok {
			src := c.whole
			if !(q.Basis == census.BasisPosted && q.Period.IsZero()) {
				if c.docs == nil {
					return errors.New("no census of crawl sightings")
				}
				d, err := c.docs(ctx, q)
				if err != nil {
					return err
				}
				src = d
			}
			var err error
			if sd, err = seenFrom(ctx, cl, src, arenas); err != nil {
				return err
			}
			c.mu.Lock()
			if c.ver == ver {
				c.items[key] = sd
			}
			c.mu.Unlock()
		}
		fn(sd, key)
		return nil
	})
	if err != nil {
		if !opened {
			c.mu.Lock()
			c.failed = time.Now()
			c.mu.Unlock()
		}
		return err
	}
	if !found {
		fn(nil, key)
	}
	return nil
}

// Seen is the interval of the persons of the adverts of q on arenas (all
// when none); nil without a cluster state.
func (c *seenCache) Seen(ctx context.Context, q census.Query, arenas []string) (*index.Seen, error) {
	var out *index.Seen
	err := c.data(ctx, q, arenas, func(sd *seenData, _ string) {
		if sd != nil {
			out = sd.seen
		}
	})
	return out, err
}

// Combine sets rep.Combined (seenData.combine), kept per (q, arenas,
// MSE options) for the same cluster state.
func (c *seenCache) Combine(ctx context.Context, q census.Query, arenas []string, rep *overlap.Report, opt mse.Options) error {
	return c.data(ctx, q, arenas, func(sd *seenData, key string) {
		if sd == nil {
			return
		}
		key += fmt.Sprintf("\x02%+v", opt)
		c.mu.Lock()
		cb, ok := c.combined[key]
		c.mu.Unlock()
		if ok {
			if rep.Seen == sd.seen {
				rep.Combined = cb
			}
			return
		}
		sd.combine(rep, opt)
		if rep.Seen == sd.seen {
			c.mu.Lock()
			c.combined[key] = rep.Combined
			c.mu.Unlock()
		}
	})
}

// attachSeenCLI puts the interval on the total row of an export counts.
func attachSeenCLI(ctx context.Context, stderr io.Writer, dataDir string, ix index.Store, q census.Query, rows []index.CountRow) {
	src, err := periodSource(ctx, dataDir, ix, q)
	if err != nil {
		fmt.Fprintf(stderr, "note: the persons count is written without its interval: %v\n", err)
		return
	}
	if sd := seenCLI(ctx, stderr, dataDir, src, nil); sd != nil {
		index.AttachSeen(rows, sd.seen)
	}
}

// stateVersion names the version of the cluster state file: its
// modification time and size (every commit changes both or the time).
func stateVersion(fi os.FileInfo) string {
	return fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size())
}
