package crawler

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/tidwall/gjson"

	"adcensus/ad"
	"adcensus/internal/places"
)

// PageKind says what a URL is to an arena.
type PageKind int

const (
	PageOther PageKind = iota
	PageListing
	PageDetail
	// PageSitemap is a sitemap (sitemaps, sitemap.go), or robots.txt read
	// for its Sitemap: lines.
	PageSitemap
)

func (k PageKind) String() string {
	switch k {
	case PageListing:
		return "listing"
	case PageDetail:
		return "detail"
	case PageSitemap:
		return "sitemap"
	}
	return "other"
}

// trackingParams are query parameters that never identify content.
var trackingParams = regexp.MustCompile(`^(utm_.*|fbclid|gclid|msclkid|mc_cid|mc_eid|_ga|ref|ref_src)$`)

// Canonical resolves ref against base and returns the canonical form of the
// URL: absolute, no fragment, tracking parameters dropped, remaining
// parameters sorted. ok is false for non-http(s) links.
func Canonical(base *url.URL, ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", false
	}
	u.Fragment, u.RawFragment = "", ""
	u.Host = strings.ToLower(u.Host)
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if trackingParams.MatchString(strings.ToLower(k)) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode() // sorted by key
	}
	if u.Path == "" {
		u.Path = "/"
	}
	out := u.String()
	// A host that only the lenient parse of a relative reference took
	// ("//0:000:00": an invalid port) gives a URL that cannot be fetched
	// or parsed again (found by FuzzCanonical).
	if _, err := url.Parse(out); err != nil {
		return "", false
	}
	return out, true
}

// canonical is Canonical with the arena's canonical rules applied too
// (canonical.drop_params).
func (c *ArenaConfig) canonical(base *url.URL, ref string) (string, bool) {
	s, ok := Canonical(base, ref)
	if !ok || len(c.Canonical.DropParams) == 0 {
		return s, ok
	}
	u, err := url.Parse(s)
	if err != nil || u.RawQuery == "" {
		return s, ok
	}
	q := u.Query()
	for k := range q {
		if c.dropParam(k) {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), true
}

func (c *ArenaConfig) dropParam(name string) bool {
	name = strings.ToLower(name)
	for _, p := range c.Canonical.DropParams {
		p = strings.ToLower(p)
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}

// pathQuery is what listing and detail patterns match against.
func pathQuery(u *url.URL) string {
	if u.RawQuery != "" {
		return u.EscapedPath() + "?" + u.RawQuery
	}
	return u.EscapedPath()
}

// Classify says whether a canonical URL is a listing or detail page of the
// arena and, for a detail page, returns the arena's advert key.
func (c *ArenaConfig) Classify(raw string) (PageKind, string) {
	u, err := url.Parse(raw)
	if err != nil || !c.hostAllowed(u.Host) {
		return PageOther, ""
	}
	pq := pathQuery(u)
	if m := c.detailRe.FindStringSubmatch(pq); m != nil {
		return PageDetail, groupKey(m, c.detailGroup)
	}
	if c.listingRe.MatchString(pq) {
		return PageListing, ""
	}
	return PageOther, ""
}

func (c *ArenaConfig) hostAllowed(host string) bool {
	host = strings.ToLower(host)
	for _, h := range c.Hosts() {
		h = strings.ToLower(h)
		if host == h || (!strings.Contains(h, ":") && strings.HasSuffix(host, "."+h)) {
			return true
		}
	}
	return false
}

// ListingResult is what a listing page yields.
type ListingResult struct {
	Details []string // canonical detail URLs, in page order
	Next    []string // canonical listing URLs to follow
	// Dropped are the links the selectors found that are not followed,
	// with the reason (repeats of a link on the page are not listed).
	Dropped []DroppedLink
	// Items are, with listing.items, the adverts the JSON listing holds
	// whole, by detail URL: each is read from here instead of fetched.
	Items map[string][]byte
}

// ExtractListing reads the advert links and pagination of a listing page:
// links found by listing.links are adverts when they match detail.match,
// links found by listing.next (and listing.paging) are listing pages when
// they match listing.match, even when they match detail.match too.
func (c *ArenaConfig) ExtractListing(pageURL string, body []byte) (*ListingResult, error) {
	if c.Listing.Format == "json" {
		return c.extractListingJSON(pageURL, body)
	}
	doc, base, err := parse(pageURL, body)
	if err != nil {
		return nil, err
	}
	res := &ListingResult{}
	seen := map[string]bool{}
	add := func(field, sel string, want PageKind, into *[]string) {
		doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			l, drop := c.classifyLink(base, href, field, want)
			if drop != nil {
				res.Dropped = append(res.Dropped, *drop)
				return
			}
			if !seen[l.URL] {
				seen[l.URL] = true
				*into = append(*into, l.URL)
			}
		})
	}
	add("listing.links", c.Listing.Links, PageDetail, &res.Details)
	if c.Listing.Next != "" {
		add("listing.next", c.Listing.Next, PageListing, &res.Next)
	}
	if next := c.pagingNext(doc, pageURL, len(res.Details)); next != "" && !seen[next] {
		res.Next = append(res.Next, next)
	}
	return res, nil
}

// ExtractAd reads an advert from a detail page. Problems lists fields that
// were present but unusable; the advert is still returned.
func (c *ArenaConfig) ExtractAd(pageURL string, body []byte, fetched time.Time) (a *ad.Ad, problems []string, err error) {
	a, _, problems, err = c.ExtractAdMatches(pageURL, body, fetched)
	return a, problems, err
}

// Matches says, for each configured field ("title", "images",
// "attrs.price"), which of its alternatives gave the value: its index, or
// -1 when none gave one.
type Matches map[string]int

// ExtractAdMatches is ExtractAd that also says which alternative of each
// field matched (`arena check` shows it for every sample page).
func (c *ArenaConfig) ExtractAdMatches(pageURL string, body []byte, fetched time.Time) (a *ad.Ad, matches Matches, problems []string, err error) {
	p, err := c.ExtractAdvertPage(pageURL, pageURL, body, fetched)
	if p == nil {
		return nil, nil, nil, err
	}
	return p.Ad, p.Matches, p.Problems, err
}

// parseAdvert parses an advert page fetched from pageURL: JSON for
// detail.format: json, else HTML. doc is the HTML document (nil for JSON).
func (c *ArenaConfig) parseAdvert(pageURL string, body []byte) (src source, doc *goquery.Document, base *url.URL, err error) {
	if c.Detail.Format == "json" {
		var j gjson.Result
		if j, err = parseJSON(body); err != nil {
			return nil, nil, nil, err
		}
		if base, err = url.Parse(pageURL); err != nil {
			return nil, nil, nil, fmt.Errorf("bad page URL: %w", err)
		}
		return jsonSource{j}, nil, base, nil
	}
	if doc, base, err = parse(pageURL, body); err != nil {
		return nil, nil, nil, err
	}
	return htmlSource{doc}, doc, base, nil
}

// fill reads the advert's fields, images and attrs from its page and
// returns the problems met and which alternative of each field matched.
func (c *ArenaConfig) fill(a *ad.Ad, src source, base *url.URL, fetched time.Time) (problems []string, matches Matches, err error) {
	matches = Matches{}
	for name, f := range c.Detail.Fields {
		vals, errs, alt := f.values(src, fetched)
		matches[name] = alt
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%s: %v", name, e))
		}
		if len(vals) == 0 {
			continue
		}
		if p := setField(a, name, vals, fetched); p != "" {
			problems = append(problems, p)
		}
	}
	if a.Region == "" && a.City != "" {
		a.Region = places.RegionOf(a.City)
	}
	if c.Detail.Images.Configured() {
		a.Images, matches["images"] = c.images(src, base, fetched)
	}
	if len(c.Detail.Attrs) > 0 {
		problems = c.attrs(a, src, fetched, matches, problems)
	}
	if a.Title == "" && a.Body == "" {
		return problems, matches, errors.New("no title and no body found: the page does not look like an advert")
	}
	return problems, matches, nil
}

// setField sets the advert field name from its values (at least one) and
// returns a problem ("" when none): an age that is no age, a date that is
// no date.
func setField(a *ad.Ad, name string, vals []string, fetched time.Time) string {
	switch name {
	case "title":
		a.Title = vals[0]
	case "body":
		a.Body = strings.Join(vals, "\n")
	case "name":
		a.Name = vals[0]
	case "city":
		a.City = vals[0]
	case "region":
		a.Region = places.NormaliseRegion(vals[0])
	case "gender":
		a.Gender = strings.ToLower(vals[0])
	case "phones":
		a.Phones = vals
	case "age":
		n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
		if err != nil || n < 0 || n > 150 {
			return fmt.Sprintf("age: not an age: %.40q", vals[0])
		}
		a.Age = n
	case "posted_at":
		t, err := parseTime(vals[0])
		if err != nil {
			// Swedish sites write dates in words ("3 mars 2026",
			// "igår 14:05"): read those too, relative to the fetch.
			var serr error
			if t, serr = ParseSwedishDate(vals[0], fetched); serr == nil {
				a.PostedAt = t.UTC()
				return ""
			}
			return fmt.Sprintf("posted_at: %v", err)
		}
		a.PostedAt = t
	}
	return ""
}

// images returns the canonical URLs of the detail page's images, without
// repeats, in page order, and the alternative that gave them.
func (c *ArenaConfig) images(src source, base *url.URL, fetched time.Time) ([]string, int) {
	var out []string
	seen := map[string]bool{}
	imgs, _, alt := c.Detail.Images.values(src, fetched)
	if alt < 0 {
		return nil, alt
	}
	for _, v := range imgs {
		if c.Detail.Images.alts()[alt].Attr == "srcset" {
			v = firstSrcset(v)
		}
		u, ok := Canonical(base, v)
		if ok && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, alt
}

// attrs sets the advert's attrs from the detail page, in key order, and
// returns problems with the attrs' problems appended.
func (c *ArenaConfig) attrs(a *ad.Ad, src source, fetched time.Time, matches Matches, problems []string) []string {
	keys := make([]string, 0, len(c.Detail.Attrs))
	for k := range c.Detail.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := c.Detail.Attrs[k]
		vals, errs, alt := f.values(src, fetched)
		matches["attrs."+k] = alt
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("attrs.%s: %v", k, e))
		}
		if len(vals) > 0 {
			if a.Attrs == nil {
				a.Attrs = map[string]string{}
			}
			a.Attrs[k] = strings.Join(vals, "; ")
		}
	}
	return problems
}

func foldSpace(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.Join(strings.Fields(s), " ")
}

func firstSrcset(s string) string {
	first, _, _ := strings.Cut(s, ",")
	u, _, _ := strings.Cut(strings.TrimSpace(first), " ")
	return u
}

var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %.40q", s)
}

func parse(pageURL string, body []byte) (*goquery.Document, *url.URL, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bad page URL: %w", err)
	}
	if !utf8.Valid(body) {
		body = bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("parse HTML: %w", err)
	}
	if b, ok := doc.Find("base[href]").Attr("href"); ok {
		if bu, err := url.Parse(b); err == nil {
			base = base.ResolveReference(bu)
		}
	}
	return doc, base, nil
}
