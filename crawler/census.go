package crawler

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
)

// CensusSink is a Sink that also records sightings and the end of each
// run (pipeline.BusSink; docs/CENSUS.md). With one, the crawler publishes
// an advert only when its content (ad.ContentHash) differs from the last
// it published, records a sighting of every advert it fetched, and closes
// each finished run with an ad.RunEnd saying whether the run was complete,
// so that adverts it no longer found can be marked gone.
type CensusSink interface {
	AsyncSink
	PublishSightingAsync(ctx context.Context, s *ad.Sighting, done func(error)) error
	PublishRunEnd(ctx context.Context, r *ad.RunEnd) error
}

// pageCensus is what a detail page adds to the census: its sighting, the
// advert's empty fields, and what is remembered of the advert for the
// next run (content hash, the hash before images, image fingerprints).
type pageCensus struct {
	ready    bool // the sighting is made (else only cond, mem or validators are set)
	sighting ad.Sighting
	empty    []string
	pre      string
	images   []ad.ImageFP
	url      string
	// The validators of the page's response (kept for a conditional
	// request next run) and, for a conditional fetch, what the state
	// remembered (conditional.go).
	etag, lastMod string
	cond          *urlMemory
	mem           *adMemory
	// fetched is when the advert's page was last fetched, for a sighting
	// made without fetching it (revisit.go); 0: at the sighting.
	fetched int64
	// listing is, for a listing page, the hash of its body (revisit.go).
	listing string
	// via says how an advert sighted without extraction was: viaNotModified
	// (304) or viaTrusted (an unchanged listing); "" when extracted.
	via string
}

const (
	viaNotModified = "304"
	viaTrusted     = "trusted"
)

// censusCommit is what CommitPages records for the census about one page.
type censusCommit struct {
	sighted *pageCensus // nil when the page sighted no advert
	failed  string      // id of the advert whose page failed, or ""
	listing bool        // a listing or sitemap page failed: the run is incomplete
	listed  *pageCensus // a listing page fetched: its body hash (revisit.go)
}

// adMemory is what the crawl state remembers of an advert between runs
// (bucket "adverts", by advert id).
type adMemory struct {
	Hash   string       `json:"h"`
	Pre    string       `json:"p,omitempty"`
	Images []ad.ImageFP `json:"i,omitempty"`
	Empty  []string     `json:"e,omitempty"`
	// Seen is when the advert was last sighted (Unix seconds; 0 in
	// entries written before it was kept): PurgeAdverts drops the
	// memory of adverts not sighted for longer than the retention.
	Seen int64 `json:"t,omitempty"`
	// Fetched is when the advert's page was last fetched (200 or 304;
	// Unix seconds): an advert sighted from an unchanged listing
	// (revisit.go) keeps it.
	Fetched int64 `json:"f,omitempty"`
}

var (
	bucketAdverts = []byte("adverts")
	bucketAdURLs  = []byte("adurls")
)

// sightedRecord is what the sighted bucket keeps of an advert.
type sightedRecord struct {
	Empty   []string `json:"e,omitempty"`
	Changed bool     `json:"c,omitempty"`
}

// sightedBucket holds, per run, the adverts sighted (id → sightedRecord);
// failedBucket the adverts whose page failed; the key "listing" in
// failedBucket counts failed listing pages.
func sightedBucket(runID string) []byte { return []byte("sighted/" + runID) }
func failedBucket(runID string) []byte  { return []byte("failed/" + runID) }

// now is the crawler's clock (Options.Now, default time.Now).
func (c *Crawler) now() time.Time {
	if c.opts.Now != nil {
		return c.opts.Now()
	}
	return time.Now()
}

// censusSink returns the sink as a CensusSink, or nil.
func (c *Crawler) censusSink() CensusSink {
	if c.cfg.Kind == KindReviews {
		return nil // the census counts adverts; a forum's reviews go to reviews.db
	}
	cs, _ := c.opts.Sink.(CensusSink)
	return cs
}

// preHash is the content hash of an advert before its images are
// hashed: the same text and image URLs as last time let the crawler reuse
// the last image fingerprints instead of fetching the images again.
func preHash(a *ad.Ad) string {
	b := *a
	b.ImageFPs = nil
	return ad.ContentHash(&b)
}

// reuseImages fills the advert's image fingerprints from the last run's
// when its text and image URLs are unchanged, and reports whether it did.
func (c *Crawler) reuseImages(a *ad.Ad) bool {
	if c.censusSink() == nil || len(a.Images) == 0 {
		return false
	}
	m, err := c.opts.Store.advert(a.ID)
	if err != nil || m == nil || m.Pre != preHash(a) || len(m.Images) == 0 {
		return false
	}
	a.ImageFPs = slices.Clone(m.Images)
	return true
}

// publishCensus publishes the page's advert when it is new or changed,
// then its sighting; the page goes on (published) when both are stored.
func (c *Crawler) publishCensus(ctx context.Context, cs CensusSink, p *page) {
	a := p.ad
	if p.census == nil || !p.census.ready {
		var etag, lastMod string
		if p.census != nil {
			etag, lastMod = p.census.etag, p.census.lastMod
		}
		h := ad.ContentHash(a)
		m, err := c.opts.Store.advert(a.ID)
		if err != nil {
			c.log.Warn("read advert memory: publishing the advert", "ad", a.ID, "err", err)
		}
		changed := m == nil || m.Hash != h
		if changed && m != nil {
			a.Version = h[:12] // placed anew by the cluster stage: it may change person
		}
		at := a.FetchedAt
		if at.IsZero() {
			at = c.now()
		}
		p.census = &pageCensus{
			sighting: ad.Sighting{AdID: a.ID, Arena: a.Arena, Run: c.run.ID, At: at.UTC(), Hash: h, Changed: changed},
			empty:    ad.EmptyFields(a),
			pre:      preHash(a),
			images:   a.ImageFPs,
			url:      p.entry.URL,
			ready:    true,
			etag:     etag,
			lastMod:  lastMod,
		}
	}
	sg := &p.census.sighting
	sight := func() {
		if err := cs.PublishSightingAsync(ctx, sg, func(err error) { c.published(ctx, p, err) }); err != nil {
			c.published(ctx, p, err)
		}
	}
	if !sg.Changed {
		sight()
		return
	}
	err := cs.PublishAsync(ctx, a, func(err error) {
		if err != nil {
			c.published(ctx, p, err)
			return
		}
		go sight() // not from inside the sink's acknowledgement handler
	})
	if err != nil {
		c.published(ctx, p, err)
	}
}

// censusOf is what CommitPages records for the census about page p.
func (c *Crawler) censusOf(p *page) *censusCommit {
	if c.censusSink() == nil {
		return nil
	}
	switch {
	case p.errKind == "" && p.ads > 0 && p.census != nil && p.census.ready:
		return &censusCommit{sighted: p.census}
	case p.errKind != "" && p.entry.Kind == PageDetail:
		cc := &censusCommit{failed: "?" + p.entry.URL}
		if p.entry.ID != "" {
			cc.failed = ad.ContentID(c.cfg.Name, p.entry.ID)
		}
		return cc
	case p.errKind != "" && (p.entry.Kind == PageListing || p.entry.Kind == PageSitemap):
		return &censusCommit{listing: true}
	case p.errKind == "" && p.entry.Kind == PageListing && p.census != nil && p.census.listing != "":
		return &censusCommit{listed: p.census}
	}
	return nil
}

// putCensus records one page's census facts in the commit's transaction.
func putCensus(tx *bolt.Tx, runID string, cc *censusCommit) error {
	if cc == nil {
		return nil
	}
	failed, err := tx.CreateBucketIfNotExists(failedBucket(runID))
	if err != nil {
		return err
	}
	switch {
	case cc.sighted != nil:
		pc := cc.sighted
		sighted, err := tx.CreateBucketIfNotExists(sightedBucket(runID))
		if err != nil {
			return err
		}
		v, err := json.Marshal(sightedRecord{Empty: pc.empty, Changed: pc.sighting.Changed})
		if err != nil {
			return err
		}
		if err := sighted.Put([]byte(pc.sighting.AdID), v); err != nil {
			return err
		}
		if err := putAdURL(tx, pc.url, &urlMemory{ID: pc.sighting.AdID, ETag: pc.etag, LastMod: pc.lastMod}); err != nil {
			return err
		}
		fetched := pc.fetched
		if fetched == 0 {
			fetched = pc.sighting.At.Unix()
		}
		return putAdvert(tx, pc.sighting.AdID, &adMemory{Hash: pc.sighting.Hash, Pre: pc.pre, Images: pc.images, Empty: pc.empty,
			Seen: pc.sighting.At.Unix(), Fetched: fetched})
	case cc.listed != nil:
		return putListing(tx, cc.listed.url, cc.listed.listing, cc.listed.sighting.At)
	case cc.listing:
		return failed.Put([]byte("listing"), []byte{1})
	case cc.failed != "":
		id := cc.failed
		if id[0] == '?' { // no key from the URL: the advert last seen there
			um, err := getAdURL(tx, id[1:])
			if err != nil || um == nil {
				return err
			}
			id = um.ID
		}
		return failed.Put([]byte("ad:"+id), nil)
	}
	return nil
}

func putAdvert(tx *bolt.Tx, id string, m *adMemory) error {
	b, err := tx.CreateBucketIfNotExists(bucketAdverts)
	if err != nil {
		return err
	}
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), v)
}

// advert returns what the state remembers of an advert, nil if nothing.
func (s *Store) advert(id string) (*adMemory, error) {
	var m *adMemory
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAdverts)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		m = &adMemory{}
		return json.Unmarshal(v, m)
	})
	return m, err
}

// putAdURL records which advert a detail URL gave, and its validators:
// a later run whose fetch of that URL fails knows which advert not to mark
// gone, and asks for it conditionally.
func putAdURL(tx *bolt.Tx, url string, m *urlMemory) error {
	b, err := tx.CreateBucketIfNotExists(bucketAdURLs)
	if err != nil {
		return err
	}
	v, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if string(b.Get([]byte(url))) == string(v) {
		return nil
	}
	return b.Put([]byte(url), v)
}

// RunEnd builds the census record of a finished run from what its commits
// recorded: the adverts sighted, their empty fields, the adverts whose page
// failed and whether a listing page failed.
func (s *Store) RunEnd(run *Run) (*ad.RunEnd, error) {
	r := &ad.RunEnd{Run: run.ID, Arena: run.Arena, Started: run.Started, Ended: run.Ended, Status: run.Status,
		Pages: run.Pages, Errors: run.ErrorCount(), Empty: map[string]int{}}
	listingFailed := false
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(sightedBucket(run.ID)); b != nil {
			err := b.ForEach(func(k, v []byte) error {
				r.Sighted++
				var rec sightedRecord
				if err := json.Unmarshal(v, &rec); err != nil {
					return fmt.Errorf("sighted %q: %w", k, err)
				}
				for _, f := range rec.Empty {
					r.Empty[f]++
				}
				if rec.Changed {
					r.Changed++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if b := tx.Bucket(failedBucket(run.ID)); b != nil {
			listingFailed = b.Get([]byte("listing")) != nil
			return b.ForEach(func(k, _ []byte) error {
				if id, ok := cutPrefix(string(k), "ad:"); ok {
					r.Failed = append(r.Failed, id)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case run.Status != "done":
		r.Why = "run " + run.Status
	case listingFailed:
		r.Why = "a listing page failed"
	case run.AllFailed():
		r.Why = "every page failed"
	default:
		r.Complete = true
	}
	if len(r.Empty) == 0 {
		r.Empty = nil
	}
	return r, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return "", false
}

// endRun publishes the run's census record when the sink takes one; an
// error leaves the run unfinished so the next start resumes it and
// publishes again.
func (c *Crawler) endRun(ctx context.Context, run *Run) error {
	cs := c.censusSink()
	if cs == nil {
		return nil
	}
	r, err := c.opts.Store.RunEnd(run)
	if err != nil {
		return fmt.Errorf("run end: %w", err)
	}
	if err := cs.PublishRunEnd(ctx, r); err != nil {
		return fmt.Errorf("publish run end: %w", err)
	}
	c.log.Info("run recorded", "run", run.ID, "complete", r.Complete, "why", r.Why, "sighted", r.Sighted, "failed", len(r.Failed))
	return nil
}
