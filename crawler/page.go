package crawler

import (
	"context"
	"sync"
)

// page fetches a listing or detail page the way the arena says (an advert
// from its detail.fetch_url when set): over HTTP
// (fetch: http, the default and the fast path) or rendered in headless
// Chromium (fetch: browser, browser.go; started on the first page that
// needs it). Either way every request, redirect hops included, goes
// through the fetcher's robots.txt check and per-host gate; onRedirect
// (may be nil) sees each redirect target of the page before it is
// requested. It returns the page's body (for a rendered page its DOM as
// HTML after the scripts ran) and the URL it came from after redirects,
// or an error with its kind.
func (f *fetcher) page(ctx context.Context, u string, kind PageKind, onRedirect func(string) error) (fetched, string, error) {
	return f.pageTrace(ctx, u, kind, onRedirect, nil)
}

// pageTrace is page that, for a rendered page, appends the requests the
// page made to trace (when not nil).
func (f *fetcher) pageTrace(ctx context.Context, u string, kind PageKind, onRedirect func(string) error, trace *[]BrowserRequest) (fetched, string, error) {
	if kind == PageDetail {
		if item, ok := f.items.take(u); ok {
			return fetched{body: item, final: u}, "", nil // read whole from its JSON listing (listing.items)
		}
		u = f.cfg.fetchURL(u) // detail.fetch_url: the advert's endpoint
	}
	if !f.cfg.renders(kind) {
		return f.fetchPage(ctx, u, onRedirect)
	}
	b, err := f.browserFor(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fetched{}, "cancelled", ctx.Err()
		}
		return fetched{}, "browser", err
	}
	return b.render(ctx, u, kind, onRedirect, trace)
}

// browserState is the fetcher's browser, started once.
type browserState struct {
	mu  sync.Mutex
	b   *browser
	err error
}

// browserFor starts the browser on first use. A failed start is
// remembered: every later page fails the same way without retrying.
func (f *fetcher) browserFor(ctx context.Context) (*browser, error) {
	f.browser.mu.Lock()
	defer f.browser.mu.Unlock()
	if f.browser.b == nil && f.browser.err == nil {
		f.browser.b, f.browser.err = startBrowser(ctx, f)
		if f.browser.err != nil && ctx.Err() != nil {
			f.browser.err = nil // cancelled, not failed
			return nil, ctx.Err()
		}
	}
	return f.browser.b, f.browser.err
}

// close stops the fetcher's browser, when one was started.
func (f *fetcher) close() {
	f.browser.mu.Lock()
	defer f.browser.mu.Unlock()
	if f.browser.b != nil {
		f.browser.b.close()
		f.browser.b = nil
	}
}

// itemStash holds the adverts JSON listings hold whole (listing.items),
// by detail URL, until their page is processed. Bounded: past
// maxStashBytes an item is not kept and its detail URL is fetched instead,
// as after a resume (the stash is not persisted).
type itemStash struct {
	mu    sync.Mutex
	m     map[string][]byte
	bytes int
}

const maxStashBytes = 256 << 20

// stash keeps the items of a listing page.
func (f *fetcher) stash(items map[string][]byte) {
	if len(items) == 0 {
		return
	}
	s := &f.items
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string][]byte{}
	}
	for u, b := range items {
		if old, ok := s.m[u]; ok {
			s.bytes -= len(old)
		} else if s.bytes+len(b) > maxStashBytes {
			continue
		}
		s.m[u] = b
		s.bytes += len(b)
	}
}

// take returns and forgets the item of detail URL u.
func (s *itemStash) take(u string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.m[u]
	if ok {
		delete(s.m, u)
		s.bytes -= len(b)
	}
	return b, ok
}
