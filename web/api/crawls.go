package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CrawlControl starts crawls in the serving process and follows them
// ('adcensus serve --pipeline'); Options.Crawls.
type CrawlControl interface {
	// Arenas are the arenas a crawl may be started of, sorted.
	Arenas() []string
	// Start starts a crawl of the arena for who: ErrUnknownArena,
	// ErrCrawlRunning when one of the arena is running.
	Start(arena, who string) (CrawlStatus, error)
	// Crawls are the crawls started since the server started, newest
	// first.
	Crawls() []CrawlStatus
	// Crawl is one of them by its id.
	Crawl(id string) (CrawlStatus, bool)
	// Stop stops a crawl after its current pages, for who:
	// ErrUnknownCrawl, ErrCrawlFinished.
	Stop(id, who string) (CrawlStatus, error)
	// Done is closed when the server stops: the event streams end.
	Done() <-chan struct{}
}

// Errors of CrawlControl.Start.
var (
	ErrUnknownArena = errors.New("no such arena in the server's config")
	ErrCrawlRunning = errors.New("a crawl of the arena is running")
	// Errors of CrawlControl.Stop.
	ErrUnknownCrawl  = errors.New("no such crawl")
	ErrCrawlFinished = errors.New("the crawl is over")
)

// CrawlStatus is a crawl started through the API, as it stands.
type CrawlStatus struct {
	ID    string `json:"id"`
	Arena string `json:"arena"`
	By    string `json:"by"`
	// Run is the crawl run's id once the crawler has begun it.
	Run string `json:"run,omitempty"`
	// Status: running (fetching), processing (the stages finish its
	// adverts), done, stopped (a limit or the server's shutdown), failed.
	Status  string    `json:"status"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended,omitzero"`
	Pages   int       `json:"pages"`
	Ads     int       `json:"ads"`
	Queued  int       `json:"queued"`
	// Errors counts the failed pages by kind (docs/RUN.md).
	Errors map[string]int `json:"errors"`
	// Stages are the process's stage counters: fingerprinted, clustered,
	// indexed (every crawl of the process together).
	Stages map[string]int64 `json:"stages,omitempty"`
	// Error says why the crawl failed.
	Error string `json:"error,omitempty"`
	// Finished is set once the crawl is over and its adverts processed:
	// the last event of its stream.
	Finished bool `json:"finished"`
}

// RunError is one page of a crawl run that failed (crawl.db's frontier).
type RunError struct {
	URL   string `json:"url"`
	Kind  string `json:"kind"` // the page's kind: listing, detail, sitemap, other
	Depth int    `json:"depth"`
	Error string `json:"error"`
}

// RunErrorsFunc lists the failed pages of a crawl run, ok=false when there
// is no such run; Options.RunErrors.
type RunErrorsFunc func(ctx context.Context, run string) (errs []RunError, ok bool, err error)

// crawlStreamFor bounds one event stream: the browser's EventSource
// reconnects after it (each stream is one audited request).
const crawlStreamFor = 90 * time.Second

// crawlEvery is how often a stream looks at its crawl.
var crawlEvery = 300 * time.Millisecond

func (s *server) crawlControl() (CrawlControl, error) {
	if s.opt.Crawls == nil {
		return nil, fmt.Errorf("crawls: %w: this server does not host the pipeline (adcensus serve --pipeline --config CONFIG; else crawls are started with adcensus run)", errNotImplemented)
	}
	return s.opt.Crawls, nil
}

// listCrawls answers GET /api/crawls: the arenas and the crawls started.
func (s *server) listCrawls(w http.ResponseWriter, r *http.Request) error {
	cc, err := s.crawlControl()
	if err != nil {
		return err
	}
	crawls := nonNil(cc.Crawls())
	setRows(r, len(crawls))
	writeJSON(w, http.StatusOK, map[string]any{"arenas": nonNil(cc.Arenas()), "crawls": crawls})
	return nil
}

// startCrawl answers POST /api/crawls {"arena": NAME}: 202 and the crawl.
func (s *server) startCrawl(w http.ResponseWriter, r *http.Request) error {
	cc, err := s.crawlControl()
	if err != nil {
		return err
	}
	var in struct {
		Arena string `json:"arena"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	setWhat(r, "arena", in.Arena)
	if strings.TrimSpace(in.Arena) == "" {
		return badRequest("arena is required: one of %s", strings.Join(cc.Arenas(), ", "))
	}
	st, err := cc.Start(in.Arena, principal(r).String())
	switch {
	case errors.Is(err, ErrUnknownArena):
		return badRequest("arena %q: %v (one of %s)", shortValue(in.Arena), err, strings.Join(cc.Arenas(), ", "))
	case err != nil:
		return err
	}
	setWhat(r, "crawl", st.ID)
	w.Header().Set("Location", "/api/crawls/"+st.ID+"/events")
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

// stopCrawl answers POST /api/crawls/{id}/stop: 202 and the crawl, which
// stops after its current pages (its last event says so).
func (s *server) stopCrawl(w http.ResponseWriter, r *http.Request) error {
	cc, err := s.crawlControl()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	setWhat(r, "crawl", id)
	st, err := cc.Stop(id, principal(r).String())
	switch {
	case errors.Is(err, ErrUnknownCrawl):
		return fmt.Errorf("crawl %q: %w", shortValue(id), errNotFound)
	case err != nil:
		return err
	}
	setWhat(r, "arena", st.Arena)
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

// crawlEvents answers GET /api/crawls/{id}/events: the crawl's progress
// as server-sent events ("progress" when it changed, "end" with its last
// state once it is finished), for at most crawlStreamFor, after which the
// browser reconnects.
func (s *server) crawlEvents(w http.ResponseWriter, r *http.Request) error {
	cc, err := s.crawlControl()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	setWhat(r, "crawl", id)
	if _, ok := cc.Crawl(id); !ok {
		return fmt.Errorf("crawl %q: %w", shortValue(id), errNotFound)
	}
	f, ok := w.(flusher)
	if !ok {
		return errors.New("crawl events: the response cannot be streamed")
	}
	ctx := r.Context()
	end := time.Now().Add(crawlStreamFor)
	if d, ok := ctx.Deadline(); ok && d.Add(-5*time.Second).Before(end) {
		end = d.Add(-5 * time.Second)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // a proxy must not hold the events back
	if r.Method == http.MethodHead {
		return nil // the headers only, not a stream held open for nothing
	}
	fmt.Fprint(w, "retry: 2000\n\n")
	t := time.NewTicker(crawlEvery)
	defer t.Stop()
	var last []byte
	quiet := time.Now()
	for seq := 1; ; {
		st, _ := cc.Crawl(id)
		b, err := json.Marshal(st)
		if err != nil {
			return err
		}
		switch {
		case st.Finished:
			fmt.Fprintf(w, "id: %d\nevent: end\ndata: %s\n\n", seq, b)
			f.FlushError()
			return nil
		case !bytes.Equal(b, last):
			fmt.Fprintf(w, "id: %d\nevent: progress\ndata: %s\n\n", seq, b)
			seq++
			last, quiet = b, time.Now()
		case time.Since(quiet) > 15*time.Second:
			fmt.Fprint(w, ": still running\n\n") // keeps proxies from closing an idle stream
			quiet = time.Now()
		}
		if err := f.FlushError(); err != nil || time.Now().After(end) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-cc.Done():
			return nil
		case <-t.C:
		}
	}
}

// runErrors answers GET /api/runs/{id}/errors: the run's failed pages.
func (s *server) runErrors(w http.ResponseWriter, r *http.Request) error {
	if s.opt.RunErrors == nil {
		return fmt.Errorf("run errors: %w: this server was not given the crawl state", errNotImplemented)
	}
	id := r.PathValue("id")
	setWhat(r, "run", id)
	errs, ok, err := s.opt.RunErrors(r.Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("run %q: %w", shortValue(id), errNotFound)
	}
	setRows(r, len(errs))
	writeJSON(w, http.StatusOK, map[string]any{"run": id, "errors": nonNil(errs)})
	return nil
}
