package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// censusSink is a crawler.CensusSink in memory.
type censusSink struct {
	mu        sync.Mutex
	ads       []*ad.Ad
	sightings []ad.Sighting
	ends      []ad.RunEnd
}

func (s *censusSink) Publish(_ context.Context, a *ad.Ad) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := *a
	s.ads = append(s.ads, &c)
	return nil
}

func (s *censusSink) PublishAsync(ctx context.Context, a *ad.Ad, done func(error)) error {
	err := s.Publish(ctx, a)
	go done(err)
	return nil
}

func (s *censusSink) PublishSightingAsync(_ context.Context, sg *ad.Sighting, done func(error)) error {
	s.mu.Lock()
	s.sightings = append(s.sightings, *sg)
	s.mu.Unlock()
	go done(nil)
	return nil
}

func (s *censusSink) PublishRunEnd(_ context.Context, r *ad.RunEnd) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ends = append(s.ends, *r)
	return nil
}

// take returns and forgets what the sink received.
func (s *censusSink) take() (ads []*ad.Ad, sightings []ad.Sighting, end ad.RunEnd) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ads, sightings = s.ads, s.sightings
	if n := len(s.ends); n > 0 {
		end = s.ends[n-1]
	}
	s.ads, s.sightings, s.ends = nil, nil, nil
	return ads, sightings, end
}

// censusArena serves adverts 1…n that a test may change, remove or break.
type censusArena struct {
	*httptest.Server
	mu       sync.Mutex
	text     map[int]string
	broken   map[string]bool // paths answering 500
	images   atomic.Int64
	requests atomic.Int64
	adPages  atomic.Int64 // requests for advert pages
}

func newCensusArena(t *testing.T, n int) *censusArena {
	a := &censusArena{text: map[int]string{}, broken: map[string]bool{}}
	for i := 1; i <= n; i++ {
		a.text[i] = fmt.Sprintf("Hej, annons nummer %d, välkommen.", i)
	}
	img := testJPEG(t)
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.broken[r.URL.RequestURI()] {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		case r.URL.Path == "/list":
			ids := make([]int, 0, len(a.text))
			for id := range a.text {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			page := 1
			fmt.Sscan(r.URL.Query().Get("p"), &page)
			fmt.Fprint(w, "<html><body>")
			for i := (page - 1) * 3; i < page*3 && i < len(ids); i++ {
				fmt.Fprintf(w, `<a class="ad" href="/ad/%d">ad</a>`, ids[i])
			}
			if page*3 < len(ids) {
				fmt.Fprintf(w, `<a class="next" href="/list?p=%d">next</a>`, page+1)
			}
			fmt.Fprint(w, "</body></html>")
		case strings.HasPrefix(r.URL.Path, "/ad/"):
			a.adPages.Add(1)
			var id int
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/ad/"), &id)
			text, ok := a.text[id]
			if !ok {
				http.NotFound(w, r)
				return
			}
			etag := fmt.Sprintf(`"%x"`, crc32.ChecksumIEEE([]byte(text)))
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			fmt.Fprintf(w, `<html><body><h1>Annons %d</h1><div class="text">%s</div><img src="/img/%d.jpg"></body></html>`, id, text, id)
		case strings.HasPrefix(r.URL.Path, "/img/"):
			a.images.Add(1)
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(img)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *censusArena) edit(fn func(text map[int]string, broken map[string]bool)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(a.text, a.broken)
}

func (a *censusArena) config(t *testing.T) *crawler.ArenaConfig {
	t.Helper()
	cfg, err := crawler.ParseArena("census.yaml", []byte(fmt.Sprintf(`
name: census
start_urls: [%s/list]
allow_private: true
limits: {concurrency: 2, delay: 0s, timeout: 5s}
listing: {match: '^/list(\?p=\d+)?$', links: a.ad, next: a.next}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
  images: {selector: img, attr: src}
`, a.URL)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCrawlRecordsSightingsAndRunEnds crawls an arena four times: first
// (every advert published and sighted), unchanged (sightings only, no
// image fetched again), with one advert changed, one removed and one whose
// page fails (the changed one republished with its version; the run
// complete, the failed advert named), and with a listing page failing
// (the run incomplete).
func TestCrawlRecordsSightingsAndRunEnds(t *testing.T) {
	arena := newCensusArena(t, 6)
	store := mustStore(t, t.TempDir())
	sink := &censusSink{}
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var notModified int64
	crawl := func() {
		t.Helper()
		now := day
		c, err := crawler.New(arena.config(t), crawler.Options{Store: store, Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
			AutoResume: true, RetryBase: time.Millisecond, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		notModified = c.Stats.NotModified.Load()
		day = day.AddDate(0, 0, 7)
	}
	id := func(n int) string { return ad.ContentID("census", fmt.Sprint(n)) }

	crawl()
	ads, sightings, end := sink.take()
	if len(ads) != 6 || len(sightings) != 6 || !end.Complete || end.Sighted != 6 || end.Changed != 6 {
		t.Fatalf("first crawl: %d adverts, %d sightings, end %+v; want 6, 6, complete", len(ads), len(sightings), end)
	}
	for _, sg := range sightings {
		if !sg.Changed || sg.Run != end.Run || !sg.At.Equal(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) || sg.Hash == "" {
			t.Errorf("first sighting %+v: want changed, of run %s, at the crawl's clock, with a hash", sg, end.Run)
		}
	}
	if got := arena.images.Load(); got != 6 {
		t.Errorf("first crawl fetched %d images, want 6", got)
	}

	crawl()
	ads, sightings, end = sink.take()
	if len(ads) != 0 || len(sightings) != 6 || !end.Complete || end.Changed != 0 {
		t.Fatalf("unchanged crawl: %d adverts published, %d sightings, complete=%v; want 0, 6, true", len(ads), len(sightings), end.Complete)
	}
	for _, sg := range sightings {
		if sg.Changed {
			t.Errorf("unchanged advert sighted as changed: %+v", sg)
		}
	}
	if got := arena.images.Load(); got != 6 {
		t.Errorf("unchanged crawl fetched images again: %d in all, want 6", got)
	}
	if notModified != 6 {
		t.Errorf("unchanged crawl: %d advert pages answered 304, want 6 (asked conditionally)", notModified)
	}

	arena.edit(func(text map[int]string, broken map[string]bool) {
		text[2] = "Ny text för annons två."
		delete(text, 3)
		broken["/ad/4"] = true
	})
	crawl()
	ads, sightings, end = sink.take()
	if len(ads) != 1 || ads[0].ID != id(2) || len(ads[0].Version) != 12 {
		t.Fatalf("changed crawl published %d adverts (%v); want advert 2 with a version", len(ads), ads)
	}
	if len(sightings) != 4 || !end.Complete || end.Changed != 1 || !slices.Equal(end.Failed, []string{id(4)}) {
		t.Fatalf("changed crawl: %d sightings, end %+v; want 4, complete, advert 4 failed", len(sightings), end)
	}
	if notModified != 3 {
		t.Errorf("changed crawl: %d pages answered 304, want 3 (adverts 1, 5, 6)", notModified)
	}

	arena.edit(func(text map[int]string, broken map[string]bool) { broken["/list?p=2"] = true })
	crawl()
	_, _, end = sink.take()
	if end.Complete || !strings.Contains(end.Why, "listing") {
		t.Fatalf("crawl with a failed listing page: end %+v, want incomplete because of the listing", end)
	}
}
