package mse

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"
)

// Cache remembers estimates by their input: the table (its lists and every
// cell) and the options. Estimate is deterministic for a given table and
// Options (the bootstrap's replicate r uses PCG(Seed, r) whatever the
// workers), so an answer from the cache is the answer Estimate would give;
// a server that is asked for the same period again (the web app's counts
// page on every visit) then answers in microseconds instead of the
// bootstrap's 0.2–1.6 s. Concurrent asks for one key compute it once.
// The zero Cache is not usable: use NewCache.
type Cache struct {
	max int

	mu    sync.Mutex
	items map[[32]byte]*cacheEntry
	order [][32]byte // insertion order, for eviction
}

type cacheEntry struct {
	done chan struct{}
	res  *Result
	err  error
}

// NewCache returns a cache of at most max results (max < 1: 64); the oldest
// is dropped first.
func NewCache(max int) *Cache {
	if max < 1 {
		max = 64
	}
	return &Cache{max: max, items: map[[32]byte]*cacheEntry{}}
}

// Estimate is Estimate(t, opt), from the cache when the same table and
// options were estimated before. The Result is shared: callers must not
// change it.
func (c *Cache) Estimate(t *Table, opt Options) (*Result, error) {
	key := cacheKey(t, opt)
	c.mu.Lock()
	e, ok := c.items[key]
	if !ok {
		e = &cacheEntry{done: make(chan struct{})}
		c.items[key] = e
		c.order = append(c.order, key)
		for len(c.order) > c.max {
			delete(c.items, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	if ok {
		<-e.done
		return e.res, e.err
	}
	e.res, e.err = Estimate(t, opt)
	close(e.done)
	return e.res, e.err
}

// cacheKey hashes the table and the options (Workers left out: it does
// not change the answer).
func cacheKey(t *Table, opt Options) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00%q\x00", t.Lists, t.CountName)
	var b [8]byte
	for _, n := range t.counts {
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	opt.Workers = 0
	fmt.Fprintf(h, "%#v", opt)
	var k [32]byte
	h.Sum(k[:0])
	return k
}
