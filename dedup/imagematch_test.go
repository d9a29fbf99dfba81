package dedup_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"adcensus/crawler/demoarena"
	"adcensus/dedup"
	"adcensus/dedup/bolt"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The image-match harness: real photos (the demo arena tiles, whole and in
// quarters, like dedup/synth's base photos) put through the transforms of
// a repost — border crop ≤ 10 % a side, rescale 70–130 %, mirror (1 in 7),
// brightness ±8 % and tint ±4 % a channel, a corner stamp, JPEG quality
// 55–92 — several copies of each. Same-photo pairs are the copies of one
// base, different-photo pairs all copies of different bases. The training
// split uses the even tiles and seed 1, the held-out split the odd tiles
// and seed 2: no photo and no transform draw is shared.

type matchSplit struct {
	name   string
	hashes []bolt.ImageHash
	base   []int
}

type stampStyle struct {
	text   string
	logo   bool
	corner int
	ink    color.NRGBA
}

var harnessStamps = []stampStyle{
	{"", false, -1, color.NRGBA{}},
	{"sunnanvind", false, 3, color.NRGBA{250, 250, 250, 255}},
	{"K", true, 0, color.NRGBA{200, 40, 90, 255}},
	{"morgonbris", false, 0, color.NRGBA{255, 220, 120, 255}},
	{"L", true, 3, color.NRGBA{30, 110, 200, 255}},
	{"stadsljus", false, 2, color.NRGBA{255, 255, 255, 255}},
}

func harnessStamp(img *image.RGBA, s stampStyle) {
	if s.corner < 0 {
		return
	}
	b := img.Bounds()
	bw, bh := 7*len(s.text)+6, 16
	if s.logo {
		bw, bh = 22, 22
	}
	const margin = 4
	x0, y0 := b.Min.X+margin, b.Min.Y+margin
	if s.corner == 1 || s.corner == 3 {
		x0 = b.Max.X - margin - bw
	}
	if s.corner >= 2 {
		y0 = b.Max.Y - margin - bh
	}
	box := image.Rect(x0, y0, x0+bw, y0+bh)
	ink := s.ink
	if s.logo {
		draw.Draw(img, box, image.NewUniform(color.NRGBA{s.ink.R, s.ink.G, s.ink.B, 210}), image.Point{}, draw.Over)
		ink = color.NRGBA{255, 255, 255, 255}
	} else {
		draw.Draw(img, box, image.NewUniform(color.NRGBA{0, 0, 0, 120}), image.Point{}, draw.Over)
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: basicfont.Face7x13}
	tw := d.MeasureString(s.text).Round()
	d.Dot = fixed.P(x0+(bw-tw)/2, y0+(bh+10)/2)
	d.DrawString(s.text)
}

// repost applies one random set of transforms to base and encodes it.
func repost(tb testing.TB, r *rand.Rand, base *image.RGBA) []byte {
	b := base.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	var crop [4]float64
	for i := range crop {
		if r.IntN(2) == 0 {
			crop[i] = 0.10 * r.Float64()
		}
	}
	cr := image.Rect(int(w*crop[0]), int(h*crop[1]), b.Dx()-int(w*crop[2]), b.Dy()-int(h*crop[3]))
	scale := 0.7 + 0.6*r.Float64()
	dw := max(16, int(math.Round(float64(cr.Dx())*scale)))
	dh := max(16, int(math.Round(float64(cr.Dy())*scale)))
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.BiLinear.Scale(dst, dst.Bounds(), base, cr, draw.Src, nil)
	if r.IntN(7) == 0 {
		dst = mirroredFast(dst)
	}
	if r.IntN(2) == 0 {
		bright := 0.16*r.Float64() - 0.08
		var lut [3][256]uint8
		for c := range 3 {
			f := 1 + bright + 0.08*r.Float64() - 0.04
			for x := range 256 {
				lut[c][x] = uint8(min(255, max(0, math.Round(float64(x)*f))))
			}
		}
		for i := 0; i < len(dst.Pix); i += 4 {
			for c := range 3 {
				dst.Pix[i+c] = lut[c][dst.Pix[i+c]]
			}
		}
	}
	harnessStamp(dst, harnessStamps[r.IntN(len(harnessStamps))])
	return MustJPEG(tb, dst, 55+r.IntN(38))
}

func mirroredFast(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(b)
	w := b.Dx()
	for y := range b.Dy() {
		for x := range w {
			copy(dst.Pix[y*dst.Stride+4*(w-1-x):][:4], src.Pix[y*src.Stride+4*x:][:4])
		}
	}
	return dst
}

// harnessBases returns the base photos of tiles i with i%2 == parity:
// each whole tile and its four quarters, 240×180.
func harnessBases(tb testing.TB, parity, maxTiles int) []*image.RGBA {
	tb.Helper()
	var out []*image.RGBA
	for i, n := range demoarena.PhotoNames() {
		if i%2 != parity {
			continue
		}
		if maxTiles > 0 && len(out) >= 5*maxTiles {
			break
		}
		data, err := demoarena.PhotoJPEG(n)
		if err != nil {
			tb.Fatal(err)
		}
		src, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			tb.Fatal(err)
		}
		sb := src.Bounds()
		rects := []image.Rectangle{sb}
		hw, hh := sb.Dx()/2, sb.Dy()/2
		for q := range 4 {
			x, y := sb.Min.X+(q%2)*hw, sb.Min.Y+(q/2)*hh
			rects = append(rects, image.Rect(x, y, x+hw, y+hh))
		}
		for _, rc := range rects {
			dst := image.NewRGBA(image.Rect(0, 0, 240, 180))
			draw.CatmullRom.Scale(dst, dst.Bounds(), src, rc, draw.Src, nil)
			out = append(out, dst)
		}
	}
	return out
}

// parseHashes turns HashImage's output into what the rules compare.
func parseHashes(tb testing.TB, m map[string]string) bolt.ImageHash {
	tb.Helper()
	p, err1 := strconv.ParseUint(m[dedup.HashPHash], 16, 64)
	q, err2 := strconv.ParseUint(m[dedup.HashPHashMirror], 16, 64)
	s, err3 := dedup.ParseHashList(m[dedup.HashCentres], 2*bolt.NumScales)
	g, err4 := dedup.ParseHashList(m[dedup.HashShifts], 2*bolt.NumTiles)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			tb.Fatalf("bad hashes %v: %v", m, err)
		}
	}
	return bolt.ImageHash{PHash: p, Mirror: q, HasMirror: true, Scales: s, Grid: g}
}

func makeSplit(tb testing.TB, name string, parity int, seed uint64, copies, maxTiles int) matchSplit {
	tb.Helper()
	bases := harnessBases(tb, parity, maxTiles)
	r := rand.New(rand.NewPCG(seed, 0x1a6e))
	var data [][]byte
	sp := matchSplit{name: name}
	for bi, b := range bases {
		for range copies {
			data = append(data, repost(tb, r, b))
			sp.base = append(sp.base, bi)
		}
	}
	sp.hashes = make([]bolt.ImageHash, len(data))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				h, err := dedup.HashImage(data[i], dedup.ImageLimits{})
				if err != nil {
					panic(err)
				}
				sp.hashes[i] = parseHashes(tb, h)
			}
		})
	}
	for i := range data {
		next <- i
	}
	close(next)
	wg.Wait()
	return sp
}

// pairCounts counts the same-photo pairs a rule matches (tp of pos) and
// the different-photo pairs it matches (fp of neg).
func pairCounts(sp matchSplit, rule func(a, b *bolt.ImageHash) bool) (tp, pos, fp, neg int) {
	for i := range sp.hashes {
		for j := i + 1; j < len(sp.hashes); j++ {
			m := rule(&sp.hashes[i], &sp.hashes[j])
			if sp.base[i] == sp.base[j] {
				pos++
				if m {
					tp++
				}
			} else {
				neg++
				if m {
					fp++
				}
			}
		}
	}
	return tp, pos, fp, neg
}

func plainPHash(t int) func(a, b *bolt.ImageHash) bool {
	return func(a, b *bolt.ImageHash) bool {
		d, _ := bolt.ImageDistance(bolt.ImageHash{PHash: a.PHash, Mirror: a.Mirror, HasMirror: true},
			bolt.ImageHash{PHash: b.PHash, Mirror: b.Mirror, HasMirror: true})
		return d <= t
	}
}

func scaleRule(t int) func(a, b *bolt.ImageHash) bool {
	return func(a, b *bolt.ImageHash) bool {
		d, _, _ := bolt.ScaleDistance(a, b)
		return d <= t
	}
}

func shiftRule(t int) func(a, b *bolt.ImageHash) bool {
	return func(a, b *bolt.ImageHash) bool { return bolt.ShiftDistance(a, b) <= t }
}

func bothRule(t int) func(a, b *bolt.ImageHash) bool {
	return func(a, b *bolt.ImageHash) bool {
		d, _, _ := bolt.ScaleDistance(a, b)
		return min(d, bolt.ShiftDistance(a, b)) <= t
	}
}

// TestImageMatchQuality prints recall of same-photo pairs and the
// false-match rate (FMR) of different-photo pairs for plain pHash and the
// robust rules, on the training and the held-out split, and checks the
// rule in force (bolt.SameImage) on the held-out split. Set
// IMAGEMATCH_FULL=1 for every tile (about 1.3 M different-photo pairs a
// split) and the threshold sweep; the default uses fewer tiles.
func TestImageMatchQuality(t *testing.T) {
	full := os.Getenv("IMAGEMATCH_FULL") != ""
	maxTiles, copies := 24, 3
	if raceEnabled {
		maxTiles = 8
	}
	if full {
		maxTiles, copies = 0, 4
	}
	train := makeSplit(t, "train (even tiles, seed 1)", 0, 1, copies, maxTiles)
	test := makeSplit(t, "held-out (odd tiles, seed 2)", 1, 2, copies, maxTiles)
	type row struct {
		name string
		rule func(a, b *bolt.ImageHash) bool
	}
	rows := []row{
		{"pHash ≤ 8 (v1)", plainPHash(8)},
		{"pHash ≤ 12", plainPHash(12)},
		{fmt.Sprintf("centres only ≤ %d", bolt.MaxRobustDistance), scaleRule(bolt.MaxRobustDistance)},
		{fmt.Sprintf("shifted windows only ≤ %d", bolt.MaxRobustDistance), shiftRule(bolt.MaxRobustDistance)},
		{"robust (in force)", func(a, b *bolt.ImageHash) bool { ok, _ := bolt.SameImage(a, b); return ok }},
	}
	if full {
		for _, ts := range []int{6, 8, 10, 12, 14} {
			rows = append(rows, row{fmt.Sprintf("sweep centres or shifted ≤ %d", ts), bothRule(ts)})
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\n| rule | split | recall (same-photo pairs) | FMR (different-photo pairs) |\n| --- | --- | --- | --- |\n")
	var heldRecall, heldFMR float64
	for _, rw := range rows {
		for _, sp := range []matchSplit{train, test} {
			tp, pos, fp, neg := pairCounts(sp, rw.rule)
			rec, fmr := float64(tp)/float64(pos), float64(fp)/float64(neg)
			fmt.Fprintf(&out, "| %s | %s | %.3f (%d/%d) | %.1e (%d/%d) |\n", rw.name, sp.name, rec, tp, pos, fmr, fp, neg)
			if rw.name == "robust (in force)" && sp.name == test.name {
				heldRecall, heldFMR = rec, fmr
			}
		}
	}
	t.Log(out.String())
	if heldRecall < 0.85 {
		t.Errorf("held-out recall %.3f, want ≥ 0.85", heldRecall)
	}
	if heldFMR > 1e-3 {
		t.Errorf("held-out FMR %.1e, want ≤ 1e-3", heldFMR)
	}
}
