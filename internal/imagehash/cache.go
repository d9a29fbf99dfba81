package imagehash

import (
	"crypto/sha256"
	"maps"
	"sync"
)

// Cache keeps the hashes of recently hashed image bytes, keyed by their
// SHA-256, so the same photo posted again (by the same person, on
// another advert or arena: most of a prolific poster's adverts repeat
// her photos) is decoded and hashed once. The hashes are a function of
// the bytes, so a hit gives what hashing would; only the digest and the
// hashes are kept, never the image. It holds two generations of at most
// CacheGen entries each: when the newer is full the older is dropped,
// and a hit in the older moves the entry to the newer. The zero Cache is
// ready to use; it is safe for concurrent use. Use one Cache with one
// Limits (a failure is not cached, a success is).
type Cache struct {
	mu       sync.Mutex
	cur, old map[[sha256.Size]byte]map[string]string
}

// CacheGen is the most entries of one generation of a Cache (an entry is
// a digest and five hex strings, well under 1 KiB).
const CacheGen = 1 << 13

// Hash is Hash(data, lim) through the cache; the map returned is the
// caller's.
func (c *Cache) Hash(data []byte, lim Limits) (map[string]string, error) {
	key := sha256.Sum256(data)
	if h, ok := c.get(key); ok {
		return h, nil
	}
	h, err := Hash(data, lim)
	if err == nil {
		c.mu.Lock()
		c.put(key, maps.Clone(h))
		c.mu.Unlock()
	}
	return h, err
}

// get returns a copy of the cached hashes under key.
func (c *Cache) get(key [sha256.Size]byte) (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.cur[key]
	if !ok {
		if h, ok = c.old[key]; ok {
			c.put(key, h)
		}
	}
	if !ok {
		return nil, false
	}
	return maps.Clone(h), true
}

// put enters h under key; c.mu is held.
func (c *Cache) put(key [sha256.Size]byte, h map[string]string) {
	if c.cur == nil || len(c.cur) >= CacheGen {
		c.old, c.cur = c.cur, make(map[[sha256.Size]byte]map[string]string, CacheGen)
	}
	c.cur[key] = h
}
