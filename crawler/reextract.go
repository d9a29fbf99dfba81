package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"adcensus/ad"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
)

// ReextractOptions configure Reextract.
type ReextractOptions struct {
	Sink        Sink
	Pseudo      *contact.Pseudonymiser
	ImageLimits imagehash.Limits
	Logger      *slog.Logger
}

// ReextractStats count what Reextract read and wrote.
type ReextractStats struct {
	Files     int // files read
	Responses int // response records
	Listings  int // 2xx listing pages (not used: adverts come from detail pages)
	Details   int // 2xx detail pages
	Ads       int // adverts published
	Dups      int // detail pages of an advert already published (first one wins)
	Failed    int // detail pages without an advert (parse error, truncated)
	Images    int // images hashed from the archive
	Missing   int // advert images with no 2xx response in the archive
	Truncated int // files cut in the middle of a record (a crash while writing)
}

// Reextract rebuilds the adverts of an arena from WARC files written by a
// crawl (Options.WARCDir), with cfg — possibly changed since the crawl —
// and without any network access: response records are classified by
// cfg's listing and detail patterns, detail pages go through ExtractAd
// (fetch time: the record's WARC-Date), the advert's images are hashed from
// their archived responses, contacts are pseudonymised, and each advert is
// published once (the first detail page of an advert id in file order).
//
// It reads the files twice: first to hash the images (only hashes are
// kept in memory), then to extract the adverts. It returns on the first
// Sink error or malformed record; a file cut at its end is counted in
// Truncated and the rest of the files are still read.
func Reextract(ctx context.Context, cfg *ArenaConfig, files []string, o ReextractOptions) (*ReextractStats, error) {
	if o.Sink == nil || o.Pseudo == nil {
		return nil, errors.New("reextract: Sink and Pseudo are required")
	}
	if cfg.Kind == KindReviews {
		return nil, fmt.Errorf("reextract: arena %s is a review forum (kind: reviews): re-extraction rebuilds adverts only; crawl the forum again", cfg.Name)
	}
	if cfg.Detail.FetchURL != "" {
		return nil, fmt.Errorf("reextract: arena %s reads its adverts from detail.fetch_url: the archive holds them under those URLs, which detail.match does not classify; re-extraction does not map them back", cfg.Name)
	}
	if cfg.renders(PageDetail) {
		return nil, fmt.Errorf("reextract: arena %s renders its advert pages in a browser (fetch: browser): the archive holds them as served, before their scripts ran, so they cannot be re-extracted", cfg.Name)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &reextractor{
		cfg: cfg, o: o, st: &ReextractStats{},
		log:    o.Logger.With("stage", "reextract", "arena", cfg.Name),
		images: map[string]ad.ImageFP{}, seen: map[string]bool{}, redirects: map[string]string{},
	}
	// Pass 1: fingerprints of every image response, by requested URL.
	if err := eachResponse(ctx, files, r.st, r.log, r.image); err != nil {
		return r.st, err
	}
	// Pass 2: adverts from detail pages.
	r.st.Files, r.st.Responses, r.st.Truncated = 0, 0, 0
	err := eachResponse(ctx, files, r.st, r.log, func(uri string, rec *WARCRecord) error {
		return r.detail(ctx, uri, rec)
	})
	return r.st, err
}

// reextractor is one Reextract: its options, statistics and what the
// first pass found.
type reextractor struct {
	cfg    *ArenaConfig
	o      ReextractOptions
	st     *ReextractStats
	log    *slog.Logger
	images map[string]ad.ImageFP // image fingerprints by requested URL
	// redirects maps the URL of an archived redirect hop to its target
	// (each hop is its own record): an image's fingerprint is found
	// under the URL its advert names.
	redirects map[string]string
	seen      map[string]bool // advert ids published
}

// image fingerprints one image response (pass 1); other records are
// skipped.
func (r *reextractor) image(uri string, rec *WARCRecord) error {
	if kind, _ := r.cfg.Classify(uri); kind != PageOther || strings.HasSuffix(uri, "/robots.txt") {
		return nil
	}
	code, header, body, err := rec.HTTPResponse()
	if err != nil {
		return err
	}
	if isRedirect(code) && header.Get("Location") != "" {
		if base, err := url.Parse(uri); err == nil {
			if to, err := base.Parse(header.Get("Location")); err == nil {
				r.redirects[uri] = to.String()
				return nil
			}
		}
	}
	fp := ad.ImageFP{Src: uri}
	switch {
	case code < 200 || code > 299:
		fp.Err = fmt.Sprintf("HTTP %d", code)
	case rec.Get("WARC-Truncated") != "":
		fp.Err = "truncated in the archive"
	default:
		if fp.Hashes, err = imagehash.Hash(body, r.o.ImageLimits); err != nil {
			fp.Err = err.Error()
		} else {
			r.st.Images++
		}
	}
	if prev, ok := r.images[uri]; !ok || prev.Err != "" {
		r.images[uri] = fp // a later success replaces an earlier failure
	}
	return nil
}

// imageAt returns the fingerprint archived for src, following archived
// redirects (at most maxRedirects hops); its Src is src.
func (r *reextractor) imageAt(src string) (ad.ImageFP, bool) {
	u := src
	for range maxRedirects + 1 {
		if fp, ok := r.images[u]; ok {
			fp.Src = src
			return fp, true
		}
		next, ok := r.redirects[u]
		if !ok {
			break
		}
		u = next
	}
	return ad.ImageFP{}, false
}

// detail extracts, fingerprints, pseudonymises and publishes the advert of
// one detail page response (pass 2); listings are counted, other records
// skipped.
func (r *reextractor) detail(ctx context.Context, uri string, rec *WARCRecord) error {
	st, log := r.st, r.log
	kind, _ := r.cfg.Classify(uri)
	if kind == PageOther {
		return nil
	}
	code, _, body, err := rec.HTTPResponse()
	if err != nil {
		return err
	}
	if code < 200 || code > 299 {
		return nil
	}
	if kind == PageListing {
		st.Listings++
		return nil
	}
	st.Details++
	if rec.Get("WARC-Truncated") != "" {
		st.Failed++
		log.Warn("detail page truncated in the archive", "url", uri)
		return nil
	}
	fetched, err := rec.Date()
	if err != nil {
		fetched = time.Now()
	}
	a, problems, err := r.cfg.ExtractAd(uri, body, fetched)
	if err != nil {
		st.Failed++
		log.Warn("page failed", "url", uri, "kind", "parse", "err", err)
		return nil
	}
	if r.seen[a.ID] {
		st.Dups++
		return nil
	}
	r.seen[a.ID] = true
	for _, p := range problems {
		log.Warn("field problem", "url", uri, "problem", p)
	}
	for i, src := range a.Images {
		if i >= r.cfg.Limits.MaxImages {
			break
		}
		fp, ok := r.imageAt(src)
		if !ok {
			fp = ad.ImageFP{Src: src, Err: "not in the archive"}
			st.Missing++
		}
		a.ImageFPs = append(a.ImageFPs, fp)
	}
	for _, p := range r.o.Pseudo.Apply(a) {
		log.Warn("contact problem", "url", uri, "problem", p)
	}
	if err := r.o.Sink.Publish(ctx, a); err != nil {
		return fmt.Errorf("publish %s: %w", a.ID, err)
	}
	st.Ads++
	return nil
}

// eachResponse calls fn for every response record of files, with the URL
// the crawler asked for (the target URI unless a redirect intervened).
func eachResponse(ctx context.Context, files []string, st *ReextractStats, log *slog.Logger, fn func(uri string, rec *WARCRecord) error) error {
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := OpenWARC(path)
		if err != nil {
			return err
		}
		st.Files++
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				st.Truncated++
				log.Warn("WARC file ends in the middle of a record: the rest of it is skipped", "file", path)
				break
			}
			if err != nil {
				r.Close()
				return fmt.Errorf("%s: %w", path, err)
			}
			if rec.Type() != WARCResponse {
				continue
			}
			st.Responses++
			uri := rec.Get(WARCRequestedURI)
			if uri == "" {
				uri = rec.TargetURI()
			}
			// WARC/1.0 writers may wrap the URI in angle brackets.
			uri = strings.TrimSuffix(strings.TrimPrefix(uri, "<"), ">")
			if err := fn(uri, rec); err != nil {
				r.Close()
				return fmt.Errorf("%s: %w", path, err)
			}
			if err := ctx.Err(); err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
	}
	return nil
}
