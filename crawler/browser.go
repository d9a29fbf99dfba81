package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Script-rendered arenas (fetch: browser): pages are rendered in headless
// Chromium driven by chromedp, and the DOM after the scripts ran is
// extracted as usual. The browser never reaches the network itself: every
// request it makes (the page, its scripts, its XHRs) is paused with the
// DevTools Fetch domain and made by the crawl's fetcher instead, so
// robots.txt, the per-host gate (concurrency, delay, Crawl-delay,
// Retry-After), retries, the body limit, the private-address guard, the
// metrics and the WARC archive hold for all of them; the response is handed
// back to the browser. Resource types the arena blocks (images by default:
// the crawler fetches advert images itself) and hosts outside the arena
// fail at once. Scripts, stylesheets and fonts are cached for the run, as
// a browser would, so a site's app.js is fetched once, not once per page.

// BrowserConfig configures rendering for fetch: browser.
type BrowserConfig struct {
	// Tabs is how many pages render at once (default limits.concurrency).
	Tabs int `yaml:"tabs"`
	// Pages are the page kinds rendered: listing, detail (default both);
	// the others are fetched over HTTP.
	Pages []string `yaml:"pages"`
	// WaitFor are CSS selectors (the browser's CSS: no :contains) whose
	// presence ends the wait for a listing or detail page; defaults:
	// listing.links and the title field's selectors.
	WaitFor WaitFor `yaml:"wait_for"`
	// Idle ends the wait when no request has been in flight for this long
	// after the load event, whether or not the selector appeared.
	Idle Duration `yaml:"idle"`
	// Timeout bounds one page's render, its requests included.
	Timeout Duration `yaml:"timeout"`
	// Block lists resource types the browser may not load (image, media,
	// font, stylesheet, script, xhr, fetch, websocket, other).
	Block []string `yaml:"block"`
	// Hosts are further hosts the page may load from (a CDN with the
	// site's scripts); the arena's own hosts are always allowed.
	Hosts []string `yaml:"hosts"`
	// Scroll is, for listing pages, how many times to scroll to the bottom
	// while new links keep appearing (infinite scroll).
	Scroll int `yaml:"scroll"`
}

// WaitFor holds the selectors a rendered page is waited for.
type WaitFor struct {
	Listing string `yaml:"listing"`
	Detail  string `yaml:"detail"`
}

// DefaultBrowserConfig returns the browser defaults.
func DefaultBrowserConfig() BrowserConfig {
	return BrowserConfig{
		Pages:   []string{"listing", "detail"},
		Idle:    Duration(500 * time.Millisecond),
		Timeout: Duration(30 * time.Second),
		Block:   []string{"image", "media", "font"},
	}
}

// resourceTypes maps the names of browser.block to DevTools resource types.
var resourceTypes = map[string][]network.ResourceType{
	"image":      {network.ResourceTypeImage},
	"media":      {network.ResourceTypeMedia},
	"font":       {network.ResourceTypeFont},
	"stylesheet": {network.ResourceTypeStylesheet},
	"script":     {network.ResourceTypeScript},
	"xhr":        {network.ResourceTypeXHR},
	"fetch":      {network.ResourceTypeFetch},
	"websocket":  {network.ResourceTypeWebSocket},
	"other":      {network.ResourceTypeOther, network.ResourceTypePing, network.ResourceTypeManifest, network.ResourceTypePrefetch, network.ResourceTypeTextTrack},
}

// validateBrowser checks fetch and the browser section.
func (c *ArenaConfig) validateBrowser() error {
	b := &c.Browser
	switch c.Fetch {
	case "http":
		return nil
	case "browser":
	default:
		return c.bad("fetch", "must be http or browser (got %q)", c.Fetch)
	}
	if c.Listing.Format == "json" || c.Detail.Format == "json" {
		return c.bad("fetch", "a JSON API needs no browser: use fetch: http with format: json")
	}
	if b.Tabs == 0 {
		b.Tabs = c.Limits.Concurrency
	}
	switch {
	case b.Tabs < 1 || b.Tabs > 64:
		return c.bad("browser.tabs", "must be between 1 and 64 (got %d)", b.Tabs)
	case time.Duration(b.Idle) < 10*time.Millisecond || time.Duration(b.Idle) > time.Minute:
		return c.bad("browser.idle", "must be between 10ms and 1m")
	case time.Duration(b.Timeout) < time.Second || time.Duration(b.Timeout) > 10*time.Minute:
		return c.bad("browser.timeout", "must be between 1s and 10m")
	case b.Scroll < 0 || b.Scroll > 1000:
		return c.bad("browser.scroll", "must be between 0 and 1000 (got %d)", b.Scroll)
	case len(b.Pages) == 0:
		return c.bad("browser.pages", "list the page kinds to render: listing, detail")
	}
	for i, p := range b.Pages {
		if p != "listing" && p != "detail" {
			return c.bad(fmt.Sprintf("browser.pages[%d]", i), "must be listing or detail (got %q)", p)
		}
	}
	for i, t := range b.Block {
		if _, ok := resourceTypes[t]; !ok {
			return c.bad(fmt.Sprintf("browser.block[%d]", i), "unknown resource type %q (known: image, media, font, stylesheet, script, xhr, fetch, websocket, other)", t)
		}
	}
	for i, h := range b.Hosts {
		if h == "" || strings.ContainsAny(h, "/ *") {
			return c.bad(fmt.Sprintf("browser.hosts[%d]", i), "not a host name: %q", h)
		}
	}
	return nil
}

// hostIn says whether host (host[:port]) is one of hosts or a subdomain of
// one; an entry without a port matches any port, as allowed_domains does.
func hostIn(hosts []string, host string) bool {
	host = strings.ToLower(host)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	for _, h := range hosts {
		h = strings.ToLower(h)
		if host == h || name == h || (!strings.Contains(h, ":") && strings.HasSuffix(name, "."+h)) {
			return true
		}
	}
	return false
}

// renders says whether pages of kind k are rendered in the browser.
func (c *ArenaConfig) renders(k PageKind) bool {
	return c.Fetch == "browser" && contains(c.Browser.Pages, k.String())
}

// WaitSelector is the CSS selector whose presence ends the wait for a
// rendered page of kind k (browser.wait_for, or its default).
func (c *ArenaConfig) WaitSelector(k PageKind) string {
	if k == PageListing {
		if c.Browser.WaitFor.Listing != "" {
			return c.Browser.WaitFor.Listing
		}
		return c.Listing.Links
	}
	if c.Browser.WaitFor.Detail != "" {
		return c.Browser.WaitFor.Detail
	}
	f, ok := c.Detail.Fields["title"]
	if !ok {
		f = c.Detail.Fields["body"]
	}
	var sels []string
	for _, a := range f.alts() {
		sels = append(sels, a.Selector)
	}
	return strings.Join(sels, ", ")
}

// ErrNoBrowser is returned for fetch: browser when no Chromium is found.
var ErrNoBrowser = errors.New("no Chromium found for fetch: browser: install it (apt-get install chromium) or set ADCENSUS_CHROMIUM to its path")

// ChromiumPath returns the browser to run: $ADCENSUS_CHROMIUM, or the first
// of chromium, chromium-browser, google-chrome, headless-shell on PATH.
func ChromiumPath() (string, error) {
	if p := os.Getenv("ADCENSUS_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("ADCENSUS_CHROMIUM: %w", err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBrowser
}

// browser is the headless Chromium of one fetcher, with its pool of tabs.
type browser struct {
	f      *fetcher
	cfg    *ArenaConfig
	log    *slog.Logger
	cancel func() // stops tabs and browser
	bctx   context.Context
	tabs   chan *tab
	cache  resourceCache
	block  map[network.ResourceType]bool
}

// tab is one browser tab and the render it serves (nil between renders).
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	r      *render
}

// render is the state of one page being rendered.
type render struct {
	ctx context.Context // the render's deadline: requests made for it end with it
	mu  sync.Mutex
	// inflight are the page's requests being fetched; last is when the
	// count last changed.
	inflight int
	last     time.Time
	docSeen  bool
	docKind  string // kind of the main document's failure ("" when fine)
	docErr   error
	// docURL is the URL of the main document's last hop and docID its
	// paused request's id; docNext the target of its redirect, the next
	// hop; docVia the hops so far.
	docURL, docNext string
	docID           fetch.RequestID
	docVia          []string
	// onRedirect sees each redirect target of the main document (nil:
	// none), as fetcher.fetchPage's does.
	onRedirect func(string) error
	trace      *[]BrowserRequest // nil: not traced
}

// docFail records why the main document failed.
func (r *render) docFail(kind string, err error) {
	r.mu.Lock()
	r.docKind, r.docErr = kind, err
	r.mu.Unlock()
}

// docRedirect checks a redirect of the main document from cur to loc as
// fetcher.follow does (the arena's hosts only, no loop, at most
// maxRedirects hops, onRedirect) and makes its target the next hop. It
// returns the error kind and error when the redirect is not followed.
func (r *render) docRedirect(cfg *ArenaConfig, cur, loc string) (string, error) {
	base, err := url.Parse(cur)
	if err != nil {
		return "refused", err
	}
	next, err := base.Parse(loc)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
		return "refused", fmt.Errorf("%w: bad Location %q at %s", errRedirect, loc, cur)
	}
	next.Fragment, next.RawFragment = "", ""
	target := next.String()
	r.mu.Lock()
	r.docVia = append(r.docVia, cur)
	via, onRedirect := r.docVia, r.onRedirect
	r.mu.Unlock()
	switch {
	case len(via) > maxRedirects:
		return "refused", fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	case contains(via, target):
		return "refused", fmt.Errorf("%w: redirect loop at %s", errRedirect, target)
	case !cfg.hostAllowed(next.Host):
		return "refused", fmt.Errorf("%w: %s is outside the arena's allowed domains", errRedirect, next.Host)
	}
	if onRedirect != nil {
		if err := onRedirect(target); err != nil {
			return "redirect", err
		}
	}
	r.mu.Lock()
	r.docNext = target
	r.mu.Unlock()
	return "", nil
}

// BrowserRequest is one request a rendered page made and what became of
// it: "fetched" (through the fetcher), "cached" (a script, stylesheet or
// font already fetched in the run), "blocked: …" (never requested) or
// "failed: KIND" (the fetcher's error kind, robots included).
type BrowserRequest struct {
	URL, Type, Outcome string
}

// note records a request when the render is traced.
func (r *render) note(u, typ, outcome string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.trace != nil {
		*r.trace = append(*r.trace, BrowserRequest{u, typ, outcome})
	}
}

func (r *render) track(d int) {
	r.mu.Lock()
	r.inflight += d
	r.last = time.Now()
	r.mu.Unlock()
}

// idleFor says whether no request has been in flight for d.
func (r *render) idleFor(d time.Duration) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight == 0 && time.Since(r.last) >= d
}

// startBrowser starts Chromium with the arena's tabs. It lives until close,
// independent of ctx (which only bounds the start).
func startBrowser(ctx context.Context, f *fetcher) (*browser, error) {
	path, err := ChromiumPath()
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU,
		chromedp.UserAgent(f.ua), chromedp.Flag("blink-settings", "imagesEnabled=false"), chromedp.WindowSize(1280, 1024),
		// Whatever the Fetch domain does not pause (WebSockets, preconnects)
		// goes to a proxy that does not exist, loopback included: the
		// browser has no way to the network but through the fetcher.
		chromedp.ProxyServer("http://127.0.0.1:1"), chromedp.Flag("proxy-bypass-list", "<-loopback>"))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, acancel := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	b := &browser{f: f, cfg: f.cfg, log: f.log, bctx: bctx, tabs: make(chan *tab, f.cfg.Browser.Tabs),
		block: map[network.ResourceType]bool{}}
	b.cancel = func() { bcancel(); acancel() }
	for _, name := range f.cfg.Browser.Block {
		for _, t := range resourceTypes[name] {
			b.block[t] = true
		}
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		b.cancel()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	for range f.cfg.Browser.Tabs {
		t, err := b.newTab()
		if err != nil {
			b.close()
			return nil, err
		}
		b.tabs <- t
	}
	return b, nil
}

// newTab opens a tab whose requests are all paused for the fetcher.
func (b *browser) newTab() (*tab, error) {
	ctx, cancel := chromedp.NewContext(b.bctx)
	t := &tab{ctx: ctx, cancel: cancel}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("open tab: %w", err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused) // subscribed before Enable: no request is missed
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			go b.serve(t, ev)
		}
	}()
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*"}}}); err != nil {
		cancel()
		return nil, fmt.Errorf("intercept requests: %w", err)
	}
	return t, nil
}

// close stops the browser and waits for it to exit.
func (b *browser) close() {
	_ = chromedp.Cancel(b.bctx) // closes the browser and waits for it
	b.cancel()
}

// serve answers one paused request of tab t: through the fetcher, from
// the cache, or refused.
func (b *browser) serve(t *tab, ev fetch.EventRequestPaused) {
	t.mu.Lock()
	r := t.r
	t.mu.Unlock()
	if r == nil { // between renders: timers of the last page
		_, _ = chromedp.Call(t.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
		return
	}
	outcome := ""
	defer func() { r.note(ev.Request.URL, string(ev.ResourceType), outcome) }()
	fail := func(why string) {
		outcome = why
		reason := network.ErrorReasonBlockedByClient
		if !strings.HasPrefix(why, "blocked") {
			reason = network.ErrorReasonFailed
		}
		_, _ = chromedp.Call(t.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: reason})
	}
	// The main document is the first document the page asks for, then
	// each target of its redirects (the browser follows a redirect with a
	// new request, paused and made here like any other, naming the request
	// that redirected: every hop passes robots.txt and its host's gate).
	r.mu.Lock()
	isDoc := ev.ResourceType == network.ResourceTypeDocument &&
		(!r.docSeen || r.docNext != "" && ev.RedirectedRequestID == r.docID)
	if isDoc {
		r.docSeen, r.docNext, r.docURL, r.docID = true, "", ev.Request.URL, ev.RequestID
	}
	r.mu.Unlock()
	u, err := url.Parse(ev.Request.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		fail("blocked: not http(s)")
		return
	case b.block[ev.ResourceType] && !isDoc:
		fail("blocked: browser.block")
		return
	case u.Path == "/favicon.ico" && !isDoc:
		fail("blocked: favicon")
		return
	case !b.cfg.hostAllowed(u.Host) && !hostIn(b.cfg.Browser.Hosts, u.Host):
		b.log.Debug("browser request outside the arena refused", "url", ev.Request.URL)
		fail("blocked: host not in the arena nor browser.hosts")
		return
	case ev.Request.Method != http.MethodGet:
		b.log.Warn("browser request refused: only GET is made", "url", ev.Request.URL, "method", ev.Request.Method)
		fail("blocked: method " + ev.Request.Method)
		return
	}
	cacheable := ev.ResourceType == network.ResourceTypeScript || ev.ResourceType == network.ResourceTypeStylesheet || ev.ResourceType == network.ResourceTypeFont
	var res *cachedResponse
	if cacheable {
		res = b.cache.get(ev.Request.URL)
		outcome = "cached"
	}
	if res == nil {
		outcome = "fetched"
		b.syncCookies(t, u)
		r.track(1)
		resp, _, kind, err := b.f.fetchResponse(r.ctx, ev.Request.URL, false, nil)
		r.track(-1)
		if err == nil && isDoc && isRedirect(resp.StatusCode) && resp.Headers != nil {
			kind, err = r.docRedirect(b.cfg, ev.Request.URL, resp.Headers.Get("Location"))
		}
		if err != nil {
			if isDoc {
				r.docFail(kind, err)
			}
			fail("failed: " + kind)
			return
		}
		res = &cachedResponse{status: resp.StatusCode, body: resp.Body}
		if resp.Headers != nil {
			for k, vs := range *resp.Headers {
				switch http.CanonicalHeaderKey(k) {
				case "Content-Encoding", "Content-Length", "Transfer-Encoding", "Connection", "Set-Cookie":
					continue
				}
				for _, v := range vs {
					res.header = append(res.header, &fetch.HeaderEntry{Name: k, Value: v})
				}
			}
		}
		if cacheable {
			b.cache.put(ev.Request.URL, res)
		}
	}
	_, _ = chromedp.Call(t.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID: ev.RequestID, ResponseCode: int64(res.status), ResponseHeaders: res.header, Body: res.body})
}

// syncCookies copies into the run's jar the cookies the page's scripts set
// (document.cookie) for u, so the fetcher sends them with the request: a
// consent a script records is seen by the site. (Cookies the responses
// set go into the jar through the fetcher.)
func (b *browser) syncCookies(t *tab, u *url.URL) {
	if b.f.jar == nil {
		return
	}
	res, err := chromedp.Call(t.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u.String()}})
	if err != nil || len(res.Cookies) == 0 {
		return
	}
	have := map[string]string{}
	for _, c := range b.f.jar.Cookies(u) {
		have[c.Name] = c.Value
	}
	var set []*http.Cookie
	for _, c := range res.Cookies {
		if v, ok := have[c.Name]; ok && v == c.Value {
			continue
		}
		hc := &http.Cookie{Name: c.Name, Value: c.Value, Path: c.Path, Secure: c.Secure, HttpOnly: c.HTTPOnly}
		if strings.HasPrefix(c.Domain, ".") {
			hc.Domain = c.Domain
		}
		if !c.Session && c.Expires > 0 {
			hc.Expires = time.Unix(int64(c.Expires), 0)
		}
		set = append(set, hc)
	}
	if len(set) > 0 {
		b.f.jar.SetCookies(u, set)
	}
}

// pushCookies gives the browser the run's cookies for u before it loads
// u, so the page's scripts see them in document.cookie (a consent or age
// cookie the session got over HTTP). The browser's requests do not need
// them: the fetcher sends the jar's cookies itself.
func (b *browser) pushCookies(ctx context.Context, u string) {
	pu, err := url.Parse(u)
	if b.f.jar == nil || err != nil {
		return
	}
	var params []*network.CookieParam
	for _, c := range b.f.jar.Cookies(pu) {
		params = append(params, &network.CookieParam{Name: c.Name, Value: c.Value, URL: u, Path: "/"})
	}
	if len(params) > 0 {
		if _, err := chromedp.Call(ctx, network.SetCookies, network.SetCookiesParams{Cookies: params}); err != nil {
			b.log.Debug("hand cookies to the browser", "url", u, "err", err)
		}
	}
}

// render loads u in a free tab, waits for the page's selector or for the
// network to be idle, scrolls a listing when asked, and returns the DOM as
// HTML.
func (b *browser) render(ctx context.Context, u string, kind PageKind, onRedirect func(string) error, trace *[]BrowserRequest) (fetched, string, error) {
	var t *tab
	select {
	case t = <-b.tabs:
	case <-ctx.Done():
		return fetched{}, "cancelled", ctx.Err()
	}
	rctx, cancel := context.WithTimeout(t.ctx, time.Duration(b.cfg.Browser.Timeout))
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	r := &render{ctx: rctx, last: time.Now(), trace: trace, onRedirect: onRedirect}
	t.mu.Lock()
	t.r = r
	t.mu.Unlock()
	body, kind2, err := b.load(rctx, r, u, kind)
	t.mu.Lock()
	t.r = nil
	t.mu.Unlock()
	r.mu.Lock()
	r.trace = nil // requests still finishing are not recorded after return
	r.mu.Unlock()
	if err != nil && t.ctx.Err() != nil || errors.Is(err, errTabBroken) {
		// The tab died (a renderer crash): replace it.
		t.cancel()
		if nt, nerr := b.newTab(); nerr == nil {
			t = nt
		} else {
			b.log.Error("reopen browser tab", "err", nerr)
		}
	}
	b.tabs <- t
	if ctx.Err() != nil {
		return fetched{}, "cancelled", ctx.Err()
	}
	if err != nil {
		return fetched{}, kind2, err
	}
	r.mu.Lock()
	final := r.docURL
	r.mu.Unlock()
	if final == "" {
		final = u
	}
	return fetched{body: body, final: final}, "", nil
}

var errTabBroken = errors.New("browser tab broken")

func (b *browser) load(ctx context.Context, r *render, u string, kind PageKind) ([]byte, string, error) {
	docFailed := func() (string, error, bool) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.docKind, r.docErr, r.docErr != nil
	}
	b.pushCookies(ctx, u)
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		if k, derr, ok := docFailed(); ok {
			return nil, k, derr
		}
		if ctx.Err() != nil {
			return nil, "timeout", fmt.Errorf("render %s: no load within browser.timeout %s", u, time.Duration(b.cfg.Browser.Timeout))
		}
		return nil, "browser", fmt.Errorf("render %s: %w", u, err)
	}
	if k, derr, ok := docFailed(); ok {
		return nil, k, derr
	}
	r.track(0) // idle counts from the load event
	sel := b.cfg.WaitSelector(kind)
	if err := b.wait(ctx, r, sel, -1); err != nil {
		return nil, "timeout", fmt.Errorf("render %s: %w", u, err)
	}
	if kind == PageListing && b.cfg.Browser.Scroll > 0 {
		for range b.cfg.Browser.Scroll {
			n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](countJS(b.cfg.Listing.Links)))
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, document.documentElement.scrollHeight), true`)); err != nil {
				return nil, "browser", fmt.Errorf("scroll %s: %w", u, err)
			}
			r.track(0) // the idle time counts from the scroll
			if err := b.wait(ctx, r, b.cfg.Listing.Links, n); err != nil {
				return nil, "timeout", fmt.Errorf("scroll %s: %w", u, err)
			}
			if m, _ := chromedp.Run(ctx, chromedp.Evaluate[int](countJS(b.cfg.Listing.Links))); m <= n {
				break
			}
		}
	}
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		if ctx.Err() != nil {
			return nil, "timeout", fmt.Errorf("read %s: %w", u, err)
		}
		return nil, "browser", fmt.Errorf("read %s: %w: %v", u, errTabBroken, err)
	}
	if int64(len(html)) > int64(b.cfg.Limits.MaxBody) {
		return nil, "too_large", fmt.Errorf("rendered page larger than limits.max_body %d bytes: skipped", b.cfg.Limits.MaxBody)
	}
	return []byte(html), "", nil
}

// wait returns once more than n elements match sel (n < 0: one; sel may
// be empty), or once the network has been idle for browser.idle. The page
// itself watches for the selector (a MutationObserver, in slices of
// waitSlice), so a match is seen at once without polling the page.
func (b *browser) wait(ctx context.Context, r *render, sel string, n int) error {
	js := waitJS(sel, max(n, 0), waitSlice)
	idle := time.Duration(b.cfg.Browser.Idle)
	for {
		if sel != "" {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err == nil && ok {
				return nil
			}
		} else {
			t := time.NewTimer(waitSlice)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
		}
		if r.idleFor(idle) {
			done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`))
			if err == nil && done {
				return nil
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("neither %q nor an idle network within browser.timeout %s", sel, time.Duration(b.cfg.Browser.Timeout))
		}
	}
}

// waitSlice is how long one in-page wait for the selector lasts before the
// network's idleness is checked again.
const waitSlice = 100 * time.Millisecond

// waitJS is a script resolving to true as soon as more than n elements
// match sel, or to false after d (a selector the browser does not know,
// like :contains, never matches).
func waitJS(sel string, n int, d time.Duration) string {
	q, _ := json.Marshal(sel)
	return fmt.Sprintf(`new Promise(resolve => {
  const ok = () => { try { return document.querySelectorAll(%s).length > %d } catch (e) { return false } };
  if (ok()) return resolve(true);
  const mo = new MutationObserver(() => { if (ok()) { mo.disconnect(); clearTimeout(t); resolve(true) } });
  mo.observe(document, {childList: true, subtree: true, attributes: true});
  const t = setTimeout(() => { mo.disconnect(); resolve(false) }, %d);
})`, q, n, d.Milliseconds())
}

// countJS is a script counting the elements sel matches in the page (0 for
// a selector the browser does not know, like :contains).
func countJS(sel string) string {
	q, _ := json.Marshal(sel)
	return fmt.Sprintf(`(() => { try { return document.querySelectorAll(%s).length } catch (e) { return 0 } })()`, q)
}

// cachedResponse is a response handed to the browser.
type cachedResponse struct {
	status int
	header []*fetch.HeaderEntry
	body   []byte
}

// resourceCache keeps the scripts, stylesheets and fonts of a run (up to
// maxCacheBytes), so each is fetched from the arena once.
type resourceCache struct {
	mu    sync.Mutex
	m     map[string]*cachedResponse
	bytes int
}

const maxCacheBytes = 64 << 20

func (c *resourceCache) get(u string) *cachedResponse {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[u]
}

func (c *resourceCache) put(u string, r *cachedResponse) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*cachedResponse{}
	}
	if c.bytes+len(r.body) > maxCacheBytes {
		return
	}
	c.m[u] = r
	c.bytes += len(r.body)
}
