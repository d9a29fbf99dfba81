// Package testimage draws bland synthetic pictures and encodes them, for
// the tests of image hashing and matching. It is a test helper (its
// encoders take a testing.TB), not product code.
package testimage

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/photoset"

	"golang.org/x/image/draw"
)

// Pattern draws a bland synthetic picture: a grid of coloured blocks and
// a diagonal band, different for each seed.
func Pattern(seed uint64, w, h int) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 99))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	const cols, rows = 8, 6
	for y := range rows {
		for x := range cols {
			c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			rect := image.Rect(x*w/cols, y*h/rows, (x+1)*w/cols, (y+1)*h/rows)
			draw.Draw(img, rect, &image.Uniform{c}, image.Point{}, draw.Src)
		}
	}
	for i := range min(w, h) {
		for t := range w / 20 {
			img.Set(i+t, i, color.White)
		}
	}
	return img
}

// Mirrored returns src mirrored left to right.
func Mirrored(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dst.Set(b.Max.X-1-(x-b.Min.X), y, src.At(x, y))
		}
	}
	return dst
}

// Resized returns src scaled to w×h (bilinear).
func Resized(src image.Image, w, h int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// MustJPEG encodes img as JPEG at quality, or fails tb.
func MustJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustPNG encodes img as PNG, or fails tb.
func MustPNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// MustHash hashes data with imagehash.Hash and default limits, and
// checks the three 64-bit kinds are there, or fails tb.
func MustHash(tb testing.TB, data []byte) map[string]string {
	tb.Helper()
	h, err := imagehash.Hash(data, imagehash.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range []string{imagehash.PHash, imagehash.DHash, imagehash.PHashMirror} {
		if len(h[k]) != 16 {
			tb.Fatalf("%s=%q, want 16 hex digits", k, h[k])
		}
	}
	return h
}

// FastPNG encodes img as PNG without compression: the tests need the
// format, not the size.
func FastPNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// DemoPhoto decodes the i-th photo of the shared photo set.
func DemoPhoto(tb testing.TB, i int) image.Image {
	tb.Helper()
	data, err := photoset.JPEG(photoset.Names()[i])
	if err != nil {
		tb.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// GreyOf scales src to a w×h grey image (Catmull-Rom).
func GreyOf(src image.Image, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(g, g.Bounds(), src, src.Bounds(), draw.Src, nil)
	return g
}
