package dedup

import (
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"adcensus/ad"
)

// Robust image hash kinds written by HashImage beside the goimagehash
// kinds. Each is a list of 64-bit hashes, 16 hex digits each, concatenated
// without separator: for every region its pHash and then the pHash of the
// region mirrored. They are computed by this package (a DCT pHash of the
// region averaged to a 32×32 grey: the 8×8 lowest frequencies but DC
// against their median) and are not comparable with goimagehash's. The
// grey is histogram-equalised first, so brightness, contrast and colour
// shifts change little.
const (
	// HashCentres holds the regions centred in the image with sides
	// CentreScales (1 = the whole image): a border crop of one copy is met
	// by a smaller centre region of the other, and the smaller centres
	// leave out most of a corner watermark. 2 × len(CentreScales) hashes.
	HashCentres = "phash_centres"
	// HashShifts holds GridSide×GridSide windows of side 80 %, row by row,
	// the middle one centred and the others shifted by 5 % each way: a
	// copy cropped more on one side than the other has its centre moved.
	// 2 × GridSide² hashes.
	HashShifts = "phash_shifts"
)

// CentreScales are the sides, as fractions of the image, of the centred
// regions hashed into HashCentres: about 15 % apart.
var CentreScales = [...]float64{1, 0.86, 0.74, 0.64}

// GridSide is the number of windows per row and column of HashShifts:
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
)

// dctTable[u][x] is the DCT-II basis cos(π(2x+1)u / 2N), u < dctKeep.
var dctTable = func() (t [dctKeep][dctN]float32) {
	for u := range dctKeep {
		for x := range dctN {
			t[u][x] = float32(math.Cos(math.Pi * float64(2*x+1) * float64(u) / (2 * dctN)))
		}
	}
	return t
}()

// grey is a luma plane.
type grey struct {
	w, h int
	pix  []float32
}

// greyOf converts img to luma and equalises its histogram: every grey
// level is replaced by its rank (cumulative share) among all pixels.
func greyOf(img *image.RGBA) grey {
	b := img.Bounds()
	g := grey{w: b.Dx(), h: b.Dy(), pix: make([]float32, b.Dx()*b.Dy())}
	var hist [256]int
	lum := make([]uint8, len(g.pix))
	for y := range g.h {
		row := img.Pix[y*img.Stride : y*img.Stride+4*g.w]
		for x := range g.w {
			p := row[4*x : 4*x+3 : 4*x+3]
			// BT.601 luma in fixed point.
			l := uint8((19595*uint32(p[0]) + 38470*uint32(p[1]) + 7471*uint32(p[2]) + 1<<15) >> 16)
			lum[y*g.w+x] = l
			hist[l]++
		}
	}
	var lut [256]float32
	cum, n := 0, len(lum)
	for v, c := range hist {
		// Mid-rank of the level, in [0, 1].
		lut[v] = (float32(cum) + float32(c)/2) / float32(n)
		cum += c
	}
	for i, l := range lum {
		g.pix[i] = lut[l]
	}
	return g
}

// sample averages the region r (fractions of the image: x0, y0, x1, y1)
// into dctN×dctN cells.
func (g grey) sample(r [4]float64, out *[dctN * dctN]float32) {
	fx0, fy0 := r[0]*float64(g.w), r[1]*float64(g.h)
	fw, fh := (r[2]-r[0])*float64(g.w), (r[3]-r[1])*float64(g.h)
	var xs, ys [dctN + 1]int
	for i := range dctN + 1 {
		xs[i] = min(g.w, int(math.Round(fx0+fw*float64(i)/dctN)))
		ys[i] = min(g.h, int(math.Round(fy0+fh*float64(i)/dctN)))
	}
	for cy := range dctN {
		y0, y1 := ys[cy], max(ys[cy+1], ys[cy]+1)
		y1 = min(y1, g.h)
		y0 = min(y0, y1-1)
		for cx := range dctN {
			x0, x1 := xs[cx], max(xs[cx+1], xs[cx]+1)
			x1 = min(x1, g.w)
			x0 = min(x0, x1-1)
			var s float32
			for y := y0; y < y1; y++ {
				row := g.pix[y*g.w+x0 : y*g.w+x1]
				for _, v := range row {
					s += v
				}
			}
			out[cy*dctN+cx] = s / float32((y1-y0)*(x1-x0))
		}
	}
}

// pHash returns the pHash of a dctN×dctN grey — the 8×8 lowest DCT
// frequencies but the DC, each compared with their median — and the pHash
// of its mirror image, whose coefficients of odd horizontal frequency
// change sign.
func pHash(px *[dctN * dctN]float32) (h, mirror uint64) {
	var rows [dctN][8]float32
	for y := range dctN {
		line := px[y*dctN : (y+1)*dctN]
		for u := range 8 {
			basis := &dctTable[u]
			var s float32
			for x, v := range line {
				s += v * basis[x]
			}
			rows[y][u] = s
		}
	}
	var co, mco [64]float32
	for v := range 8 {
		basis := &dctTable[v]
		for u := range 8 {
			var s float32
			for y := range dctN {
				s += rows[y][u] * basis[y]
			}
			co[v*8+u] = s
			if u%2 == 1 {
				s = -s
			}
			mco[v*8+u] = s
		}
	}
	co[0], mco[0] = 0, 0 // DC carries brightness only
	return bitsAboveMedian(&co), bitsAboveMedian(&mco)
}

func bitsAboveMedian(co *[64]float32) uint64 {
	sorted := *co
	slices.Sort(sorted[:])
	med := (sorted[31] + sorted[32]) / 2
	var h uint64
	for i, c := range co {
		if c > med {
			h |= 1 << (63 - i)
		}
	}
	return h
}

// robustHashes computes HashCentres and HashShifts of a downscaled image.
func robustHashes(small *image.RGBA) (scales [2 * len(CentreScales)]uint64, grid [2 * GridSide * GridSide]uint64) {
	g := greyOf(small)
	var buf [dctN * dctN]float32
	for i, s := range CentreScales {
		m := (1 - s) / 2
		g.sample([4]float64{m, m, 1 - m, 1 - m}, &buf)
		scales[2*i], scales[2*i+1] = pHash(&buf)
	}
	for r := range GridSide {
		for c := range GridSide {
			x0, y0 := gridStart+float64(c)*gridStep, gridStart+float64(r)*gridStep
			g.sample([4]float64{x0, y0, x0 + gridSide, y0 + gridSide}, &buf)
			k := 2 * (r*GridSide + c)
			grid[k], grid[k+1] = pHash(&buf)
		}
	}
	return scales, grid
}

func hexList(hs []uint64) string {
	var b strings.Builder
	b.Grow(16 * len(hs))
	for _, h := range hs {
		fmt.Fprintf(&b, "%016x", h)
	}
	return b.String()
}

// ParseHashList parses a list kind (HashCentres, HashShifts): n
// hashes of 16 hex digits each.
func ParseHashList(s string, n int) ([]uint64, error) { return ad.ParseHashList(s, n) }
