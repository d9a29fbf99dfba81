// Package imagehash fingerprints advert photos: it decodes an image within
// Limits and writes its perceptual hashes (goimagehash pHash, dHash and
// mirrored pHash, and the robust region hashes of robusthash.go), and
// loads images from files or HTTP (Loader). It is a leaf package below
// both the crawler (which hashes before publishing) and dedup.
package imagehash

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register decoders
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	_ "golang.org/x/image/webp"
)

// Image hash kinds written by Hash. The values are goimagehash 64-bit
// hashes in 16 hex digits; they are not comparable with other libraries.
const (
	PHash       = "phash"
	DHash       = "dhash"
	PHashMirror = "phash_mirror" // pHash of the horizontally mirrored image
)

// Limits bound the work spent on one image. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	MaxBytes  int64 // encoded size
	MaxPixels int64 // width × height, checked before decoding
}

// DefaultLimits returns 20 MiB and 50 megapixels.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 20 << 20, MaxPixels: 50_000_000}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	return l
}

// downscaleSide is the longest side of the grey plane the hashes are
// computed from; larger images are box-averaged down to it first.
const downscaleSide = 256

// Hash decodes an encoded JPEG, PNG, GIF or WebP image and returns its
// perceptual hashes by kind (PHash, DHash, PHashMirror,
// Centres, Shifts). Size and pixel limits are checked before the
// image is decoded.
//
// All hashes come from one 8-bit luma plane of at most downscaleSide
// pixels a side: the Y plane of a JPEG as decoded (box-averaged down if
// larger), or the BT.601 luma of other formats. See hashPlane.
func Hash(data []byte, lim Limits) (map[string]string, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("image too large: %d bytes (limit %d)", len(data), lim.MaxBytes)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("decode: empty image %dx%d", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return nil, fmt.Errorf("image too large: %dx%d pixels (limit %d)", cfg.Width, cfg.Height, lim.MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("decode: empty image %dx%d", b.Dx(), b.Dy())
	}
	st := scratchPool.Get().(*imgScratch)
	defer scratchPool.Put(st)
	h, err := st.hashPlane(st.plane(st.lumaOf(img)))
	if err != nil {
		return nil, err
	}
	return map[string]string{
		PHash:       hex64(h.phash),
		DHash:       hex64(h.dhash),
		PHashMirror: hex64(h.mirror),
		Centres:     hexList(h.centres[:]),
		Shifts:      hexList(h.shifts[:]),
	}, nil
}

func hex64(v uint64) string {
	var b [16]byte
	putHex(b[:], v)
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// putHex writes v as 16 lower-case hex digits into b[:16].
func putHex(b []byte, v uint64) {
	_ = b[15]
	for i := 15; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
}

// lumaSource gives the 8-bit BT.601 luma of an image row by row: row(y,
// buf) returns the w values of row y, in buf or in the image itself. When
// the image keeps luma as bytes (YCbCr, Gray), pix and stride address it
// directly.
type lumaSource struct {
	w, h   int
	row    func(y int, buf []uint8) []uint8
	pix    []uint8
	stride int
}

// luma8 is BT.601 luma of 8-bit R, G, B in fixed point, as JPEG's Y.
func luma8(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}

// lumaOf reads img as luma. Transparent pixels count as black (the colour
// is premultiplied by alpha), as when drawing over black.
func (st *imgScratch) lumaOf(img image.Image) lumaSource {
	b := img.Bounds()
	src := lumaSource{w: b.Dx(), h: b.Dy()}
	switch m := img.(type) {
	case *image.YCbCr:
		src.pix, src.stride = m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride
	case *image.Gray:
		src.pix, src.stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
	case *image.NYCbCrA:
		src.row = func(y int, buf []uint8) []uint8 {
			yo, ao := m.YOffset(b.Min.X, b.Min.Y+y), m.AOffset(b.Min.X, b.Min.Y+y)
			ys, as := m.Y[yo:yo+src.w], m.A[ao:ao+src.w]
			for x := range buf {
				buf[x] = uint8((uint32(ys[x])*uint32(as[x]) + 127) / 255)
			}
			return buf
		}
	case *image.RGBA:
		src.row = func(y int, buf []uint8) []uint8 {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			p := m.Pix[o : o+4*src.w]
			for x := range buf {
				q := p[4*x : 4*x+3 : 4*x+3]
				buf[x] = luma8(uint32(q[0]), uint32(q[1]), uint32(q[2]))
			}
			return buf
		}
	case *image.NRGBA:
		src.row = func(y int, buf []uint8) []uint8 {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			p := m.Pix[o : o+4*src.w]
			for x := range buf {
				q := p[4*x : 4*x+4 : 4*x+4]
				l := uint32(luma8(uint32(q[0]), uint32(q[1]), uint32(q[2])))
				buf[x] = uint8((l*uint32(q[3]) + 127) / 255)
			}
			return buf
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			lut[i] = luma16(c)
		}
		src.row = func(y int, buf []uint8) []uint8 {
			o := m.PixOffset(b.Min.X, b.Min.Y+y)
			for x, v := range m.Pix[o : o+src.w] {
				buf[x] = lut[v]
			}
			return buf
		}
	default:
		src.row = func(y int, buf []uint8) []uint8 {
			for x := range buf {
				buf[x] = luma16(img.At(b.Min.X+x, b.Min.Y+y))
			}
			return buf
		}
	}
	if src.pix != nil {
		src.row = func(y int, _ []uint8) []uint8 { return src.pix[y*src.stride : y*src.stride+src.w] }
	}
	return src
}

// luma16 is the 8-bit luma of a colour, premultiplied by its alpha.
func luma16(c color.Color) uint8 {
	r, g, b, _ := c.RGBA()
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}

// plane returns the luma of src with at most downscaleSide pixels a side:
// src itself when it is small enough and kept as bytes, otherwise a copy
// or a box-averaged reduction in st's buffers.
func (st *imgScratch) plane(src lumaSource) lumaPlane {
	w, h := src.w, src.h
	s := max(w, h)
	if s <= downscaleSide {
		if src.pix != nil {
			return lumaPlane{w: w, h: h, stride: src.stride, pix: src.pix}
		}
		st.planeBuf = grow(st.planeBuf, w*h)
		st.rowBuf = grow(st.rowBuf, w)
		for y := range h {
			copy(st.planeBuf[y*w:(y+1)*w], src.row(y, st.rowBuf))
		}
		return lumaPlane{w: w, h: h, stride: w, pix: st.planeBuf}
	}
	W, H := max(1, w*downscaleSide/s), max(1, h*downscaleSide/s)
	st.planeBuf = grow(st.planeBuf, W*H)
	st.rowBuf = grow(st.rowBuf, 4*w)
	st.colSum = grow(st.colSum, w)
	var xs [downscaleSide + 1]int
	for i := range W + 1 {
		xs[i] = i * w / W
	}
	var inv [downscaleSide]float32
	rows := 0
	for j := range H {
		y0, y1 := j*h/H, (j+1)*h/H
		cs := st.colSum[:w]
		clear(cs)
		for y := y0; y < y1; y += 4 {
			addRows(cs, src, y, min(y1, y+4), st.rowBuf)
		}
		if y1-y0 != rows {
			rows = y1 - y0
			for i := range W {
				inv[i] = 1 / float32((xs[i+1]-xs[i])*rows)
			}
		}
		out := st.planeBuf[j*W : (j+1)*W]
		for i := range out {
			var sum uint64
			for _, c := range cs[xs[i]:xs[i+1]] {
				sum += uint64(c)
			}
			out[i] = uint8(float32(sum)*inv[i] + 0.5)
		}
	}
	return lumaPlane{w: W, h: H, stride: W, pix: st.planeBuf}
}

// addRows adds rows y0 to y1-1 (at most 4) of src to cs, column by
// column: one read and write of cs for up to four rows.
func addRows(cs []uint32, src lumaSource, y0, y1 int, buf []uint8) {
	w := len(cs)
	var r [4][]uint8
	for k := range y1 - y0 {
		r[k] = src.row(y0+k, buf[k*w:(k+1)*w])
	}
	switch y1 - y0 {
	case 4:
		a, b, c, d := r[0][:w], r[1][:w], r[2][:w], r[3][:w]
		for x := range cs {
			cs[x] += uint32(a[x]) + uint32(b[x]) + uint32(c[x]) + uint32(d[x])
		}
	case 3:
		a, b, c := r[0][:w], r[1][:w], r[2][:w]
		for x := range cs {
			cs[x] += uint32(a[x]) + uint32(b[x]) + uint32(c[x])
		}
	case 2:
		a, b := r[0][:w], r[1][:w]
		for x := range cs {
			cs[x] += uint32(a[x]) + uint32(b[x])
		}
	case 1:
		a := r[0][:w]
		for x := range cs {
			cs[x] += uint32(a[x])
		}
	}
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// Loader fetches the encoded bytes of an advert image.
type Loader interface {
	// Load returns the bytes of the image at src. ctx bounds the whole
	// call; the error says why the image could not be had.
	Load(ctx context.Context, src string) ([]byte, error)
}

var _ Loader = FileOrHTTPLoader{}

// FileOrHTTPLoader loads http(s) URLs with Client and other sources as
// paths relative to BaseDir; a path that is absolute or leads out of
// BaseDir is refused. At most MaxBytes are read (default 20 MiB).
type FileOrHTTPLoader struct {
	BaseDir  string
	Client   *http.Client // default http.DefaultClient
	MaxBytes int64
}

// Load implements Loader.
func (l FileOrHTTPLoader) Load(ctx context.Context, src string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := l.MaxBytes
	if limit <= 0 {
		limit = DefaultLimits().MaxBytes
	}
	if low := strings.ToLower(src); strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") {
		return l.loadHTTP(ctx, src, limit)
	}
	if l.BaseDir == "" {
		return nil, errors.New("no base directory for local image paths")
	}
	if filepath.IsAbs(src) || !filepath.IsLocal(filepath.FromSlash(src)) {
		return nil, fmt.Errorf("path %q is outside the base directory", src)
	}
	root, err := os.OpenRoot(l.BaseDir)
	if err != nil {
		return nil, fmt.Errorf("open base directory: %w", err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(src))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, limit)
}

func (l FileOrHTTPLoader) loadHTTP(ctx context.Context, src string, limit int64) ([]byte, error) {
	c := l.Client
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("image too large: %d bytes (limit %d)", resp.ContentLength, limit)
	}
	return readCapped(resp.Body, limit)
}

func readCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("image too large: more than %d bytes", limit)
	}
	return data, nil
}
