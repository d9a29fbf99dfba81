package cluster

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestImageIndexExact checks the v1 lookups of the image index against
// brute force over every stored hash: the images whose pHash or mirror
// is within MaxImageDistance of the query's pHash, or whose pHash is
// within it of the query's mirror, must all be reported, whether they sit
// in the merged band arrays or still in the pending lists.
func TestImageIndexExact(t *testing.T) {
	for _, mm := range []int{512, 7} {
		restore := SetMergeMin(mm)
		r := rand.New(rand.NewPCG(3, uint64(mm)))
		x := newImageIndex()
		var stored []ImageHash
		var bases []uint64
		for range 300 {
			bases = append(bases, r.Uint64())
		}
		flip := func(h uint64, k int) uint64 {
			for range k {
				h ^= 1 << r.IntN(64)
			}
			return h
		}
		var ps []probe
		var checked, found int
		for i := range 6000 {
			h := ImageHash{PHash: flip(bases[r.IntN(len(bases))], r.IntN(11))}
			if r.IntN(4) != 0 {
				h.Mirror, h.HasMirror = flip(bases[r.IntN(len(bases))], r.IntN(11)), true
			}
			if i%5 == 0 {
				var want, got []uint32
				for j, o := range stored {
					d := bits.OnesCount64(h.PHash ^ o.PHash)
					if o.HasMirror {
						d = min(d, bits.OnesCount64(h.PHash^o.Mirror))
					}
					if h.HasMirror {
						d = min(d, bits.OnesCount64(h.Mirror^o.PHash))
					}
					if d <= MaxImageDistance {
						want = append(want, uint32(j))
					}
				}
				x.lookup(&h, &ps, func(img uint32) { got = append(got, img) })
				slices.Sort(got)
				got = slices.Compact(got)
				// got may hold more (the fold filter is a superset); it
				// must hold every wanted image.
				for _, w := range want {
					if _, ok := slices.BinarySearch(got, w); !ok {
						t.Fatalf("mergeMin %d, query %d: image %d within distance %d not found", mm, i, w, MaxImageDistance)
					}
				}
				checked++
				found += len(want)
			}
			x.put(&h, uint32(len(stored)))
			stored = append(stored, h)
		}
		if g := &x.groups[grpV1]; g.n == 0 || g.npend == 0 && mm != 7 {
			t.Fatalf("mergeMin %d: %d hashes merged, %d pending: both must be exercised", mm, g.n, g.npend)
		}
		t.Logf("mergeMin %d: %d queries, %d matches found", mm, checked, found)
		restore()
	}
}
