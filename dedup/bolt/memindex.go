package bolt

import "math/bits"

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
// value holds one entry list per kind side by side, so one probe (a cache
// miss, which is what a lookup mostly costs) serves them all. A pHash and
// a mirror pHash share one list: the lookup then also meets mirror–mirror
// pairs, which ImagesMatch drops, for half the probes.
type imageIndex struct {
	groups [nGroups]group
}

// Groups and the kinds in them (list numbers).
const (
	grpV1  = iota // p and m, in one list
	grpRV1        // P and M, in one list
	grpS          // S0–S3
	grpG          // G
	grpC          // C
	nGroups
)

var groupLists = [nGroups]int{1, 1, NumScales, 1, 1}

type group struct {
	// cells[b][v*n+l] is list l of band b's value v; nil until used.
	cells [maxBands][]bucket
}

type bucket []entry

// entry is one hash filed under one of its bands: fold holds the 32 bits
// of the hash that follow the band, and img the image (an index into
// state.imgs). Distance on those bits plus distance in the band is at
// most the hashes' distance, so it is a safe filter.
type entry struct {
	fold uint32
	img  uint32
}

// Multi-index hashing: a hash is cut into bands. A hash pair within
// distance R differs by at most radius[b] bits in some band b when
// Σ (radius[b]+1) > R, so probing every value within radius[b] of each
// band finds every pair within R. A band of k bits costs 1 probe at
// radius 0, 1+k at radius 1 and 1+k+k(k−1)/2 at radius 2, and each probe
// selects about 2^−k of the entries. A probe mostly costs a cache miss
// and an entry a nanosecond, which sets the layouts:
type bandLayout struct {
	n      int
	bits   [maxBands]int
	radius [maxBands]int
}

const maxBands = 5

var (
	// v1 kinds (pHash ≤ MaxImageDistance = 8): bands of 13, 13, 13, 13
	// and 12 bits at radius 1, 1, 1, 1, 0 (2+2+2+2+1 = 9 > 8): 57 probes
	// selecting ≈ 0.7 % of the entries per query hash.
	layoutV1 = bandLayout{4, [maxBands]int{16, 16, 16, 16}, [maxBands]int{2, 1, 1, 1}}
	// robust kinds (≤ MaxRobustDistance = 10): four bands of 16 bits at
	// radius 2, 2, 2, 1 (3+3+3+2 = 11 > 10): 428 probes selecting
	// ≈ 0.65 %.
	layoutRobust = bandLayout{4, [maxBands]int{16, 16, 16, 16}, [maxBands]int{2, 2, 2, 1}}

	groupLayout = [nGroups]*bandLayout{&layoutV1, &layoutV1, &layoutRobust, &layoutRobust, &layoutRobust}
)

// These fail to compile if the radii stop covering the thresholds.
var (
	_ = [1]struct{}{}[3+2+2+2-1-MaxImageDistance]
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
	n, lay := groupLists[g], groupLayout[g]
	vs, fs := lay.bands(h)
	for b := range lay.n {
		cells := x.groups[g].cells[b]
		if cells == nil {
			cells = make([]bucket, n<<lay.bits[b])
			x.groups[g].cells[b] = cells
		}
		c := int(vs[b])*n + l
		cells[c] = append(cells[c], entry{fs[b], img})
	}
}

// probe is one list to scan: its entries, and the fold and the largest
// fold distance that can still be within the threshold.
type probe struct {
	list bucket
	f    uint32
	max  int
}

// each calls fn for every image that may hold, in the lists of group g
// set in mask, a hash within distance maxD of h (a superset); fn may see
// an image more than once. The result only keeps the compiler from
// dropping the touching loads.
//
// A probe's cost is two cache misses (the list header, then its
// entries), so each first gathers every list to scan and touches their
// first entries, loads that do not depend on each other and so overlap,
// and only then scans them.
func (x *imageIndex) each(g int, mask uint, h uint64, maxD int, fn func(img uint32)) uint32 {
	n, lay := groupLists[g], groupLayout[g]
	vs, fs := lay.bands(h)
	var buf [512]probe
	ps := buf[:0]
	for b := range lay.n {
		cells := x.groups[g].cells[b]
		if cells == nil {
			continue
		}
		f := fs[b]
		add := func(v uint32, d int) {
			for l := range n {
				if mask>>l&1 != 0 {
					if list := cells[int(v)*n+l]; len(list) > 0 {
						ps = append(ps, probe{list, f, maxD - d})
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
	var touch uint32
	for _, p := range ps {
		touch ^= p.list[0].fold
	}
	for _, p := range ps {
		for _, e := range p.list {
			if bits.OnesCount32(e.fold^p.f) <= p.max {
				fn(e.img)
			}
		}
	}
	return touch
}

// put files image img (hashes h).
func (x *imageIndex) put(h *ImageHash, img uint32) {
	if !h.robust() {
		x.add(grpV1, 0, h.PHash, img)
		if h.HasMirror {
			x.add(grpV1, 0, h.Mirror, img)
		}
		return
	}
	x.add(grpRV1, 0, h.PHash, img)
	if h.HasMirror {
		x.add(grpRV1, 0, h.Mirror, img)
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

// lookup calls fn for every image in the index that may match h (a
// superset of ImagesMatch; fn may see an image more than once).
func (x *imageIndex) lookup(h *ImageHash, fn func(img uint32)) {
	v1 := func(g int, mask uint, q uint64) { x.each(g, mask, q, MaxImageDistance, fn) }
	rob := func(g int, mask uint, q uint64) { x.each(g, mask, q, MaxRobustDistance, fn) }
	if !h.robust() {
		v1(grpV1, 1, h.PHash)
		v1(grpRV1, 1, h.PHash)
		if h.HasMirror {
			v1(grpV1, 1, h.Mirror)
			v1(grpRV1, 1, h.Mirror)
		}
		return
	}
	v1(grpV1, 1, h.PHash)
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
