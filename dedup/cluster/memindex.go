package cluster

import (
	"cmp"
	"math/bits"
	"slices"
	"sync"
)

// imageIndex is the multi-index over image hashes, in memory only: it is
// rebuilt from the stored profiles when the state opens. Each hash is
// filed under each of its bands (bandLayout) with 32 more of its bits
// beside the image reference, so a probe checks the distance of every
// entry it meets at once (a popcount on contiguous memory) and only
// entries that may lie within the threshold become candidates; those are
// decided by ImagesMatch. The lookup is exact: every pair of images the
// rules match is found.
//
// Hash kinds (x the image looked up):
//
//	p, m  pHash and mirror pHash of images without robust hashes
//	P, M  pHash and mirror pHash of images with robust hashes
//	S0–S3 centred-region hashes of scale i, both orientations
//	G     shifted-window hashes (18)
//	C     centred regions 86 % and 74 % as is (Scales[2], Scales[4])
//
// A v1 image x (no robust hashes) looks up x.pHash among p, m, P, M and
// its mirror among p, P (ImageDistance ≤ MaxImageDistance). A robust
// image looks up its pHash among p, m and its mirror among p (the v1 rule
// against v1 images), its scale-i hashes among S(i−1)…S(i+1)
// (ScaleDistance), its 86 % and 74 % centres among G and its shifted
// windows among C (ShiftDistance), each within MaxRobustDistance. These
// are exactly the hash pairs the rules compare.
//
// Kinds looked up together share a group: a group's bucket for a band
// value holds one entry list per kind side by side, so one probe serves
// them all. pHashes and mirror pHashes have lists of their own, so a
// mirror looks up pHashes only (the rules never compare two mirrors).
//
// Layout. A lookup is bound by memory traffic: the cache lines of the
// entries it scans and of the bucket boundaries it probes. Each band is
// therefore one compacted array (CSR): the bucket boundaries (offs, 4
// bytes per bucket) and, sorted by bucket, the 32-bit folds and, apart,
// the image numbers, read only for the few entries whose fold passes.
// New hashes wait in a short pending list per kind (full hashes, scanned
// whole by every lookup) and are merged into the arrays, in place, when
// the list reaches mergeAt(n) entries.
type imageIndex struct {
	groups [nGroups]group
	// least, when set, is the least pending length that merges, for
	// this index (else mergeMin).
	least int
	// Copies. An image whose hashes equal those of an image already
	// filed (the same file posted again: most of a person's adverts
	// repeat her photos) is not filed again but kept as a copy of that
	// first image, its representative. Equal hashes match the same
	// images, so a lookup that finds the representative stands for its
	// copies, and is decided once for all of them: the lookups' work
	// grows with the distinct photos, not with the copies.
	reps   map[uint64]repImage // hashKey → the first image with those hashes
	copies map[uint32][]uint32 // representative → its copies, in filing order
}

// repImage is a representative image and its hashes.
type repImage struct {
	img uint32
	h   *ImageHash
}

// Groups and the kinds in them (list numbers).
const (
	grpV1  = iota // p (list 0) and m (list 1)
	grpRV1        // P (list 0) and M (list 1)
	grpS          // S0–S3
	grpG          // G
	grpC          // C
	nGroups
)

var groupLists = [nGroups]int{2, 2, NumScales, 1, 1}

type group struct {
	bands [maxBands]csr
	// Pending hashes per list (not yet in bands), and the image of each.
	pendH [NumScales][]uint64
	pendI [NumScales][]uint32
	npend int // over all lists
	n     int // hashes in bands
	// Scratch of merge.
	mergeH []uint64
	mergeI []uint32
	keys   [maxBands][]uint64
}

// csr is one band of a group: cell c = v*n+l (list l of band value v)
// holds entries offs[c] … offs[c+1]−1 of folds and imgs. folds holds,
// per hash, the 32 bits that follow the band. Distance on those bits
// plus distance in the band is at most the hashes' distance, so it is a
// safe filter. Merges work in place, so they allocate only when the
// index outgrows its arrays' room.
type csr struct {
	offs, folds, imgs []uint32
}

// mergeAt is the pending length at which a group with n hashes in its
// arrays merges: a lookup scans the pending hashes whole and a merge
// copies the arrays, so it grows with n, within bounds.
func mergeAt(n, least int) int { return min(max(n/256, least), 8192) }

// mergeMin is the least pending length that merges (a variable so tests
// can make merges frequent).
var mergeMin = 512

// Multi-index hashing: a hash is cut into bands. A hash pair within
// distance R differs by at most radius[b] bits in some band b when
// Σ (radius[b]+1) > R, so probing every value within radius[b] of each
// band finds every pair within R. A band of k bits costs 1 probe at
// radius 0, 1+k at radius 1 and 1+k+k(k−1)/2 at radius 2, and each probe
// selects about 2^−k of the entries.
type bandLayout struct {
	n      int
	bits   [maxBands]int
	radius [maxBands]int
}

const maxBands = 5

var (
	// v1 kinds (pHash ≤ MaxImageDistance = 8): five bands of 13, 13, 13,
	// 13 and 12 bits at radius 1, 1, 1, 1, 0 (2+2+2+2+1 = 9 > 8): 57
	// probes selecting ≈ 0.7 % of the entries. Four bands of 16 bits at
	// radius 2, 1, 1, 1 select ≈ 0.29 % but take 188 probes, and a probe
	// costs a cache miss or two (its boundaries and its first entries)
	// where an entry costs a fraction of a nanosecond; the 13-bit bands'
	// boundaries (64 KiB per band) also stay in the core's cache. Measured
	// at 300,000 adverts, the 13-bit bands took ≈ 2/3 of the lookup time;
	// at 1,000,000 both took about the same CPU time (137 against 128–141
	// CPU-s for the whole run), so the 13-bit bands stay.
	layoutV1 = bandLayout{5, [maxBands]int{13, 13, 13, 13, 12}, [maxBands]int{1, 1, 1, 1, 0}}
	// robust kinds (≤ MaxRobustDistance = 10): four bands of 16 bits at
	// radius 2, 2, 2, 1 (3+3+3+2 = 11 > 10): 428 probes selecting
	// ≈ 0.65 %.
	layoutRobust = bandLayout{4, [maxBands]int{16, 16, 16, 16}, [maxBands]int{2, 2, 2, 1}}

	groupLayout = [nGroups]*bandLayout{&layoutV1, &layoutV1, &layoutRobust, &layoutRobust, &layoutRobust}
)

// These fail to compile if the radii stop covering the thresholds.
var (
	_ = [1]struct{}{}[2+2+2+2+1-1-MaxImageDistance]
	_ = [1]struct{}{}[3+3+3+2-1-MaxRobustDistance]
)

// bands returns the band values of h and, per band, the 32 bits of h
// that follow it.
func (l *bandLayout) bands(h uint64) (v, f [maxBands]uint32) {
	at := 0
	for b := range l.n {
		v[b] = uint32(h>>at) & (1<<l.bits[b] - 1)
		at += l.bits[b]
		f[b] = uint32(bits.RotateLeft64(h, -at))
	}
	return v, f
}

func newImageIndex() *imageIndex { return &imageIndex{} }

// add files hash h of image img in list l of group g.
func (x *imageIndex) add(g, l int, h uint64, img uint32) {
	gr := &x.groups[g]
	gr.pendH[l] = append(gr.pendH[l], h)
	gr.pendI[l] = append(gr.pendI[l], img)
	gr.npend++
	if gr.npend >= mergeAt(gr.n, cmp.Or(x.least, mergeMin)) {
		gr.merge(g)
	}
}

// merge moves the pending hashes of group g into its band arrays, in
// place. Per band the pending hashes are sorted by bucket; then, from the
// end, each run of old entries after a pending hash's bucket moves up by
// the number of pending hashes before it, and the pending hash goes
// behind its bucket's entries (so a bucket keeps arrival order); last
// the bucket boundaries move up by the pending hashes before them.
func (gr *group) merge(g int) {
	n, lay := groupLists[g], groupLayout[g]
	total := gr.n + gr.npend
	ph, pi := gr.mergeH[:0], gr.mergeI[:0]
	for l := range n {
		ph = append(ph, gr.pendH[l]...)
		pi = append(pi, gr.pendI[l]...)
	}
	gr.mergeH, gr.mergeI = ph, pi
	// The bands are independent: large merges, which copy the arrays,
	// run them in parallel.
	at := 0
	var wg sync.WaitGroup
	for b := range lay.n {
		if a := at; total >= parallelMerge {
			wg.Go(func() { gr.mergeBand(g, b, a, total) })
		} else {
			gr.mergeBand(g, b, at, total)
		}
		at += lay.bits[b]
	}
	wg.Wait()
	for l := range n {
		gr.pendH[l] = gr.pendH[l][:0]
		gr.pendI[l] = gr.pendI[l][:0]
	}
	gr.n, gr.npend = total, 0
}

// parallelMerge is the least number of hashes whose merge runs the bands
// in parallel (a variable so tests can exercise both).
var parallelMerge = 1 << 14

// mergeBand merges the pending hashes of group g (gathered in mergeH and
// mergeI) into band b, which starts at bit at; total is the number of
// hashes after the merge.
func (gr *group) mergeBand(g, b, at, total int) {
	n, lay := groupLists[g], groupLayout[g]
	ph, pi := gr.mergeH, gr.mergeI
	c := &gr.bands[b]
	cells := n << lay.bits[b]
	if c.offs == nil {
		c.offs = make([]uint32, cells+1)
	}
	mask := uint64(1)<<lay.bits[b] - 1
	// Pending entries as bucket<<32 | index into ph, sorted.
	keys := gr.keys[b][:0]
	j := 0
	for l := range n {
		for range gr.pendH[l] {
			keys = append(keys, uint64(int(ph[j]>>at&mask)*n+l)<<32|uint64(j))
			j++
		}
	}
	slices.Sort(keys)
	gr.keys[b] = keys
	at2 := at + lay.bits[b]
	c.folds, c.imgs = extend(c.folds, total), extend(c.imgs, total)
	o, w := uint32(gr.n), uint32(total) // end of the old entries left, of the free space
	for i := len(keys) - 1; i >= 0; i-- {
		cell, j := int(keys[i]>>32), uint32(keys[i])
		end := c.offs[cell+1]
		run := o - end
		copy(c.folds[w-run:w], c.folds[end:o])
		copy(c.imgs[w-run:w], c.imgs[end:o])
		w -= run + 1
		o = end
		c.folds[w] = uint32(bits.RotateLeft64(ph[j], -at2))
		c.imgs[w] = pi[j]
	}
	// Boundaries: bucket k starts after the pending entries of the
	// buckets before it.
	p := uint32(0)
	for k := range cells + 1 {
		for int(p) < len(keys) && int(keys[p]>>32) < k {
			p++
		}
		c.offs[k] += p
	}
}

// extend returns s lengthened to n, its contents kept, reallocated with
// room to grow when too small.
func extend(s []uint32, n int) []uint32 {
	if cap(s) < n {
		t := make([]uint32, n, n+n/4)
		copy(t, s)
		return t
	}
	return s[:n]
}

// probe is one bucket to scan: band b's entries lo … hi−1, and the fold
// and the largest fold distance that can still be within the threshold.
type probe struct {
	lo, hi uint32
	f      uint32
	max    int16
	b      uint8
}

// each calls fn for every image that may hold, in the lists of group g
// set in mask, a hash within distance maxD of h (a superset); fn may see
// an image more than once. ps is scratch space, kept by the caller so
// the probes of one lookup need no allocation. The result only keeps the
// compiler from dropping the touching loads.
//
// It first gathers every bucket to scan and touches their first entries,
// loads that do not depend on each other and so overlap, and only then
// scans them; then the pending hashes.
func (x *imageIndex) each(g int, mask uint, h uint64, maxD int, ps *[]probe, fn func(img uint32)) uint32 {
	gr := &x.groups[g]
	n, lay := groupLists[g], groupLayout[g]
	var touch uint32
	if gr.n > 0 {
		vs, fs := lay.bands(h)
		p := (*ps)[:0]
		for b := range lay.n {
			offs := gr.bands[b].offs
			f := fs[b]
			add := func(v uint32, d int) {
				for l := range n {
					if mask>>l&1 != 0 {
						k := int(v)*n + l
						if lo, hi := offs[k], offs[k+1]; hi > lo {
							p = append(p, probe{lo, hi, f, int16(maxD - d), uint8(b)})
						}
					}
				}
			}
			v := vs[b]
			add(v, 0)
			if lay.radius[b] == 0 {
				continue
			}
			for i := range lay.bits[b] {
				vi := v ^ 1<<i
				add(vi, 1)
				if lay.radius[b] >= 2 {
					for j := i + 1; j < lay.bits[b]; j++ {
						add(vi^1<<j, 2)
					}
				}
			}
		}
		*ps = p
		// Touch every cache line of the buckets (16 folds each), not only
		// the first: a bucket at a million adverts spans several lines,
		// and misses issued together overlap where a scan would take
		// them one after the other.
		for i := range p {
			folds := gr.bands[p[i].b].folds
			for k := p[i].lo; k < p[i].hi; k += 16 {
				touch ^= folds[k]
			}
		}
		for i := range p {
			c := &gr.bands[p[i].b]
			f, m := p[i].f, int(p[i].max)
			lo := p[i].lo
			for j, y := range c.folds[lo:p[i].hi] {
				if bits.OnesCount32(y^f) <= m {
					fn(c.imgs[lo+uint32(j)])
				}
			}
		}
	}
	for l := range n {
		if mask>>l&1 == 0 {
			continue
		}
		for i, y := range gr.pendH[l] {
			if bits.OnesCount64(y^h) <= maxD {
				fn(gr.pendI[l][i])
			}
		}
	}
	return touch
}

// put files image img (hashes h), as a copy when an image with the same
// hashes is filed (h must not change afterwards: profiles' hashes do not).
func (x *imageIndex) put(h *ImageHash, img uint32) {
	if x.reps == nil {
		x.reps, x.copies = map[uint64]repImage{}, map[uint32][]uint32{}
	}
	k := hashKey(h)
	if r, ok := x.reps[k]; !ok {
		x.reps[k] = repImage{img, h}
	} else if sameHashes(r.h, h) {
		x.copies[r.img] = append(x.copies[r.img], img)
		return
	} // else: another image under the key, filed as it is (rare)
	if !h.robust() {
		x.add(grpV1, 0, h.PHash, img)
		if h.HasMirror {
			x.add(grpV1, 1, h.Mirror, img)
		}
		return
	}
	x.add(grpRV1, 0, h.PHash, img)
	if h.HasMirror {
		x.add(grpRV1, 1, h.Mirror, img)
	}
	for i, s := range h.Scales {
		x.add(grpS, i/2, s, img)
	}
	for _, g := range h.Grid {
		x.add(grpG, 0, g, img)
	}
	for _, i := range shiftScales {
		x.add(grpC, 0, h.Scales[2*i], img)
	}
}

// hashKey folds the hashes the rules compare into one key.
func hashKey(h *ImageHash) uint64 {
	k := h.PHash*0x9e3779b97f4a7c15 ^ h.Mirror
	if h.HasMirror {
		k ^= 0x5851f42d4c957f2d
	}
	for _, v := range h.Scales {
		k = bits.RotateLeft64(k, 23)*0x9e3779b97f4a7c15 ^ v
	}
	for _, v := range h.Grid {
		k = bits.RotateLeft64(k, 29)*0xbf58476d1ce4e5b9 ^ v
	}
	return k
}

// sameHashes reports whether a and b have the same hashes (so match the
// same images).
func sameHashes(a, b *ImageHash) bool {
	return a.PHash == b.PHash && a.Mirror == b.Mirror && a.HasMirror == b.HasMirror &&
		slices.Equal(a.Scales, b.Scales) && slices.Equal(a.Grid, b.Grid)
}

// copiesOf returns the copies of representative img (none when img is
// no representative or has none).
func (x *imageIndex) copiesOf(img uint32) []uint32 { return x.copies[img] }

// lookup calls fn for every image in the index that may match h (a
// superset of ImagesMatch; fn may see an image more than once), copies
// included. ps is scratch space for the probes, kept by the caller.
func (x *imageIndex) lookup(h *ImageHash, ps *[]probe, fn func(img uint32)) {
	x.lookupReps(h, ps, func(img uint32) {
		fn(img)
		for _, c := range x.copies[img] {
			fn(c)
		}
	})
}

// lookupReps is lookup without the copies: fn sees the representatives
// (and the images filed as they are), and the caller decides each for
// its copies (copiesOf).
func (x *imageIndex) lookupReps(h *ImageHash, ps *[]probe, fn func(img uint32)) {
	v1 := func(g int, mask uint, q uint64) { x.each(g, mask, q, MaxImageDistance, ps, fn) }
	rob := func(g int, mask uint, q uint64) { x.each(g, mask, q, MaxRobustDistance, ps, fn) }
	// pHash against pHashes and mirrors, mirror against pHashes.
	if !h.robust() {
		v1(grpV1, 3, h.PHash)
		v1(grpRV1, 3, h.PHash)
		if h.HasMirror {
			v1(grpV1, 1, h.Mirror)
			v1(grpRV1, 1, h.Mirror)
		}
		return
	}
	v1(grpV1, 3, h.PHash)
	if h.HasMirror {
		v1(grpV1, 1, h.Mirror)
	}
	for i, s := range h.Scales {
		sc := i / 2
		// scales sc−1 … sc+1
		rob(grpS, (7<<sc>>1)&(1<<NumScales-1), s)
	}
	for _, i := range shiftScales {
		rob(grpG, 1, h.Scales[2*i])
	}
	for _, g := range h.Grid {
		rob(grpC, 1, g)
	}
}
