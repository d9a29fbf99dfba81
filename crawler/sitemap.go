package crawler

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/temoto/robotstxt"
)

// Sitemaps (sitemaps: in the arena config) seed a crawl with the adverts
// and listing pages they name: an arena whose listings show only the
// newest adverts is still crawled whole. A sitemap is a page of the
// frontier (kind sitemap), fetched politely like any; "robots" seeds the
// robots.txt of each start host, whose Sitemap: lines are read from the
// copy the fetcher already has. XML sitemaps (<urlset>), sitemap indexes
// (<sitemapindex>, nested up to maxSitemapDepth), gzipped sitemaps and
// plain-text sitemaps (one URL a line) are read.

// maxSitemapDepth is how deep sitemap indexes may nest.
const maxSitemapDepth = 5

// seeds are the entries a new run starts with: the start URLs as listing
// pages, then the sitemaps.
func (c *ArenaConfig) seeds() []Entry {
	var out []Entry
	for _, u := range c.StartURLs {
		if cu, ok := Canonical(nil, u); ok {
			out = append(out, Entry{URL: cu, Kind: PageListing})
		}
	}
	for _, s := range c.Sitemaps {
		if s != "robots" {
			if cu, ok := Canonical(nil, s); ok {
				out = append(out, Entry{URL: cu, Kind: PageSitemap})
			}
			continue
		}
		for _, u := range c.StartURLs {
			if pu, err := url.Parse(u); err == nil {
				out = append(out, Entry{URL: pu.Scheme + "://" + strings.ToLower(pu.Host) + "/robots.txt", Kind: PageSitemap})
			}
		}
	}
	return out
}

// isRobotsURL reports whether a sitemap entry is a host's robots.txt.
func isRobotsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Path == "/robots.txt" && u.RawQuery == ""
}

// robotsSitemaps returns the Sitemap: lines of u's host's robots.txt,
// reading it through the host gate when it was not read yet (also when
// the arena ignores robots.txt's rules).
func (f *fetcher) robotsSitemaps(ctx context.Context, u *url.URL) ([]string, error) {
	if f.cfg.Robots == "ignore" {
		body, _, err := f.fetch(ctx, u.String())
		if err != nil {
			return nil, err
		}
		data, err := robotstxt.FromBytes(body)
		if err != nil {
			return nil, err
		}
		return data.Sitemaps, nil
	}
	if _, err := f.robotsFor(ctx, u); err != nil {
		return nil, err
	}
	g := f.gate(u.Host)
	g.robotsMu.Lock()
	defer g.robotsMu.Unlock()
	return g.sitemaps, nil
}

// sitemapXML is a <urlset> or a <sitemapindex>.
type sitemapXML struct {
	URLs     []sitemapLoc `xml:"url"`
	Sitemaps []sitemapLoc `xml:"sitemap"`
}

type sitemapLoc struct {
	Loc string `xml:"loc"`
}

// ParseSitemap reads a sitemap (XML urlset or sitemapindex, gzipped or
// not, or plain text with one URL a line), at most limit bytes after
// decompression, and returns the page URLs and the sitemap URLs it names.
func ParseSitemap(body []byte, limit int64) (pages, sitemaps []string, err error) {
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil, fmt.Errorf("gzipped sitemap: %w", err)
		}
		if body, err = io.ReadAll(io.LimitReader(zr, limit+1)); err != nil {
			return nil, nil, fmt.Errorf("gzipped sitemap: %w", err)
		}
		if int64(len(body)) > limit {
			return nil, nil, fmt.Errorf("sitemap larger than limits.max_body %d bytes after decompression", limit)
		}
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if !bytes.HasPrefix(trimmed, []byte("<")) {
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" {
				pages = append(pages, l)
			}
		}
		return pages, nil, sc.Err()
	}
	var sm sitemapXML
	if err := xml.Unmarshal(trimmed, &sm); err != nil {
		return nil, nil, fmt.Errorf("sitemap XML: %w", err)
	}
	for _, l := range sm.URLs {
		pages = append(pages, strings.TrimSpace(l.Loc))
	}
	for _, l := range sm.Sitemaps {
		sitemaps = append(sitemaps, strings.TrimSpace(l.Loc))
	}
	return pages, sitemaps, nil
}

// processSitemap queues what a fetched sitemap (or robots.txt) names:
// adverts (with their keys) and listing pages as classified like links of
// detail.links, nested sitemaps up to maxSitemapDepth. URLs of other
// hosts or matching neither pattern are dropped and counted in the log.
func (c *Crawler) processSitemap(ctx context.Context, col *fetcher, p *page, res fetched) error {
	e := p.entry
	var pages, maps []string
	if isRobotsURL(e.URL) {
		u, err := url.Parse(e.URL)
		if err != nil {
			return err
		}
		if maps, err = col.robotsSitemaps(ctx, u); err != nil {
			return err
		}
	} else {
		var err error
		if pages, maps, err = ParseSitemap(res.body, int64(c.cfg.Limits.MaxBody)); err != nil {
			return err
		}
	}
	dropped := 0
	for _, s := range maps {
		l, drop := c.cfg.classifyLink(nil, s, "sitemaps", PageOther)
		if drop != nil && drop.Reason != DropNoMatch || e.Depth+1 > maxSitemapDepth {
			dropped++
			continue
		}
		if drop != nil {
			l.URL = drop.URL
		}
		p.add = append(p.add, Entry{URL: l.URL, Kind: PageSitemap, Depth: e.Depth + 1})
	}
	for _, s := range pages {
		l, drop := c.cfg.classifyLink(nil, s, "sitemaps", PageOther)
		if drop != nil {
			dropped++
			continue
		}
		ne := Entry{URL: l.URL, Kind: l.Kind, Depth: 0}
		if l.Kind == PageDetail {
			ne.Depth, ne.ID = 1, c.cfg.AdvertKey(l.URL)
		}
		p.add = append(p.add, ne)
	}
	c.log.Info("sitemap read", "url", e.URL, "pages", len(pages), "sitemaps", len(maps), "dropped", dropped)
	return nil
}
