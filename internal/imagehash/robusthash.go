package imagehash

import (
	"fmt"
	"image"
	"math"
	"sync"

	"github.com/corona10/goimagehash"
)

// Robust image hash kinds written by Hash beside the goimagehash
// kinds. Each is a list of 64-bit hashes, 16 hex digits each, concatenated
// without separator: for every region its pHash and then the pHash of the
// region mirrored. They are computed by this package (a DCT pHash of the
// region averaged to a 32×32 grey: the 8×8 lowest frequencies but DC
// against their median) and are not comparable with goimagehash's. The
// grey is histogram-equalised first, so brightness, contrast and colour
// shifts change little.
const (
	// Centres holds the regions centred in the image with sides
	// CentreScales (1 = the whole image): a border crop of one copy is met
	// by a smaller centre region of the other, and the smaller centres
	// leave out most of a corner watermark. 2 × len(CentreScales) hashes.
	Centres = "phash_centres"
	// Shifts holds GridSide×GridSide windows of side 80 %, row by row,
	// the middle one centred and the others shifted by 5 % each way: a
	// copy cropped more on one side than the other has its centre moved.
	// 2 × GridSide² hashes.
	Shifts = "phash_shifts"
)

// CentreScales are the sides, as fractions of the image, of the centred
// regions hashed into Centres: about 15 % apart.
var CentreScales = [...]float64{1, 0.86, 0.74, 0.64}

// GridSide is the number of windows per row and column of Shifts:
// windows of side gridSide whose corners step by gridStep from gridStart,
// so the middle one is centred and the others shifted by ±gridStep.
const (
	GridSide  = 3
	gridSide  = 0.8
	gridStart = 0.05
	gridStep  = 0.05
)

const (
	dctN    = 32 // side of the grey a region is sampled to
	dctKeep = 8  // lowest frequencies kept each way
	pN      = 64 // side of the grey goimagehash's pHash is taken of
)

// cos32[u][x] is the DCT-II basis cos(π(2x+1)u / 2·dctN) for u < dctKeep
// and the first half of x: the second half mirrors it, with the sign of
// (-1)^u.
var cos32 = func() (t [dctKeep][dctN / 2]float32) {
	for u := range dctKeep {
		for x := range dctN / 2 {
			t[u][x] = float32(math.Cos(math.Pi * float64(2*x+1) * float64(u) / (2 * dctN)))
		}
	}
	return t
}()

// cos64 is cos32 for a side of pN, in float64 as goimagehash computes.
var cos64 = func() (t [dctKeep][pN / 2]float64) {
	for u := range dctKeep {
		for x := range pN / 2 {
			t[u][x] = math.Cos(math.Pi * float64(2*x+1) * float64(u) / (2 * pN))
		}
	}
	return t
}()

// lumaPlane is an 8-bit grey image: row y is pix[y*stride:][:w].
type lumaPlane struct {
	w, h, stride int
	pix          []uint8
}

// imgScratch holds the buffers of one Hash call, reused through
// scratchPool so that hashing allocates little.
type imgScratch struct {
	planeBuf, rowBuf []uint8
	colSum           []uint32
	eqSum, rawSum    []uint32
	gray9            image.Gray
}

var scratchPool = sync.Pool{New: func() any { return new(imgScratch) }}

// integral is a summed-area table: s[y*stride+x] is the sum of the pixels
// above and left of (x, y), stride = w+1. Sums are uint32 and wrap; a
// box of a plane of at most 256×256 pixels of 16 bits still fits, so box
// sums computed by subtraction are exact.
type integral struct {
	w, h, stride int
	s            []uint32
}

// imageHashes are the values Hash writes.
type imageHashes struct {
	phash, mirror, dhash uint64
	centres              [2 * len(CentreScales)]uint64
	shifts               [2 * GridSide * GridSide]uint64
}

// hashPlane computes every hash of a luma plane of at most 256×256.
//
// The plane's histogram gives the equalisation table (every grey level is
// replaced by its mid-rank among all pixels, 0…65535); one pass then
// builds two summed-area tables, of the equalised and of the raw grey, so
// that the box average of any cell costs two to four look-ups whatever
// its size.
// From the raw table: a 64×64 grey for PHash and PHashMirror and a
// 9×8 grey for goimagehash's DHash. From the equalised table: each
// region of Centres and Shifts averaged to 32×32.
func (st *imgScratch) hashPlane(p lumaPlane) (imageHashes, error) {
	var out imageHashes
	eq, raw := st.integrals(p)

	var g64 [pN * pN]float32
	raw.sample([4]float64{0, 0, 1, 1}, pN, pN, g64[:])
	var q64 [pN * pN]uint8
	for i, v := range g64 {
		q64[i] = uint8(v + 0.5)
	}
	out.phash, out.mirror = goPHash(&q64)

	var g9 [9 * 8]float32
	raw.sample([4]float64{0, 0, 1, 1}, 9, 8, g9[:])
	st.gray9.Pix = grow(st.gray9.Pix, len(g9))
	st.gray9.Stride, st.gray9.Rect = 9, image.Rect(0, 0, 9, 8)
	for i, v := range g9 {
		st.gray9.Pix[i] = uint8(v + 0.5)
	}
	dh, err := goimagehash.DifferenceHash(&st.gray9)
	if err != nil {
		return out, fmt.Errorf("dhash: %w", err)
	}
	out.dhash = dh.GetHash()

	var buf [dctN * dctN]float32
	for i, s := range CentreScales {
		m := (1 - s) / 2
		eq.sample([4]float64{m, m, 1 - m, 1 - m}, dctN, dctN, buf[:])
		out.centres[2*i], out.centres[2*i+1] = pHash(&buf)
	}
	for r := range GridSide {
		for c := range GridSide {
			x0, y0 := gridStart+float64(c)*gridStep, gridStart+float64(r)*gridStep
			eq.sample([4]float64{x0, y0, x0 + gridSide, y0 + gridSide}, dctN, dctN, buf[:])
			k := 2 * (r*GridSide + c)
			out.shifts[k], out.shifts[k+1] = pHash(&buf)
		}
	}
	return out, nil
}

// integrals returns the summed-area tables of the histogram-equalised
// and of the raw plane.
func (st *imgScratch) integrals(p lumaPlane) (eq, raw integral) {
	var hist [4][256]uint32 // four banks: repeated levels do not stall
	for y := range p.h {
		row := p.pix[y*p.stride : y*p.stride+p.w]
		x := 0
		for ; x+4 <= len(row); x += 4 {
			hist[0][row[x]]++
			hist[1][row[x+1]]++
			hist[2][row[x+2]]++
			hist[3][row[x+3]]++
		}
		for ; x < len(row); x++ {
			hist[0][row[x]]++
		}
	}
	var lut [256]uint32
	n := uint64(p.w * p.h)
	var cum uint64
	for v := range 256 {
		c := uint64(hist[0][v] + hist[1][v] + hist[2][v] + hist[3][v])
		// Mid-rank of the level, (cum + c/2) / n, scaled to 0…65535.
		lut[v] = uint32(((2*cum+c)*65535 + n) / (2 * n))
		cum += c
	}
	stride := p.w + 1
	size := stride * (p.h + 1)
	st.eqSum, st.rawSum = grow(st.eqSum, size), grow(st.rawSum, size)
	es, rs := st.eqSum, st.rawSum
	clear(es[:stride])
	clear(rs[:stride])
	for y := range p.h {
		row := p.pix[y*p.stride : y*p.stride+p.w]
		o := (y + 1) * stride
		es[o], rs[o] = 0, 0
		ce, cr := es[o+1:o+stride], rs[o+1:o+stride]
		pe, pr := es[o+1-stride : o][:len(ce)], rs[o+1-stride : o][:len(ce)]
		cr, row = cr[:len(ce)], row[:len(ce)]
		var se, sr uint32
		for x := range ce {
			v := row[x]
			se += lut[v]
			sr += uint32(v)
			ce[x] = pe[x] + se
			cr[x] = pr[x] + sr
		}
	}
	return integral{p.w, p.h, stride, es}, integral{p.w, p.h, stride, rs}
}

// cellBounds splits [f0, f1) (fractions of size) into n cells of whole
// pixels, each at least one pixel wide: cell i is [lo[i], hi[i]).
func cellBounds(f0, f1 float64, size, n int, lo, hi []int) {
	a, span := f0*float64(size), (f1-f0)*float64(size)
	prev := min(size, int(math.Round(a)))
	for i := range n {
		next := min(size, int(math.Round(a+span*float64(i+1)/float64(n))))
		x1 := min(size, max(next, prev+1))
		lo[i], hi[i] = min(prev, x1-1), x1
		prev = next
	}
}

// sample averages the region r (fractions of the image: x0, y0, x1, y1)
// into nx×ny cells, row by row into out.
func (ig integral) sample(r [4]float64, nx, ny int, out []float32) {
	var x0, x1, y0, y1 [pN]int
	var invW [pN]float32
	cellBounds(r[0], r[2], ig.w, nx, x0[:nx], x1[:nx])
	cellBounds(r[1], r[3], ig.h, ny, y0[:ny], y1[:ny])
	for i := range nx {
		invW[i] = 1 / float32(x1[i]-x0[i])
	}
	// Cells that tile the row (no cell narrower than a pixel) share their
	// edges: take the column sums of the cell row once per edge.
	tiled := true
	for i := 1; i < nx; i++ {
		tiled = tiled && x0[i] == x1[i-1]
	}
	var edge [pN + 1]int
	copy(edge[:nx], x0[:nx])
	edge[nx] = x1[nx-1]
	s := ig.s
	for cy := range ny {
		a := s[y0[cy]*ig.stride : (y0[cy]+1)*ig.stride]
		b := s[y1[cy]*ig.stride : (y1[cy]+1)*ig.stride]
		invH := 1 / float32(y1[cy]-y0[cy])
		o := out[cy*nx : (cy+1)*nx]
		if tiled {
			prev := b[edge[0]] - a[edge[0]]
			for cx := range o {
				e := edge[cx+1]
				next := b[e] - a[e]
				o[cx] = float32(next-prev) * invW[cx] * invH
				prev = next
			}
			continue
		}
		for cx := range o {
			l, h := x0[cx], x1[cx]
			d := b[h] - a[h] - b[l] + a[l]
			o[cx] = float32(d) * invW[cx] * invH
		}
	}
}

// lowDCT32 returns the dctKeep×dctKeep lowest frequencies of the 2-D
// DCT-II of a dctN×dctN grey, co[v*8+u] for vertical v and horizontal u:
// a row pass keeping 8 frequencies, then a column pass over those, each
// folding the symmetric halves of the basis first.
func lowDCT32(px *[dctN * dctN]float32) (co [dctKeep * dctKeep]float32) {
	var rows [dctKeep][dctN]float32 // rows[u][y]
	for y := range dctN {
		line := (*[dctN]float32)(px[y*dctN : (y+1)*dctN])
		var s, d [dctN / 2]float32
		for x := range dctN / 2 {
			a, b := line[x], line[dctN-1-x]
			s[x], d[x] = a+b, a-b
		}
		for u := 0; u < dctKeep; u += 2 {
			rows[u][y] = dot16(&s, &cos32[u])
			rows[u+1][y] = dot16(&d, &cos32[u+1])
		}
	}
	for u := range dctKeep {
		col := &rows[u]
		var s, d [dctN / 2]float32
		for y := range dctN / 2 {
			a, b := col[y], col[dctN-1-y]
			s[y], d[y] = a+b, a-b
		}
		for v := 0; v < dctKeep; v += 2 {
			co[v*dctKeep+u] = dot16(&s, &cos32[v])
			co[(v+1)*dctKeep+u] = dot16(&d, &cos32[v+1])
		}
	}
	return co
}

func dot16(a, b *[16]float32) float32 {
	s0 := a[0]*b[0] + a[4]*b[4] + a[8]*b[8] + a[12]*b[12]
	s1 := a[1]*b[1] + a[5]*b[5] + a[9]*b[9] + a[13]*b[13]
	s2 := a[2]*b[2] + a[6]*b[6] + a[10]*b[10] + a[14]*b[14]
	s3 := a[3]*b[3] + a[7]*b[7] + a[11]*b[11] + a[15]*b[15]
	return (s0 + s1) + (s2 + s3)
}

func dot32(a, b *[32]float64) float64 {
	var s0, s1, s2, s3 float64
	for i := 0; i < 32; i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}

// pHash returns the pHash of a dctN×dctN grey — the 8×8 lowest DCT
// frequencies but the DC, each compared with their median — and the pHash
// of its mirror image, whose coefficients of odd horizontal frequency
// change sign.
func pHash(px *[dctN * dctN]float32) (h, mirror uint64) {
	co := lowDCT32(px)
	co[0] = 0 // DC carries brightness only
	mco := co
	for v := range dctKeep {
		for u := 1; u < dctKeep; u += 2 {
			mco[v*dctKeep+u] = -mco[v*dctKeep+u]
		}
	}
	return bitsAboveMedian(&co), bitsAboveMedian(&mco)
}

// bitsAboveMedian sets bit 63-i for each co[i] above the median, the mean
// of the 32nd and 33rd smallest.
func bitsAboveMedian(co *[64]float32) uint64 {
	t := *co
	selectK(t[:], 32)
	lo := t[0]
	for _, v := range t[1:32] {
		lo = max(lo, v)
	}
	med := (lo + t[32]) / 2
	var h uint64
	for i, c := range co {
		if c > med {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// goPHash is goimagehash's PerceptionHash of a 64×64 grey (the 8×8 lowest
// frequencies of its DCT-II, DC included, each against about their
// median, bit 63-i for coefficient i = 8v+u), and the same of the grey
// mirrored. goimagehash computes a full 64×64 DCT; only these 64
// coefficients are needed. TestHashImageIsGoimagehash checks the
// values are goimagehash's.
func goPHash(px *[pN * pN]uint8) (h, mirror uint64) {
	var rows [dctKeep][pN]float64 // rows[u][y]
	for y := range pN {
		line := (*[pN]uint8)(px[y*pN : (y+1)*pN])
		var s, d [pN / 2]float64
		for x := range pN / 2 {
			a, b := float64(line[x]), float64(line[pN-1-x])
			s[x], d[x] = a+b, a-b
		}
		for u := 0; u < dctKeep; u += 2 {
			rows[u][y] = dot32(&s, &cos64[u])
			rows[u+1][y] = dot32(&d, &cos64[u+1])
		}
	}
	var co, mco [dctKeep * dctKeep]float64
	for u := range dctKeep {
		col := &rows[u]
		var s, d [pN / 2]float64
		for y := range pN / 2 {
			a, b := col[y], col[pN-1-y]
			s[y], d[y] = a+b, a-b
		}
		for v := 0; v < dctKeep; v += 2 {
			co[v*dctKeep+u] = dot32(&s, &cos64[v])
			co[(v+1)*dctKeep+u] = dot32(&d, &cos64[v+1])
		}
	}
	mco = co
	for v := range dctKeep {
		for u := 1; u < dctKeep; u += 2 {
			mco[v*dctKeep+u] = -mco[v*dctKeep+u]
		}
	}
	return bitsAboveGoMedian(&co), bitsAboveGoMedian(&mco)
}

// bitsAboveGoMedian sets bit 63-i for each co[i] above the threshold
// goimagehash compares with. That is not quite the median: goimagehash
// partitions a copy around the 33rd smallest value and then averages the
// values left at positions 31 and 32, the first of which need not be the
// 32nd smallest. goMedian repeats those steps so the hashes are equal.
func bitsAboveGoMedian(co *[64]float64) uint64 {
	med := goMedian(*co)
	var h uint64
	for i, c := range co {
		if c > med {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// goMedian is goimagehash's (v1.1.0) etcs.MedianOfPixelsFast64, step by
// step: Lomuto quickselect of position 32 with the pivot at lo/2+hi/2,
// then the mean of positions 31 and 32.
func goMedian(t [64]float64) float64 {
	const k = 32
	lo, hi := 0, len(t)-1
	for lo < hi {
		p := lo/2 + hi/2
		pv := t[p]
		store := lo
		t[p], t[hi] = t[hi], t[p]
		for i := lo; i < hi; i++ {
			if t[i] < pv {
				t[store], t[i] = t[i], t[store]
				store++
			}
		}
		t[hi], t[store] = t[store], t[hi]
		if k <= store {
			hi = store
		} else {
			lo = store + 1
		}
	}
	return t[k-1]/2 + t[k]/2
}

// selectK reorders a so that a[k] is its k-th smallest value (from 0),
// with no larger value before it and no smaller one after.
func selectK(a []float32, k int) {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		i, j := lo, hi
		for i <= j {
			for a[i] < pivot {
				i++
			}
			for a[j] > pivot {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

func hexList(hs []uint64) string {
	b := make([]byte, 16*len(hs))
	for i, h := range hs {
		putHex(b[16*i:], h)
	}
	return string(b)
}
