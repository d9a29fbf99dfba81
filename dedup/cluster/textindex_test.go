package cluster

import (
	"math/rand/v2"
	"slices"
	"testing"

	"adcensus/internal/textsig"
)

// TestTextIndexExact checks the text index against a map of band keys:
// for every band key of every advert, get returns exactly the adverts
// filed under that key, in the order they were filed, while the tables
// grow through several doublings and many keys are shared (each band's
// rows come from a small pool, so lists form).
func TestTextIndexExact(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	const ads = 6000
	var pool [textsig.Bands][64][textsig.Rows]uint16
	for b := range pool {
		for v := range pool[b] {
			for i := range textsig.Rows {
				pool[b][v][i] = uint16(r.Uint32())
			}
		}
	}
	sigs := make([]textsig.MinHash, ads)
	x := newTextIndex(func(ref uint32) *textsig.MinHash { return &sigs[ref] })
	want := map[uint64][]uint32{}
	lists := 0
	for ref := range uint32(ads) {
		s := &sigs[ref]
		for b := range textsig.Bands {
			var rows [textsig.Rows]uint16
			if r.IntN(4) == 0 { // a shared band
				rows = pool[b][r.IntN(len(pool[b]))]
			} else {
				for i := range rows {
					rows[i] = uint16(r.Uint32())
				}
			}
			copy(s[b*textsig.Rows:], rows[:])
		}
		keys := s.BandKeys()
		x.put(s, &keys, ref)
		for _, k := range keys {
			want[k] = append(want[k], ref)
		}
	}
	for ref := range uint32(ads) {
		keys := sigs[ref].BandKeys()
		for b, k := range keys {
			var buf [1]uint32
			got := x.get(b, k, &sigs[ref], &buf)
			if !slices.Equal(got, want[k]) {
				t.Fatalf("advert %d band %d: got %v, want %v", ref, b, got, want[k])
			}
			if len(got) > 1 {
				lists++
			}
		}
	}
	// A key no advert has finds nothing.
	var other textsig.MinHash
	for i := range other {
		other[i] = uint16(r.Uint32())
	}
	for b, k := range other.BandKeys() {
		var buf [1]uint32
		if got := x.get(b, k, &other, &buf); got != nil {
			t.Fatalf("unfiled key of band %d: got %v", b, got)
		}
	}
	if lists == 0 || len(x.bands[0].slots) <= 1024 {
		t.Fatalf("%d shared keys, %d slots in band 0: lists and growth must be exercised", lists, len(x.bands[0].slots))
	}
	t.Logf("%d keys, %d lookups of shared keys, %d slots in band 0", len(want), lists, len(x.bands[0].slots))
}
