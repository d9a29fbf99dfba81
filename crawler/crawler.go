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
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"adcensus/ad"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
)

// Sink receives extracted adverts. Publish returns only when the advert is
// durably stored (for the stream: acknowledged by JetStream); the crawler
// marks the page finished only after that.
type Sink interface {
	Publish(ctx context.Context, a *ad.Ad) error
}

// AsyncSink is a Sink that can also store adverts without waiting, so that
// many are in flight at once (pipeline.BusSink: JetStream's asynchronous
// publishing). done is called exactly once, from another goroutine, with nil
// once the advert is durably stored or with the error that lost it; it must
// not block. When PublishAsync returns an error nothing was sent and done
// is not called. The crawler marks a page finished only after done(nil) of
// its advert, so the durability contract of Publish holds.
type AsyncSink interface {
	Sink
	PublishAsync(ctx context.Context, a *ad.Ad, done func(error)) error
}

// Run.Output values.
const (
	OutputStream = "stream" // on to the pipeline and the index
	OutputFile   = "file"   // a JSON Lines file (crawl --out), never indexed
)

// Options configure a Crawler.
type Options struct {
	Store *Store
	Sink  Sink
	// Output names where Sink sends adverts, recorded as Run.Output:
	// OutputStream or OutputFile.
	Output  string
	Pseudo  *contact.Pseudonymiser
	Logger  *slog.Logger
	Version string
	// ResumeID continues that run. Otherwise, with AutoResume, the latest
	// unfinished run of the arena with the same config is continued.
	ResumeID    string
	AutoResume  bool
	ImageLimits imagehash.Limits
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
	// PublishWindow is the most pages, beyond the ones being fetched, that
	// may be waiting for their adverts to be stored and their commit
	// (default DefaultPublishWindow). Workers go on fetching while adverts
	// are stored; the pages are committed to the frontier as the
	// acknowledgements arrive.
	PublishWindow int
	// Reviews and Adverts serve review forums (kind: reviews, reviews_crawl.go).
	Reviews ReviewSink
	Adverts []*ArenaConfig
	// Now is the crawl's clock (default time.Now): run times, fetch
	// times and sightings. Tests drive simulated weeks with it.
	Now func() time.Time
}

// Stats are live counters of a crawl, safe to read while it runs.
type Stats struct {
	Pages       atomic.Int64
	Ads         atomic.Int64
	Images      atomic.Int64
	Errors      atomic.Int64
	Queued      atomic.Int64
	InFlight    atomic.Int64 // pages taken from the queue and not yet committed
	NotModified atomic.Int64 // advert pages answered 304 (conditional.go)
	Trusted     atomic.Int64 // adverts sighted from unchanged listings (revisit.go)
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
	images imageCache
	claims claims      // advert keys claimed after a fetch (claims.go)
	jar    *persistJar // the run's cookies, saved with its commits
	sess   *session    // gates and logins (session.go); set for the length of Run

	// ready holds finished pages (their adverts stored) for the committer,
	// which wakes on readyC.
	readyMu sync.Mutex
	ready   []*page
	readyC  chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	queue   queue
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
	if cfg.Kind == KindReviews && opts.Reviews == nil {
		return nil, fmt.Errorf("crawler: arena %s is a review forum (kind: reviews) but no review store was given", cfg.Name)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.PublishWindow <= 0 {
		opts.PublishWindow = DefaultPublishWindow
	}
	c := &Crawler{cfg: cfg, opts: opts, log: opts.Logger.With("stage", "crawler", "arena", cfg.Name),
		metrics: opts.Metrics.Arena(cfg.Name), readyC: make(chan struct{}, 1)}
	c.cond = sync.NewCond(&c.mu)
	return c, nil
}

// DefaultPublishWindow is Options.PublishWindow's default. After a crash
// up to limits.concurrency + the window pages of an arena are fetched again
// (their adverts are de-duplicated by the stream and the cluster stage).
const DefaultPublishWindow = 512

// UserAgent is the honest default User-Agent.
func UserAgent(version string) string {
	return "adcensus/" + version + " (research crawler; +https://github.com/adcensus/adcensus)"
}

// Run crawls until the frontier is empty, max_pages is reached or ctx is
// cancelled. It resumes an unfinished run of the same arena and config. On
// cancellation the run stays "running" so the next call resumes it.
func (c *Crawler) Run(ctx context.Context) (*Run, error) {
	if c.cfg.Fetch == "browser" {
		if _, err := ChromiumPath(); err != nil {
			return nil, fmt.Errorf("arena %s: %w", c.cfg.Name, err)
		}
	}
	run, err := c.opts.Store.Begin(c.cfg, c.opts.ResumeID, c.opts.AutoResume, c.opts.Version, c.now())
	if err != nil {
		return nil, err
	}
	if run.Errors == nil {
		run.Errors = map[string]int{}
	}
	if c.opts.Output != "" {
		run.Output = c.opts.Output
	}
	queued, err := c.opts.Store.Queued(run.ID)
	if err != nil {
		return nil, err
	}
	c.run, c.queue = run, queue{}
	c.queue.push(queued...)
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
	c.jar = newPersistJar()
	if data, err := c.opts.Store.Jar(run.ID); err != nil {
		return nil, err
	} else if data != nil {
		if err := c.jar.restore(data); err != nil {
			c.log.Warn("cookies of the interrupted run unreadable: starting without", "err", err)
		}
	}
	c.jar.seedCookies(c.cfg)
	col, err := newFetcher(ctx, c.cfg, fetcherOptions{UserAgent: ua, Logger: c.log, Retries: c.opts.Retries, RetryBase: c.opts.RetryBase,
		Archive: c.archive, Metrics: c.metrics, Jar: c.jar})
	if err != nil {
		return nil, err
	}
	c.sess = &session{cfg: c.cfg, f: col, jar: c.jar}
	defer col.close() // the browser of fetch: browser, after every worker returned
	// Shutdown order: cancelling ctx wakes every worker blocked on the queue;
	// Run returns after all workers have finished their current page.
	stopWake := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stopWake()
	stopCommitter, committerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(committerDone)
		c.commitLoop(stopCommitter)
	}()
	var wg sync.WaitGroup
	for range c.cfg.Limits.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.worker(ctx, col)
		}()
	}
	wg.Wait()
	// Pages whose adverts are still being stored finish (committed, or on
	// cancellation left queued) before the run is closed: the store and the
	// sink stay open until Run returns.
	c.mu.Lock()
	for c.Stats.InFlight.Load() > 0 {
		c.cond.Wait()
	}
	c.mu.Unlock()
	close(stopCommitter)
	<-committerDone

	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Err() != nil {
		return run, ctx.Err()
	}
	run.Ended = c.now().UTC()
	run.Status = "done"
	if c.stopped {
		run.Status = "stopped"
	}
	if run.AllFailed() {
		run.Status = "failed"
	}
	if err := c.endRun(ctx, run); err != nil {
		return run, err // the run stays "running" in the store: the next start resumes it
	}
	if err := c.opts.Store.SaveRun(run); err != nil {
		return run, err
	}
	c.log.Info("crawl finished", "run", run.ID, "status", run.Status, "pages", run.Pages, "ads", run.Ads, "errors", run.ErrorCount(), "duplicates", run.Duplicates)
	cp := *run
	return &cp, nil
}

// next pops the next entry, waiting while other workers may still add some
// and while the publish window is full.
func (c *Crawler) next(ctx context.Context) (Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if ctx.Err() != nil || c.stopped {
			return Entry{}, false
		}
		if c.queue.len() > 0 && c.Stats.InFlight.Load() < int64(c.cfg.Limits.Concurrency+c.opts.PublishWindow) {
			if c.run.Pages+int(c.Stats.InFlight.Load()) >= c.cfg.Limits.MaxPages {
				c.stopped = true
				c.cond.Broadcast()
				return Entry{}, false
			}
			e := c.queue.pop(2 * (c.cfg.Limits.Concurrency + c.opts.PublishWindow))
			c.Stats.Queued.Store(int64(c.queue.len()))
			c.Stats.InFlight.Add(1)
			c.metrics.Queued.Store(int64(c.queue.len()))
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

// queue is the in-memory copy of a run's queued entries, in the order they
// were found, with listing pages and detail pages apart: a listing page is
// taken first while fewer than low detail pages wait. Listings feed the
// workers (their links are queued only once they are committed), so
// fetching them ahead keeps every worker busy, and the detail backlog they
// create stays bounded.
type queue struct {
	listings, details []Entry
}

func (q *queue) len() int { return len(q.listings) + len(q.details) }

func (q *queue) push(es ...Entry) {
	for _, e := range es {
		if e.Kind == PageDetail {
			q.details = append(q.details, e)
		} else {
			q.listings = append(q.listings, e)
		}
	}
}

// pop takes the next entry; the queue must not be empty.
func (q *queue) pop(low int) Entry {
	var e Entry
	if len(q.listings) > 0 && len(q.details) < low {
		e, q.listings = q.listings[0], q.listings[1:]
	} else {
		e, q.details = q.details[0], q.details[1:]
	}
	return e
}

// page is one entry taken from the queue, on its way to the commit.
type page struct {
	entry    Entry    // as taken from the queue
	done     Entry    // its final state: done or failed
	add      []Entry  // links found on it
	ad       *ad.Ad   // its advert, to be stored before the commit
	ads      int      // adverts stored
	errKind  string   // "" when the page was fine
	attempts int      // attempts to store the advert
	claims   []string // advert keys claimed after the fetch (claims.go)
	// items are the adverts a JSON listing holds whole (listing.items), by
	// detail URL: stashed for the links the commit queues.
	items map[string][]byte
	dup   bool // the advert was already fetched under another URL
	// census is the page's sighting with a CensusSink (census.go).
	census *pageCensus

	reviews  []*ad.Review // a thread page's posts, stored before the commit
	nReviews int          // those stored
}

// worker fetches and extracts pages. A page with an advert is handed to the
// sink and the worker goes on; the page reaches the committer (commitLoop)
// when the advert is stored.
func (c *Crawler) worker(ctx context.Context, col *fetcher) {
	for {
		e, ok := c.next(ctx)
		if !ok {
			return
		}
		p := c.process(ctx, col, e)
		switch {
		case p.errKind == "cancelled":
			c.abandon(p)
		case p.ad != nil:
			c.publish(ctx, p)
		case len(p.reviews) > 0:
			c.publishReviews(ctx, p)
		default:
			c.finish(p)
		}
	}
}

// publish stores the page's advert, asynchronously when the sink can.
func (c *Crawler) publish(ctx context.Context, p *page) {
	p.attempts++
	if cs := c.censusSink(); cs != nil {
		c.publishCensus(ctx, cs, p)
		return
	}
	as, ok := c.opts.Sink.(AsyncSink)
	if !ok {
		c.published(ctx, p, c.opts.Sink.Publish(ctx, p.ad))
		return
	}
	if err := as.PublishAsync(ctx, p.ad, func(err error) { c.published(ctx, p, err) }); err != nil {
		c.published(ctx, p, err)
	}
}

// published continues a page once its advert is stored or failed. It does
// not block (it may run in the sink's acknowledgement handler). A failed
// advert is sent again with back-off up to Options.Retries times, then its
// page is recorded as failed with kind "publish"; on cancellation the page
// is left queued in the store, so a resumed run fetches and stores it.
func (c *Crawler) published(ctx context.Context, p *page, err error) {
	if err == nil {
		p.ads = 1
		c.finish(p)
		return
	}
	if ctx.Err() != nil {
		c.abandon(p)
		return
	}
	if p.attempts <= c.opts.Retries {
		wait := min(c.opts.RetryBase<<(p.attempts-1), 30*time.Second)
		c.log.Warn("storing advert failed, retrying", "url", p.entry.URL, "attempt", p.attempts, "in", wait, "err", err)
		go func() {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-t.C:
				c.publish(ctx, p)
			case <-ctx.Done():
				c.abandon(p)
			}
		}()
		return
	}
	p.done.State, p.done.Err, p.errKind = "failed", err.Error(), "publish"
	c.log.Warn("page failed", "url", p.entry.URL, "kind", p.errKind, "err", err)
	c.finish(p)
}

// finish hands a page to the committer.
func (c *Crawler) finish(p *page) {
	c.readyMu.Lock()
	c.ready = append(c.ready, p)
	c.readyMu.Unlock()
	select {
	case c.readyC <- struct{}{}:
	default:
	}
}

// abandon gives a page up without committing it: it stays queued in the
// store and the next run takes it up.
func (c *Crawler) abandon(p *page) {
	c.releaseClaims([]*page{p})
	c.mu.Lock()
	c.Stats.InFlight.Add(-1)
	c.metrics.InFlight.Add(-1)
	c.cond.Broadcast()
	c.mu.Unlock()
}

// commitLoop commits finished pages until stop is closed (Run closes it
// when no page is in flight). Whatever has finished since the last commit
// goes into one bbolt transaction: one fsync for many pages.
func (c *Crawler) commitLoop(stop <-chan struct{}) {
	for {
		select {
		case <-c.readyC:
		case <-stop:
			return
		}
		c.readyMu.Lock()
		batch := c.ready
		c.ready = nil
		c.readyMu.Unlock()
		if len(batch) > 0 {
			c.commit(batch)
		}
	}
}

// commit marks a batch of finished pages done or failed in the frontier,
// queues the links they found and saves the run's counters, in one
// transaction.
func (c *Crawler) commit(batch []*page) {
	if c.archive != nil {
		// The pages' WARC records reach the disk before the pages are
		// marked done: a resumed run does not refetch them.
		if err := c.archive.Sync(); err != nil {
			c.log.Error("sync WARC archive", "err", err)
			for _, p := range batch {
				if p.errKind == "" {
					p.errKind = "archive"
				}
			}
		}
	}
	commits := make([]PageCommit, len(batch))
	// The claims lock is held from the filter to the commit: no page
	// claims a key (claims.go) between a link's check and its queueing.
	c.claims.mu.Lock()
	c.mu.Lock()
	for i, p := range batch {
		c.run.Pages++
		c.run.Ads += p.ads
		c.run.Reviews += p.nReviews
		c.countRevisit(c.run, p)
		if p.errKind != "" {
			c.run.Errors[p.errKind]++
			c.Stats.Errors.Add(1)
		}
		if p.dup {
			c.run.Duplicates++
			c.metrics.Duplicates.Add(1)
		}
		if dropped := c.dropClaimedLocked(p); dropped > 0 {
			c.run.Duplicates += dropped
			c.metrics.Duplicates.Add(int64(dropped))
		}
		commits[i] = PageCommit{Done: p.done, Add: p.add, Claim: p.claims, census: c.censusOf(p)}
	}
	snapshot := *c.run
	snapshot.Errors = maps.Clone(c.run.Errors)
	c.mu.Unlock()
	added, dups, err := c.opts.Store.CommitPages(&snapshot, commits)
	c.releaseClaimsLocked(batch)
	c.claims.mu.Unlock()
	if jar := c.jar.snapshot(); jar != nil {
		if err := c.opts.Store.SaveJar(snapshot.ID, jar); err != nil {
			c.log.Error("save cookies", "err", err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.run.Duplicates += dups
	c.metrics.Duplicates.Add(int64(dups))
	if err != nil {
		c.log.Error("commit frontier", "pages", len(batch), "err", err)
		c.run.Errors["state"] += len(batch)
		c.Stats.Errors.Add(int64(len(batch)))
		c.metrics.ErrorN("state", int64(len(batch)))
	}
	c.stashItemsLocked(batch, added)
	c.queue.push(added...)
	c.Stats.Pages.Store(int64(c.run.Pages))
	c.Stats.Queued.Store(int64(c.queue.len()))
	c.Stats.InFlight.Add(-int64(len(batch)))
	c.metrics.Queued.Store(int64(c.queue.len()))
	c.metrics.InFlight.Add(-int64(len(batch)))
	for _, p := range batch {
		c.Stats.Ads.Add(int64(p.ads))
		c.metrics.Pages[p.entry.Kind].Add(1)
		c.metrics.Ads.Add(int64(p.ads))
		c.metrics.Reviews.Add(int64(p.nReviews))
		if p.errKind != "" {
			c.metrics.Error(p.errKind)
		}
	}
	c.cond.Broadcast()
}

// stashItemsLocked keeps the whole adverts of JSON listings (listing.items)
// whose links were queued, before a worker can take them; the items of
// links left out (duplicates) are not kept.
func (c *Crawler) stashItemsLocked(batch []*page, added []Entry) {
	var queued map[string]bool
	for _, p := range batch {
		if len(p.items) == 0 {
			continue
		}
		if queued == nil {
			queued = make(map[string]bool, len(added))
			for _, e := range added {
				queued[e.URL] = true
			}
		}
		keep := map[string][]byte{}
		for u, b := range p.items {
			if queued[u] {
				keep[u] = b
			}
		}
		c.sess.f.stash(keep)
	}
}

// process fetches and extracts one page. Its errKind is "" when the page
// was fine and "cancelled" when ctx was cancelled while or before fetching.
func (c *Crawler) process(ctx context.Context, col *fetcher, e Entry) *page {
	p := &page{entry: e, done: e}
	fail := func(kind string, err error) *page {
		p.done.State, p.done.Err, p.errKind = "failed", err.Error(), kind
		c.log.Warn("page failed", "url", e.URL, "kind", kind, "err", err)
		return p
	}
	var onRedirect func(string) error
	rc := &redirectClaim{}
	if e.Kind == PageDetail {
		onRedirect = c.claimRedirect(e, rc)
		defer func() {
			// A key claimed at a redirect and not committed with the page
			// (it failed, or named another advert) is free again.
			if k := rc.get(); k != "" && !slices.Contains(p.claims, k) {
				c.unclaim(k)
			}
		}()
	}
	if c.trusted(p) {
		return p // listed by an unchanged listing: sighted as last time, not fetched
	}
	res, kind, err := fetched{final: e.URL}, "", error(nil)
	if e.Kind != PageSitemap || !isRobotsURL(e.URL) { // robots.txt is read by the fetcher
		res, kind, err = c.sess.page(c.conditional(ctx, p), e.URL, e.Kind, onRedirect, nil)
	}
	if ctx.Err() != nil {
		// Cancelled while fetching, even if the response arrived: the
		// page stays queued and a resumed run fetches it, so an
		// interrupted run publishes nothing after the interruption.
		p.errKind = "cancelled"
		return p
	}
	if errors.Is(err, errDuplicateAdvert) {
		p.done.State, p.done.Err, p.dup = "done", err.Error(), true
		return p
	}
	if err != nil {
		return fail(kind, err)
	}
	p.done.State = "done"
	switch e.Kind {
	case PageListing:
		lr, err := c.cfg.ExtractListing(res.final, res.body)
		if err != nil {
			return fail(errKind(err), err)
		}
		p.items = lr.Items
		p.add = make([]Entry, 0, len(lr.Details)+len(lr.Next))
		for _, u := range lr.Details {
			p.add = append(p.add, Entry{URL: u, Kind: PageDetail, Depth: e.Depth + 1, ID: c.cfg.AdvertKey(u)})
		}
		if e.Depth+1 <= c.cfg.Limits.MaxDepth {
			for _, u := range lr.Next {
				p.add = append(p.add, Entry{URL: u, Kind: PageListing, Depth: e.Depth + 1})
			}
		}
		c.checkListing(p, res.body)
	case PageSitemap:
		if err := c.processSitemap(ctx, col, p, res); err != nil {
			return fail("parse", err)
		}
	case PageDetail:
		if c.cfg.Kind == KindReviews {
			return c.processThread(p, res.final, res.body, fail)
		}
		if c.notModified(p, res) {
			return p // unchanged since the last run (HTTP 304): sighted, not extracted
		}
		ap, err := c.cfg.ExtractAdvertPage(e.URL, res.final, res.body, c.now())
		if ap == nil {
			return fail(errKind(err), err)
		}
		if ap.Key != e.ID {
			// A redirect or a canonical link named another advert key:
			// claim it (a redirect claimed it already), or leave the page
			// if it was fetched already.
			if ap.Key != rc.get() && !c.claim(ap.Key) {
				p.done.Err, p.dup = fmt.Sprintf("%s: advert %s already fetched under another URL", ap.KeyFrom, ap.Key), true
				return p
			}
			p.claims = []string{ap.Key}
		}
		if e.Depth+1 <= c.cfg.Limits.MaxDepth {
			for _, l := range ap.Links {
				ne := Entry{URL: l.URL, Kind: l.Kind, Depth: e.Depth + 1}
				if l.Kind == PageDetail {
					ne.ID = c.cfg.AdvertKey(l.URL)
				}
				p.add = append(p.add, ne)
			}
		}
		if err != nil {
			return fail(errKind(err), err)
		}
		a := ap.Ad
		for _, pr := range ap.Problems {
			c.log.Warn("field problem", "url", e.URL, "problem", pr)
		}
		for _, pr := range c.opts.Pseudo.Apply(a) {
			c.log.Warn("contact problem", "url", e.URL, "problem", pr)
		}
		if !c.reuseImages(a) {
			c.hashImages(ctx, col, a)
		}
		p.ad = a
	}
	return p
}

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
