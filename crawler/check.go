package crawler

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"adcensus/ad"
	"adcensus/internal/contact"
)

// Errors of Check: the config does not read the arena.
var (
	ErrNoDetailLinks = errors.New("the listing page yields no detail links: check listing.links and detail.match")
	ErrNoAdvert      = errors.New("the detail page yields no title and no body: check detail.fields.title and detail.fields.body")
)

// CheckOptions configure Check.
type CheckOptions struct {
	// Pseudo pseudonymises phones with the operator's key; with nil, phones
	// are shown only as "<n digits>" (and text is scrubbed with a throwaway key).
	Pseudo  *contact.Pseudonymiser
	Version string
	Logger  *slog.Logger
	// Samples is how many advert pages linked from the listing are read
	// (default 3): a site with several layouts shows each field's
	// matching alternative on each.
	Samples int
}

// DefaultCheckSamples is CheckOptions.Samples' default.
const DefaultCheckSamples = 3

// CheckSample is what one advert page yields. Like the report it holds no
// raw contact.
type CheckSample struct {
	URL      string
	FetchURL string // what was fetched for it when detail.fetch_url is set
	// Final is the URL the page came from after redirects.
	Final string
	// Advert is what the page yielded besides the advert: its key, where
	// the key was read, the detail.links found and dropped (nil when the
	// page could not be read).
	Advert   *AdvertPage
	Ad       *ad.Ad   // nil when the page could not be read
	Phones   []string // one per extracted phone: a pseudonym, or "<n digits>"
	Matches  Matches  // per field, the alternative that gave its value (-1: none)
	Problems []string
	// Requests are the requests the page made when it was rendered
	// (fetch: browser).
	Requests []BrowserRequest
	// Thread is what a review forum's thread page yields (kind: reviews;
	// Ad is then nil): its posts, pseudonymised (authors and contacts
	// emptied without the operator's key), and its further pages.
	Thread *ThreadPage
	Err    error // fetching or reading the page failed
}

// CheckReport is what one listing page and the first advert pages of an
// arena yield under its config. It holds no raw contact: Phones are
// pseudonyms or digit counts, and the advert's text is scrubbed.
type CheckReport struct {
	ListingURL string
	Listing    *ListingResult
	// DetailURL, DetailFinal, Advert, Ad and Phones are the first
	// sample's (see CheckSample).
	DetailURL   string
	DetailFinal string
	Advert      *AdvertPage
	Ad          *ad.Ad   // nil when no detail page was read
	Phones      []string // one per extracted phone: a pseudonym, or "<n digits>"
	Problems    []string
	// Samples are the advert pages read, the first being DetailURL.
	Samples []CheckSample
	// ListingRequests are the requests the listing made when it was
	// rendered (fetch: browser): its XHRs show where a script-built site
	// loads its data from (often a JSON API to read with format: json).
	ListingRequests []BrowserRequest
	// Sitemaps is what each sitemap seed (sitemaps:) yields, one level
	// deep: robots.txt's Sitemap: lines, or a sitemap's entries.
	Sitemaps []SitemapCheck
	// Delay is the delay between requests used for the host: the larger of
	// limits.delay and the Crawl-delay robots.txt gives our User-Agent.
	Delay, CrawlDelay time.Duration
}

// Check fetches the first start URL and the first CheckOptions.Samples
// adverts it links to, politely (robots.txt, Crawl-delay, gates and logins,
// one fetcher as in a crawl), and reports what the config extracts. It
// returns the report so far with ErrNoDetailLinks or ErrNoAdvert when the
// config reads nothing useful, or with a fetch error.
func Check(ctx context.Context, cfg *ArenaConfig, o CheckOptions) (*CheckReport, error) {
	if o.Version == "" {
		o.Version = "dev"
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = UserAgent(o.Version)
	}
	jar := newPersistJar()
	jar.seedCookies(cfg)
	f, err := newFetcher(ctx, cfg, fetcherOptions{UserAgent: ua, Logger: o.Logger, Retries: 1, RetryBase: time.Second, Jar: jar})
	if err != nil {
		return nil, err
	}
	defer f.close()
	sess := &session{cfg: cfg, f: f, jar: jar}
	rep := &CheckReport{}
	start, ok := Canonical(nil, cfg.StartURLs[0])
	if !ok {
		return rep, fmt.Errorf("start_urls[0]: not an http(s) URL: %q", cfg.StartURLs[0])
	}
	rep.ListingURL = start
	defer func() {
		if u, err := url.Parse(start); err == nil {
			rep.Delay, rep.CrawlDelay = f.hostDelay(u.Host)
		}
	}()
	rep.Sitemaps = checkSitemaps(ctx, cfg, f, sess)
	if kind, _ := cfg.Classify(start); kind != PageListing {
		rep.Problems = append(rep.Problems, fmt.Sprintf("start URL %s does not match listing.match %q", start, cfg.Listing.Match))
	}
	lres, kind, err := sess.page(ctx, start, PageListing, nil, &rep.ListingRequests)
	if err != nil {
		return rep, fmt.Errorf("fetch listing %s (%s): %w", start, kind, err)
	}
	if rep.Listing, err = cfg.ExtractListing(lres.final, lres.body); err != nil {
		return rep, fmt.Errorf("listing %s: %w", start, err)
	}
	f.stash(rep.Listing.Items)
	if len(rep.Listing.Details) == 0 {
		return rep, ErrNoDetailLinks
	}
	if o.Samples <= 0 {
		o.Samples = DefaultCheckSamples
	}
	pseudo := o.Pseudo
	if pseudo == nil {
		key := make([]byte, contact.KeySize)
		rand.Read(key) // never fails (crypto/rand)
		pseudo = contact.New(key)
	}
	for i, u := range rep.Listing.Details {
		if i == o.Samples {
			break
		}
		s := checkSample(ctx, sess, cfg, u, o.Pseudo, pseudo)
		rep.Samples = append(rep.Samples, s)
		if i > 0 {
			continue
		}
		rep.DetailURL, rep.DetailFinal, rep.Advert, rep.Ad, rep.Phones = s.URL, s.Final, s.Advert, s.Ad, s.Phones
		rep.Problems = append(rep.Problems, s.Problems...)
		if s.Ad == nil && s.Thread == nil {
			return rep, s.Err
		}
	}
	for _, s := range rep.Samples {
		if s.Thread != nil && s.Err != nil {
			return rep, fmt.Errorf("thread %s: %w", s.URL, s.Err)
		}
		if s.Ad != nil && s.Err != nil {
			return rep, fmt.Errorf("advert %s: %w", s.URL, ErrNoAdvert)
		}
	}
	return rep, nil
}

// checkSample fetches and reads one advert page for Check. keyed is the
// operator's pseudonymiser (nil: none), pseudo the one to scrub with.
func checkSample(ctx context.Context, sess *session, cfg *ArenaConfig, u string, keyed, pseudo *contact.Pseudonymiser) CheckSample {
	s := CheckSample{URL: u}
	if f := cfg.fetchURL(u); f != u {
		s.FetchURL = f
	}
	res, kind, err := sess.page(ctx, u, PageDetail, nil, &s.Requests)
	if err != nil {
		s.Err = fmt.Errorf("fetch advert %s (%s): %w", u, kind, err)
		return s
	}
	s.Final = res.final
	if cfg.Kind == KindReviews {
		return checkThread(s, cfg, res.body, keyed, pseudo)
	}
	ap, err := cfg.ExtractAdvertPage(u, res.final, res.body, time.Now())
	if ap == nil {
		s.Err = fmt.Errorf("advert %s: %w", u, err)
		return s
	}
	a := ap.Ad
	s.Advert, s.Matches, s.Problems = ap, ap.Matches, ap.Problems
	s.Phones = safePhones(a.Phones, keyed)
	s.Problems = append(s.Problems, pseudo.Apply(a)...) // clears a.Phones, scrubs text
	if keyed == nil {
		a.Contacts = nil // pseudonyms under a throwaway key mean nothing
	}
	s.Ad = a
	if err != nil {
		s.Err = ErrNoAdvert
	}
	return s
}

// safePhones shows extracted phones without their numbers: as pseudonyms
// when p is set, otherwise as their count of digits.
func safePhones(raw []string, p *contact.Pseudonymiser) []string {
	var out []string
	for _, r := range raw {
		digits := 0
		for _, c := range r {
			if c >= '0' && c <= '9' {
				digits++
			}
		}
		if p == nil {
			out = append(out, fmt.Sprintf("<%d digits>", digits))
		} else if ps, ok := p.Phone(r); ok {
			out = append(out, ps)
		} else {
			out = append(out, fmt.Sprintf("<%d digits, not a valid number>", digits))
		}
	}
	return out
}

// SitemapCheck is what one sitemap seed yields: the sitemaps it names
// (robots.txt, a sitemap index) and its page URLs by kind.
type SitemapCheck struct {
	URL                                 string
	Sitemaps, Adverts, Listings, Others int
	Err                                 string
}

// checkSitemaps reads each sitemap seed of cfg (at most five), one level
// deep, and counts what it names.
func checkSitemaps(ctx context.Context, cfg *ArenaConfig, f *fetcher, sess *session) []SitemapCheck {
	var out []SitemapCheck
	for _, e := range cfg.seeds() {
		if e.Kind != PageSitemap || len(out) == 5 {
			continue
		}
		sc := SitemapCheck{URL: e.URL}
		var pages, maps []string
		var err error
		if isRobotsURL(e.URL) {
			u, _ := url.Parse(e.URL)
			maps, err = f.robotsSitemaps(ctx, u)
		} else {
			var res fetched
			var kind string
			if res, kind, err = sess.fetch(ctx, e.URL, nil); err == nil {
				pages, maps, err = ParseSitemap(res.body, int64(cfg.Limits.MaxBody))
			} else {
				err = fmt.Errorf("%s: %w", kind, err)
			}
		}
		if err != nil {
			sc.Err = err.Error()
		}
		sc.Sitemaps = len(maps)
		for _, p := range pages {
			l, drop := cfg.classifyLink(nil, p, "sitemaps", PageOther)
			switch {
			case drop != nil:
				sc.Others++
			case l.Kind == PageDetail:
				sc.Adverts++
			default:
				sc.Listings++
			}
		}
		out = append(out, sc)
	}
	return out
}
