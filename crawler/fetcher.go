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

	browser browserState   // fetch: browser (page.go)
	jar     http.CookieJar // the run's cookies, nil for colly's own jar
	items   itemStash      // adverts read whole from JSON listings (page.go)
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
	// Jar, when set, keeps the crawl's cookies (persistJar); otherwise
	// colly's own jar does, for the fetcher's life.
	Jar http.CookieJar
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
	sitemaps   []string // Sitemap: lines of robots.txt
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
	if o.Jar != nil {
		col.SetCookieJar(o.Jar)
		f.jar = o.Jar
	}
	col.SetRequestTimeout(time.Duration(cfg.Limits.Timeout))
	// Redirects are followed by fetch, one hop at a time, so that every
	// hop goes through robots.txt and the host gate like any request.
	col.SetRedirectHandler(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })
	if cfg.AcceptLanguage != "" {
		col.OnRequest(func(r *colly.Request) { r.Headers.Set("Accept-Language", cfg.AcceptLanguage) })
	}
	col.OnResponse(func(r *colly.Response) { r.Ctx.Put("resp", r) })
	f.col = col
	f.client = &http.Client{
		Transport: transport,
		Timeout:   time.Duration(cfg.Limits.Timeout),
		// robotsFor follows redirects itself, each hop through the gate.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
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
// u's host, reading robots.txt once, through the host gate like any request
// (redirects too: each hop waits for its host's gate, up to five hops as
// RFC 9309 asks). It returns nil, nil when the arena ignores robots.txt. A
// transport error is returned and not remembered: the next URL tries again.
// A 4xx means no rules, a 5xx that the whole host is disallowed (RFC 9309).
func (f *fetcher) robotsFor(ctx context.Context, u *url.URL) (*robotstxt.Group, error) {
	if f.cfg.Robots == "ignore" {
		return nil, nil
	}
	g := f.gate(u.Host)
	g.robotsMu.Lock()
	defer g.robotsMu.Unlock()
	if g.robotsRead {
		return g.robots, nil
	}
	robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
	cur, err := url.Parse(robotsURL)
	if err != nil {
		return nil, err
	}
	var (
		code    int
		body    []byte
		release func()
	)
	for hop := 0; ; hop++ {
		if release, err = f.gate(cur.Host).acquire(ctx); err != nil {
			return nil, err
		}
		var header http.Header
		code, header, body, err = f.robotsHop(ctx, robotsURL, cur)
		if err != nil {
			release()
			return nil, err
		}
		loc := header.Get("Location")
		if !isRedirect(code) || loc == "" || hop == 5 {
			break
		}
		release()
		next, err := cur.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil, fmt.Errorf("%w: %s redirects to %q", errRobotsUnreadable, robotsURL, loc)
		}
		cur = next
	}
	// The last hop's slot is released once the Crawl-delay is in force, so
	// the next request to the host waits for it.
	defer release()
	data, err := robotstxt.FromStatusAndBytes(code, body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errRobotsUnreadable, robotsURL, err)
	}
	group := data.FindGroup(f.ua)
	g.robots, g.robotsRead, g.crawlDelay = group, true, group.CrawlDelay
	g.sitemaps = data.Sitemaps
	g.mu.Lock()
	if cd := min(group.CrawlDelay, time.Hour); cd > g.delay {
		g.delay = cd
		f.log.Info("robots.txt Crawl-delay is longer than limits.delay: using it", "host", u.Host, "crawl_delay", cd, "limits_delay", time.Duration(f.cfg.Limits.Delay))
	}
	g.mu.Unlock()
	return group, nil
}

// robotsHop makes one request of a robots.txt fetch (the caller holds the
// gate of u's host) and archives it.
func (f *fetcher) robotsHop(ctx context.Context, robotsURL string, u *url.URL) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, nil, err
	}
	f.setHeaders(req.Header)
	sent := time.Now()
	f.metrics.Requests.Add(1)
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRobotsBytes))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %s: %w", u, err)
	}
	f.metrics.Bytes.Add(int64(len(body)))
	if f.archive != nil {
		if err := f.archive.WriteExchange(&Exchange{
			RequestedURL: u.String(), URL: resp.Request.URL, Method: http.MethodGet, RequestHeader: req.Header,
			StatusCode: resp.StatusCode, Header: resp.Header, Body: body, Date: sent,
			Truncated: len(body) == maxRobotsBytes,
		}); err != nil {
			return 0, nil, nil, fmt.Errorf("%w: %v", errArchive, err)
		}
	}
	return resp.StatusCode, resp.Header, body, nil
}

// setHeaders sets the headers every request of the arena carries.
func (f *fetcher) setHeaders(h http.Header) {
	h.Set("User-Agent", f.ua)
	if f.cfg.AcceptLanguage != "" {
		h.Set("Accept-Language", f.cfg.AcceptLanguage)
	}
}

// isRedirect reports whether code is a redirect that fetch follows.
func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
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

// get makes one politely gated GET request and returns colly's response.
func (f *fetcher) get(ctx context.Context, raw string) (*colly.Response, error) {
	return f.request(ctx, http.MethodGet, raw, nil)
}

// request makes one politely gated request, a GET or, with a form, a POST
// of it (the form is not archived: it may hold a password).
func (f *fetcher) request(ctx context.Context, method, raw string, form url.Values) (*colly.Response, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	group, err := f.robotsFor(ctx, u)
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
	if form != nil {
		err = f.col.Request(method, raw, strings.NewReader(form.Encode()), cctx, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	} else {
		err = f.col.Request(method, raw, nil, cctx, conditionalHeader(ctx))
	}
	resp, _ := cctx.GetAny("resp").(*colly.Response)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && resp.Headers != nil {
		// Set before release: no request to the host, queued behind this
		// one or from another worker, starts before Retry-After elapsed.
		gate.pause(retryAfter(resp.Headers.Get("Retry-After")))
	}
	if resp != nil {
		f.metrics.Bytes.Add(int64(len(resp.Body)))
		if f.archive != nil {
			x := &Exchange{RequestedURL: raw, URL: u, Method: method, StatusCode: resp.StatusCode,
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

// fetch GETs a URL like fetchPage and returns the body only.
func (f *fetcher) fetch(ctx context.Context, u string) ([]byte, string, error) {
	r, kind, err := f.fetchPage(ctx, u, nil)
	return r.body, kind, err
}

// fetched is a successful fetch: the body of the 2xx response and the URL
// it came from (after redirects).
type fetched struct {
	body  []byte
	final string
	// status, etag and lastMod are the HTTP status and validators of a
	// page fetched over HTTP (conditional.go); zero otherwise.
	status        int
	etag, lastMod string
}

// maxRedirects is the most redirect hops fetchPage follows.
const maxRedirects = 10

// fetchPage GETs a URL, following redirects one hop at a time (each hop is
// a request of its own: robots.txt, host gate, archive) and retrying 429,
// 5xx and timeouts with capped exponential back-off (or Retry-After) from
// the first URL. onRedirect, when set, sees each redirect target before it
// is requested and may stop the fetch by returning an error (returned with
// kind "redirect"). It returns the body of the 2xx response and its URL,
// or an error with its kind.
func (f *fetcher) fetchPage(ctx context.Context, u string, onRedirect func(target string) error) (fetched, string, error) {
	resp, final, kind, err := f.fetchResponse(ctx, u, true, onRedirect)
	if err != nil {
		return fetched{final: final}, kind, err
	}
	return fetchedFrom(resp, final), "", nil
}

// fetchResponse is fetchPage returning the whole response (headers too)
// and the URL it came from. With follow false it makes one hop: a redirect
// is returned as it came (the browser follows it itself, each hop paused
// and made here, browser.go).
func (f *fetcher) fetchResponse(ctx context.Context, u string, follow bool, onRedirect func(string) error) (*colly.Response, string, string, error) {
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
				return nil, u, "cancelled", ctx.Err()
			case <-t.C:
			}
		}
		resp, final, err := f.followHops(ctx, u, follow, onRedirect)
		if err != nil {
			var stop *stoppedError
			if errors.As(err, &stop) {
				return nil, final, "redirect", stop.err
			}
			if errors.Is(err, errArchive) {
				return nil, u, "archive", err
			}
			if errors.Is(err, colly.ErrRobotsTxtBlocked) || errors.Is(err, errRobotsUnreadable) {
				return nil, u, "robots", err
			}
			if ctx.Err() != nil {
				return nil, u, "cancelled", ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				lastErr, kind = fmt.Errorf("timeout: %w", err), "timeout"
				continue
			}
			if errors.Is(err, errPrivateAddress) || errors.Is(err, errRedirect) {
				return nil, u, "refused", err
			}
			lastErr, kind = err, "fetch"
			continue
		}
		if resp == nil {
			return nil, u, "fetch", errors.New("no response")
		}
		switch code := resp.StatusCode; {
		case code >= 200 && code < 300:
			if int64(len(resp.Body)) > int64(f.cfg.Limits.MaxBody) {
				return nil, u, "too_large", fmt.Errorf("body larger than limits.max_body %d bytes: not truncated, skipped", f.cfg.Limits.MaxBody)
			}
			return resp, final, "", nil
		case !follow && isRedirect(code), code == http.StatusNotModified && isConditional(ctx):
			return resp, final, "", nil
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			lastErr, kind = &retryAfterError{code: code, after: retryAfter(resp.Headers.Get("Retry-After"))}, "status_"+strconv.Itoa(code)
		case code >= 500:
			lastErr, kind = fmt.Errorf("HTTP %d", code), "status_5xx"
		default:
			return nil, u, fmt.Sprintf("status_%dxx", code/100), fmt.Errorf("HTTP %d", code)
		}
	}
	return nil, u, kind, fmt.Errorf("gave up after %d attempts: %w", f.retries+1, lastErr)
}

// stoppedError is an onRedirect error that ended a fetch.
type stoppedError struct{ err error }

func (e *stoppedError) Error() string { return e.err.Error() }

// follow requests raw and the redirects it leads to, each hop through get
// (robots.txt, the hop's host gate, the archive), and returns the last
// response and the URL it came from. A redirect outside the arena's hosts,
// a loop or more than maxRedirects hops is an errRedirect.
func (f *fetcher) follow(ctx context.Context, raw string, onRedirect func(string) error) (*colly.Response, string, error) {
	return f.followFrom(ctx, http.MethodGet, raw, nil, onRedirect)
}

// followHops is follow, or with follow false one request of raw.
func (f *fetcher) followHops(ctx context.Context, raw string, follow bool, onRedirect func(string) error) (*colly.Response, string, error) {
	if !follow {
		resp, err := f.get(ctx, raw)
		return resp, raw, err
	}
	return f.follow(ctx, raw, onRedirect)
}

// followFrom is follow with a first request of method with form; the
// redirects after it are GETs (as browsers do after a form's 301, 302 and
// 303).
func (f *fetcher) followFrom(ctx context.Context, method, raw string, form url.Values, onRedirect func(string) error) (*colly.Response, string, error) {
	cur := raw
	var via []string
	for {
		resp, err := f.request(ctx, method, cur, form)
		method, form = http.MethodGet, nil
		if err != nil || resp == nil || !isRedirect(resp.StatusCode) || resp.Headers == nil || resp.Headers.Get("Location") == "" {
			return resp, cur, err
		}
		base, err := url.Parse(cur)
		if err != nil {
			return nil, cur, err
		}
		next, err := base.Parse(resp.Headers.Get("Location"))
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
			return nil, cur, fmt.Errorf("%w: bad Location %q at %s", errRedirect, resp.Headers.Get("Location"), cur)
		}
		next.Fragment, next.RawFragment = "", ""
		via = append(via, cur)
		target := next.String()
		switch {
		case len(via) > maxRedirects:
			return nil, cur, fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
		case contains(via, target):
			return nil, cur, fmt.Errorf("%w: redirect loop at %s", errRedirect, target)
		case !f.cfg.hostAllowed(next.Host):
			return nil, cur, fmt.Errorf("%w: %s is outside the arena's allowed domains", errRedirect, next.Host)
		}
		if onRedirect != nil {
			if err := onRedirect(target); err != nil {
				return nil, target, &stoppedError{err}
			}
		}
		cur = target
	}
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
