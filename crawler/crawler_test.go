package crawler_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// testArena is an httptest site that misbehaves like real ones: robots.txt,
// pagination, lazy images, a 404, a 500 that recovers, a 429 with
// Retry-After, an oversized page, a redirect loop and invalid UTF-8.
type testArena struct {
	*httptest.Server
	mu       sync.Mutex
	hits     map[string]int
	requests atomic.Int64
	flaky    atomic.Int64 // remaining 500s for /ad/5
	limited  atomic.Int64 // remaining 429s for /ad/6
	block    chan struct{}
}

const testAds = 12

func newTestArena(t *testing.T) *testArena {
	t.Helper()
	a := &testArena{hits: map[string]int{}}
	a.flaky.Store(2)
	a.limited.Store(1)
	img := testJPEG(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
	})
	mux.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("p")
		if p == "" {
			p = "1"
		}
		var page int
		fmt.Sscan(p, &page)
		fmt.Fprint(w, "<html><body><ul>")
		for i := (page-1)*5 + 1; i <= page*5 && i <= testAds; i++ {
			fmt.Fprintf(w, `<li><a class="ad" href="/ad/%d?utm_source=list">ad %d</a></li>`, i, i)
			// a tracking-parameter duplicate of the same advert
			fmt.Fprintf(w, `<li><a class="ad" href="/ad/%d?fbclid=x%d">again</a></li>`, i, page)
		}
		fmt.Fprint(w, `<li><a class="ad" href="/private/ad/99">hidden</a></li>`)
		fmt.Fprint(w, `<li><a class="ad" href="/ad/404">gone</a></li>`)
		fmt.Fprint(w, `<li><a class="ad" href="/ad/777">loop</a></li>`)
		fmt.Fprint(w, `<li><a class="ad" href="/ad/888">huge</a></li>`)
		if page*5 < testAds {
			fmt.Fprintf(w, `</ul><a class="next" href="/list?p=%d">next</a>`, page+1)
		}
		fmt.Fprint(w, "</body></html>")
	})
	mux.HandleFunc("/ad/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/ad/")
		switch id {
		case "404":
			http.NotFound(w, r)
			return
		case "777":
			http.Redirect(w, r, "/ad/778", http.StatusFound)
			return
		case "778":
			http.Redirect(w, r, "/ad/777", http.StatusFound)
			return
		case "888":
			w.Write(bytes.Repeat([]byte("<p>filler</p>"), 10000))
			return
		case "5":
			if a.flaky.Add(-1) >= 0 {
				http.Error(w, "try later", http.StatusInternalServerError)
				return
			}
		case "6":
			if a.limited.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
		}
		if a.block != nil && id == "9" {
			<-a.block
		}
		var n int
		fmt.Sscan(id, &n)
		phoneAttr := fmt.Sprintf("070-123 45 %02d", n)
		fmt.Fprintf(w, `<html><body><h1>Annons %d</h1><div class="text">Hej, jag finns i Malmö. Ring %s. %s</div>
<span class="age">Ålder: %d år</span><button class="tel" data-phone="%s">visa</button>
<img data-src="/img/%d.jpg"><span class="price">1000 kr</span></body></html>`, n, phoneAttr, "\xff\xfe", 20+n, phoneAttr, n)
	})
	mux.HandleFunc("/img/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/img/7.jpg" {
			// Moved to a CDN path: the image is fetched (and archived)
			// through the redirect.
			http.Redirect(w, r, "/cdn/7.jpg", http.StatusMovedPermanently)
			return
		}
		if r.URL.Path == "/img/3.jpg" {
			// A decompression bomb: a valid PNG header announcing
			// 50000×50000 pixels, then garbage.
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngBombHeader())
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	})
	mux.HandleFunc("/cdn/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	})
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		a.mu.Lock()
		a.hits[r.URL.Path]++
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *testArena) hitCount(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hits[path]
}

func testJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8((x * y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (a *testArena) config(t *testing.T) *crawler.ArenaConfig {
	t.Helper()
	yml := fmt.Sprintf(`
name: testarena
start_urls: [%s/list]
allow_private: true
limits: {concurrency: 3, delay: 0s, timeout: 5s, max_body: 64KiB}
listing: {match: '^/list(\?p=\d+)?$', links: a.ad, next: a.next}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
    age: {selector: .age, regex: '(\d+)'}
    phones: {selector: .tel, attr: data-phone, all: true}
  images: {selector: img, attr: data-src}
  attrs: {price: {selector: .price}}
`, a.URL)
	cfg, err := crawler.ParseArena("testarena.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type memSink struct {
	mu  sync.Mutex
	ads []*ad.Ad
}

func (s *memSink) Publish(_ context.Context, a *ad.Ad) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ads = append(s.ads, a)
	return nil
}

func (s *memSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, a := range s.ads {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

func mustStore(t *testing.T, dir string) *crawler.Store {
	t.Helper()
	s, err := crawler.OpenStore(filepath.Join(dir, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCrawlCapturesEveryAdvertOncePolitely(t *testing.T) {
	arena := newTestArena(t)
	sink := &memSink{}
	c, err := crawler.New(arena.config(t), crawler.Options{
		Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
		RetryBase: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(sink.ads), testAds; got != want {
		t.Fatalf("published %d adverts, want %d (each exactly once)", got, want)
	}
	if got := len(sink.ids()); got != testAds {
		t.Fatalf("%d distinct ids, want %d", got, testAds)
	}
	if n := arena.hitCount("/private/ad/99"); n != 0 {
		t.Errorf("robots.txt-disallowed path requested %d times", n)
	}
	sawBomb := false
	for _, a := range sink.ads {
		if len(a.Phones) != 0 {
			t.Fatalf("advert %s still has raw phones %q", a.ID, a.Phones)
		}
		if len(a.Contacts) == 0 || !strings.HasPrefix(a.Contacts[0], "tel:") {
			t.Fatalf("advert %s has no pseudonymised contact: %v", a.ID, a.Contacts)
		}
		if strings.Contains(a.Body, "070") || strings.Contains(a.Body, "123 45") {
			t.Fatalf("raw number left in body: %q", a.Body)
		}
		if a.Age < 21 || a.Attrs["price"] != "1000 kr" {
			t.Fatalf("fields not extracted: age %d attrs %v", a.Age, a.Attrs)
		}
		if a.URL == arena.URL+"/ad/3" {
			// The bomb is refused before decoding; the advert still flows.
			if len(a.ImageFPs) != 1 || !strings.Contains(a.ImageFPs[0].Err, "too large") || len(a.ImageFPs[0].Hashes) != 0 {
				t.Fatalf("bomb image not refused: %+v", a.ImageFPs)
			}
			sawBomb = true
			continue
		}
		if len(a.ImageFPs) != 1 || a.ImageFPs[0].Hashes["phash"] == "" {
			t.Fatalf("image not hashed: %+v", a.ImageFPs)
		}
	}
	if !sawBomb {
		t.Error("the advert with the decompression-bomb image was not published")
	}
	if run.Errors["status_4xx"] != 1 {
		t.Errorf("errors = %v, want one status_4xx (the 404)", run.Errors)
	}
	if run.Errors["refused"] != 1 {
		t.Errorf("errors = %v, want one refused (the redirect loop)", run.Errors)
	}
	if run.Errors["too_large"] != 1 {
		t.Errorf("errors = %v, want one too_large (the oversized page)", run.Errors)
	}
	if got := arena.hitCount("/ad/5"); got != 3 {
		t.Errorf("/ad/5 (two 500s then OK) fetched %d times, want 3", got)
	}
	if run.Status != "done" {
		t.Errorf("run status %q, want done", run.Status)
	}
}

func TestCrawlResumesAfterInterruption(t *testing.T) {
	arena := newTestArena(t)
	arena.block = make(chan struct{})
	dir := t.TempDir()
	cfg := arena.config(t)
	pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
	sink := &memSink{}

	store := mustStore(t, dir)
	c, _ := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: pseudo, RetryBase: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Run(ctx); done <- err }()
	// Wait until the crawl is stuck on /ad/9, then interrupt it.
	for arena.hitCount("/ad/9") == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	close(arena.block)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
	first := len(sink.ads)
	if first >= testAds {
		t.Fatalf("interrupted crawl already had all %d adverts", first)
	}
	// The page in flight at the interruption answered only after it: the
	// interrupted run must not publish it (the resumed run does).
	for _, a := range sink.ads {
		if strings.Contains(a.URL, "/ad/9") {
			t.Fatalf("interrupted crawl published %s, whose response came after the interruption", a.URL)
		}
	}
	requestsBefore := arena.hitCount("/list")

	c2, _ := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: pseudo, AutoResume: true, RetryBase: 10 * time.Millisecond})
	run, err := c2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run.Resumed != 1 {
		t.Errorf("run.Resumed = %d, want 1", run.Resumed)
	}
	if got := len(sink.ids()); got != testAds {
		t.Fatalf("after resume %d distinct adverts, want %d", got, testAds)
	}
	// Finished pages are not fetched again: every advert published once,
	// except possibly the one in flight when interrupted.
	if extra := len(sink.ads) - testAds; extra > 1 {
		t.Errorf("%d adverts published twice after resume", extra)
	}
	if arena.hitCount("/list") > requestsBefore+2 {
		t.Errorf("listing pages refetched: %d before, %d after", requestsBefore, arena.hitCount("/list"))
	}
}

func TestCrawlRefusesPrivateAddressesByDefault(t *testing.T) {
	arena := newTestArena(t)
	cfg := arena.config(t)
	cfg.AllowPrivate = false
	sink := &memSink{}
	c, _ := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)), Retries: 1, RetryBase: time.Millisecond})
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if arena.requests.Load() != 0 || len(sink.ads) != 0 {
		t.Fatalf("crawler reached a loopback server without allow_private: %d requests", arena.requests.Load())
	}
	if run.ErrorCount() == 0 {
		t.Fatalf("refusal not counted: %+v", run)
	}
}

// pngBombHeader is the start of a PNG whose IHDR announces 50000×50000
// pixels (2.5 gigapixels) followed by bytes that are not image data.
func pngBombHeader() []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := []byte{0, 0, 0xc3, 0x50, 0, 0, 0xc3, 0x50, 8, 2, 0, 0, 0}
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.Write(bytes.Repeat([]byte{0}, 1024))
	return b.Bytes()
}
