package crawler

import "context"

// page fetches a listing or detail page the way the arena says: over HTTP
// (fetch: http, the default) or rendered in a headless browser (fetch:
// browser, browser.go). It returns the page's body (for a rendered page
// its DOM as HTML after scripts ran) or an error with its kind.
func (f *fetcher) page(ctx context.Context, u string, kind PageKind) ([]byte, string, error) {
	return f.fetch(ctx, u)
}
