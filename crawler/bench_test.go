package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"

	"adcensus/crawler"
	"adcensus/dedup/contact"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// benchArena serves listing pages of 50 links and n detail pages, no
// images: what is measured is pages, extraction and bookkeeping.
func benchArena(b *testing.B, n int) *httptest.Server {
	b.Helper()
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
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

func benchConfig(b *testing.B, base string) *crawler.ArenaConfig {
	b.Helper()
	cfg, err := crawler.ParseArena("bench.yaml", []byte(fmt.Sprintf(`
name: bench
start_urls: ['%s/list?p=0']
allow_private: true
limits: {concurrency: 8, delay: 0s, timeout: 10s, max_pages: 1000000}
listing: {match: '^/list\?p=\d+$', links: a.ad, next: a.next}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
    age: {selector: .age, regex: '(\d+)'}
    phones: {selector: .tel, attr: data-phone, all: true}
  attrs: {price: {selector: .price}}
`, base)))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkCrawl compares, against the same local server and pages, the
// whole crawler (politeness off: delay 0, concurrency 8; robots.txt still
// read; extraction, pseudonymisation, bbolt frontier, publishing to an
// embedded JetStream with fsync on every write) with a bare colly collector
// that only fetches and runs the same extraction. pages/s is reported.
func BenchmarkCrawl(b *testing.B) {
	const n = 2000
	srv := benchArena(b, n)
	b.Run("bare-colly", func(b *testing.B) {
		cfg := benchConfig(b, srv.URL)
		var pages atomic.Int64
		for b.Loop() {
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
			c.Visit(srv.URL + "/list?p=0")
			c.Wait()
		}
		b.ReportMetric(float64(pages.Load())/b.Elapsed().Seconds(), "pages/s")
	})
	b.Run("adcensus", func(b *testing.B) {
		cfg := benchConfig(b, srv.URL)
		dir := b.TempDir()
		bus, err := jetstream.Open(context.Background(), jetstream.Options{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer bus.Close()
		pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
		round, pages := 0, 0
		for b.Loop() {
			store, err := crawler.OpenStore(filepath.Join(dir, fmt.Sprintf("crawl-%d.db", round)))
			if err != nil {
				b.Fatal(err)
			}
			round++
			c, _ := crawler.New(cfg, crawler.Options{Store: store, Sink: &pipeline.BusSink{Bus: bus}, Pseudo: pseudo})
			run, err := c.Run(context.Background())
			store.Close()
			if err != nil {
				b.Fatal(err)
			}
			if run.Ads != n {
				b.Fatalf("crawled %d adverts, want %d", run.Ads, n)
			}
			pages += run.Pages
		}
		b.ReportMetric(float64(pages)/b.Elapsed().Seconds(), "pages/s")
	})
}
