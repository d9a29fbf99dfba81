package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/temoto/robotstxt"

	"adcensus/internal/netguard"
)

// fetcher is the one way pages and images are fetched: through colly, with
// our own politeness in front of it, because colly ignores Crawl-delay and
// its LimitRules are per rule, not per host:
//
//   - robots.txt of every host is read once per fetcher (once per run), with
//     our User-Agent, and every URL is tested against it (also redirect
//     targets) unless the arena says robots: ignore;
//   - each host has its own gate: at most limits.concurrency requests in
//     flight; with a delay d = max(limits.delay, Crawl-delay of our
//     User-Agent's group) > 0, one request at a time, each starting at least
//     d after the previous one ended (Crawl-delay as Yandex defines it), so
//     the server sees requests at least d apart.
type fetcher struct {
	cfg       *ArenaConfig
	col       *colly.Collector
	client    *http.Client // robots.txt only
	ua        string
	log       *slog.Logger
	retries   int
	retryBase time.Duration
	archive   *WARCWriter   // nil: no archive
	metrics   *ArenaMetrics // never nil

	mu    sync.Mutex
	hosts map[string]*hostGate
}

type fetcherOptions struct {
	UserAgent string
	Logger    *slog.Logger
	Retries   int           // extra attempts on 429, 5xx and timeouts
	RetryBase time.Duration // first back-off
	// Archive, when set, receives every HTTP exchange (robots.txt, pages,
	// images, error statuses) as WARC request and response records.
	Archive *WARCWriter
	Metrics *ArenaMetrics
}

// hostGate holds the politeness state of one host.
type hostGate struct {
	sem    chan struct{} // one token per request in flight
	serial chan struct{} // held by the request in flight when delay > 0

	mu    sync.Mutex
	next  time.Time     // earliest start of the next request
	delay time.Duration // effective delay between request starts
	// pausedUntil is when the host may be asked again after it answered
	// 429 or 503 with Retry-After: the pause holds for every request to
	// the host, not only the retry of the one that got the answer.
	pausedUntil time.Time

	robotsMu   sync.Mutex // held while robots.txt is read
	robotsRead bool
	robots     *robotstxt.Group // nil: no rules (robots: ignore)
	crawlDelay time.Duration
}

// maxRobotsBytes is how much of a robots.txt is read (RFC 9309 asks for at
// least 500 KiB).
const maxRobotsBytes = 512 << 10

func newFetcher(ctx context.Context, cfg *ArenaConfig, o fetcherOptions) (*fetcher, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics().Arena(cfg.Name)
	}
	f := &fetcher{cfg: cfg, ua: o.UserAgent, log: o.Logger, retries: o.Retries, retryBase: o.RetryBase,
		archive: o.Archive, metrics: o.Metrics, hosts: map[string]*hostGate{}}
	col := colly.NewCollector(
		colly.UserAgent(o.UserAgent),
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.StdlibContext(ctx),
		// One byte more than allowed, so an oversized body is detected and
		// reported instead of being silently cut.
		colly.MaxBodySize(int(cfg.Limits.MaxBody)+1),
	)
	// robots.txt is read and applied here (robotsFor), once per host, so
	// that its Crawl-delay is known too; colly's own check would read it
	// a second time and ignore the delay.
	col.IgnoreRobotsTxt = true
	allowPrivate := cfg.AllowPrivate
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control runs after DNS resolution, for every connection, redirects
		// included: the address checked is the one connected to.
		Control: func(_, address string, _ syscall.RawConn) error {
			if allowPrivate {
				return nil
			}
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			// The same rule as offline dedup's image downloads.
			if netguard.CheckIP(net.ParseIP(host)) != nil {
				return fmt.Errorf("%s: %w", host, errPrivateAddress)
			}
			return nil
		},
	}
	n := cfg.Limits.Concurrency
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConns:          2 * n,
		MaxIdleConnsPerHost:   n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Duration(cfg.Limits.Timeout),
	}
	col.WithTransport(transport)
	col.SetRequestTimeout(time.Duration(cfg.Limits.Timeout))
	col.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return fmt.Errorf("%w: more than 10 redirects", errRedirect)
		}
		for _, v := range via {
			if v.URL.String() == req.URL.String() {
				return fmt.Errorf("%w: redirect loop at %s", errRedirect, req.URL)
			}
		}
		if !cfg.hostAllowed(req.URL.Host) {
			return fmt.Errorf("%w: %s is outside the arena's allowed domains", errRedirect, req.URL.Host)
		}
		// The redirect target must be allowed by robots.txt too. Its host's
		// robots.txt is read here, outside the host gate, when not known yet.
		g, err := f.robotsFor(req.Context(), req.URL, false)
		if err != nil {
			return fmt.Errorf("%w: robots.txt of %s: %v", errRedirect, req.URL.Host, err)
		}
		if g != nil && !g.Test(robotsPath(req.URL)) {
			return colly.ErrRobotsTxtBlocked
		}
		return nil
	})
	col.OnResponse(func(r *colly.Response) { r.Ctx.Put("resp", r) })
	f.col = col
	f.client = &http.Client{
		Transport: transport,
		Timeout:   time.Duration(cfg.Limits.Timeout),
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 5 { // RFC 9309: follow at least five
				return errors.New("more than 5 redirects")
			}
			return nil
		},
	}
	return f, nil
}

// gate returns the politeness state of host, creating it.
func (f *fetcher) gate(host string) *hostGate {
	host = strings.ToLower(host)
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.hosts[host]
	if !ok {
		g = &hostGate{sem: make(chan struct{}, f.cfg.Limits.Concurrency), serial: make(chan struct{}, 1), delay: time.Duration(f.cfg.Limits.Delay)}
		f.hosts[host] = g
	}
	return g
}

// acquire waits for a free slot of the host, for its delay since the
// previous request and for a Retry-After pause. The caller must call release
// when the response has been read.
func (g *hostGate) acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	serial := g.delay > 0
	g.mu.Unlock()
	if serial {
		select {
		case g.serial <- struct{}{}:
		case <-ctx.Done():
			<-g.sem
			return nil, ctx.Err()
		}
	}
	release = func() {
		g.mu.Lock()
		if nx := time.Now().Add(g.delay); nx.After(g.next) {
			g.next = nx
		}
		g.mu.Unlock()
		if serial {
			<-g.serial
		}
		<-g.sem
	}
	// Wait until neither the delay nor a pause holds; a pause set while
	// waiting (another request got a 429) is waited for too.
	for {
		g.mu.Lock()
		now := time.Now()
		start := now
		if g.next.After(start) {
			start = g.next
		}
		if g.pausedUntil.After(start) {
			start = g.pausedUntil
		}
		if !start.After(now) {
			g.next = now.Add(g.delay)
			g.mu.Unlock()
			return release, nil
		}
		g.mu.Unlock()
		t := time.NewTimer(start.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, ctx.Err()
		}
	}
}

// pause keeps every request to the host waiting until now+d.
func (g *hostGate) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	g.mu.Lock()
	if until := time.Now().Add(d); until.After(g.pausedUntil) {
		g.pausedUntil = until
	}
	g.mu.Unlock()
}

// robotsPath is what robots.txt rules are matched against.
func robotsPath(u *url.URL) string { return u.RequestURI() }

// robotsFor returns the robots.txt group that applies to our User-Agent on
// u's host, reading robots.txt once (through the host gate when gated).
// It returns nil, nil when the arena ignores robots.txt. A transport error
// is returned and not remembered: the next URL tries again. A 4xx means no
// rules, a 5xx that the whole host is disallowed (RFC 9309).
func (f *fetcher) robotsFor(ctx context.Context, u *url.URL, gated bool) (*robotstxt.Group, error) {
	if f.cfg.Robots == "ignore" {
		return nil, nil
	}
	g := f.gate(u.Host)
	g.robotsMu.Lock()
	defer g.robotsMu.Unlock()
	if g.robotsRead {
		return g.robots, nil
	}
	if gated {
		// The robots.txt request counts as a request: the deferred release
		// runs after the Crawl-delay below is in force.
		release, err := g.acquire(ctx)
		if err != nil {
			return nil, err
		}
		defer release()
	}
	robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, robotsURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", f.ua)
	sent := time.Now()
	f.metrics.Requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", robotsURL, err)
	}
	f.metrics.Bytes.Add(int64(len(body)))
	if f.archive != nil {
		if err := f.archive.WriteExchange(&Exchange{
			RequestedURL: robotsURL, URL: resp.Request.URL, Method: http.MethodGet, RequestHeader: req.Header,
			StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Date: sent,
			Truncated: len(body) == maxRobotsBytes,
		}); err != nil {
			return nil, fmt.Errorf("%w: %v", errArchive, err)
		}
	}
	data, err := robotstxt.FromStatusAndBytes(resp.StatusCode, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errRobotsUnreadable, robotsURL, err)
	}
	group := data.FindGroup(f.ua)
	g.robots, g.robotsRead, g.crawlDelay = group, true, group.CrawlDelay
	g.mu.Lock()
	if cd := min(group.CrawlDelay, time.Hour); cd > g.delay {
		g.delay = cd
		f.log.Info("robots.txt Crawl-delay is longer than limits.delay: using it", "host", u.Host, "crawl_delay", cd, "limits_delay", time.Duration(f.cfg.Limits.Delay))
	}
	g.mu.Unlock()
	return group, nil
}

// hostDelay is the delay between request starts in force for host, and the
// Crawl-delay its robots.txt gave our User-Agent (0 when none or not read).
func (f *fetcher) hostDelay(host string) (effective, crawlDelay time.Duration) {
	g := f.gate(host)
	g.robotsMu.Lock()
	crawlDelay = g.crawlDelay
	g.robotsMu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.delay, crawlDelay
}

// get makes one politely gated request and returns colly's response.
func (f *fetcher) get(ctx context.Context, raw string) (*colly.Response, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	group, err := f.robotsFor(ctx, u, true)
	if err != nil {
		return nil, err
	}
	if group != nil && !group.Test(robotsPath(u)) {
		return nil, colly.ErrRobotsTxtBlocked
	}
	gate := f.gate(u.Host)
	release, err := gate.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	cctx := colly.NewContext()
	sent := time.Now()
	f.metrics.Requests.Add(1)
	err = f.col.Request(http.MethodGet, raw, nil, cctx, nil)
	resp, _ := cctx.GetAny("resp").(*colly.Response)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && resp.Headers != nil {
		// Set before release: no request to the host, queued behind this
		// one or from another worker, starts before Retry-After elapsed.
		gate.pause(retryAfter(resp.Headers.Get("Retry-After")))
	}
	if resp != nil {
		f.metrics.Bytes.Add(int64(len(resp.Body)))
		if f.archive != nil {
			x := &Exchange{RequestedURL: raw, URL: u, Method: http.MethodGet, StatusCode: resp.StatusCode,
				Body: resp.Body, Date: sent, Truncated: int64(len(resp.Body)) > int64(f.cfg.Limits.MaxBody)}
			if resp.Headers != nil {
				x.Header = *resp.Headers
			}
			if resp.Request != nil {
				x.URL = resp.Request.URL
				if resp.Request.Headers != nil {
					x.RequestHeader = *resp.Request.Headers
				}
			}
			if x.Truncated {
				x.Body = x.Body[:f.cfg.Limits.MaxBody]
			}
			if aerr := f.archive.WriteExchange(x); aerr != nil {
				return nil, fmt.Errorf("%w: %v", errArchive, aerr)
			}
		}
	}
	return resp, err
}

// fetch GETs a URL, retrying 429, 5xx and timeouts with capped exponential
// back-off (or Retry-After). It returns the body of a 2xx response or an
// error with its kind.
func (f *fetcher) fetch(ctx context.Context, u string) ([]byte, string, error) {
	var lastErr error
	kind := "fetch"
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			f.metrics.Retries.Add(1)
			wait := backoff(f.retryBase, attempt)
			var re *retryAfterError
			if errors.As(lastErr, &re) && re.after > 0 {
				wait = re.after
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, "cancelled", ctx.Err()
			case <-t.C:
			}
		}
		resp, err := f.get(ctx, u)
		if err != nil {
			if errors.Is(err, errArchive) {
				return nil, "archive", err
			}
			if errors.Is(err, colly.ErrRobotsTxtBlocked) || errors.Is(err, errRobotsUnreadable) {
				return nil, "robots", err
			}
			if ctx.Err() != nil {
				return nil, "cancelled", ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				lastErr, kind = fmt.Errorf("timeout: %w", err), "timeout"
				continue
			}
			if errors.Is(err, errPrivateAddress) || errors.Is(err, errRedirect) {
				return nil, "refused", err
			}
			lastErr, kind = err, "fetch"
			continue
		}
		if resp == nil {
			return nil, "fetch", errors.New("no response")
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			if int64(len(resp.Body)) > int64(f.cfg.Limits.MaxBody) {
				return nil, "too_large", fmt.Errorf("body larger than limits.max_body %d bytes: not truncated, skipped", f.cfg.Limits.MaxBody)
			}
			return resp.Body, "", nil
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			lastErr, kind = &retryAfterError{code: code, after: retryAfter(resp.Headers.Get("Retry-After"))}, "status_"+strconv.Itoa(code)
		case code >= 500:
			lastErr, kind = fmt.Errorf("HTTP %d", code), "status_5xx"
		default:
			return nil, fmt.Sprintf("status_%dxx", code/100), fmt.Errorf("HTTP %d", code)
		}
	}
	return nil, kind, fmt.Errorf("gave up after %d attempts: %w", f.retries+1, lastErr)
}

// maxBackoff caps the exponential back-off between attempts.
const maxBackoff = 30 * time.Second

// backoff is the wait before retry attempt (1, 2, …): base doubled per
// attempt, capped at maxBackoff (without overflowing for many attempts).
func backoff(base time.Duration, attempt int) time.Duration {
	wait := base
	for i := 1; i < attempt && wait < maxBackoff; i++ {
		wait *= 2
	}
	return min(max(wait, 0), maxBackoff)
}

var (
	errPrivateAddress   = errors.New("refused: private, loopback or link-local address (set allow_private in the arena config to allow)")
	errRedirect         = errors.New("redirect refused")
	errRobotsUnreadable = errors.New("robots.txt unreadable")
	errArchive          = errors.New("WARC archive write failed")
)
