package crawler

import (
	"errors"
	"fmt"
	"sync"
)

// One advert under several URLs (an old ?id= form redirecting to a slug,
// a canonical link) is fetched and published once per run. Links whose
// URL gives the advert key (detail.id) are de-duplicated when queued
// (Store.CommitPages); a page whose key is only known after the fetch
// claims it here. A claim lives in memory until its page is committed,
// then in the run's ids bucket, so it survives a resume. A link committed
// while its key is claimed in memory is left out (Crawler.commit holds the
// claims lock from that check to the commit), so a key is never both
// claimed after a fetch and queued under another URL.

// errDuplicateAdvert ends the fetch of a page whose redirect leads to an
// advert the run already has.
var errDuplicateAdvert = errors.New("advert already fetched under another URL")

// claims are the advert keys claimed by pages not yet committed.
type claims struct {
	mu   sync.Mutex
	keys map[string]bool
}

// taken reports whether key is claimed in memory or in the store.
func (c *Crawler) taken(key string) bool {
	c.claims.mu.Lock()
	defer c.claims.mu.Unlock()
	return c.takenLocked(key)
}

func (c *Crawler) takenLocked(key string) bool {
	if c.claims.keys[key] {
		return true
	}
	ok, err := c.opts.Store.HasID(c.run.ID, key)
	if err != nil {
		// Fetching an advert twice is better than losing it.
		c.log.Warn("read advert keys", "err", err)
	}
	return ok
}

// claim takes key for the calling page; false when another page has it.
func (c *Crawler) claim(key string) bool {
	c.claims.mu.Lock()
	defer c.claims.mu.Unlock()
	if c.takenLocked(key) {
		return false
	}
	if c.claims.keys == nil {
		c.claims.keys = map[string]bool{}
	}
	c.claims.keys[key] = true
	return true
}

// releaseClaims drops the in-memory claims of pages that were committed
// (their keys are in the store now) or abandoned (a resumed run claims
// them again).
func (c *Crawler) releaseClaims(pages []*page) {
	c.claims.mu.Lock()
	defer c.claims.mu.Unlock()
	c.releaseClaimsLocked(pages)
}

func (c *Crawler) releaseClaimsLocked(pages []*page) {
	for _, p := range pages {
		for _, k := range p.claims {
			delete(c.claims.keys, k)
		}
	}
}

// unclaim drops a claim of a page that will not commit it.
func (c *Crawler) unclaim(key string) {
	c.claims.mu.Lock()
	defer c.claims.mu.Unlock()
	delete(c.claims.keys, key)
}

// redirectClaim is the advert key a page's redirect named, claimed before
// the redirect's target was requested.
type redirectClaim struct {
	mu  sync.Mutex // onRedirect may run on a browser's goroutine
	key string
}

func (rc *redirectClaim) get() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.key
}

// claimRedirect returns the onRedirect of the advert page e: when a
// redirect target names an advert key (detail.id) other than e's, the key
// is claimed before the target is requested, so no other URL of the advert
// is queued or fetched while this one is (a rendered page takes long); a
// key the run already has stops the fetch with errDuplicateAdvert. The
// caller commits the claim with the page, or unclaims it.
func (c *Crawler) claimRedirect(e Entry, rc *redirectClaim) func(string) error {
	return func(target string) error {
		if c.cfg.Detail.ID.From == "url" {
			return nil
		}
		cu, ok := c.cfg.canonical(nil, target)
		if !ok {
			return nil
		}
		k := c.cfg.AdvertKey(cu)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if k == "" || k == e.ID || k == rc.key {
			return nil
		}
		if !c.claim(k) {
			return fmt.Errorf("%w: redirected to %s, advert %s", errDuplicateAdvert, cu, k)
		}
		if rc.key != "" {
			c.unclaim(rc.key)
		}
		rc.key = k
		return nil
	}
}

// dropClaimedLocked leaves out of p's links the adverts whose key a page
// not yet committed has claimed (the ids bucket does not have it yet) and
// returns how many. The caller holds the claims lock until the links are
// committed.
func (c *Crawler) dropClaimedLocked(p *page) int {
	if len(c.claims.keys) == 0 {
		return 0
	}
	kept, n := p.add[:0], 0
	for _, e := range p.add {
		if e.ID != "" && c.claims.keys[e.ID] {
			n++
			continue
		}
		kept = append(kept, e)
	}
	p.add = kept
	return n
}
