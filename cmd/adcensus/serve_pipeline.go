package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"adcensus/crawler"
	"adcensus/index"
	"adcensus/index/reviews"
	"adcensus/web/api"
)

// crawlHost is the pipeline 'serve --pipeline' hosts: the data directory's
// node (embedded JetStream, crawl, cluster and census state, the index)
// with its stages running for as long as the server does, and the crawls
// operators start through the API (api.CrawlControl). The server reads
// the node's index and stores: a bbolt file is not opened twice.
type crawlHost struct {
	n      *node
	o      runOptions
	ctx    context.Context // the server's: cancelled at shutdown
	cancel context.CancelFunc

	mu     sync.Mutex
	seq    int
	crawls []*hostedCrawl // in start order
	wg     sync.WaitGroup
}

// hostedCrawl is one crawl started through the API.
type hostedCrawl struct {
	id     string // st.ID, read without mu
	c      *crawler.Crawler
	ctx    context.Context
	cancel context.CancelFunc // Stop
	mu     sync.Mutex
	st     api.CrawlStatus
	stopBy string // who stopped it
}

// openCrawlHost opens the node of dataDir with every role on the embedded
// server and starts its stages.
func openCrawlHost(ctx context.Context, dataDir string, cfg *Config, arenas []*crawler.ArenaConfig, log *slog.Logger) (*crawlHost, error) {
	if cfg.NATSURL != "" {
		return nil, usageError{fmt.Sprintf("serve --pipeline hosts the embedded pipeline, but the config's nats_url (%s) puts it on a NATS cluster: "+
			"crawl there with 'adcensus run' (docs/WEBAPP.md)", cfg.NATSURL)}
	}
	n, err := openNode(ctx, nodeOptions{DataDir: dataDir, Logger: log, Stream: cfg.Stream, MaxAge: cfg.Retention.StreamMaxAge()})
	if err != nil {
		return nil, err
	}
	h := &crawlHost{n: n, o: runOptions{DataDir: dataDir, Arenas: arenas, Metrics: crawler.NewMetrics(), Stream: cfg.Stream, Retention: cfg.Retention}}
	h.ctx, h.cancel = context.WithCancel(ctx)
	n.startStages(h.ctx)
	return h, nil
}

// Close stops the crawls (each stops after its current pages and resumes
// at the arena's next crawl), then the stages, and closes the node.
func (h *crawlHost) Close() error {
	h.cancel()
	h.wg.Wait()
	return h.n.Close()
}

// options points the API's hooks at the node's stores instead of the
// files, and adds the crawl control.
func (h *crawlHost) options(o *api.Options, ex *explainer, logger *slog.Logger) {
	n := h.n
	o.Provenance = func(ctx context.Context) map[string]any { return provenanceWith(ctx, n.dataDir, n.index, n.crawls) }
	o.Periods = apiPeriods(n.dataDir, n.index, n.census)
	o.PeriodDocs = apiPeriodDocs(n.dataDir, n.index, n.census)
	o.Changes = apiChanges(n.dataDir, n.index, n.census)
	o.Trend = apiTrend(n.dataDir, n.index, n.census)
	o.Seen = newSeenCache(ex, n.index, o.PeriodDocs)
	o.ReviewFlags = apiReviewFlagsOf(n.dataDir, n.index, logger, func() *reviews.Store {
		n.reviewsMu.Lock()
		defer n.reviewsMu.Unlock()
		return n.reviews
	})
	o.Runs = func(context.Context) (any, int, error) {
		runs, err := n.crawls.Runs()
		return nonNilRuns(runs), len(runs), err
	}
	o.Schedules = schedulesOfStore(n.dataDir, h.o.Arenas, n.crawls)
	o.RunErrors = runErrorsOf(n.dataDir, n.crawls)
	ex.held = n.cluster
	o.Crawls = h
}

// provenance is provenanceWith (commands.go) opening the crawl state.
func provenance(ctx context.Context, dataDir string, ix index.Store) map[string]any {
	return provenanceWith(ctx, dataDir, ix, nil)
}

func nonNilRuns(runs []crawler.Run) []crawler.Run {
	if runs == nil {
		return []crawler.Run{}
	}
	return runs
}

// Arenas implements api.CrawlControl.
func (h *crawlHost) Arenas() []string {
	out := make([]string, 0, len(h.o.Arenas))
	for _, a := range h.o.Arenas {
		out = append(out, a.Name)
	}
	slices.Sort(out)
	return out
}

// Start implements api.CrawlControl: the crawl runs as 'adcensus run'
// crawls one arena (resuming an interrupted run of it), then waits until
// the stages have processed its adverts.
func (h *crawlHost) Start(arena, who string) (api.CrawlStatus, error) {
	var cfg *crawler.ArenaConfig
	for _, a := range h.o.Arenas {
		if a.Name == arena {
			cfg = a
		}
	}
	if cfg == nil {
		return api.CrawlStatus{}, api.ErrUnknownArena
	}
	hc, err := h.add(h.ctx, cfg, who)
	if err != nil {
		return api.CrawlStatus{}, err
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.run(hc)
	}()
	h.n.log.Info("crawl started from the API", "crawl", hc.st.ID, "arena", arena, "by", who)
	return hc.status(), nil
}

// scheduled runs a scheduled crawl (runOptions.Crawl) as a crawl of the
// host, so that the browser's and the schedule's crawls of an arena never
// run at once; it returns once the stages have processed its adverts.
func (h *crawlHost) scheduled(ctx context.Context, cfg *crawler.ArenaConfig) (*crawler.Run, error) {
	hc, err := h.add(ctx, cfg, "schedule")
	if err != nil {
		return nil, err
	}
	return h.run(hc)
}

// Stop implements api.CrawlControl: the crawl stops after its current
// pages (its run stays open in the crawl state: the arena's next crawl
// resumes it).
func (h *crawlHost) Stop(id, who string) (api.CrawlStatus, error) {
	h.mu.Lock()
	var hc *hostedCrawl
	for _, c := range h.crawls {
		if c.id == id {
			hc = c
		}
	}
	h.mu.Unlock()
	if hc == nil {
		return api.CrawlStatus{}, api.ErrUnknownCrawl
	}
	hc.mu.Lock()
	if hc.st.Finished {
		hc.mu.Unlock()
		return api.CrawlStatus{}, api.ErrCrawlFinished
	}
	if hc.stopBy == "" {
		hc.stopBy = who
	}
	hc.mu.Unlock()
	hc.cancel()
	h.n.log.Info("hosted crawl stopped", "crawl", id, "by", who)
	return hc.status(), nil
}

// add registers a new crawl of the arena under ctx, refused while one of
// it runs.
func (h *crawlHost) add(ctx context.Context, cfg *crawler.ArenaConfig, who string) (*hostedCrawl, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctx.Err() != nil {
		return nil, errors.New("the server is shutting down")
	}
	for _, hc := range h.crawls {
		if st := hc.status(); st.Arena == cfg.Name && !st.Finished {
			return nil, fmt.Errorf("%w: %s (started by %s)", api.ErrCrawlRunning, st.ID, st.By)
		}
	}
	c, err := h.n.newCrawler(cfg, h.o)
	if err != nil {
		return nil, err
	}
	h.seq++
	id := fmt.Sprintf("crawl-%d", h.seq)
	hc := &hostedCrawl{id: id, c: c, st: api.CrawlStatus{ID: id, Arena: cfg.Name, By: who,
		Status: "running", Started: time.Now().UTC(), Errors: map[string]int{}}}
	hc.ctx, hc.cancel = context.WithCancel(ctx)
	h.crawls = append(h.crawls, hc)
	return hc, nil
}

// run crawls, then waits for the stages.
func (h *crawlHost) run(hc *hostedCrawl) (*crawler.Run, error) {
	ctx := hc.ctx
	defer hc.cancel()
	run, err := hc.c.Run(ctx)
	hc.mu.Lock()
	if err == nil {
		hc.st.Run, hc.st.Pages, hc.st.Ads, hc.st.Errors = run.ID, run.Pages, run.Ads, maps.Clone(run.Errors)
		hc.st.Status = "processing"
	}
	hc.mu.Unlock()
	if err == nil {
		if err = h.n.waitIdle(ctx); err != nil {
			err = fmt.Errorf("waiting for the stages: %w", err)
		}
	}
	var open *crawler.Run
	if err != nil && ctx.Err() != nil {
		open = h.runningRun(hc.st.Arena) // stopped: the run it leaves open
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	hc.st.Ended, hc.st.Finished = time.Now().UTC(), true
	if open != nil && hc.st.Run == "" {
		hc.st.Run, hc.st.Pages, hc.st.Ads, hc.st.Errors = open.ID, open.Pages, open.Ads, maps.Clone(open.Errors)
	}
	switch {
	case err != nil && ctx.Err() != nil && hc.stopBy != "":
		hc.st.Status, hc.st.Error = "stopped", "stopped by "+hc.stopBy+": the arena's next crawl resumes this run"
	case err != nil && ctx.Err() != nil:
		hc.st.Status, hc.st.Error = "stopped", "the server shut down: the arena's next crawl resumes this run"
	case err != nil:
		hc.st.Status, hc.st.Error = "failed", err.Error()
	default:
		hc.st.Status = run.Status
		if run.Status == "stopped" {
			hc.st.Error = "a limit of the arena's config was reached (limits.max_pages)"
		}
	}
	h.n.log.Info("hosted crawl finished", "crawl", hc.st.ID, "by", hc.st.By, "run", hc.st.Run, "status", hc.st.Status,
		"pages", hc.st.Pages, "ads", hc.st.Ads, "error", hc.st.Error)
	return run, err
}

// schedule runs the arenas' crawl schedules (as 'run --schedule': those
// of the config and 'adcensus schedule add') and the retention's purge
// schedule until the server stops.
func (h *crawlHost) schedule(stdout io.Writer) {
	o := h.o
	o.Crawl = h.scheduled
	h.wg.Add(2)
	go func() {
		defer h.wg.Done()
		schedulePurge(h.ctx, h.n, o, stdout)
	}()
	go func() {
		defer h.wg.Done()
		if err := scheduleCrawls(h.ctx, h.n, o, stdout); err != nil && h.ctx.Err() == nil {
			h.n.log.Error("crawl schedules stopped", "err", err)
		}
	}()
}

// Crawls implements api.CrawlControl: newest first.
func (h *crawlHost) Crawls() []api.CrawlStatus {
	h.mu.Lock()
	crawls := slices.Clone(h.crawls)
	h.mu.Unlock()
	out := make([]api.CrawlStatus, 0, len(crawls))
	for i := len(crawls) - 1; i >= 0; i-- {
		out = append(out, h.live(crawls[i]))
	}
	return out
}

// Crawl implements api.CrawlControl.
func (h *crawlHost) Crawl(id string) (api.CrawlStatus, bool) {
	h.mu.Lock()
	var hc *hostedCrawl
	for _, c := range h.crawls {
		if c.id == id {
			hc = c
		}
	}
	h.mu.Unlock()
	if hc == nil {
		return api.CrawlStatus{}, false
	}
	return h.live(hc), true
}

// Done implements api.CrawlControl: the event streams end with the
// server.
func (h *crawlHost) Done() <-chan struct{} { return h.ctx.Done() }

// status is a copy of the crawl's recorded state.
func (hc *hostedCrawl) status() api.CrawlStatus {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	st := hc.st
	st.Errors = maps.Clone(hc.st.Errors)
	return st
}

// live is the crawl's state with, while it fetches, the crawler's live
// counters and the errors by kind of its run as last committed to
// crawl.db; and the process's stage counters.
func (h *crawlHost) live(hc *hostedCrawl) api.CrawlStatus {
	st := hc.status()
	st.Stages = map[string]int64{
		"fingerprinted": h.n.counters.Fingerprinted.Load(),
		"clustered":     h.n.counters.Clustered.Load(),
		"indexed":       h.n.counters.Indexed.Load(),
	}
	if st.Status != "running" {
		return st
	}
	st.Pages, st.Ads = int(hc.c.Stats.Pages.Load()), int(hc.c.Stats.Ads.Load())
	st.Queued = int(hc.c.Stats.Queued.Load())
	if cur := h.runningRun(st.Arena); cur != nil {
		st.Run, st.Errors = cur.ID, maps.Clone(cur.Errors)
	}
	if st.Errors == nil {
		st.Errors = map[string]int{}
	}
	return st
}

// runningRun is the run the arena's crawler began or resumed: its latest
// running one in the crawl state (nil: none).
func (h *crawlHost) runningRun(arena string) *crawler.Run {
	runs, err := h.n.crawls.Runs()
	if err != nil {
		return nil
	}
	var cur *crawler.Run
	for i := range runs {
		if r := &runs[i]; r.Arena == arena && r.Status == "running" && (cur == nil || r.Started.After(cur.Started)) {
			cur = r
		}
	}
	return cur
}
