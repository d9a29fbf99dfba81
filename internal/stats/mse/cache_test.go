package mse

import (
	"sync"
	"testing"
)

// The cache answers what Estimate answers, once per table and options:
// the same table again (a new Table value with the same cells) is a hit,
// another cell or other options a miss; concurrent asks share one
// computation; the oldest answer goes beyond the bound.
func TestCache(t *testing.T) {
	mk := func(ab int64) *Table {
		tb, err := NewTable([]string{"A", "B", "C"}, map[uint32]int64{1: 100, 2: 80, 4: 60, 3: ab, 5: 15, 6: 10, 7: 3})
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	opt := Options{Replicates: 50, Seed: 3}
	want, err := Estimate(mk(20), opt)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(2)
	var wg sync.WaitGroup
	got := make([]*Result, 8)
	for i := range got {
		wg.Go(func() {
			r, err := c.Estimate(mk(20), opt)
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		})
	}
	wg.Wait()
	for _, r := range got {
		if r != got[0] {
			t.Fatal("concurrent asks computed more than once")
		}
	}
	if got[0].Total != want.Total || got[0].CILow != want.CILow || got[0].CIHigh != want.CIHigh {
		t.Fatalf("cached %v %v–%v, Estimate %v %v–%v", got[0].Total, got[0].CILow, got[0].CIHigh, want.Total, want.CILow, want.CIHigh)
	}
	other, err := c.Estimate(mk(21), opt)
	if err != nil || other == got[0] || other.Total == want.Total {
		t.Fatalf("another cell: %v (%v)", other, err)
	}
	seeded, err := c.Estimate(mk(20), Options{Replicates: 50, Seed: 4})
	if err != nil || seeded == got[0] {
		t.Fatalf("other options answered from the cache: %v", err)
	}
	// Bound 2: the first answer was dropped.
	again, err := c.Estimate(mk(20), opt)
	if err != nil || again == got[0] || again.Total != want.Total {
		t.Fatalf("after eviction: %v (%v)", again, err)
	}
	// Workers do not change the answer, nor the key.
	w, _ := c.Estimate(mk(20), Options{Replicates: 50, Seed: 3, Workers: 1})
	if w != again {
		t.Fatal("Workers made a new key")
	}
}

// BenchmarkCacheUK5 is the API's repeated ask for an estimate: the whole
// default Estimate on UKdat_5 against an answer from the cache.
func BenchmarkCacheUK5(b *testing.B) {
	tb := loadShipped(b, "UKdat_5.csv")
	opt := Options{Replicates: 1000}
	b.Run("estimate", func(b *testing.B) {
		for b.Loop() {
			if _, err := Estimate(tb, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := NewCache(0)
		if _, err := c.Estimate(tb, opt); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Estimate(tb, opt); err != nil {
				b.Fatal(err)
			}
		}
	})
}
