package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/internal/contact"
)

// politeSite records, at the server, when each request arrived and how many
// were in flight at once.
type politeSite struct {
	*httptest.Server
	mu          sync.Mutex
	starts      []time.Time
	inFlight    int
	maxInFlight int
	robotsHits  int
}

func newPoliteSite(t *testing.T, robots string) *politeSite {
	t.Helper()
	s := &politeSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.starts = append(s.starts, time.Now())
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		if r.URL.Path == "/robots.txt" {
			s.robotsHits++
		}
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		time.Sleep(5 * time.Millisecond) // long enough for overlaps to show
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, robots)
		case r.URL.Path == "/list":
			for i := 1; i <= 6; i++ {
				fmt.Fprintf(w, `<a class="ad" href="/ad/%d">ad</a>`, i)
			}
		default:
			fmt.Fprintf(w, `<h1>Annons %s</h1><p class="text">Hej</p>`, r.URL.Path)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// gaps returns the number of requests and the smallest gap between
// consecutive request arrivals.
func (s *politeSite) gaps() (int, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := append([]time.Time(nil), s.starts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	minGap := time.Duration(1<<63 - 1)
	for i := 1; i < len(ts); i++ {
		minGap = min(minGap, ts[i].Sub(ts[i-1]))
	}
	return len(ts), minGap
}

func politeCrawl(t *testing.T, site *politeSite, concurrency int, delay string) {
	t.Helper()
	cfg, err := crawler.ParseArena("polite.yaml", []byte(fmt.Sprintf(`
name: polite
start_urls: [%s/list]
allow_private: true
limits: {concurrency: %d, delay: %s, timeout: 5s}
listing: {match: '^/list$', links: a.ad}
detail:
  match: '^/ad/(\d+)$'
  fields: {title: {selector: h1}, body: {selector: .text}}
`, site.URL, concurrency, delay)))
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	c, err := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := len(sink.ads), 6; got != want {
		t.Fatalf("%d adverts, want %d", got, want)
	}
}

func TestPolitenessDelayAtTheServer(t *testing.T) {
	site := newPoliteSite(t, "User-agent: *\nDisallow: /admin/\n")
	politeCrawl(t, site, 1, "50ms")
	n, gap := site.gaps()
	if n != 8 { // robots.txt, listing, six adverts
		t.Errorf("%d requests, want 8", n)
	}
	if site.maxInFlight != 1 {
		t.Errorf("%d requests in flight at once, want 1", site.maxInFlight)
	}
	if gap < 50*time.Millisecond {
		t.Errorf("smallest gap between requests %v, want at least 50ms", gap)
	}
	if site.robotsHits != 1 {
		t.Errorf("robots.txt read %d times, want once per run", site.robotsHits)
	}
}

func TestPolitenessHonoursCrawlDelay(t *testing.T) {
	// Our group asks for 0.1 s; the config says no delay and 3 in parallel.
	site := newPoliteSite(t, "User-agent: otherbot\nCrawl-delay: 5\n\nUser-agent: adcensus\nCrawl-delay: 0.1\nDisallow: /admin/\n\nUser-agent: *\nDisallow: /\n")
	politeCrawl(t, site, 3, "0s")
	n, gap := site.gaps()
	if n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
	// robots.txt comes first; every request, the first after robots.txt
	// included, is at least 100ms after the one before.
	if gap < 100*time.Millisecond {
		t.Errorf("smallest gap between requests %v, want at least Crawl-delay 100ms", gap)
	}
	if site.robotsHits != 1 {
		t.Errorf("robots.txt read %d times, want once per run", site.robotsHits)
	}
}

// TestPolitenessRedirectHops: every hop of a redirect chain (301 → 302 →
// 200) and of the robots.txt fetch (301 → 200) is a request of its own
// through the host gate, so the server sees every request at least the
// delay after the one before: limits.delay from the first request on, a
// robots.txt Crawl-delay from the first request after robots.txt was read.
func TestPolitenessRedirectHops(t *testing.T) {
	t.Run("limits.delay", func(t *testing.T) { redirectHops(t, "60ms", "", 0) })
	t.Run("Crawl-delay", func(t *testing.T) { redirectHops(t, "0s", "Crawl-delay: 0.06\n", 2) })
}

// redirectHops crawls a site whose adverts are linked by an old URL that
// redirects twice, and checks the gaps between requests from the from'th.
func redirectHops(t *testing.T, delay, crawlDelay string, from int) {
	var mu sync.Mutex
	var starts []time.Time
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		starts = append(starts, time.Now())
		paths = append(paths, r.URL.RequestURI())
		mu.Unlock()
		switch {
		case r.URL.Path == "/robots.txt":
			http.Redirect(w, r, "/robots-real.txt", http.StatusMovedPermanently)
		case r.URL.Path == "/robots-real.txt":
			fmt.Fprint(w, "User-agent: *\n"+crawlDelay+"Disallow: /private/\n")
		case r.URL.Path == "/list":
			for i := 1; i <= 3; i++ {
				fmt.Fprintf(w, `<a class="ad" href="/old?id=%d">ad</a>`, i)
			}
		case r.URL.Path == "/old":
			http.Redirect(w, r, "/mid/"+r.URL.Query().Get("id"), http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, "/mid/"):
			http.Redirect(w, r, "/ad/"+strings.TrimPrefix(r.URL.Path, "/mid/"), http.StatusFound)
		default:
			fmt.Fprintf(w, `<h1>Annons %s</h1><p class="text">Hej</p>`, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	cfg, err := crawler.ParseArena("hops.yaml", []byte(fmt.Sprintf(`
name: hops
start_urls: [%s/list]
allow_private: true
limits: {concurrency: 4, delay: %s, timeout: 5s}
listing: {match: '^/list$', links: a.ad}
detail:
  match: '^/(?:old\?id=|ad/)(\d+)$'
  fields: {title: {selector: h1}, body: {selector: .text}}
`, srv.URL, delay)))
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	c, err := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := len(sink.ads), 3; got != want {
		t.Fatalf("%d adverts, want %d", got, want)
	}
	for _, a := range sink.ads {
		if !strings.Contains(a.URL, "/ad/") {
			t.Errorf("advert url %s, want the redirect target /ad/N", a.URL)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// robots.txt (2 hops), the listing, three chains of three hops.
	if got, want := len(starts), 2+1+3*3; got != want {
		t.Errorf("%d requests %v, want %d", got, paths, want)
	}
	for i := max(from, 1); i < len(starts); i++ {
		// The delay runs from the end of one response to the start of
		// the next: the arrivals are at least the delay apart.
		if gap := starts[i].Sub(starts[i-1]); gap < 60*time.Millisecond {
			t.Errorf("%s arrived %v after %s, want at least 60ms", paths[i], gap, paths[i-1])
		}
	}
}

// TestRedirectIntoDisallowedPathNotFollowed: a redirect hop is checked
// against robots.txt before it is requested.
func TestRedirectIntoDisallowedPathNotFollowed(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /privat/\n")
		case "/list":
			fmt.Fprint(w, `<a class="ad" href="/ad/1">1</a><a class="ad" href="/ad/2">2</a>`)
		case "/ad/2":
			http.Redirect(w, r, "/privat/ad/2", http.StatusFound)
		default:
			fmt.Fprintf(w, `<h1>Annons %s</h1><p class="text">Hej</p>`, r.URL.Path)
		}
	}))
	t.Cleanup(srv.Close)
	cfg, err := crawler.ParseArena("r.yaml", []byte(fmt.Sprintf(`
name: r
start_urls: [%s/list]
allow_private: true
limits: {delay: 0s, timeout: 5s}
listing: {match: '^/list$', links: a.ad}
detail: {match: '^/(?:privat/)?ad/(\d+)$', fields: {title: {selector: h1}}}
`, srv.URL)))
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	c, err := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.ads) != 1 || run.Errors["robots"] != 1 {
		t.Errorf("%d adverts, errors %v; want 1 and robots=1", len(sink.ads), run.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/privat/ad/2"] != 0 {
		t.Error("the disallowed redirect target was requested")
	}
}
