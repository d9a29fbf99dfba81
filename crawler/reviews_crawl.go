package crawler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"adcensus/ad"
	"adcensus/internal/contact"
)

// Options.Reviews receives the reviews of a review forum (required for
// one); Options.Adverts are the advert arenas whose links the forum's posts
// may carry: a link is resolved to its advert's id by that arena's rules
// (AdvertIDOf).

// processThread reads a fetched thread page of a review forum: its posts
// become the page's reviews (stored before the commit) and its further
// pages (reviews.next) are queued as detail pages of their own.
func (c *Crawler) processThread(p *page, final string, body []byte, fail func(string, error) *page) *page {
	u := p.entry.URL
	if cf, ok := c.cfg.canonical(nil, final); ok && c.cfg.ThreadKey(cf) != "" {
		u = cf
	}
	tp, err := c.cfg.ExtractThreadPage(u, body, time.Now(), c.opts.Pseudo)
	if tp == nil {
		return fail(errKind(err), err)
	}
	if p.entry.Depth+1 <= c.cfg.Limits.MaxDepth {
		for _, n := range tp.Next {
			p.add = append(p.add, Entry{URL: n, Kind: PageDetail, Depth: p.entry.Depth + 1, ID: c.cfg.AdvertKey(n)})
		}
	}
	for _, pr := range tp.Problems {
		c.log.Warn("field problem", "url", u, "problem", pr)
	}
	if err != nil {
		return fail(errKind(err), err)
	}
	c.resolveAdvertLinks(tp.Reviews)
	p.reviews = tp.Reviews
	return p
}

// publishReviews stores a thread page's reviews, retrying with back-off
// like adverts (Options.Retries); the page is then committed, or recorded
// as failed with kind "publish", or on cancellation left queued.
func (c *Crawler) publishReviews(ctx context.Context, p *page) {
	var err error
	for attempt := 0; ; attempt++ {
		if err = c.opts.Reviews.PublishReviews(ctx, p.reviews); err == nil {
			p.nReviews = len(p.reviews)
			p.reviews = nil
			c.finish(p)
			return
		}
		if ctx.Err() != nil || attempt >= c.opts.Retries {
			break
		}
		wait := min(c.opts.RetryBase<<attempt, 30*time.Second)
		c.log.Warn("storing reviews failed, retrying", "url", p.entry.URL, "attempt", attempt+1, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if ctx.Err() != nil {
		c.abandon(p)
		return
	}
	if errors.Is(err, context.Canceled) {
		c.abandon(p)
		return
	}
	p.done.State, p.done.Err, p.errKind = "failed", err.Error(), "publish"
	c.log.Warn("page failed", "url", p.entry.URL, "kind", p.errKind, "err", err)
	c.finish(p)
}

// checkThread reads a review forum's thread page for Check. Without the
// operator's key (keyed nil) the pseudonyms of a throwaway key mean
// nothing and are left out; the matches still show what was found.
func checkThread(s CheckSample, cfg *ArenaConfig, body []byte, keyed, pseudo *contact.Pseudonymiser) CheckSample {
	p := keyed
	if p == nil {
		p = pseudo
	}
	tp, err := cfg.ExtractThreadPage(s.URL, body, time.Now(), p)
	if tp == nil {
		s.Err = fmt.Errorf("thread %s: %w", s.URL, err)
		return s
	}
	if keyed == nil {
		for _, r := range tp.Reviews {
			r.Author, r.Refs.Contacts = "", nil
		}
	}
	s.Thread, s.Matches, s.Problems, s.Err = tp, tp.Matches, tp.Problems, err
	return s
}

// AdvertIDOf returns the advert id (ad.ContentID) an advert arena gives a
// link to one of its adverts, in whatever form the link is written (an
// old URL form, extra or tracking parameters: the arena's canonical rules
// and detail.id apply), and false when the link is no advert page of the
// arena. Links a redirect or a canonical link would name are not resolved.
func (c *ArenaConfig) AdvertIDOf(link string) (string, bool) {
	if c.Kind != KindAds {
		return "", false
	}
	u, ok := c.canonical(nil, link)
	if !ok {
		return "", false
	}
	if kind, _ := c.Classify(u); kind != PageDetail {
		return "", false
	}
	key := c.AdvertKey(u)
	if key == "" {
		return "", false
	}
	return ad.ContentID(c.Name, key), true
}

// resolveAdvertLinks adds to each review's advert ids the adverts its
// advert links name on the advert arenas of Options.Adverts, so a link in
// another form than the advert's own URL still names it.
func (c *Crawler) resolveAdvertLinks(rs []*ad.Review) {
	for _, r := range rs {
		for _, u := range r.Refs.AdvertURLs {
			for _, a := range c.opts.Adverts {
				if id, ok := a.AdvertIDOf(u); ok && !slices.Contains(r.Refs.AdvertIDs, id) {
					r.Refs.AdvertIDs = append(r.Refs.AdvertIDs, id)
				}
			}
		}
	}
}
