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
