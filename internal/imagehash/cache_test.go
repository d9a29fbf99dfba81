package imagehash

import (
	"crypto/sha256"
	"maps"
	"testing"

	"adcensus/internal/synthetic/photoset"
)

// TestCacheGivesWhatHashGives: a miss and a hit give Hash's result, a
// caller changing the map it got does not change the cache, bytes that
// fail to hash fail again (not cached), and the generations roll over.
func TestCacheGivesWhatHashGives(t *testing.T) {
	var c Cache
	lim := DefaultLimits()
	names := photoset.Names()[:3]
	for _, n := range names {
		data, err := photoset.JPEG(n)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Hash(data, lim)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 { // miss, then hit
			got, err := c.Hash(data, lim)
			if err != nil || !maps.Equal(got, want) {
				t.Fatalf("%s, call %d: %v, %v; want %v", n, i, got, err, want)
			}
			got[PHash] = "changed"
		}
	}
	if len(c.cur) != len(names) {
		t.Fatalf("%d entries, want %d", len(c.cur), len(names))
	}
	for range 2 {
		if _, err := c.Hash([]byte("not an image"), lim); err == nil {
			t.Fatal("bytes that are no image hashed")
		}
	}
	if len(c.cur) != len(names) {
		t.Fatalf("a failure was cached: %d entries", len(c.cur))
	}
	// Fill the newer generation: the older is kept once, then dropped.
	for i := range CacheGen {
		c.put([32]byte{byte(i), byte(i >> 8), 1}, map[string]string{})
	}
	data, _ := photoset.JPEG(names[0])
	if _, ok := c.get(sha256.Sum256(data)); !ok {
		t.Fatal("an entry of the older generation was lost")
	}
}
