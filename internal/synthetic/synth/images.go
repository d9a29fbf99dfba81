package synth

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/photoset"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Base photos. Every base is one pixel region of one bundled tile: the whole
// tile (level 1), a quarter of it (level 2) or a ninth (level 3), scaled to
// baseW×baseH. A tile is used at one level only, so no two bases share a
// pixel of the source photos; on top of that every kept base has at least
// MinBaseDistance bits of pHash distance to every other kept base, mirrored
// or not, and enough detail to be a usable photo.
const (
	baseW = 240
	baseH = 180
	// MinBaseDistance is the least pHash distance between two base photos
	// of the corpus (both orientations).
	MinBaseDistance = 16
	// minDetail is the least standard deviation of grey levels of a base.
	minDetail = 16
	maxLevel  = 3
)

type region struct{ tile, level, row, col int }

type baseHash struct {
	ph, mph uint64
	ok      bool // enough detail
}

// tiles holds the decoded demo tiles, shared read-only by the workers.
type tiles struct {
	names []string
	img   []image.Image
}

func loadTiles() (*tiles, error) {
	t := &tiles{names: photoset.Names()}
	t.img = make([]image.Image, len(t.names))
	for i, n := range t.names {
		data, err := photoset.JPEG(n)
		if err != nil {
			return nil, fmt.Errorf("tile %s: %w", n, err)
		}
		if t.img[i], err = jpeg.Decode(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("tile %s: %w", n, err)
		}
	}
	if len(t.img) == 0 {
		return nil, fmt.Errorf("no photo tiles")
	}
	return t, nil
}

// render returns the base photo of a region.
func (t *tiles) render(reg region) *image.RGBA {
	src := t.img[reg.tile]
	b := src.Bounds()
	w, h := b.Dx()/reg.level, b.Dy()/reg.level
	r := image.Rect(b.Min.X+reg.col*w, b.Min.Y+reg.row*h, b.Min.X+(reg.col+1)*w, b.Min.Y+(reg.row+1)*h)
	dst := image.NewRGBA(image.Rect(0, 0, baseW, baseH))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, r, draw.Src, nil)
	return dst
}

func detail(img *image.RGBA) float64 {
	var sum, sq float64
	n := 0
	for i := 0; i < len(img.Pix); i += 4 {
		y := 0.299*float64(img.Pix[i]) + 0.587*float64(img.Pix[i+1]) + 0.114*float64(img.Pix[i+2])
		sum += y
		sq += y * y
		n++
	}
	m := sum / float64(n)
	return math.Sqrt(max(0, sq/float64(n)-m*m))
}

func hashRGBA(img image.Image) (ph, mph uint64, err error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		return 0, 0, err
	}
	h, err := imagehash.Hash(buf.Bytes(), imagehash.Limits{})
	if err != nil {
		return 0, 0, err
	}
	if ph, err = strconv.ParseUint(h[imagehash.PHash], 16, 64); err != nil {
		return 0, 0, err
	}
	mph, err = strconv.ParseUint(h[imagehash.PHashMirror], 16, 64)
	return ph, mph, err
}

// pool chooses need base photos (see the comment on baseW). It splits tiles
// into finer regions, in an order drawn from r, until enough distinct bases
// are found.
func (t *tiles) pool(ctx context.Context, r *rand.Rand, need, workers int) ([]region, error) {
	n := len(t.img)
	level := make([]int, n)
	for i := range level {
		level[i] = 1
	}
	order := r.Perm(n)
	cache := map[region]baseHash{}
	for {
		var cands []region
		for i := range n {
			for row := range level[i] {
				for col := range level[i] {
					cands = append(cands, region{i, level[i], row, col})
				}
			}
		}
		var todo []region
		for _, c := range cands {
			if _, ok := cache[c]; !ok {
				todo = append(todo, c)
			}
		}
		hs := make([]baseHash, len(todo))
		if err := parallel(ctx, len(todo), workers, func(k int) error {
			img := t.render(todo[k])
			ph, mph, err := hashRGBA(img)
			if err != nil {
				return err
			}
			hs[k] = baseHash{ph, mph, detail(img) >= minDetail}
			return nil
		}); err != nil {
			return nil, err
		}
		for k, c := range todo {
			cache[c] = hs[k]
		}
		var kept []region
		var keptH []baseHash
		for _, c := range cands {
			h := cache[c]
			if !h.ok {
				continue
			}
			distinct := true
			for _, o := range keptH {
				if bits.OnesCount64(h.ph^o.ph) < MinBaseDistance || bits.OnesCount64(h.ph^o.mph) < MinBaseDistance {
					distinct = false
					break
				}
			}
			if distinct {
				kept = append(kept, c)
				keptH = append(keptH, h)
			}
		}
		if len(kept) >= need {
			r.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
			return kept[:need], nil
		}
		// Split more tiles: the coarsest first, in the drawn order.
		split := (need-len(kept))/3 + 1
		for lv := 1; lv < maxLevel && split > 0; lv++ {
			for _, i := range order {
				if split == 0 {
					break
				}
				if level[i] == lv {
					level[i]++
					split--
				}
			}
		}
		if split > 0 && len(cands) == n*maxLevel*maxLevel {
			return nil, fmt.Errorf("synth: only %d distinct base photos can be cut from %d tiles, %d needed: lower Persons or the photo shares", len(kept), n, need)
		}
	}
}

// variantSpec is one uploaded copy of a base photo: what the advertiser
// and the arena did to it.
type variantSpec struct {
	base    int
	arena   int
	name    string     // file name without folder
	crop    [4]float64 // left, top, right, bottom fractions
	scale   float64
	mirror  bool
	bright  float64
	tint    [3]float64
	quality int
	// Set by StyleVaried only (zero: not done): a vertical scale other
	// than scale, a rotation in degrees, a text banner across the photo.
	scaleY      float64
	rotate      float64
	banner      string
	bannerY     float64 // centre of the banner, fraction of the height
	bannerAlpha uint8
}

func newVariant(r *rand.Rand, base, arena int, name string) variantSpec {
	v := variantSpec{base: base, arena: arena, name: name}
	for i := range v.crop {
		if r.IntN(2) == 0 {
			v.crop[i] = 0.10 * r.Float64()
		}
	}
	v.scale = 0.7 + 0.6*r.Float64()
	v.mirror = r.IntN(7) == 0
	if r.IntN(2) == 0 {
		v.bright = 0.16*r.Float64() - 0.08
		for i := range v.tint {
			v.tint[i] = 0.08*r.Float64() - 0.04
		}
	}
	v.quality = 55 + r.IntN(38)
	return v
}

// apply renders the variant from its base photo and encodes it.
func (v *variantSpec) apply(base *image.RGBA) ([]byte, error) {
	b := base.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	cr := image.Rect(int(w*v.crop[0]), int(h*v.crop[1]), b.Dx()-int(w*v.crop[2]), b.Dy()-int(h*v.crop[3]))
	dw := max(16, int(math.Round(float64(cr.Dx())*v.scale)))
	sy := v.scale
	if v.scaleY != 0 {
		sy = v.scaleY
	}
	dh := max(16, int(math.Round(float64(cr.Dy())*sy)))
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.BiLinear.Scale(dst, dst.Bounds(), base, cr, draw.Src, nil)
	if v.mirror {
		for y := range dh {
			row := dst.Pix[y*dst.Stride : y*dst.Stride+4*dw]
			for x := range dw / 2 {
				a, z := 4*x, 4*(dw-1-x)
				for c := range 4 {
					row[a+c], row[z+c] = row[z+c], row[a+c]
				}
			}
		}
	}
	if v.rotate != 0 {
		dst = rotateCover(dst, v.rotate)
	}
	if v.bright != 0 || v.tint != [3]float64{} {
		var lut [3][256]uint8
		for c := range 3 {
			f := 1 + v.bright + v.tint[c]
			for x := range 256 {
				lut[c][x] = uint8(min(255, max(0, math.Round(float64(x)*f))))
			}
		}
		for i := 0; i < len(dst.Pix); i += 4 {
			dst.Pix[i] = lut[0][dst.Pix[i]]
			dst.Pix[i+1] = lut[1][dst.Pix[i+1]]
			dst.Pix[i+2] = lut[2][dst.Pix[i+2]]
		}
	}
	if v.banner != "" {
		drawBanner(dst, v.banner, v.bannerY, v.bannerAlpha)
	}
	stamp(dst, arenas[v.arena])
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: v.quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stamp draws the arena's watermark in its corner: its name on a dark box,
// or a coloured logo box with its initial.
func stamp(img *image.RGBA, a arenaStyle) {
	if a.Mark == markNone {
		return
	}
	b := img.Bounds()
	face := basicfont.Face7x13
	var bw, bh int
	label := a.Name
	if a.Mark == markText {
		bw, bh = 7*len(label)+6, 16
	} else {
		label = strings.ToUpper(a.Name[:1])
		bw, bh = 22, 22
	}
	const margin = 4
	x0, y0 := b.Min.X+margin, b.Min.Y+margin
	if a.Corner == 1 || a.Corner == 3 {
		x0 = b.Max.X - margin - bw
	}
	if a.Corner >= 2 {
		y0 = b.Max.Y - margin - bh
	}
	box := image.Rect(x0, y0, x0+bw, y0+bh)
	ink := color.NRGBA{a.R, a.G, a.B, 255}
	if a.Mark == markText {
		draw.Draw(img, box, image.NewUniform(color.NRGBA{0, 0, 0, 120}), image.Point{}, draw.Over)
	} else {
		draw.Draw(img, box, image.NewUniform(color.NRGBA{a.R, a.G, a.B, 210}), image.Point{}, draw.Over)
		ink = color.NRGBA{255, 255, 255, 255}
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: face}
	tw := d.MeasureString(label).Round()
	d.Dot = fixed.P(x0+(bw-tw)/2, y0+(bh+10)/2)
	d.DrawString(label)
}

// renderVariants writes every variant to dir/images, making each base once.
func (t *tiles) renderVariants(ctx context.Context, dir string, bases []region, vs []variantSpec, workers int) error {
	byBase := make([][]int, len(bases))
	for i := range vs {
		byBase[vs[i].base] = append(byBase[vs[i].base], i)
	}
	return parallel(ctx, len(bases), workers, func(k int) error {
		if len(byBase[k]) == 0 {
			return nil
		}
		img := t.render(bases[k])
		for _, i := range byBase[k] {
			data, err := vs[i].apply(img)
			if err != nil {
				return fmt.Errorf("image %s: %w", vs[i].name, err)
			}
			if err := os.WriteFile(filepath.Join(dir, imagesDir, vs[i].name), data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// parallel runs f(0…n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, f func(k int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for k := range next {
				if err := f(k); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for k := range n {
		select {
		case next <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
