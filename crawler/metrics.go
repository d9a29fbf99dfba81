package crawler

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Metrics are the crawl counters of a process, per arena, in the
// Prometheus text exposition format (version 0.0.4), written by hand so
// that no client library is needed. Counters count since the process
// started (a resumed run starts again at zero); gauges are live. One
// Metrics is shared by all crawlers of a process (Options.Metrics); it is
// safe for concurrent use.
type Metrics struct {
	mu     sync.Mutex
	arenas map[string]*ArenaMetrics
}

// ArenaMetrics are the counters of one arena.
type ArenaMetrics struct {
	Pages    [4]atomic.Int64 // by PageKind: other, listing, detail, sitemap
	Ads      atomic.Int64
	Reviews  atomic.Int64 // reviews stored (review forums, kind: reviews)
	Images   atomic.Int64
	Bytes    atomic.Int64 // response bodies received, pages and images
	Requests atomic.Int64 // HTTP requests sent, robots.txt and retries included
	Retries  atomic.Int64
	// Duplicates are advert URLs left out because the run had the advert
	// under another URL (detail.id).
	Duplicates atomic.Int64
	Queued     atomic.Int64 // gauge
	InFlight   atomic.Int64 // gauge

	mu     sync.Mutex
	errors map[string]int64 // by error kind (docs/RUN.md, 'adcensus runs')
}

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics { return &Metrics{arenas: map[string]*ArenaMetrics{}} }

// Arena returns the counters of an arena, creating them.
func (m *Metrics) Arena(name string) *ArenaMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.arenas[name]
	if !ok {
		a = &ArenaMetrics{errors: map[string]int64{}}
		m.arenas[name] = a
	}
	return a
}

// Error counts one error of a kind.
func (a *ArenaMetrics) Error(kind string) { a.ErrorN(kind, 1) }

// ErrorN counts n errors of a kind.
func (a *ArenaMetrics) ErrorN(kind string, n int64) {
	a.mu.Lock()
	a.errors[kind] += n
	a.mu.Unlock()
}

// ContentType is the Content-Type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteTo writes every metric in the text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	names := make([]string, 0, len(m.arenas))
	for n := range m.arenas {
		names = append(names, n)
	}
	arenas := make(map[string]*ArenaMetrics, len(m.arenas))
	for n, a := range m.arenas {
		arenas[n] = a
	}
	m.mu.Unlock()
	sort.Strings(names)

	var b bytes.Buffer
	family := func(name, typ, help string, each func(arena string, a *ArenaMetrics)) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		for _, n := range names {
			each(n, arenas[n])
		}
	}
	sample := func(name string, v int64, labels ...string) {
		b.WriteString(name)
		if len(labels) > 0 {
			b.WriteByte('{')
			for i := 0; i+1 < len(labels); i += 2 {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
			}
			b.WriteByte('}')
		}
		b.WriteString(" " + strconv.FormatInt(v, 10) + "\n")
	}
	family("adcensus_crawler_pages_total", "counter", "Pages fetched and handled, by page kind.", func(n string, a *ArenaMetrics) {
		for _, k := range []PageKind{PageListing, PageDetail, PageSitemap} {
			sample("adcensus_crawler_pages_total", a.Pages[k].Load(), "arena", n, "kind", k.String())
		}
	})
	// perArena is a family with one sample per arena, read from v.
	perArena := func(name, typ, help string, v func(*ArenaMetrics) *atomic.Int64) {
		family(name, typ, help, func(n string, a *ArenaMetrics) { sample(name, v(a).Load(), "arena", n) })
	}
	perArena("adcensus_crawler_ads_total", "counter", "Adverts extracted and accepted by the sink.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Ads })
	perArena("adcensus_crawler_reviews_total", "counter", "Reviews (posts of review forums) extracted and stored.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Reviews })
	family("adcensus_crawler_errors_total", "counter", "Failed pages by error kind.", func(n string, a *ArenaMetrics) {
		a.mu.Lock()
		kinds := make([]string, 0, len(a.errors))
		for k := range a.errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		vals := make([]int64, len(kinds))
		for i, k := range kinds {
			vals[i] = a.errors[k]
		}
		a.mu.Unlock()
		for i, k := range kinds {
			sample("adcensus_crawler_errors_total", vals[i], "arena", n, "kind", k)
		}
	})
	perArena("adcensus_crawler_images_total", "counter", "Images fetched and hashed.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Images })
	perArena("adcensus_crawler_response_bytes_total", "counter", "Bytes of response bodies received (pages, images, robots.txt).", func(a *ArenaMetrics) *atomic.Int64 { return &a.Bytes })
	perArena("adcensus_crawler_requests_total", "counter", "HTTP requests sent, robots.txt and retries included.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Requests })
	perArena("adcensus_crawler_retries_total", "counter", "Requests repeated after a 429, 5xx or timeout.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Retries })
	perArena("adcensus_crawler_duplicates_total", "counter", "Advert URLs not fetched or not written: the advert was had under another URL.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Duplicates })
	perArena("adcensus_crawler_queued", "gauge", "URLs in the frontier waiting to be fetched.", func(a *ArenaMetrics) *atomic.Int64 { return &a.Queued })
	perArena("adcensus_crawler_in_flight", "gauge", "Pages being fetched and handled now.", func(a *ArenaMetrics) *atomic.Int64 { return &a.InFlight })
	n, err := w.Write(b.Bytes())
	return int64(n), err
}

// ServeHTTP serves the metrics (mount it at /metrics).
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	m.WriteTo(w)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
