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
	FetchURL string   // what was fetched for it when detail.fetch_url is set
	Ad       *ad.Ad   // nil when the page could not be read
	Phones   []string // one per extracted phone: a pseudonym, or "<n digits>"
	Matches  Matches  // per field, the alternative that gave its value (-1: none)
	Problems []string
	// Requests are the requests the page made when it was rendered
	// (fetch: browser).
	Requests []BrowserRequest
	Err      error // fetching or reading the page failed
}

// CheckReport is what one listing page and one advert page of an arena
// yield under its config. It holds no raw contact: Phones are pseudonyms or
// digit counts, and the advert's text is scrubbed.
type CheckReport struct {
	ListingURL string
	Listing    *ListingResult
	DetailURL  string
	Ad         *ad.Ad   // nil when no detail page was read
	Phones     []string // one per extracted phone: a pseudonym, or "<n digits>"
	Problems   []string
	// Samples are the advert pages read, the first being DetailURL.
	Samples []CheckSample
	// ListingRequests are the requests the listing made when it was
	// rendered (fetch: browser): its XHRs show where a script-built site
	// loads its data from (often a JSON API to read with format: json).
	ListingRequests []BrowserRequest
	// Delay is the delay between requests used for the host: the larger of
	// limits.delay and the Crawl-delay robots.txt gives our User-Agent.
	Delay, CrawlDelay time.Duration
}

// Check fetches the first start URL and the first CheckOptions.Samples
// adverts it links to, politely (robots.txt, Crawl-delay, one fetcher as in a crawl), and reports
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
	f, err := newFetcher(ctx, cfg, fetcherOptions{UserAgent: ua, Logger: o.Logger, Retries: 1, RetryBase: time.Second})
	if err != nil {
		return nil, err
	}
	defer f.close()
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
	if kind, _ := cfg.Classify(start); kind != PageListing {
		rep.Problems = append(rep.Problems, fmt.Sprintf("start URL %s does not match listing.match %q", start, cfg.Listing.Match))
	}
	body, kind, err := f.pageTrace(ctx, start, PageListing, &rep.ListingRequests)
	if err != nil {
		return rep, fmt.Errorf("fetch listing %s (%s): %w", start, kind, err)
	}
	if rep.Listing, err = cfg.ExtractListing(start, body); err != nil {
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
		s := checkSample(ctx, f, cfg, u, o.Pseudo, pseudo)
		rep.Samples = append(rep.Samples, s)
		if i > 0 {
			continue
		}
		rep.DetailURL, rep.Ad, rep.Phones = s.URL, s.Ad, s.Phones
		rep.Problems = append(rep.Problems, s.Problems...)
		if s.Ad == nil {
			return rep, s.Err
		}
	}
	for _, s := range rep.Samples {
		if s.Ad != nil && s.Err != nil {
			return rep, fmt.Errorf("advert %s: %w", s.URL, ErrNoAdvert)
		}
	}
	return rep, nil
}

// checkSample fetches and reads one advert page for Check. keyed is the
// operator's pseudonymiser (nil: none), pseudo the one to scrub with.
func checkSample(ctx context.Context, f *fetcher, cfg *ArenaConfig, u string, keyed, pseudo *contact.Pseudonymiser) CheckSample {
	s := CheckSample{URL: u}
	if f := cfg.fetchURL(u); f != u {
		s.FetchURL = f
	}
	body, kind, err := f.pageTrace(ctx, u, PageDetail, &s.Requests)
	if err != nil {
		s.Err = fmt.Errorf("fetch advert %s (%s): %w", u, kind, err)
		return s
	}
	a, matches, problems, err := cfg.ExtractAdMatches(u, body, time.Now())
	s.Matches, s.Problems = matches, problems
	if a == nil {
		s.Err = fmt.Errorf("advert %s: %w", u, err)
		return s
	}
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
