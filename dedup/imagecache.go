package dedup

import (
	"crypto/sha256"
	"maps"
	"sync"
)

// hashCache keeps the image hashes of recently hashed image bytes, keyed
// by their SHA-256, so the same photo posted again (by the same person,
// on another advert or arena: most of a prolific poster's adverts repeat
// her photos) is decoded and hashed once. The hashes are a function of
// the bytes and the limits, which a Fingerprinter does not change, so a
// hit gives what hashing would. Only the digest and the hashes are kept,
// never the image. It holds two generations of at most hashCacheGen
// entries each: when the newer is full, the older is dropped, and a hit
// in the older moves the entry to the newer.
type hashCache struct {
	mu       sync.Mutex
	cur, old map[[sha256.Size]byte]map[string]string
}

// hashCacheGen is the most entries of one generation (an entry is a
// digest and five hex strings, well under 1 KiB).
const hashCacheGen = 1 << 13

// get returns a copy of the hashes of data, if cached.
func (c *hashCache) get(key [sha256.Size]byte) (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.cur[key]
	if !ok {
		if h, ok = c.old[key]; ok {
			c.putLocked(key, h)
		}
	}
	if !ok {
		return nil, false
	}
	return maps.Clone(h), true
}

// put caches the hashes h of the bytes with digest key (a copy of h).
func (c *hashCache) put(key [sha256.Size]byte, h map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, maps.Clone(h))
}

func (c *hashCache) putLocked(key [sha256.Size]byte, h map[string]string) {
	if c.cur == nil || len(c.cur) >= hashCacheGen {
		c.old, c.cur = c.cur, make(map[[sha256.Size]byte]map[string]string, hashCacheGen)
	}
	c.cur[key] = h
}
