package crawler_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/internal/contact"
)

// BenchmarkBrowser crawls the script-rendered test arena (Skript, the
// shape_browser_test.go site: HTML shells, /app.js, data from /api) with
// fetch: browser and 1, 2 and 4 tabs: 120 adverts without images and 6
// listing pages, politeness off (delay 0, limits.concurrency = tabs,
// robots.txt read), every request of every page made through the fetcher.
// pages/s counts the whole crawl, browser start included; chromium-MB is
// the peak proportional set size (Pss, shared pages split between the
// processes) of all Chromium processes of the crawl, and MB/tab that
// divided by the tabs.
//
//	go test -run '^$' -bench BenchmarkBrowser -benchtime 1x ./crawler/
func BenchmarkBrowser(b *testing.B) {
	needChromium(b)
	ads := make([]shapeAd, 120)
	for i := range ads {
		a := shapeAds[i%len(shapeAds)]
		a.id, a.images = 1000+i, 0
		ads[i] = a
	}
	srv, _ := serveSkript(b, nil, false, ads, 20)
	for _, tabs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("tabs=%d", tabs), func(b *testing.B) {
			pages, peak := 0, 0.0
			var el time.Duration
			for b.Loop() {
				cfg, err := crawler.LoadArena("testdata/shapes/skript.yml")
				if err != nil {
					b.Fatal(err)
				}
				cfg.Rebase(srv.URL)
				cfg.Limits.Delay, cfg.Limits.Concurrency, cfg.Browser.Tabs = 0, tabs, tabs
				cfg.Limits.MaxPages = 100000
				stop := make(chan struct{})
				var wg sync.WaitGroup
				var mu sync.Mutex
				wg.Go(func() {
					t := time.NewTicker(100 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
						}
						if m := chromiumPssMB(); m > 0 {
							mu.Lock()
							peak = max(peak, m)
							mu.Unlock()
						}
					}
				})
				sink := &memSink{}
				store, err := crawler.OpenStore(filepath.Join(b.TempDir(), "crawl.db"))
				if err != nil {
					b.Fatal(err)
				}
				c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32))})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				run, err := c.Run(b.Context())
				el += time.Since(t0)
				close(stop)
				wg.Wait()
				store.Close()
				if err != nil || run.Ads != len(ads) || run.ErrorCount() != 0 {
					b.Fatalf("run: err %v, %d adverts of %d, errors %v", err, run.Ads, len(ads), run.Errors)
				}
				pages += run.Pages
			}
			b.ReportMetric(float64(pages)/el.Seconds(), "pages/s")
			b.ReportMetric(peak, "chromium-MB")
			b.ReportMetric(peak/float64(tabs), "MB/tab")
		})
	}
}

// chromiumPssMB sums the proportional set size of this process's
// descendants (the browser and its renderers), in MiB.
func chromiumPssMB() float64 {
	self := os.Getpid()
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces.
		rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	total := 0.0
	for pid := range parent {
		p, ok := pid, false
		for i := 0; i < 64 && p > 1; i++ {
			if p = parent[p]; p == self {
				ok = true
				break
			}
		}
		if !ok {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				total += kb / 1024
			}
		}
	}
	return total
}
