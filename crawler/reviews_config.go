package crawler

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/andybalholm/cascadia"
)

// Arena kinds (ArenaConfig.Kind).
const (
	// KindAds is an advert site: listing pages link adverts (the default).
	KindAds = "ads"
	// KindReviews is a buyer review forum: listing pages link threads,
	// thread pages hold posts, each post a review (reviews.go,
	// docs/ARENA-CONFIG.md "Review forums").
	KindReviews = "reviews"
)

// ReviewsConfig says how to read the posts of a review forum's thread
// pages (kind: reviews). Fields and refs are read inside each post (on a
// JSON page: relative to each element of the posts array); thread_refs
// and title on the whole page.
type ReviewsConfig struct {
	// Posts is the CSS selector of each post (format html) or the gjson
	// path to the array of posts (format json).
	Posts string `yaml:"posts"`
	// PostIDAttr names the post element's attribute holding its id
	// ("id", "data-post"), when fields.id is not given (html only).
	PostIDAttr string `yaml:"post_id_attr"`
	// Next is the CSS selector of the link to the thread's next page
	// (format json: a gjson path to its URL, or to a page number or
	// cursor put into NextTemplate).
	Next         string `yaml:"next"`
	NextTemplate string `yaml:"next_template"`
	// Title is the thread's title, read on the page.
	Title Field `yaml:"title"`
	// Fields are the post's own fields: ReviewFields.
	Fields map[string]Field `yaml:"fields"`
	// Refs are the references to the reviewed person a post carries
	// (ReviewRefFields); ThreadRefs the same read on the whole page, used
	// for the posts that carry none of their own.
	Refs       map[string]Field `yaml:"refs"`
	ThreadRefs map[string]Field `yaml:"thread_refs"`
	// AdvertArena is the advert arena the advert_id refs name adverts of:
	// an id is stored as ad.ContentID(AdvertArena, id).
	AdvertArena string `yaml:"advert_arena"`
}

// ReviewFields are the keys of reviews.fields; ReviewRefFields those of
// reviews.refs and reviews.thread_refs.
var (
	ReviewFields    = []string{"id", "author", "posted_at", "text"}
	ReviewRefFields = []string{"advert_url", "advert_id", "phones", "name", "city", "region"}
)

// reviewsKeys is the schema of the reviews section (schemaKeys).
func reviewsKeys(field []string) map[string][]string {
	return map[string][]string{
		"reviews":               {"posts", "post_id_attr", "next", "next_template", "title", "fields", "refs", "thread_refs", "advert_arena"},
		"reviews.title":         field,
		"reviews.fields":        ReviewFields,
		"reviews.fields.*":      field,
		"reviews.refs":          ReviewRefFields,
		"reviews.refs.*":        field,
		"reviews.thread_refs":   ReviewRefFields,
		"reviews.thread_refs.*": field,
	}
}

// validateKind checks kind and, for a review forum, the reviews section;
// an advert arena may not have one.
func (c *ArenaConfig) validateKind() error {
	switch c.Kind {
	case KindAds:
		if c.Reviews.Posts != "" || len(c.Reviews.Fields) > 0 || len(c.Reviews.Refs) > 0 || len(c.Reviews.ThreadRefs) > 0 {
			return c.bad("reviews", "only an arena of kind: reviews reads posts (add kind: reviews)")
		}
		return nil
	case KindReviews:
		return c.validateReviews()
	}
	return c.bad("kind", "must be ads or reviews (got %q)", c.Kind)
}

// validateReviews checks a review forum's config: its thread pages are
// detail pages (detail.match; its capture group is the thread key), read
// with the reviews section instead of detail.fields.
func (c *ArenaConfig) validateReviews() error {
	d := c.Detail
	switch {
	case len(d.Fields) > 0:
		return c.bad("detail.fields", "a review forum (kind: reviews) reads its posts with reviews.fields, not detail.fields")
	case d.Images.Configured() || len(d.Attrs) > 0:
		return c.bad("detail", "a review forum (kind: reviews) has no images or attrs")
	case d.FetchURL != "" || d.Links != "":
		return c.bad("detail", "fetch_url and links are not supported for a review forum (kind: reviews): link the thread pages from the listing and page them with reviews.next")
	case c.detailRe.NumSubexp() < 1:
		return c.bad("detail.match", "needs a capture group for the thread key: '^/trad/(\\d+)(?:\\?sida=\\d+)?$'")
	}
	r := &c.Reviews
	if r.Posts == "" {
		return c.bad("reviews.posts", "required: the CSS selector of each post (format json: the path to the posts array)")
	}
	if d.Format == "json" {
		if !validPath(r.Posts) {
			return c.bad("reviews.posts", "bad gjson path %q", r.Posts)
		}
		if r.Next != "" && !validPath(r.Next) {
			return c.bad("reviews.next", "bad gjson path %q", r.Next)
		}
		if r.PostIDAttr != "" {
			return c.bad("reviews.post_id_attr", "a JSON post has no attributes: give fields.id a path")
		}
	} else {
		for _, f := range []struct{ path, sel string }{{"reviews.posts", r.Posts}, {"reviews.next", r.Next}} {
			if f.sel == "" {
				continue
			}
			if _, err := cascadia.Compile(f.sel); err != nil {
				return c.bad(f.path, "bad CSS selector %q: %v", f.sel, err)
			}
		}
		if r.NextTemplate != "" {
			return c.bad("reviews.next_template", "needs detail.format: json")
		}
	}
	if r.NextTemplate != "" && !strings.Contains(r.NextTemplate, "{}") {
		return c.bad("reviews.next_template", "must contain {} where the value read by reviews.next goes")
	}
	if _, ok := r.Fields["text"]; !ok {
		return c.bad("reviews.fields", "needs text (the review's text)")
	}
	if r.Title.Configured() {
		if err := r.Title.compile(d.Format); err != nil {
			return c.bad("reviews.title"+err.sub, "%v", err.err)
		}
	}
	for _, sec := range []struct {
		path  string
		m     map[string]Field
		known []string
	}{{"reviews.fields", r.Fields, ReviewFields}, {"reviews.refs", r.Refs, ReviewRefFields}, {"reviews.thread_refs", r.ThreadRefs, ReviewRefFields}} {
		for _, name := range sortedKeys(sec.m) {
			f := sec.m[name]
			if !contains(sec.known, name) {
				return c.bad(sec.path+"."+name, "unknown field (known: %s)", strings.Join(sec.known, ", "))
			}
			if err := f.compile(d.Format); err != nil {
				return c.bad(sec.path+"."+name+err.sub, "%v", err.err)
			}
			sec.m[name] = f
		}
	}
	_, postIDs := r.Refs["advert_id"]
	_, threadIDs := r.ThreadRefs["advert_id"]
	if (postIDs || threadIDs) && !nameRe.MatchString(r.AdvertArena) {
		return c.bad("reviews.advert_arena", "advert_id refs need the name of the advert arena the ids belong to (got %q)", r.AdvertArena)
	}
	if r.AdvertArena != "" && !nameRe.MatchString(r.AdvertArena) {
		return c.bad("reviews.advert_arena", "not an arena name: %q", r.AdvertArena)
	}
	return nil
}

// threadPageKey is a review forum's page key (AdvertKey): the canonical
// path?query of a thread page, so that every page of a thread is fetched
// once, while its thread key (ThreadKey) is shared by all of them.
func (c *ArenaConfig) threadPageKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !c.hostAllowed(u.Host) {
		return ""
	}
	if pq := pathQuery(u); c.detailRe.MatchString(pq) {
		return pq
	}
	return ""
}

// ThreadKey returns the thread key of a review forum's thread page
// (detail.match's capture group), "" when raw is no thread page.
func (c *ArenaConfig) ThreadKey(raw string) string {
	if kind, key := c.Classify(raw); kind == PageDetail {
		return key
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var errNoPosts = errors.New("no posts found: the page does not look like a thread (reviews.posts)")

// describeReviews is the reviews section as `arena check` prints it.
func (c *ArenaConfig) describeReviews() []string {
	r := c.Reviews
	out := []string{fmt.Sprintf("posts: %s", r.Posts)}
	if r.Next != "" {
		out = append(out, "next: "+r.Next)
	}
	for _, sec := range []struct {
		name string
		m    map[string]Field
	}{{"fields", r.Fields}, {"refs", r.Refs}, {"thread_refs", r.ThreadRefs}} {
		for _, k := range sortedKeys(sec.m) {
			out = append(out, fmt.Sprintf("%s.%s: %s", sec.name, k, sec.m[k]))
		}
	}
	return out
}
