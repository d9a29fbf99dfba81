package crawler

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"

	"github.com/gocolly/colly/v2"
	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
)

// Cheap revisits: with a CensusSink, the crawler remembers the validators
// (ETag, Last-Modified) of every advert page it fetched over HTTP and asks
// for it again conditionally (If-None-Match, If-Modified-Since). A 304 is a
// sighting of the advert as it was last time: no extraction, no images, no
// advert published. Listing pages are always fetched whole (they say which
// adverts are live), and arenas whose advert pages link to more adverts
// (detail.links) or are rendered (fetch: browser) are not asked
// conditionally, since a 304 would hide those links.

// condKey carries a conditional request's headers in a fetch's context.
type condKey struct{}

// condState is the headers of one conditional fetch: they go on its first
// request only (not on redirect hops or retries).
type condState struct {
	hdr  http.Header
	used atomic.Bool
}

// conditionalHeader returns the conditional headers for the first request
// made with ctx, else nil.
func conditionalHeader(ctx context.Context) http.Header {
	s, _ := ctx.Value(condKey{}).(*condState)
	if s == nil || !s.used.CompareAndSwap(false, true) {
		return nil
	}
	return s.hdr.Clone()
}

// isConditional reports whether ctx asks conditionally: a 304 is then an
// answer, not an error.
func isConditional(ctx context.Context) bool {
	s, _ := ctx.Value(condKey{}).(*condState)
	return s != nil
}

// fetchedFrom is the page of a response, with its status and validators.
func fetchedFrom(resp *colly.Response, final string) fetched {
	f := fetched{body: resp.Body, final: final, status: resp.StatusCode}
	if resp.Headers != nil {
		f.etag, f.lastMod = resp.Headers.Get("ETag"), resp.Headers.Get("Last-Modified")
	}
	return f
}

// urlMemory is what the crawl state remembers of an advert page's URL
// (bucket "adurls"): the advert it gave and its validators.
type urlMemory struct {
	ID      string `json:"i"`
	ETag    string `json:"e,omitempty"`
	LastMod string `json:"m,omitempty"`
}

// conditional returns the context to fetch page p with: conditional when
// the page gave an advert last time with validators and the arena allows
// it (see above).
func (c *Crawler) conditional(ctx context.Context, p *page) context.Context {
	if p.entry.Kind != PageDetail || c.censusSink() == nil || c.cfg.renders(PageDetail) || c.cfg.Detail.Links != "" {
		return ctx
	}
	um, err := c.opts.Store.adURL(p.entry.URL)
	if err != nil || um == nil || (um.ETag == "" && um.LastMod == "") {
		return ctx
	}
	m, err := c.opts.Store.advert(um.ID)
	if err != nil || m == nil {
		return ctx
	}
	h := http.Header{}
	if um.ETag != "" {
		h.Set("If-None-Match", um.ETag)
	}
	if um.LastMod != "" {
		h.Set("If-Modified-Since", um.LastMod)
	}
	p.census = &pageCensus{cond: um, mem: m}
	return context.WithValue(ctx, condKey{}, &condState{hdr: h})
}

// notModified makes a page answered 304 the sighting of its advert as last
// time, and reports whether it did. For another answer it keeps the
// validators for the page's census record.
func (c *Crawler) notModified(p *page, res fetched) bool {
	if c.censusSink() == nil {
		return false
	}
	if res.status != http.StatusNotModified || p.census == nil || p.census.cond == nil {
		if p.census == nil {
			p.census = &pageCensus{}
		}
		p.census.etag, p.census.lastMod = res.etag, res.lastMod
		return false
	}
	um, m := p.census.cond, p.census.mem
	now := c.now().UTC()
	p.ad = &ad.Ad{ID: um.ID, Arena: c.cfg.Name, URL: p.entry.URL, FetchedAt: now}
	p.census = &pageCensus{ready: true,
		sighting: ad.Sighting{AdID: um.ID, Arena: c.cfg.Name, Run: c.run.ID, At: now, Hash: m.Hash},
		empty:    m.Empty, pre: m.Pre, images: m.Images, url: p.entry.URL, etag: um.ETag, lastMod: um.LastMod, via: viaNotModified}
	c.Stats.NotModified.Add(1)
	return true
}

// adURL returns what the state remembers of an advert page's URL.
func (s *Store) adURL(u string) (*urlMemory, error) {
	var m *urlMemory
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = getAdURL(tx, u)
		return err
	})
	return m, err
}

func getAdURL(tx *bolt.Tx, u string) (*urlMemory, error) {
	b := tx.Bucket(bucketAdURLs)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(u))
	if v == nil {
		return nil, nil
	}
	m := &urlMemory{}
	return m, json.Unmarshal(v, m)
}
