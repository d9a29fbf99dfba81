package crawler

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/tidwall/gjson"

	"adcensus/ad"
	"adcensus/internal/contact"
	"adcensus/internal/places"
)

// Review forums (kind: reviews). A forum's listing pages link threads
// (listing.links, paged by listing.next as for adverts); its thread pages
// are the arena's detail pages (detail.match, whose capture group is the
// thread key) and are paged by reviews.next. Every post on a thread page
// is one review (ad.Review), read with reviews.fields and reviews.refs
// inside the post. Everything the crawl does for adverts holds for thread
// pages too: the frontier, robots.txt and the per-host gate, sessions,
// resume and the WARC archive; only the extraction differs, and the
// reviews go to Options.Reviews instead of the Sink.

// ReviewSink receives the reviews of one thread page. PublishReviews
// returns only when they are durably stored; the crawler marks the page
// done only after that. The reviews are pseudonymised (ad.CheckReview
// accepts them).
type ReviewSink interface {
	PublishReviews(ctx context.Context, reviews []*ad.Review) error
}

// ThreadPage is what a review forum's thread page yields.
type ThreadPage struct {
	// Thread is the thread key, Title the thread's title.
	Thread, Title string
	// Reviews are the page's posts, pseudonymised, in page order.
	Reviews []*ad.Review
	// Next are the canonical URLs of the thread's further pages found by
	// reviews.next; Dropped the links it found and are not followed.
	Next    []string
	Dropped []DroppedLink
	// Problems are fields present but unusable, and contacts that were no
	// valid number (never with the raw value).
	Problems []string
	// Matches says which alternative of each field matched on the first
	// post that had it ("fields.author", "refs.phones", "thread_refs.name").
	Matches Matches
}

// postSource reads fields inside one HTML post.
type postSource struct{ sel *goquery.Selection }

func (s postSource) raw(f *Field, each func(string) bool) {
	s.sel.FindMatcher(f.sel).EachWithBreak(func(_ int, sel *goquery.Selection) bool {
		return htmlSource{}.rawSel(f, sel, each)
	})
}

// rawSel is htmlSource.raw for one selected element.
func (htmlSource) rawSel(f *Field, sel *goquery.Selection, each func(string) bool) bool {
	if f.Path != "" {
		more := true
		jsonValues(gjson.Get(sel.Text(), f.Path), func(v string) bool {
			more = each(v)
			return more
		})
		return more
	}
	var v string
	if f.Attr != "" {
		v, _ = sel.Attr(f.Attr)
	} else {
		v = sel.Text()
	}
	return each(v)
}

// ExtractThreadPage reads the posts of a review forum's thread page
// fetched from pageURL (canonical) and pseudonymises them with pseudo
// before they leave: author handles become ad.AuthorPrefix pseudonyms
// (contact.Pseudonymiser.Author, per forum), phones and contacts in the
// text the same pseudonyms as in adverts. A page without posts is an
// error (kind parse).
func (c *ArenaConfig) ExtractThreadPage(pageURL string, body []byte, fetched time.Time, pseudo *contact.Pseudonymiser) (*ThreadPage, error) {
	if c.Kind != KindReviews {
		return nil, fmt.Errorf("arena %s is not a review forum (kind: reviews)", c.Name)
	}
	thread := c.ThreadKey(pageURL)
	if thread == "" {
		return nil, fmt.Errorf("%s is not a thread page of arena %s (detail.match)", pageURL, c.Name)
	}
	tp := &ThreadPage{Thread: thread, Matches: Matches{}}
	var page source
	var posts []source
	var elems []*goquery.Selection
	var base *url.URL
	if c.Detail.Format == "json" {
		j, err := parseJSON(body)
		if err != nil {
			return nil, err
		}
		base, _ = url.Parse(pageURL)
		page = jsonSource{doc: j}
		j.Get(c.Reviews.Posts).ForEach(func(_, v gjson.Result) bool {
			if v.IsObject() {
				posts = append(posts, jsonSource{doc: v})
			}
			return true
		})
		jsonValues(j.Get(c.Reviews.Next), func(v string) bool {
			if v = strings.TrimSpace(v); v != "" {
				c.addThreadNext(tp, base, fillTemplate(c.Reviews.NextTemplate, v))
			}
			return true
		})
	} else {
		doc, b, err := parse(pageURL, body)
		if err != nil {
			return nil, err
		}
		base = b
		page = htmlSource{doc: doc}
		doc.Find(c.Reviews.Posts).Each(func(_ int, s *goquery.Selection) {
			posts = append(posts, postSource{sel: s})
			elems = append(elems, s)
		})
		if c.Reviews.Next != "" {
			doc.Find(c.Reviews.Next).Each(func(_ int, s *goquery.Selection) {
				href, _ := s.Attr("href")
				c.addThreadNext(tp, base, href)
			})
		}
	}
	if c.Reviews.Title.Configured() {
		vals, errs, alt := c.Reviews.Title.values(page, fetched)
		tp.Matches["title"] = alt
		tp.Problems = appendProblems(tp.Problems, "title", errs)
		if len(vals) > 0 {
			tp.Title = vals[0]
		}
	}
	threadRefs := ad.ReviewRefs{}
	threadPhones := c.readRefs(&threadRefs, page, base, fetched, "thread_refs", c.Reviews.ThreadRefs, tp)
	if len(posts) == 0 {
		return tp, errNoPosts
	}
	for i, ps := range posts {
		r := &ad.Review{V: ad.ReviewSchemaVersion, Arena: c.Name, Thread: thread, URL: pageURL, FetchedAt: fetched.UTC(), Title: tp.Title}
		var handle string
		for _, name := range sortedKeys(c.Reviews.Fields) {
			f := c.Reviews.Fields[name]
			vals, errs, alt := f.values(ps, fetched)
			noteMatch(tp.Matches, "fields."+name, alt)
			tp.Problems = appendProblems(tp.Problems, "fields."+name, errs)
			if len(vals) == 0 {
				continue
			}
			switch name {
			case "id":
				r.Post = vals[0]
			case "author":
				handle = vals[0]
			case "text":
				r.Text = strings.Join(vals, "\n")
			case "posted_at":
				if t, err := readTime(vals[0], fetched); err != nil {
					tp.Problems = append(tp.Problems, "fields.posted_at: "+err.Error())
				} else {
					r.PostedAt = t
				}
			}
		}
		if r.Post == "" && c.Reviews.PostIDAttr != "" && elems != nil {
			r.Post, _ = elems[i].Attr(c.Reviews.PostIDAttr)
			r.Post = strings.TrimSpace(r.Post)
		}
		if r.Post == "" {
			// No id shown: the post's place in the thread page.
			r.Post = "p" + pathOf(pageURL) + "#" + strconv.Itoa(i+1)
		}
		r.Phones = c.readRefs(&r.Refs, ps, base, fetched, "refs", c.Reviews.Refs, tp)
		if len(r.Phones) == 0 && r.Refs.IsZero() {
			// The post names no one: it reviews the thread's person.
			mergeRefs(&r.Refs, threadRefs)
			r.Phones = slices.Clone(threadPhones)
		}
		if r.Refs.Region == "" && r.Refs.City != "" {
			r.Refs.Region = places.RegionOf(r.Refs.City)
		}
		if handle != "" {
			r.Author, _ = pseudo.Author(c.Name, handle)
		}
		for _, pr := range pseudo.ApplyReview(r) {
			tp.Problems = append(tp.Problems, "post "+strconv.Itoa(i+1)+": "+pr)
		}
		r.ID = ad.ReviewID(c.Name, thread, r.Post)
		tp.Reviews = append(tp.Reviews, r)
	}
	return tp, nil
}

// readRefs reads a section of refs from src into refs and returns the raw
// phones it found (pseudonymised with the post by ApplyReview); problems
// and matches go to tp.
func (c *ArenaConfig) readRefs(refs *ad.ReviewRefs, src source, base *url.URL, fetched time.Time, sec string, fields map[string]Field, tp *ThreadPage) (rawPhones []string) {
	for _, name := range sortedKeys(fields) {
		f := fields[name]
		vals, errs, alt := f.values(src, fetched)
		noteMatch(tp.Matches, sec+"."+name, alt)
		tp.Problems = appendProblems(tp.Problems, sec+"."+name, errs)
		for _, v := range vals {
			switch name {
			case "advert_url":
				if u, ok := Canonical(base, v); ok && !slices.Contains(refs.AdvertURLs, u) {
					refs.AdvertURLs = append(refs.AdvertURLs, u)
				}
			case "advert_id":
				if id := ad.ContentID(c.Reviews.AdvertArena, strings.TrimSpace(v)); !slices.Contains(refs.AdvertIDs, id) {
					refs.AdvertIDs = append(refs.AdvertIDs, id)
				}
			case "phones":
				rawPhones = append(rawPhones, v)
			case "name":
				refs.Name = cmpOr(refs.Name, v)
			case "city":
				refs.City = cmpOr(refs.City, v)
			case "region":
				refs.Region = cmpOr(refs.Region, places.NormaliseRegion(v))
			}
		}
	}
	return rawPhones
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mergeRefs copies the thread's refs into a post that has none.
func mergeRefs(dst *ad.ReviewRefs, src ad.ReviewRefs) {
	dst.AdvertURLs = slices.Clone(src.AdvertURLs)
	dst.AdvertIDs = slices.Clone(src.AdvertIDs)
	dst.Contacts = slices.Clone(src.Contacts)
	dst.Name, dst.City, dst.Region = src.Name, src.City, src.Region
}

func noteMatch(m Matches, key string, alt int) {
	if prev, ok := m[key]; !ok || prev < 0 {
		m[key] = alt
	}
}

func appendProblems(problems []string, field string, errs []error) []string {
	for _, e := range errs {
		problems = append(problems, fmt.Sprintf("%s: %v", field, e))
	}
	return problems
}

// readTime reads a post time as posted_at of adverts is read.
func readTime(s string, fetched time.Time) (time.Time, error) {
	t, err := parseTime(s)
	if err == nil {
		return t.UTC(), nil
	}
	if t, serr := ParseSwedishDate(s, fetched); serr == nil {
		return t.UTC(), nil
	}
	return time.Time{}, err
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return pathQuery(u)
}

// addThreadNext queues a link reviews.next found when it is a thread page
// of the same thread.
func (c *ArenaConfig) addThreadNext(tp *ThreadPage, base *url.URL, href string) {
	l, drop := c.classifyLink(base, href, "reviews.next", PageDetail)
	if drop == nil && c.ThreadKey(l.URL) != tp.Thread {
		drop = &DroppedLink{URL: l.URL, Field: "reviews.next", Reason: DropNoMatch}
	}
	if drop != nil {
		tp.Dropped = append(tp.Dropped, *drop)
		return
	}
	if !slices.Contains(tp.Next, l.URL) {
		tp.Next = append(tp.Next, l.URL)
	}
}
