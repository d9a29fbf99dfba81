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
}

// CheckReport is what one listing page and one advert page of an arena
// yield under its config. It holds no raw contact: Phones are pseudonyms or
// digit counts, and the advert's text is scrubbed.
type CheckReport struct {
	ListingURL string
	Listing    *ListingResult
	DetailURL  string
	// DetailFinal is the URL the advert page came from after redirects;
	// Advert is what the page yielded (its key, where the key was read,
	// the detail.links found and dropped), nil when it was not read.
	DetailFinal string
	Advert      *AdvertPage
	Ad          *ad.Ad   // nil when no detail page was read
	Phones      []string // one per extracted phone: a pseudonym, or "<n digits>"
	Problems    []string
	// Sitemaps is what each sitemap seed (sitemaps:) yields, one level
	// deep: robots.txt's Sitemap: lines, or a sitemap's entries.
	Sitemaps []SitemapCheck
	// Delay is the delay between requests used for the host: the larger of
	// limits.delay and the Crawl-delay robots.txt gives our User-Agent.
	Delay, CrawlDelay time.Duration
}

// Check fetches the first start URL and the first advert it links to,
// politely (robots.txt, Crawl-delay, one fetcher as in a crawl), and reports
// what the config extracts. It returns the report so far with
// ErrNoDetailLinks or ErrNoAdvert when the config reads nothing useful, or
// with a fetch error.
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
	lres, kind, err := sess.fetch(ctx, start, nil)
	if err != nil {
		return rep, fmt.Errorf("fetch listing %s (%s): %w", start, kind, err)
	}
	if rep.Listing, err = cfg.ExtractListing(lres.final, lres.body); err != nil {
		return rep, fmt.Errorf("listing %s: %w", start, err)
	}
	if len(rep.Listing.Details) == 0 {
		return rep, ErrNoDetailLinks
	}
	rep.DetailURL = rep.Listing.Details[0]
	res, kind, err := sess.fetch(ctx, rep.DetailURL, nil)
	if err != nil {
		return rep, fmt.Errorf("fetch advert %s (%s): %w", rep.DetailURL, kind, err)
	}
	rep.DetailFinal = res.final
	ap, err := cfg.ExtractAdvertPage(rep.DetailURL, res.final, res.body, time.Now())
	if ap == nil {
		return rep, fmt.Errorf("advert %s: %w", rep.DetailURL, err)
	}
	rep.Advert = ap
	a := ap.Ad
	rep.Problems = append(rep.Problems, ap.Problems...)
	rep.Phones = safePhones(a.Phones, o.Pseudo)
	pseudo := o.Pseudo
	if pseudo == nil {
		key := make([]byte, contact.KeySize)
		rand.Read(key) // never fails (crypto/rand)
		pseudo = contact.New(key)
	}
	rep.Problems = append(rep.Problems, pseudo.Apply(a)...) // clears a.Phones, scrubs text
	if o.Pseudo == nil {
		a.Contacts = nil // pseudonyms under a throwaway key mean nothing
	}
	rep.Ad = a
	if err != nil {
		return rep, ErrNoAdvert
	}
	return rep, nil
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
