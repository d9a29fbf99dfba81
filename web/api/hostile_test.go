package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/web/api"
	"adcensus/web/audit"
)

// hostilePaths are requests meant to break the server: overflowing
// numbers, huge and malformed queries, unknown ids and methods.
func hostilePaths() []string {
	return []string{
		"/api/search?q=&from=9223372036854775807&size=10",
		"/api/search?from=-1",
		"/api/search?size=99999999999999999999999",
		"/api/search?facets=arena&facet_size=9223372036854775807",
		"/api/search?by_person=true&from=9223372036854775000",
		"/api/persons/P2?from=9223372036854775807",
		"/api/networks/N1?size=-5",
		"/api/search?q=" + url.QueryEscape(strings.Repeat("tjej~2 ", 3000)),
		"/api/search?q=" + url.QueryEscape(strings.Repeat("(", 500)),
		"/api/search?q=" + url.QueryEscape("/[/"),
		"/api/search?q=%zz",
		"/api/search?q=" + url.QueryEscape("city:("),
		"/api/search?q=" + url.QueryEscape(strings.Repeat("a OR ", 60)+"b"),
		"/api/search?q=" + url.QueryEscape("/(a|b)*c{1000}/"),
		"/api/persons/" + strings.Repeat("x", 5000),
		"/api/persons/%00",
		"/api/export/counts?by=arena,arena,week&min_cell=-1",
		"/api/export/counts?by=" + strings.Repeat("arena,", 1000),
		"/api/search?q=Lund",
		"/api/export/counts?by=arena",
		"/api/persons/P2",
	}
}

// runHostile sends n requests, all at once, cycling through the hostile
// paths, and returns the latencies; any 5xx other than 503 fails.
func runHostile(tb testing.TB, srv *httptest.Server, n int) []time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	paths := hostilePaths()
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	failed := 0
	client := &http.Client{Transport: srv.Client().Transport, Timeout: time.Minute}
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+paths[i%len(paths)], nil)
			if err != nil {
				tb.Error(err)
				return
			}
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				var uerr *url.Error
				if errors.As(err, &uerr) {
					err = uerr.Err // not the URL: some are 20 kB
				}
				mu.Lock()
				failed++
				mu.Unlock()
				tb.Logf("%.60s: %v", paths[i%len(paths)], err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat[i] = time.Since(start)
			mu.Lock()
			statuses[res.StatusCode]++
			mu.Unlock()
			if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
				tb.Errorf("%.60s: %d", paths[i%len(paths)], res.StatusCode)
			}
		})
	}
	wg.Wait()
	tb.Logf("statuses: %v; %d without an answer", statuses, failed)
	if failed > n/20 {
		tb.Errorf("%d of %d requests got no answer", failed, n)
	}
	return lat
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[len(s)*99/100]
}

// The hostile-request suite: 1,000 concurrent hostile and ordinary
// requests over loopback, with the audit log on; nothing crashes, nothing
// answers 500, and the server still answers afterwards.
func TestHostileSuite(t *testing.T) {
	x := MustIndex(t)
	dir := t.TempDir()
	srv := MustServer(t, x, docSource(x), api.Options{Audit: audit.Open(dir)})
	lat := runHostile(t, srv, 1000)
	t.Logf("p99 %s", p99(lat))
	wantStatus(t, MustGet(t, srv, "/api/search?q=Lund"), "after", http.StatusOK)
	if n, _, err := audit.Verify(audit.Open(dir).Path()); err != nil || n < 900 {
		t.Fatalf("audit after the suite: %d entries, %v", n, err)
	}
}

// BenchmarkHostile reports the p99 latency of the hostile suite (1,000
// concurrent requests) per run: docs/BENCHMARKS.md.
func BenchmarkHostile(b *testing.B) {
	x := MustIndex(b)
	for _, withAudit := range []bool{false, true} {
		b.Run(fmt.Sprintf("audit=%v", withAudit), func(b *testing.B) {
			opt := api.Options{}
			if withAudit {
				opt.Audit = audit.Open(b.TempDir())
			}
			srv := MustServer(b, x, docSource(x), opt)
			var all []time.Duration
			for b.Loop() {
				all = append(all, runHostile(b, srv, 1000)...)
			}
			b.ReportMetric(float64(p99(all).Microseconds())/1000, "p99-ms")
		})
	}
}
