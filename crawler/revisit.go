package crawler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
)

// Listing-level change detection. A listing page says which adverts are
// live, so every advert it links must be sighted on every run. By default
// (revisit.listings: fetch) the crawler asks for each of those advert
// pages again (conditionally: conditional.go). With revisit.listings:
// trust, a listing page whose body is byte for byte the one the last run
// committed is taken to list the same adverts unchanged: each advert it
// links that the crawl state remembers, and whose page was fetched within
// revisit.refresh, is sighted as it was last time without a request. The
// trade-off: an advert edited without its listing changing, or whose page
// was removed while the listing still links it, is noticed only when the
// listing changes or after revisit.refresh.

// Revisit values of revisit.listings.
const (
	RevisitFetch = "fetch"
	RevisitTrust = "trust"
)

// Revisit is the revisit: section of an arena config.
type Revisit struct {
	// Listings is RevisitFetch (default) or RevisitTrust (above).
	Listings string `yaml:"listings"`
	// Refresh is, with RevisitTrust, how long an advert may be sighted
	// from unchanged listings before its page is asked for again
	// (default 168h: a week).
	Refresh Duration `yaml:"refresh"`
}

func (c *ArenaConfig) validateRevisit() error {
	switch c.Revisit.Listings {
	case RevisitFetch:
	case RevisitTrust:
		switch {
		case c.Kind == KindReviews:
			return c.bad("revisit.listings", "trust is for advert arenas; a review forum's threads are always read")
		case c.Detail.Links != "":
			return c.bad("revisit.listings", "trust cannot be used with detail.links: an advert page not fetched would hide the links it holds")
		case c.Listing.Items != "":
			return c.bad("revisit.listings", "trust is not needed with listing.items: the adverts are read from the listing itself")
		}
	default:
		return c.bad("revisit.listings", "must be fetch or trust (got %q)", c.Revisit.Listings)
	}
	if r := time.Duration(c.Revisit.Refresh); r < time.Hour || r > 366*24*time.Hour {
		return c.bad("revisit.refresh", "must be between 1h and 8784h (got %s)", r)
	}
	return nil
}

// trustsListings reports whether the crawl may sight the adverts of an
// unchanged listing without fetching them.
func (c *Crawler) trustsListings() bool {
	return c.cfg.Revisit.Listings == RevisitTrust && c.censusSink() != nil
}

var bucketListings = []byte("listings")

// listingMemory is what the crawl state remembers of a listing page
// (bucket "listings", by URL): the hash of its body when a run last
// committed it, and when.
type listingMemory struct {
	Hash string `json:"h"`
	Seen int64  `json:"t"`
}

// checkListing notes the hash of a listing page's body for its commit
// (with a census sink, whatever the arena's revisit setting, so that
// turning trust on pays from the next run) and, when the arena trusts
// unchanged listings and the body is the one last committed, marks the
// advert pages it adds to be sighted from the crawl state (Entry.Trust).
func (c *Crawler) checkListing(p *page, body []byte) {
	if c.censusSink() == nil {
		return
	}
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:16])
	p.census = &pageCensus{listing: h, url: p.entry.URL, sighting: ad.Sighting{At: c.now().UTC()}}
	var m *listingMemory
	err := c.opts.Store.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketListings)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(p.entry.URL))
		if v == nil {
			return nil
		}
		m = &listingMemory{}
		return json.Unmarshal(v, m)
	})
	if err != nil {
		c.log.Warn("read listing memory: fetching its adverts", "url", p.entry.URL, "err", err)
		return
	}
	if m == nil || m.Hash != h || !c.trustsListings() {
		return
	}
	for i := range p.add {
		if p.add[i].Kind == PageDetail {
			p.add[i].Trust = true
		}
	}
}

// trusted makes an advert page listed by an unchanged listing the sighting
// of its advert as last time, without a request, and reports whether it
// did: not when the crawl state does not remember the page and its advert,
// or the page was last fetched longer than revisit.refresh ago.
func (c *Crawler) trusted(p *page) bool {
	if !p.entry.Trust || p.entry.Kind != PageDetail || !c.trustsListings() {
		return false
	}
	um, err := c.opts.Store.adURL(p.entry.URL)
	if err != nil || um == nil {
		return false
	}
	if p.entry.ID != "" && um.ID != ad.ContentID(c.cfg.Name, p.entry.ID) {
		return false
	}
	m, err := c.opts.Store.advert(um.ID)
	if err != nil || m == nil || m.Fetched == 0 {
		return false
	}
	now := c.now().UTC()
	if now.Sub(time.Unix(m.Fetched, 0)) > time.Duration(c.cfg.Revisit.Refresh) {
		return false
	}
	p.ad = &ad.Ad{ID: um.ID, Arena: c.cfg.Name, URL: p.entry.URL, FetchedAt: now}
	p.census = &pageCensus{ready: true,
		sighting: ad.Sighting{AdID: um.ID, Arena: c.cfg.Name, Run: c.run.ID, At: now, Hash: m.Hash},
		empty:    m.Empty, pre: m.Pre, images: m.Images, url: p.entry.URL, etag: um.ETag, lastMod: um.LastMod,
		fetched: m.Fetched, via: viaTrusted}
	p.done.State = "done"
	c.Stats.Trusted.Add(1)
	return true
}

// countRevisit adds a committed page's advert to the run's NotModified or
// Trusted when it was sighted without being extracted.
func (c *Crawler) countRevisit(run *Run, p *page) {
	if p.errKind != "" || p.ads == 0 || p.census == nil || !p.census.ready {
		return
	}
	switch p.census.via {
	case viaNotModified:
		run.NotModified++
	case viaTrusted:
		run.Trusted++
	}
}

// putListing records a committed listing page's body hash.
func putListing(tx *bolt.Tx, url, hash string, at time.Time) error {
	b, err := tx.CreateBucketIfNotExists(bucketListings)
	if err != nil {
		return err
	}
	v, err := json.Marshal(&listingMemory{Hash: hash, Seen: at.Unix()})
	if err != nil {
		return err
	}
	return b.Put([]byte(url), v)
}
