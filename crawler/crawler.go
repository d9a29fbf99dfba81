// Package crawler fetches the listing and advert pages of an arena described
// by an ArenaConfig, extracts adverts, pseudonymises their contacts, hashes
// their images and hands them to a Sink (the ADS stream, or a file).
//
// Fetching goes through colly behind our own fetcher (fetcher.go): robots.txt
// and its Crawl-delay honoured, a per-host
// parallelism and delay, and retries with back-off; the frontier and the set
// of finished pages live in a bbolt Store, so a crawl resumes after a crash.
//
// Optionally every HTTP response is archived as WARC (warc.go) and the
// adverts can later be rebuilt from the archive with a changed config
// (reextract.go). Metrics (metrics.go) exposes per-arena counters in the
// Prometheus text format; Scheduler (schedule.go) starts crawls at cron times.
package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/contact"
)

// Sink receives extracted adverts. Publish returns only when the advert is
// durably stored (for the stream: acknowledged by JetStream); the crawler
// marks the page finished only after that.
type Sink interface {
	Publish(ctx context.Context, a *ad.Ad) error
}

// Options configure a Crawler.
type Options struct {
	Store   *Store
	Sink    Sink
	Pseudo  *contact.Pseudonymiser
	Logger  *slog.Logger
	Version string
	// ResumeID continues that run. Otherwise, with AutoResume, the latest
	// unfinished run of the arena with the same config is continued.
	ResumeID    string
	AutoResume  bool
	ImageLimits dedup.ImageLimits
	// RetryBase is the first back-off after a failed fetch (default 500ms);
	// it doubles per attempt up to 30s, or follows Retry-After.
	RetryBase time.Duration
	// Retries is the number of extra attempts on 429, 5xx and timeouts.
	Retries int
	// WARCDir, when set, archives every HTTP response of the run as WARC
	// records in WARCDir/<run-id>-NNNNN.warc.gz (warc.go). An arena with
	// archive: warc needs it set (cmd/adcensus uses DATA/warc).
	WARCDir string
	// WARCMaxSize is the size at which WARC files rotate (default 1 GiB).
	WARCMaxSize int64
	// Metrics, when set, receives the crawl's counters under the arena's
	// name (metrics.go); one Metrics serves every crawler of a process.
	Metrics *Metrics
}

// Stats are live counters of a crawl, safe to read while it runs.
type Stats struct {
	Pages    atomic.Int64
	Ads      atomic.Int64
	Images   atomic.Int64
	Errors   atomic.Int64
	Queued   atomic.Int64
	InFlight atomic.Int64
}

// Crawler crawls one arena.
type Crawler struct {
	cfg     *ArenaConfig
	opts    Options
	log     *slog.Logger
	Stats   Stats
	metrics *ArenaMetrics
	archive *WARCWriter // nil without WARCDir; set for the length of Run

	// images caches the fingerprints of images already fetched in this
	// run: reposts reuse photos, and fetching each once spares the arena.
	imgMu  sync.Mutex
	images map[string]ad.ImageFP

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []Entry
	run     *Run
	stopped bool // max_pages reached
}

// New returns a crawler for cfg.
func New(cfg *ArenaConfig, opts Options) (*Crawler, error) {
	if opts.Store == nil || opts.Sink == nil || opts.Pseudo == nil {
		return nil, errors.New("crawler: Store, Sink and Pseudo are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryBase == 0 {
		opts.RetryBase = 500 * time.Millisecond
	}
	if opts.Retries == 0 {
		opts.Retries = 3
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if cfg.Archive == "warc" && opts.WARCDir == "" {
		return nil, fmt.Errorf("crawler: arena %s has archive: warc but no WARC directory was given", cfg.Name)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	c := &Crawler{cfg: cfg, opts: opts, log: opts.Logger.With("stage", "crawler", "arena", cfg.Name), images: map[string]ad.ImageFP{},
		metrics: opts.Metrics.Arena(cfg.Name)}
	c.cond = sync.NewCond(&c.mu)
	return c, nil
}

// UserAgent is the honest default User-Agent.
func UserAgent(version string) string {
	return "adcensus/" + version + " (research crawler; +https://github.com/adcensus/adcensus)"
}

// Run crawls until the frontier is empty, max_pages is reached or ctx is
// cancelled. It resumes an unfinished run of the same arena and config. On
// cancellation the run stays "running" so the next call resumes it.
func (c *Crawler) Run(ctx context.Context) (*Run, error) {
	run, err := c.opts.Store.Begin(c.cfg, c.opts.ResumeID, c.opts.AutoResume, c.opts.Version, time.Now())
	if err != nil {
		return nil, err
	}
	if run.Errors == nil {
		run.Errors = map[string]int{}
	}
	queued, err := c.opts.Store.Queued(run.ID)
	if err != nil {
		return nil, err
	}
	c.run, c.queue = run, queued
	c.Stats.Pages.Store(int64(run.Pages))
	c.Stats.Ads.Store(int64(run.Ads))
	c.Stats.Errors.Store(int64(run.ErrorCount()))
	c.Stats.Queued.Store(int64(len(queued)))
	if run.Resumed > 0 {
		c.log.Info("resuming crawl", "run", run.ID, "queued", len(queued), "pages_done", run.Pages)
	} else {
		c.log.Info("starting crawl", "run", run.ID)
	}

	ua := c.cfg.UserAgent
	if ua == "" {
		ua = UserAgent(c.opts.Version)
	}
	if c.opts.WARCDir != "" {
		c.archive, err = NewWARCWriter(c.opts.WARCDir, run.ID, WARCOptions{
			MaxSize:  c.opts.WARCMaxSize,
			Software: "adcensus/" + c.opts.Version,
			Info: []WARCField{{"adcensus-run", run.ID}, {"adcensus-arena", c.cfg.Name},
				{"adcensus-config-hash", c.cfg.Hash}, {"http-header-user-agent", ua}},
		})
		if err != nil {
			return nil, err
		}
		defer func() {
			if err := c.archive.Close(); err != nil {
				c.log.Error("close WARC archive", "err", err)
			}
		}()
	}
	c.metrics.Queued.Store(int64(len(queued)))
	col, err := newFetcher(ctx, c.cfg, fetcherOptions{UserAgent: ua, Logger: c.log, Retries: c.opts.Retries, RetryBase: c.opts.RetryBase,
		Archive: c.archive, Metrics: c.metrics})
	if err != nil {
		return nil, err
	}
	// Shutdown order: cancelling ctx wakes every worker blocked on the queue;
	// Run returns after all workers have finished their current page.
	stopWake := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stopWake()
	var wg sync.WaitGroup
	for range c.cfg.Limits.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.worker(ctx, col)
		}()
	}
	wg.Wait()

	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	run.Ended = time.Now().UTC()
	run.Status = "done"
	if c.stopped {
		run.Status = "stopped"
	}
	if err := c.opts.Store.SaveRun(run); err != nil {
		return run, err
	}
	c.log.Info("crawl finished", "run", run.ID, "status", run.Status, "pages", run.Pages, "ads", run.Ads, "errors", run.ErrorCount())
	cp := *run
	return &cp, nil
}

// next pops the next entry, waiting while other workers may still add some.
func (c *Crawler) next(ctx context.Context) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if ctx.Err() != nil || c.stopped {
			return Entry{}, false
		}
		if len(c.queue) > 0 {
			if c.run.Pages+int(c.Stats.InFlight.Load()) >= c.cfg.Limits.MaxPages {
				c.stopped = true
				c.cond.Broadcast()
				return Entry{}, false
			}
			e := c.queue[0]
			c.queue = c.queue[1:]
			c.Stats.Queued.Store(int64(len(c.queue)))
			c.Stats.InFlight.Add(1)
			c.metrics.Queued.Store(int64(len(c.queue)))
			c.metrics.InFlight.Add(1)
			return e, true
		}
		if c.Stats.InFlight.Load() == 0 {
			c.cond.Broadcast()
			return Entry{}, false
		}
		c.cond.Wait()
	}
}

func (c *Crawler) worker(ctx context.Context, col *fetcher) {
	for {
		e, ok := c.next(ctx)
		if !ok {
			return
		}
		done, add, adsN, errKind := c.process(ctx, col, e)
		if c.archive != nil && errKind != "cancelled" {
			// The page's WARC records reach the disk before the page is
			// marked done: a resumed run does not refetch it.
			if err := c.archive.Sync(); err != nil {
				c.log.Error("sync WARC archive", "err", err)
				if errKind == "" {
					errKind = "archive"
				}
			}
		}
		c.mu.Lock()
		if ctx.Err() != nil && errKind == "cancelled" {
			// Leave the entry queued in the store: the next run takes it up.
			c.Stats.InFlight.Add(-1)
			c.metrics.InFlight.Add(-1)
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		c.run.Pages++
		c.run.Ads += adsN
		if errKind != "" {
			c.run.Errors[errKind]++
			c.Stats.Errors.Add(1)
		}
		snapshot := *c.run
		snapshot.Errors = maps.Clone(c.run.Errors)
		c.mu.Unlock()
		// Committed outside the lock: concurrent workers' commits share one
		// bbolt transaction and fsync (Store.Commit batches).
		added, err := c.opts.Store.Commit(&snapshot, &done, add)
		c.mu.Lock()
		if err != nil {
			c.log.Error("commit frontier", "err", err)
			c.run.Errors["state"]++
		}
		c.queue = append(c.queue, added...)
		c.Stats.Pages.Store(int64(c.run.Pages))
		c.Stats.Ads.Add(int64(adsN))
		c.Stats.Queued.Store(int64(len(c.queue)))
		c.Stats.InFlight.Add(-1)
		c.metrics.Pages[e.Kind].Add(1)
		c.metrics.Ads.Add(int64(adsN))
		if errKind != "" {
			c.metrics.Error(errKind)
		}
		c.metrics.Queued.Store(int64(len(c.queue)))
		c.metrics.InFlight.Add(-1)
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// process fetches and handles one page. It returns the finished entry, the
// new URLs to queue, the number of adverts published and an error kind
// ("" when the page was fine).
func (c *Crawler) process(ctx context.Context, col *fetcher, e Entry) (Entry, []Entry, int, string) {
	done := e
	fail := func(kind string, err error) (Entry, []Entry, int, string) {
		done.State, done.Err = "failed", err.Error()
		c.log.Warn("page failed", "url", e.URL, "kind", kind, "err", err)
		return done, nil, 0, kind
	}
	body, kind, err := col.fetch(ctx, e.URL)
	if err != nil {
		if ctx.Err() != nil {
			return done, nil, 0, "cancelled"
		}
		return fail(kind, err)
	}
	done.State = "done"
	switch e.Kind {
	case PageListing:
		res, err := c.cfg.ExtractListing(e.URL, body)
		if err != nil {
			return fail("parse", err)
		}
		var add []Entry
		for _, u := range res.Details {
			add = append(add, Entry{URL: u, Kind: PageDetail, Depth: e.Depth + 1})
		}
		if e.Depth+1 <= c.cfg.Limits.MaxDepth {
			for _, u := range res.Next {
				add = append(add, Entry{URL: u, Kind: PageListing, Depth: e.Depth + 1})
			}
		}
		return done, add, 0, ""
	case PageDetail:
		a, problems, err := c.cfg.ExtractAd(e.URL, body, time.Now())
		if err != nil {
			return fail("parse", err)
		}
		for _, p := range problems {
			c.log.Warn("field problem", "url", e.URL, "problem", p)
		}
		c.hashImages(ctx, col, a)
		for _, p := range c.opts.Pseudo.Apply(a) {
			c.log.Warn("contact problem", "url", e.URL, "problem", p)
		}
		if err := c.opts.Sink.Publish(ctx, a); err != nil {
			if ctx.Err() != nil {
				return done, nil, 0, "cancelled"
			}
			return fail("publish", err)
		}
		return done, nil, 1, ""
	}
	return done, nil, 0, ""
}

// hashImages fetches the advert's images under the same politeness as pages
// and keeps only their fingerprints.
func (c *Crawler) hashImages(ctx context.Context, col *fetcher, a *ad.Ad) {
	for i, src := range a.Images {
		if i >= c.cfg.Limits.MaxImages {
			break
		}
		c.imgMu.Lock()
		fp, seen := c.images[src]
		c.imgMu.Unlock()
		if seen {
			a.ImageFPs = append(a.ImageFPs, fp)
			continue
		}
		fp = ad.ImageFP{Src: src}
		body, _, err := col.fetch(ctx, src)
		if err == nil {
			fp.Hashes, err = dedup.HashImage(body, c.opts.ImageLimits)
		}
		if err != nil {
			fp.Err = err.Error()
			c.log.Warn("image failed", "url", src, "err", err)
		} else {
			c.Stats.Images.Add(1)
			c.metrics.Images.Add(1)
		}
		if ctx.Err() == nil {
			c.imgMu.Lock()
			if len(c.images) < maxCachedImages {
				c.images[src] = fp
			}
			c.imgMu.Unlock()
		}
		a.ImageFPs = append(a.ImageFPs, fp)
	}
}

// maxCachedImages bounds the per-run image fingerprint cache.
const maxCachedImages = 100_000

type retryAfterError struct {
	code  int
	after time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("HTTP %d (retry after %s)", e.code, e.after)
}

// retryAfter parses a Retry-After header (seconds or HTTP date), capped at 2 minutes.
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	var d time.Duration
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	return min(max(d, 0), 2*time.Minute)
}
