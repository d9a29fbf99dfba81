package dedup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // register decoders
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/corona10/goimagehash"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// Image hash kinds written by HashImage. The values are goimagehash 64-bit
// hashes in 16 hex digits; they are not comparable with other libraries.
const (
	HashPHash       = "phash"
	HashDHash       = "dhash"
	HashPHashMirror = "phash_mirror" // pHash of the horizontally mirrored image
)

// ImageLimits bound the work spent on one image. Zero fields take the
// defaults of DefaultImageLimits.
type ImageLimits struct {
	MaxBytes  int64 // encoded size
	MaxPixels int64 // width × height, checked before decoding
}

// DefaultImageLimits returns 20 MiB and 50 megapixels.
func DefaultImageLimits() ImageLimits {
	return ImageLimits{MaxBytes: 20 << 20, MaxPixels: 50_000_000}
}

func (l ImageLimits) withDefaults() ImageLimits {
	d := DefaultImageLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	return l
}

// downscaleSide is the longest side an image is cut to before hashing.
const downscaleSide = 256

// HashImage decodes an encoded JPEG, PNG, GIF or WebP image and returns its
// perceptual hashes by kind (HashPHash, HashDHash, HashPHashMirror). Size
// and pixel limits are checked before the image is decoded.
func HashImage(data []byte, lim ImageLimits) (map[string]string, error) {
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
	small := downscale(img)
	ph, err := goimagehash.PerceptionHash(small)
	if err != nil {
		return nil, fmt.Errorf("phash: %w", err)
	}
	dh, err := goimagehash.DifferenceHash(small)
	if err != nil {
		return nil, fmt.Errorf("dhash: %w", err)
	}
	mh, err := goimagehash.PerceptionHash(mirror(small))
	if err != nil {
		return nil, fmt.Errorf("phash mirror: %w", err)
	}
	scales, grid := robustHashes(small)
	return map[string]string{
		HashPHash:       hex64(ph.GetHash()),
		HashDHash:       hex64(dh.GetHash()),
		HashPHashMirror: hex64(mh.GetHash()),
		HashCentres:     hexList(scales[:]),
		HashShifts:      hexList(grid[:]),
	}, nil
}

func hex64(v uint64) string { return fmt.Sprintf("%016x", v) }

// downscale cuts img to at most downscaleSide pixels on its longest side
// with a fast interpolator, so that goimagehash's own resize stays cheap.
func downscale(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if s := max(w, h); s > downscaleSide {
		w = max(1, w*downscaleSide/s)
		h = max(1, h*downscaleSide/s)
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func mirror(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(b)
	w := b.Dx()
	for y := range b.Dy() {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		out := dst.Pix[y*dst.Stride : y*dst.Stride+4*w]
		for x := range w {
			copy(out[4*(w-1-x):4*(w-x)], row[4*x:4*x+4])
		}
	}
	return dst
}

// ImageLoader fetches the encoded bytes of an advert image.
type ImageLoader interface {
	// Load returns the bytes of the image at src. ctx bounds the whole
	// call; the error says why the image could not be had.
	Load(ctx context.Context, src string) ([]byte, error)
}

var _ ImageLoader = FileOrHTTPLoader{}

// FileOrHTTPLoader loads http(s) URLs with Client and other sources as
// paths relative to BaseDir; a path that is absolute or leads out of
// BaseDir is refused. At most MaxBytes are read (default 20 MiB).
type FileOrHTTPLoader struct {
	BaseDir  string
	Client   *http.Client // default http.DefaultClient
	MaxBytes int64
}

// Load implements ImageLoader.
func (l FileOrHTTPLoader) Load(ctx context.Context, src string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := l.MaxBytes
	if limit <= 0 {
		limit = DefaultImageLimits().MaxBytes
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
