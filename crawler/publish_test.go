package crawler_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// asyncArena serves one listing page linking n detail pages.
func asyncArena(t *testing.T, n int) *crawler.ArenaConfig {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nAllow: /\n") })
	mux.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, `<a class="ad" href="/ad/%d">ad</a>`, i)
		}
		fmt.Fprintf(w, "<html><body>%s</body></html>", sb.String())
	})
	mux.HandleFunc("/ad/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/ad/")
		fmt.Fprintf(w, `<html><body><h1>Annons %s</h1><div class="text">Trevlig och diskret.</div></body></html>`, id)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg, err := crawler.ParseArena("async.yaml", []byte(fmt.Sprintf(`
name: async
start_urls: ['%s/list']
allow_private: true
limits: {concurrency: 4, delay: 0s, timeout: 5s}
listing: {match: '^/list$', links: a.ad}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
`, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// heldSink is an AsyncSink that keeps every advert waiting for its
// acknowledgement until the test settles it.
type heldSink struct {
	mu      sync.Mutex
	waiting map[string]func(error) // by advert title
	stored  []string
	arrived chan string
}

func newHeldSink() *heldSink {
	return &heldSink{waiting: map[string]func(error){}, arrived: make(chan string, 100)}
}

func (s *heldSink) Publish(context.Context, *ad.Ad) error {
	return errors.New("heldSink: Publish must not be used when PublishAsync exists")
}

func (s *heldSink) PublishAsync(_ context.Context, a *ad.Ad, done func(error)) error {
	s.mu.Lock()
	s.waiting[a.Title] = done
	s.mu.Unlock()
	s.arrived <- a.Title
	return nil
}

// settle acknowledges (err nil) or fails the advert with that title.
func (s *heldSink) settle(title string, err error) {
	s.mu.Lock()
	done := s.waiting[title]
	delete(s.waiting, title)
	if err == nil {
		s.stored = append(s.stored, title)
	}
	s.mu.Unlock()
	done(err)
}

func queuedURLs(t *testing.T, store *crawler.Store) []string {
	t.Helper()
	runs, err := store.Runs()
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v (err %v)", runs, err)
	}
	q, err := store.Queued(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range q {
		out = append(out, e.URL[strings.Index(e.URL, "/ad/"):])
	}
	sort.Strings(out)
	return out
}

// A page is committed as done only after the sink has acknowledged its
// advert: with the acknowledgements held, every detail page stays queued in
// the store; a page whose advert is acknowledged is done; pages whose
// adverts were not stored when the crawl was cancelled are left queued and
// the resumed run stores exactly those.
func TestAsyncSinkPageCommittedOnlyAfterAcknowledgement(t *testing.T) {
	cfg := asyncArena(t, 5)
	store, err := crawler.OpenStore(filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
	sink := newHeldSink()
	c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: pseudo, AutoResume: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		run *crawler.Run
		err error
	}
	ran := make(chan result, 1)
	go func() {
		run, err := c.Run(ctx)
		ran <- result{run, err}
	}()
	// All five adverts are sent without waiting for one another.
	for range 5 {
		select {
		case <-sink.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("adverts were not all sent while none was acknowledged")
		}
	}
	want := []string{"/ad/0", "/ad/1", "/ad/2", "/ad/3", "/ad/4"}
	if got := queuedURLs(t, store); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("queued before any acknowledgement: %v, want %v", got, want)
	}
	sink.settle("Annons 1", nil)
	sink.settle("Annons 3", nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := queuedURLs(t, store)
		if strings.Join(got, " ") == "/ad/0 /ad/2 /ad/4" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued after acknowledging 1 and 3: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Cancelled with three adverts in flight: the crawl waits for their
	// outcome, here a failure, and leaves their pages queued.
	cancel()
	for _, title := range []string{"Annons 0", "Annons 2", "Annons 4"} {
		sink.settle(title, context.Canceled)
	}
	r := <-ran
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", r.err)
	}
	if got := queuedURLs(t, store); strings.Join(got, " ") != "/ad/0 /ad/2 /ad/4" {
		t.Fatalf("queued after cancellation: %v", got)
	}

	// The resumed run fetches and stores exactly the three.
	sink2 := &memSink{}
	c2, err := crawler.New(cfg, crawler.Options{Store: store, Sink: sink2, Pseudo: pseudo, AutoResume: true})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, a := range sink2.ads {
		titles = append(titles, a.Title)
	}
	sort.Strings(titles)
	if strings.Join(titles, ",") != "Annons 0,Annons 2,Annons 4" {
		t.Fatalf("resumed run stored %v", titles)
	}
	if run.Ads != 5 || run.Pages != 6 || run.ErrorCount() != 0 {
		t.Fatalf("run counts: %d ads, %d pages, errors %v; want 5, 6, none", run.Ads, run.Pages, run.Errors)
	}
}

// flakySink is an AsyncSink whose first attempt for every advert fails
// (alternately at once and through the callback) and that always fails the
// adverts in broken.
type flakySink struct {
	mu       sync.Mutex
	attempts map[string]int
	broken   map[string]bool
	stored   []string
}

func (s *flakySink) Publish(context.Context, *ad.Ad) error {
	return errors.New("flakySink: Publish must not be used when PublishAsync exists")
}

func (s *flakySink) PublishAsync(_ context.Context, a *ad.Ad, done func(error)) error {
	s.mu.Lock()
	s.attempts[a.Title]++
	n := s.attempts[a.Title]
	fail := s.broken[a.Title] || n == 1
	if !fail {
		s.stored = append(s.stored, a.Title)
	}
	atOnce := fail && n%2 == 1
	s.mu.Unlock()
	switch {
	case atOnce:
		return errors.New("stream unavailable")
	case fail:
		go done(errors.New("stream refused the advert"))
	default:
		go done(nil)
	}
	return nil
}

// A failed publish is retried with back-off; an advert that cannot be
// stored after the retries fails its page with kind "publish" (counted and
// left in the frontier as failed, with the error), and the rest of the
// crawl goes on.
func TestAsyncSinkFailuresRetriedThenReported(t *testing.T) {
	cfg := asyncArena(t, 6)
	store, err := crawler.OpenStore(filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sink := &flakySink{attempts: map[string]int{}, broken: map[string]bool{"Annons 4": true}}
	c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
		Retries: 2, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(sink.stored)
	if got := strings.Join(sink.stored, ","); got != "Annons 0,Annons 1,Annons 2,Annons 3,Annons 5" {
		t.Fatalf("stored %s", got)
	}
	if sink.attempts["Annons 4"] != 3 {
		t.Errorf("broken advert attempted %d times, want 3 (1 + 2 retries)", sink.attempts["Annons 4"])
	}
	if run.Ads != 5 || run.Pages != 7 || run.Errors["publish"] != 1 || run.ErrorCount() != 1 {
		t.Fatalf("run: %d ads, %d pages, errors %v; want 5, 7, publish: 1", run.Ads, run.Pages, run.Errors)
	}
	if q, err := store.Queued(run.ID); err != nil || len(q) != 0 {
		t.Fatalf("queued after the run: %v (err %v)", q, err)
	}
}
