package crawler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tidwall/gjson"
)

// JSON API arenas: many sites load their adverts from an XHR endpoint.
// With detail.fetch_url an advert page found as an HTML link
// (/annons/123) is read from its endpoint (/api/annons/123) instead.
// With listing.format: json a listing page is a JSON document whose
// listing.links path gives the adverts' URLs (or ids put into
// listing.link_template) and whose listing.next path the next page's URL
// (or a page number or cursor put into listing.next_template). With
// detail.format: json an advert page is a JSON document whose fields read
// gjson paths (field.go). Paths use github.com/tidwall/gjson syntax.

// ErrBadJSON is the error of a page that should be JSON and is not; the
// crawl counts it under the error kind "json".
var ErrBadJSON = errors.New("malformed JSON")

// errKind is the error kind a failed extraction is counted under.
func errKind(err error) string {
	if errors.Is(err, ErrBadJSON) {
		return "json"
	}
	return "parse"
}

// parseJSON checks and parses a JSON page; a malformed one is an
// ErrBadJSON naming the byte offset and what was found there.
func parseJSON(body []byte) (gjson.Result, error) {
	if !gjson.ValidBytes(body) {
		var v any
		err := json.Unmarshal(body, &v)
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return gjson.Result{}, fmt.Errorf("%w at byte %d of %d: %v (starts %.40q)", ErrBadJSON, se.Offset, len(body), se, bytes.TrimSpace(body))
		case err != nil:
			return gjson.Result{}, fmt.Errorf("%w: %v (starts %.40q)", ErrBadJSON, err, bytes.TrimSpace(body))
		default:
			return gjson.Result{}, fmt.Errorf("%w (starts %.40q)", ErrBadJSON, bytes.TrimSpace(body))
		}
	}
	return gjson.ParseBytes(body), nil
}

// validateJSONListing checks a listing.format: json listing's paths and
// templates.
func (c *ArenaConfig) validateJSONListing() error {
	if c.Listing.Links == "" {
		return c.bad("listing.links", "required: gjson path to the adverts' URLs or ids (like adverts.#.url)")
	}
	if c.Listing.Items != "" {
		if !validPath(c.Listing.Items) {
			return c.bad("listing.items", "bad gjson path %q", c.Listing.Items)
		}
		if c.Detail.Format != "json" {
			return c.bad("listing.items", "whole adverts in the listing are read with detail.format: json (fields as paths inside an item)")
		}
	}
	for _, f := range []struct{ path, v, tmpl, tpath string }{
		{"listing.links", c.Listing.Links, c.Listing.LinkTemplate, "listing.link_template"},
		{"listing.next", c.Listing.Next, c.Listing.NextTemplate, "listing.next_template"},
	} {
		if f.v != "" && !validPath(f.v) {
			return c.bad(f.path, "bad gjson path %q", f.v)
		}
		if f.tmpl == "" {
			continue
		}
		if f.v == "" {
			return c.bad(f.tpath, "needs %s, the path of the value put into it", f.path)
		}
		if strings.Count(f.tmpl, "{}") != 1 {
			return c.bad(f.tpath, "must hold {} once, where the value goes (like /api/adverts/{}): %q", f.tmpl)
		}
		if _, err := url.Parse(strings.Replace(f.tmpl, "{}", "1", 1)); err != nil {
			return c.bad(f.tpath, "not a URL: %q", f.tmpl)
		}
	}
	return nil
}

// validateFetchURL checks detail.fetch_url.
func (c *ArenaConfig) validateFetchURL() error {
	t := c.Detail.FetchURL
	if t == "" {
		return nil
	}
	if strings.Count(t, "{}") != 1 {
		return c.bad("detail.fetch_url", "must hold {} once, where the advert key goes (like /api/adverts/{}): %q", t)
	}
	if _, err := url.Parse(strings.Replace(t, "{}", "1", 1)); err != nil {
		return c.bad("detail.fetch_url", "not a URL: %q", t)
	}
	return nil
}

// fetchURL is the URL fetched for the advert page u: detail.fetch_url
// with u's advert key (detail.id.regex, default detail.match), resolved
// against u; u itself without fetch_url.
func (c *ArenaConfig) fetchURL(u string) string {
	if c.Detail.FetchURL == "" {
		return u
	}
	kind, key := c.Classify(u)
	base, err := url.Parse(u)
	if kind != PageDetail || err != nil {
		return u
	}
	if k := c.AdvertKey(u); k != "" {
		key = k // detail.id.regex, when it names the key
	}
	ref, err := url.Parse(fillTemplate(c.Detail.FetchURL, key))
	if err != nil {
		return u
	}
	return base.ResolveReference(ref).String()
}

// fillTemplate puts v, escaped as a path segment or query value, where {}
// is; without a template v is the URL itself.
func fillTemplate(tmpl, v string) string {
	if tmpl == "" {
		return v
	}
	i := strings.Index(tmpl, "{}")
	esc := url.PathEscape(v)
	if q := strings.IndexByte(tmpl, '?'); q >= 0 && q < i {
		esc = url.QueryEscape(v)
	}
	return tmpl[:i] + esc + tmpl[i+2:]
}

// extractListingJSON reads a JSON listing page's advert links and next
// page.
func (c *ArenaConfig) extractListingJSON(pageURL string, body []byte) (*ListingResult, error) {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil, fmt.Errorf("bad page URL: %w", err)
	}
	doc, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	res := &ListingResult{}
	seen := map[string]bool{}
	add := func(root gjson.Result, field, path, tmpl string, want PageKind, into *[]string) {
		jsonValues(root.Get(path), func(v string) bool {
			v = strings.TrimSpace(v)
			if v == "" || v == "false" {
				return true
			}
			l, drop := c.classifyLink(base, fillTemplate(tmpl, v), field, want)
			switch {
			case drop != nil:
				res.Dropped = append(res.Dropped, *drop)
			case !seen[l.URL]:
				seen[l.URL] = true
				*into = append(*into, l.URL)
			}
			return true
		})
	}
	if c.Listing.Items == "" {
		add(doc, "listing.links", c.Listing.Links, c.Listing.LinkTemplate, PageDetail, &res.Details)
	} else {
		// Whole adverts in the listing: links is read inside each item,
		// and the item is kept as the advert's page.
		res.Items = map[string][]byte{}
		doc.Get(c.Listing.Items).ForEach(func(_, item gjson.Result) bool {
			if !item.IsObject() {
				return true
			}
			n := len(res.Details)
			add(item, "listing.links", c.Listing.Links, c.Listing.LinkTemplate, PageDetail, &res.Details)
			for _, u := range res.Details[n:] {
				res.Items[u] = []byte(item.Raw)
			}
			return true
		})
	}
	if c.Listing.Next != "" {
		add(doc, "listing.next", c.Listing.Next, c.Listing.NextTemplate, PageListing, &res.Next)
	}
	// listing.paging by an offset (a cursor is read by listing.next).
	if next := c.pagingNext(nil, pageURL, len(res.Details)); next != "" && !seen[next] {
		res.Next = append(res.Next, next)
	}
	return res, nil
}
