package crawler

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"adcensus/ad"
)

// This file holds how links are classified and followed (listing.links,
// listing.next, listing.paging, detail.links) and how an advert reached under
// several URLs is identified once (detail.id). docs/ARENA-CONFIG.md
// ("How URLs are classified") is the user's view of the same rules.

// AdvertID says how an advert is identified (detail.id).
type AdvertID struct {
	// Regex is matched against path[?query] of a URL; its group named id,
	// else its first non-empty group, is the arena's advert key. Default:
	// detail.match.
	Regex string `yaml:"regex"`
	// From says which URL of a fetched advert identifies it: "url" (the
	// linked URL), "redirect" (default: the URL after redirects, when the
	// regex matches it) or "canonical" (the page's <link rel=canonical>
	// when it is on the arena and the regex matches it, else as redirect).
	From string `yaml:"from"`
}

// Paging pages a listing by a query parameter (listing.paging) when it has
// no next link: an offset (?offset=20) or a cursor read from the page.
type Paging struct {
	// Param is the query parameter that pages ("offset", "cursor").
	Param string `yaml:"param"`
	// Step is added to the offset per page; 0 means the number of advert
	// links the page yielded.
	Step int `yaml:"step"`
	// Cursor, when set, is a CSS selector of the element holding the next
	// page's cursor (its Attr, or its text); the listing ends when it is
	// missing or empty. Without Cursor the parameter is an offset, and the
	// listing ends at the first page without advert links.
	Cursor string `yaml:"cursor"`
	Attr   string `yaml:"attr"`
}

// Link is a link to follow, classified.
type Link struct {
	URL  string
	Kind PageKind
}

// DroppedLink is a link a selector found that is not followed, and why.
type DroppedLink struct {
	URL    string // canonical when it could be made so, else as written
	Field  string // the selector's config field: listing.links, detail.links …
	Reason string
}

// Reasons a link is dropped.
const (
	DropNotHTTP      = "not an http(s) link"
	DropOtherHost    = "outside the arena's hosts (allowed_domains)"
	DropNoMatch      = "matches neither detail.match nor listing.match"
	DropListingOnly  = "a listing page (matches listing.match, not detail.match): listing.links only queues adverts"
	DropAdvertOnly   = "an advert (matches detail.match, not listing.match): only listing pages are queued from here"
	DropMaxDepth     = "deeper than limits.max_depth"
	DropDuplicateID  = "an advert already queued under another URL (same detail.id)"
	DropNoHrefOrJunk = "no href"
)

func (c *ArenaConfig) validateID() error {
	switch c.Detail.ID.From {
	case "url", "redirect", "canonical":
	default:
		return c.bad("detail.id.from", "must be url, redirect or canonical (got %q)", c.Detail.ID.From)
	}
	c.idRe = c.detailRe
	if c.Detail.ID.Regex != "" {
		re, err := compileRe(c.Detail.ID.Regex)
		if err != nil {
			return c.bad("detail.id.regex", "%v", err)
		}
		if re.NumSubexp() < 1 {
			return c.bad("detail.id.regex", "needs a capture group for the advert key")
		}
		c.idRe = re
	}
	c.idGroup = max(c.idRe.SubexpIndex("id"), 0)
	c.detailGroup = max(c.detailRe.SubexpIndex("id"), 0)
	p := c.Listing.Paging
	switch {
	case p.Param == "" && (p.Step != 0 || p.Cursor != "" || p.Attr != ""):
		return c.bad("listing.paging.param", "required with listing.paging")
	case strings.ContainsAny(p.Param, "&=?# "):
		return c.bad("listing.paging.param", "not a query parameter name: %q", p.Param)
	case p.Step < 0:
		return c.bad("listing.paging.step", "must not be negative (got %d)", p.Step)
	case p.Attr != "" && p.Cursor == "":
		return c.bad("listing.paging.attr", "only with listing.paging.cursor")
	}
	return nil
}

// validateDetailLinks checks detail.links (a CSS selector, or a gjson path
// on a JSON advert) and detail.link_template, and that detail.id.from:
// canonical has a <link rel=canonical> to read.
func (c *ArenaConfig) validateDetailLinks() error {
	d := c.Detail
	if d.Format == "json" && d.ID.From == "canonical" {
		return c.bad("detail.id.from", "canonical reads <link rel=canonical> of an HTML advert; a JSON advert (detail.format: json) is identified by url or redirect")
	}
	switch {
	case d.Links == "" && d.LinkTemplate != "":
		return c.bad("detail.link_template", "needs detail.links, the path of the value put into it")
	case d.Links == "":
		return nil
	case d.Format == "json":
		if !validPath(d.Links) {
			return c.bad("detail.links", "bad gjson path %q", d.Links)
		}
		if d.LinkTemplate != "" && strings.Count(d.LinkTemplate, "{}") != 1 {
			return c.bad("detail.link_template", "must hold {} once, where the value goes (like /annons/{}): %q", d.LinkTemplate)
		}
		return nil
	case d.LinkTemplate != "":
		return c.bad("detail.link_template", "link_template needs detail.format: json (on an HTML advert detail.links selects links)")
	}
	if _, err := cascadia.Compile(d.Links); err != nil {
		return c.bad("detail.links", "bad CSS selector %q: %v", d.Links, err)
	}
	return nil
}

// groupKey is the key a match yields: the named group when there is one
// and it matched, else the first non-empty group.
func groupKey(m []string, named int) string {
	if named > 0 && named < len(m) && m[named] != "" {
		return m[named]
	}
	for _, g := range m[1:] {
		if g != "" {
			return g
		}
	}
	return ""
}

// AdvertKey returns the arena's advert key of a canonical URL by
// detail.id.regex (default detail.match), "" when it has none.
func (c *ArenaConfig) AdvertKey(raw string) string {
	if c.Kind == KindReviews {
		return c.threadPageKey(raw)
	}
	u, err := url.Parse(raw)
	if err != nil || !c.hostAllowed(u.Host) {
		return ""
	}
	if m := c.idRe.FindStringSubmatch(pathQuery(u)); m != nil {
		return groupKey(m, c.idGroup)
	}
	return ""
}

// classifyLink makes href canonical and classifies it for the field that
// found it. want is PageDetail for listing.links (adverts only),
// PageListing for listing.next and paging (listing pages only, also when
// they match detail.match too) and PageOther for detail.links (adverts
// first, then listing pages).
func (c *ArenaConfig) classifyLink(base *url.URL, href, field string, want PageKind) (Link, *DroppedLink) {
	if strings.TrimSpace(href) == "" {
		return Link{}, &DroppedLink{URL: href, Field: field, Reason: DropNoHrefOrJunk}
	}
	cu, ok := c.canonical(base, href)
	if !ok {
		return Link{}, &DroppedLink{URL: href, Field: field, Reason: DropNotHTTP}
	}
	u, err := url.Parse(cu)
	if err != nil {
		return Link{}, &DroppedLink{URL: href, Field: field, Reason: DropNotHTTP}
	}
	if !c.hostAllowed(u.Host) {
		return Link{}, &DroppedLink{URL: cu, Field: field, Reason: DropOtherHost}
	}
	pq := pathQuery(u)
	isDetail, isListing := c.detailRe.MatchString(pq), c.listingRe.MatchString(pq)
	switch {
	case want == PageListing && isListing:
		return Link{URL: cu, Kind: PageListing}, nil
	case want != PageListing && isDetail:
		return Link{URL: cu, Kind: PageDetail}, nil
	case want == PageOther && isListing:
		return Link{URL: cu, Kind: PageListing}, nil
	case want == PageDetail && isListing:
		return Link{}, &DroppedLink{URL: cu, Field: field, Reason: DropListingOnly}
	case want == PageListing && isDetail:
		return Link{}, &DroppedLink{URL: cu, Field: field, Reason: DropAdvertOnly}
	}
	return Link{}, &DroppedLink{URL: cu, Field: field, Reason: DropNoMatch}
}

// pagingNext returns the next page of a listing paged by listing.paging,
// or "" when there is none. details is the number of advert links the page
// yielded.
func (c *ArenaConfig) pagingNext(doc *goquery.Document, pageURL string, details int) string {
	p := c.Listing.Paging
	if p.Param == "" {
		return ""
	}
	u, err := url.Parse(pageURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	if p.Cursor != "" {
		if doc == nil {
			return "" // a JSON listing: its cursor is listing.next's
		}
		s := doc.Find(p.Cursor).First()
		v := strings.TrimSpace(s.Text())
		if p.Attr != "" {
			v, _ = s.Attr(p.Attr)
			v = strings.TrimSpace(v)
		}
		if v == "" || v == q.Get(p.Param) {
			return ""
		}
		q.Set(p.Param, v)
	} else {
		if details == 0 {
			return ""
		}
		cur, _ := strconv.Atoi(q.Get(p.Param))
		step := p.Step
		if step == 0 {
			step = details
		}
		q.Set(p.Param, strconv.Itoa(cur+step))
	}
	u.RawQuery = q.Encode()
	l, drop := c.classifyLink(nil, u.String(), "listing.paging", PageListing)
	if drop != nil {
		return ""
	}
	return l.URL
}

// AdvertPage is what an advert page yields.
type AdvertPage struct {
	Ad       *ad.Ad
	Problems []string
	// Matches says which alternative of each field gave its value.
	Matches Matches
	// Key is the arena's advert key; KeyFrom says where it was read:
	// "canonical" (<link rel=canonical>), "redirect" (the URL after
	// redirects) or "url" (the URL asked for). Ad.URL is that URL.
	Key, KeyFrom string
	// Links are the links detail.links found, to follow; Dropped those
	// it found and are not followed.
	Links   []Link
	Dropped []DroppedLink
}

// ExtractAdvertPage reads an advert page asked for at requested and
// answered, after redirects, from final (the same URL without redirects;
// with detail.fetch_url the endpoint the advert was read from). The advert
// is identified by detail.id (see AdvertID); its URL is the one its key was
// read from. On an error the page is returned when it was parsed (with the
// advert as far as it was read).
func (c *ArenaConfig) ExtractAdvertPage(requested, final string, body []byte, fetched time.Time) (*AdvertPage, error) {
	if cf, ok := c.canonical(nil, final); ok {
		final = cf
	}
	src, doc, base, err := c.parseAdvert(final, body)
	if err != nil {
		return nil, err
	}
	p := &AdvertPage{}
	pageURL := requested
	if c.Detail.ID.From == "canonical" && doc != nil {
		if href, ok := doc.Find("link[rel~=canonical][href]").First().Attr("href"); ok {
			if cu, ok := c.canonical(base, href); ok {
				if k := c.AdvertKey(cu); k != "" {
					p.Key, p.KeyFrom, pageURL = k, "canonical", cu
				}
			}
		}
	}
	// With detail.fetch_url the final URL is the endpoint's: it does not
	// name the advert.
	if p.Key == "" && c.Detail.ID.From != "url" && final != requested && c.Detail.FetchURL == "" {
		if k := c.AdvertKey(final); k != "" {
			p.Key, p.KeyFrom, pageURL = k, "redirect", final
		}
	}
	if p.Key == "" {
		p.Key, p.KeyFrom, pageURL = c.AdvertKey(requested), "url", requested
	}
	if p.Key == "" {
		if kind, key := c.Classify(requested); kind == PageDetail {
			p.Key = key
		}
	}
	if p.Key == "" {
		return nil, errors.New(requested + " is not a detail page of arena " + c.Name)
	}
	p.Ad = &ad.Ad{
		ID:        ad.ContentID(c.Name, p.Key),
		Arena:     c.Name,
		URL:       pageURL,
		FetchedAt: fetched.UTC(),
	}
	if c.Detail.Links != "" {
		seen := map[string]bool{pageURL: true, requested: true, final: true}
		add := func(href string) {
			l, drop := c.classifyLink(base, href, "detail.links", PageOther)
			switch {
			case drop != nil:
				p.Dropped = append(p.Dropped, *drop)
			case !seen[l.URL]:
				seen[l.URL] = true
				p.Links = append(p.Links, l)
			}
		}
		if j, ok := src.(jsonSource); ok {
			// A JSON advert: a path to the links' URLs, or to ids put
			// into detail.link_template.
			jsonValues(j.doc.Get(c.Detail.Links), func(v string) bool {
				if v = strings.TrimSpace(v); v != "" {
					add(fillTemplate(c.Detail.LinkTemplate, v))
				}
				return true
			})
		} else {
			doc.Find(c.Detail.Links).Each(func(_ int, s *goquery.Selection) {
				href, _ := s.Attr("href")
				add(href)
			})
		}
	}
	p.Problems, p.Matches, err = c.fill(p.Ad, src, base, fetched)
	return p, err
}
