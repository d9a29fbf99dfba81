package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"adcensus/crawler"
	"adcensus/internal/contact"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// benchArena serves listing pages of 50 links and n detail pages, no
// images: what is measured is pages, extraction and bookkeeping.
func benchArena(b *testing.B, n int) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(benchHandler(n))
	b.Cleanup(srv.Close)
	return srv
}

// benchHandler is the bench arena's handler.
func benchHandler(n int) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n") })
	mux.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("p"))
		var sb strings.Builder
		sb.WriteString("<html><body><ul>")
		for i := p * 50; i < (p+1)*50 && i < n; i++ {
			fmt.Fprintf(&sb, `<li><a class="ad" href="/ad/%d">ad</a></li>`, i)
		}
		sb.WriteString("</ul>")
		if (p+1)*50 < n {
			fmt.Fprintf(&sb, `<a class="next" href="/list?p=%d">next</a>`, p+1)
		}
		sb.WriteString("</body></html>")
		w.Write([]byte(sb.String()))
	})
	mux.HandleFunc("/ad/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/ad/")
		fmt.Fprintf(w, `<html><head><title>x</title></head><body><nav>%s</nav><h1>Annons %s</h1>
<div class="text">Hej, jag finns i Malmö. Trevlig och diskret. Ring 070-174 06 %02s.</div>
<span class="age">Ålder: 30 år</span><button class="tel" data-phone="070-174 06 %02s">visa</button>
<span class="price">1 500 kr</span><footer>%s</footer></body></html>`, strings.Repeat("<a href='/x'>meny</a>", 20), id, id[len(id)-min(2, len(id)):], id[len(id)-min(2, len(id)):], strings.Repeat("<p>info</p>", 20))
	})
	return mux
}

// benchConfig describes the bench arena under name: crawls under different
// names publish different adverts (advert ids derive from the arena), so
// that none is dropped as a duplicate of an earlier crawl's.
func benchConfig(b *testing.B, name, base, limits string) *crawler.ArenaConfig {
	b.Helper()
	cfg, err := crawler.ParseArena("bench.yaml", []byte(fmt.Sprintf(`
name: %s
start_urls: ['%s/list?p=0']
allow_private: true
limits: {concurrency: 8, delay: 0s, timeout: 10s, max_pages: 1000000%s}
listing: {match: '^/list\?p=\d+$', links: a.ad, next: a.next}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
    age: {selector: .age, regex: '(\d+)'}
    phones: {selector: .tel, attr: data-phone, all: true}
  attrs: {price: {selector: .price}}
`, name, base, limits)))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// cpuTime is the CPU time (user + system) the process has used: the test
// server, the crawler and the embedded NATS server all run in it.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareColly crawls the arena with a bare colly collector that fetches the
// pages and runs the same extraction, nothing else. It returns the pages
// fetched.
func bareColly(b *testing.B, cfg *crawler.ArenaConfig, base string) int {
	var pages atomic.Int64
	c := colly.NewCollector(colly.Async(true))
	c.WithTransport(&http.Transport{MaxIdleConnsPerHost: 16})
	c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: 8})
	c.OnResponse(func(r *colly.Response) {
		pages.Add(1)
		u := r.Request.URL.String()
		if kind, _ := cfg.Classify(u); kind == crawler.PageDetail {
			cfg.ExtractAd(u, r.Body, time.Now())
			return
		}
		res, err := cfg.ExtractListing(u, r.Body)
		if err != nil {
			b.Error(err)
			return
		}
		for _, d := range append(res.Details, res.Next...) {
			r.Request.Visit(d)
		}
	})
	c.Visit(base + "/list?p=0")
	c.Wait()
	return int(pages.Load())
}

// fullCrawl is the whole crawler: a new run in a new crawl state file,
// publishing to bus. It checks that every advert was stored and returns
// the run.
func fullCrawl(b *testing.B, cfg *crawler.ArenaConfig, bus pipeline.Bus, statePath string, wantAds int, started func(*crawler.Crawler)) *crawler.Run {
	store, err := crawler.OpenStore(statePath)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: &pipeline.BusSink{Bus: bus}, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
	if err != nil {
		b.Fatal(err)
	}
	if started != nil {
		started(c)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if run.Ads != wantAds || run.ErrorCount() != 0 {
		b.Fatalf("crawled %d adverts with errors %v, want %d without errors", run.Ads, run.Errors, wantAds)
	}
	return run
}

func openBus(b *testing.B, dir string) *jetstream.Bus {
	bus, err := jetstream.Open(context.Background(), jetstream.Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bus.Close() })
	return bus
}

// BenchmarkCrawl compares, against the same local server and pages, the
// whole crawler (politeness off: delay 0, concurrency 8; robots.txt still
// read; extraction, pseudonymisation, bbolt frontier, publishing to an
// embedded JetStream with fsync on every write) with a bare colly collector
// that only fetches and runs the same extraction. pages/s and the process's
// CPU time per page are reported, for adcensus also the atomic batches the
// stream stored per crawl and the adverts in them (the others were stored
// one by one); "versus" alternates one crawl of each per iteration and
// reports adcensus's pages/s as a fraction of bare colly's, so that both
// see the same machine load.
func BenchmarkCrawl(b *testing.B) {
	const n = 2000
	srv := benchArena(b, n)
	cfg := benchConfig(b, "bench", srv.URL, "")
	b.Run("bare-colly", func(b *testing.B) {
		pages, cpu0 := 0, cpuTime()
		for b.Loop() {
			pages += bareColly(b, cfg, srv.URL)
		}
		b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(pages), "cpu-µs/page")
	})
	b.Run("adcensus", func(b *testing.B) {
		dir := b.TempDir()
		bus := openBus(b, dir)
		round, pages, cpu0 := 0, 0, cpuTime()
		for b.Loop() {
			round++
			cfg := benchConfig(b, fmt.Sprintf("bench%d", round), srv.URL, "")
			pages += fullCrawl(b, cfg, bus, filepath.Join(dir, fmt.Sprintf("crawl-%d.db", round)), n, nil).Pages
		}
		b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(pages), "cpu-µs/page")
		b.ReportMetric(float64(bus.AtomicBatches.Load())/float64(round), "batches/crawl")
		b.ReportMetric(float64(bus.BatchedMsgs.Load())/float64(round), "batched/crawl")
	})
	b.Run("versus", func(b *testing.B) {
		dir := b.TempDir()
		bus := openBus(b, dir)
		var bare, full time.Duration
		round, barePages, fullPages := 0, 0, 0
		for b.Loop() {
			t := time.Now()
			barePages += bareColly(b, cfg, srv.URL)
			bare += time.Since(t)
			round++
			cfg := benchConfig(b, fmt.Sprintf("bench%d", round), srv.URL, "")
			t = time.Now()
			fullPages += fullCrawl(b, cfg, bus, filepath.Join(dir, fmt.Sprintf("crawl-%d.db", round)), n, nil).Pages
			full += time.Since(t)
		}
		bareRate, fullRate := float64(barePages)/bare.Seconds(), float64(fullPages)/full.Seconds()
		b.ReportMetric(bareRate, "bare-pages/s")
		b.ReportMetric(fullRate, "adcensus-pages/s")
		b.ReportMetric(fullRate/bareRate, "ratio")
	})
}

// BenchmarkCrawl100k crawls 100,000 adverts (and 2,000 listing pages) from
// the local arena through the whole crawler, as BenchmarkCrawl/adcensus
// does, and reports the memory in use after 10,000 pages and near the end,
// to show that it does not grow with the pages crawled. It takes about a
// minute, so it runs only when ADCENSUS_BENCH_100K is set:
//
//	ADCENSUS_BENCH_100K=1 go test -run '^$' -bench BenchmarkCrawl100k -benchtime 1x ./crawler/
//
// heap-*: live Go heap after a collection (crawler, colly, test server and
// embedded NATS server together); anon-*: the process's anonymous resident
// memory (RssAnon; the bbolt file and the stream's blocks are mapped or
// cached files, not counted); hwm: peak resident set (VmHWM) of the process.
func BenchmarkCrawl100k(b *testing.B) {
	if os.Getenv("ADCENSUS_BENCH_100K") == "" {
		b.Skip("set ADCENSUS_BENCH_100K=1 to crawl 100,000 pages")
	}
	const n = 100_000
	srv := benchArena(b, n)
	cfg := benchConfig(b, "bench", srv.URL, ", max_depth: 100000")
	for b.Loop() {
		dir := b.TempDir()
		bus := openBus(b, dir)
		marks := []int64{10_000, 50_000, 95_000}
		type sample struct{ heap, anon, hwm float64 }
		samples := make([]sample, len(marks))
		var crawl atomic.Pointer[crawler.Crawler]
		done := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			next := 0
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for next < len(marks) {
				select {
				case <-done:
					return
				case <-t.C:
				}
				if c := crawl.Load(); c != nil && c.Stats.Pages.Load() >= marks[next] {
					samples[next] = sample{liveHeapMB(), procStatusMB("RssAnon"), procStatusMB("VmHWM")}
					next++
				}
			}
		}()
		t0 := time.Now()
		run := fullCrawl(b, cfg, bus, filepath.Join(dir, "crawl.db"), n, func(c *crawler.Crawler) { crawl.Store(c) })
		el := time.Since(t0)
		close(done)
		<-sampled
		b.ReportMetric(float64(run.Pages)/el.Seconds(), "pages/s")
		for i, m := range marks {
			k := strconv.FormatInt(m/1000, 10) + "k"
			b.ReportMetric(samples[i].heap, "heap-"+k+"-MB")
			b.ReportMetric(samples[i].anon, "anon-"+k+"-MB")
		}
		b.ReportMetric(procStatusMB("VmHWM"), "hwm-MB")
	}
}

// liveHeapMB is the live Go heap after a collection, in MiB.
func liveHeapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// procStatusMB reads a kB field of /proc/self/status, in MiB (0 where
// there is none).
func procStatusMB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
