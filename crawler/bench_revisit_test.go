package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/internal/contact"
	"adcensus/pipeline"
)

// revisitArena is the bench arena answering advert pages with an ETag and
// a 304 to a matching If-None-Match, counting the requests and the body
// bytes it sends.
type revisitArena struct {
	*httptest.Server
	requests, bytes atomic.Int64
}

func newRevisitArena(b *testing.B, n int) *revisitArena {
	b.Helper()
	a := &revisitArena{}
	inner := benchHandler(n)
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if strings.HasPrefix(r.URL.Path, "/ad/") {
			h := fnv.New64a()
			h.Write(body)
			etag := fmt.Sprintf(`"%x"`, h.Sum64())
			w.Header().Set("ETag", etag)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
		a.bytes.Add(int64(len(body)))
	}))
	b.Cleanup(a.Close)
	return a
}

// revisitCost is what one crawl cost.
type revisitCost struct {
	wall, cpu             time.Duration
	requests, bytes, msgs int64
	pages, notModified    int64
	trusted               int64
}

// BenchmarkRevisit100k crawls the 100,000-advert bench arena (2,000
// listing pages) twice into the same crawl state and stream, the second
// time unchanged: advert pages are asked conditionally (all answered 304,
// no advert republished, a sighting each) and listing pages fetched whole.
// "trust-listings" is the same with the arena's revisit.listings: trust
// (an unchanged listing's adverts are sighted from the crawl state without
// asking for their pages). It reports both crawls' wall and CPU time,
// requests, body bytes and messages stored in the stream, and the second
// crawl's share of each. It takes a few minutes, so it runs only when
// ADCENSUS_BENCH_100K is set:
//
//	ADCENSUS_BENCH_100K=1 go test -run '^$' -bench BenchmarkRevisit100k -benchtime 1x -timeout 30m ./crawler/
func BenchmarkRevisit100k(b *testing.B) {
	if os.Getenv("ADCENSUS_BENCH_100K") == "" {
		b.Skip("set ADCENSUS_BENCH_100K=1 to crawl 100,000 pages twice")
	}
	const n = 100_000
	for _, mode := range []string{"conditional", "trust-listings"} {
		b.Run(mode, func(b *testing.B) {
			arena := newRevisitArena(b, n)
			extra := ", max_depth: 100000}\nrevisit: {listings: fetch"
			if mode == "trust-listings" {
				extra = ", max_depth: 100000}\nrevisit: {listings: trust"
			}
			cfg := benchConfig(b, "bench", arena.URL, extra)
			for b.Loop() {
				dir := b.TempDir()
				bus := openBus(b, dir)
				store, err := crawler.OpenStore(filepath.Join(dir, "crawl.db"))
				if err != nil {
					b.Fatal(err)
				}
				crawl := func() revisitCost {
					r0, b0, cpu0 := arena.requests.Load(), arena.bytes.Load(), cpuTime()
					m0, _, err := bus.StreamInfo(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: &pipeline.BusSink{Bus: bus}, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
					if err != nil {
						b.Fatal(err)
					}
					t0 := time.Now()
					run, err := c.Run(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					wall := time.Since(t0)
					if run.ErrorCount() != 0 || run.Status != "done" {
						b.Fatalf("run %s: status %s, errors %v", run.ID, run.Status, run.Errors)
					}
					m1, _, err := bus.StreamInfo(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					return revisitCost{wall: wall, cpu: cpuTime() - cpu0, requests: arena.requests.Load() - r0, bytes: arena.bytes.Load() - b0,
						msgs: int64(m1 - m0), pages: c.Stats.Pages.Load(), notModified: c.Stats.NotModified.Load(), trusted: c.Stats.Trusted.Load()}
				}
				first, second := crawl(), crawl()
				store.Close()
				// The first crawl stores every advert and its sighting, the
				// second a sighting of each and nothing else.
				if first.msgs != 2*n+1 || second.msgs != n+1 {
					b.Fatalf("messages stored: first crawl %d, second %d; want %d and %d", first.msgs, second.msgs, 2*n+1, n+1)
				}
				if mode == "conditional" && second.notModified != n {
					b.Fatalf("second crawl: %d advert pages answered 304, want %d", second.notModified, n)
				}
				if mode == "trust-listings" && second.trusted != n {
					b.Fatalf("second crawl: %d adverts sighted from unchanged listings, want %d", second.trusted, n)
				}
				b.Logf("%s: first crawl %s wall, %s CPU, %d requests, %d body bytes, %d messages; second %s wall, %s CPU, %d requests (%d answered 304, %d adverts trusted), %d body bytes, %d messages",
					mode, first.wall.Round(time.Millisecond), first.cpu.Round(time.Millisecond), first.requests, first.bytes, first.msgs,
					second.wall.Round(time.Millisecond), second.cpu.Round(time.Millisecond), second.requests, second.notModified, second.trusted, second.bytes, second.msgs)
				b.ReportMetric(first.wall.Seconds(), "first-s")
				b.ReportMetric(second.wall.Seconds(), "second-s")
				b.ReportMetric(second.wall.Seconds()/first.wall.Seconds(), "wall-ratio")
				b.ReportMetric(second.cpu.Seconds()/first.cpu.Seconds(), "cpu-ratio")
				b.ReportMetric(float64(second.requests)/float64(first.requests), "request-ratio")
				b.ReportMetric(float64(second.bytes)/float64(first.bytes), "byte-ratio")
				b.ReportMetric(float64(second.msgs)/float64(first.msgs), "msg-ratio")
			}
		})
	}
}
