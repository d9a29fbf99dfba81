package imagehash_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/corona10/goimagehash"
	"golang.org/x/image/draw"

	"adcensus/ad"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/testimage"
)

func TestHashImageLimits(t *testing.T) {
	_, err := imagehash.Hash(pngHeader(20000, 20000), imagehash.Limits{})
	if err == nil || !strings.Contains(err.Error(), "image too large: 20000x20000 pixels") {
		t.Fatalf("err=%v, want image too large: 20000x20000 pixels", err)
	}
	_, err = imagehash.Hash(make([]byte, 2000), imagehash.Limits{MaxBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "image too large: 2000 bytes") {
		t.Fatalf("err=%v, want too large bytes", err)
	}
	_, err = imagehash.Hash([]byte("not an image"), imagehash.Limits{})
	if err == nil || !strings.HasPrefix(err.Error(), "decode: ") {
		t.Fatalf("err=%v, want decode: …", err)
	}
}

// pngHeader is a valid PNG signature and IHDR chunk claiming w×h pixels
// with no image data: DecodeConfig accepts it, Decode would not.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := binary.BigEndian.AppendUint32(nil, 13)
	chunk = append(chunk, "IHDR"...)
	chunk = append(chunk, ihdr...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	return append(b, chunk...)
}

// jpegHeader is a JFIF header and a baseline SOF claiming w×h pixels, with
// no image data: DecodeConfig accepts it, Decode would not.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	b = append(b, 0xff, 0xc0, 0, 17, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	return b
}

// TestHashImageBadInput: every broken image gives an error that says what
// is wrong, never a panic or a hash.
func TestHashImageBadInput(t *testing.T) {
	photo := testimage.DemoPhoto(t, 0)
	full := testimage.MustJPEG(t, photo, 85)
	pngData := testimage.FastPNG(t, photo)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "decode: image: unknown format"},
		{"garbage", []byte("not an image at all"), "decode: image: unknown format"},
		{"gif header, nonsense after", []byte("GIF87a but not really"), "image too large: 25120x29813 pixels"},
		{"truncated jpeg", full[:len(full)/2], "decode: invalid JPEG format: short Huffman data"},
		{"jpeg header only", full[:200], "decode: "},
		{"truncated png", pngData[:len(pngData)/3], "decode: "},
		{"zero-size gif", []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00;"), "decode: empty image 0x0"},
		{"huge jpeg", jpegHeader(65000, 65000), "image too large: 65000x65000 pixels"},
		{"huge png", pngHeader(1, 60_000_000), "image too large: 1x60000000 pixels"},
	} {
		h, err := imagehash.Hash(tt.data, imagehash.Limits{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: hashes %v, err=%v, want %q", tt.name, h, err, tt.want)
		}
	}
}

// TestHashImageIsGoimagehash: HashImage computes phash and phash_mirror
// itself from a 64×64 grey (only the 8×8 low frequencies are needed) and
// dhash with goimagehash from a 9×8 grey. On an image of exactly that size
// the values must be goimagehash's own.
func TestHashImageIsGoimagehash(t *testing.T) {
	for i := range 12 {
		photo := testimage.DemoPhoto(t, 3*i)
		g := testimage.GreyOf(photo, 64, 64)
		h := testimage.MustHash(t, testimage.FastPNG(t, g))
		ph, err := goimagehash.PerceptionHash(g)
		if err != nil {
			t.Fatal(err)
		}
		m := image.NewGray(g.Bounds())
		for y := range 64 {
			for x := range 64 {
				m.Pix[y*m.Stride+63-x] = g.Pix[y*g.Stride+x]
			}
		}
		mh, err := goimagehash.PerceptionHash(m)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%016x", ph.GetHash()); h[imagehash.PHash] != want {
			t.Errorf("photo %d: phash %s, goimagehash %s", 3*i, h[imagehash.PHash], want)
		}
		if want := fmt.Sprintf("%016x", mh.GetHash()); h[imagehash.PHashMirror] != want {
			t.Errorf("photo %d: phash_mirror %s, goimagehash of the mirror %s", 3*i, h[imagehash.PHashMirror], want)
		}
		g9 := testimage.GreyOf(photo, 9, 8)
		dh, err := goimagehash.DifferenceHash(g9)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := testimage.MustHash(t, testimage.FastPNG(t, g9))[imagehash.DHash], fmt.Sprintf("%016x", dh.GetHash()); got != want {
			t.Errorf("photo %d: dhash %s, goimagehash %s", 3*i, got, want)
		}
	}
}

// TestHashImageOddShapes: tiny, thin and transparent images hash without
// error, to hashes of the right length.
func TestHashImageOddShapes(t *testing.T) {
	photo := testimage.DemoPhoto(t, 7)
	nrgba := image.NewNRGBA(image.Rect(0, 0, 120, 90))
	draw.BiLinear.Scale(nrgba, nrgba.Bounds(), photo, photo.Bounds(), draw.Src, nil)
	for i := 3; i < len(nrgba.Pix); i += 8 {
		nrgba.Pix[i] = 0 // every other pixel transparent
	}
	for name, img := range map[string]image.Image{
		"1x1":         testimage.Resized(photo, 1, 1),
		"3x2":         testimage.Resized(photo, 3, 2),
		"3000x2":      testimage.Resized(photo, 3000, 2),
		"2x3000":      testimage.Resized(photo, 2, 3000),
		"transparent": nrgba,
		"offset":      testimage.Resized(photo, 300, 200).SubImage(image.Rect(17, 9, 290, 199)),
	} {
		h, err := imagehash.Hash(testimage.FastPNG(t, img), imagehash.Limits{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		mustParse(t, name, h)
	}
	// A flat image has no structure to hash but must not fail.
	flat := image.NewUniform(color.Gray{128})
	if _, err := imagehash.Hash(testimage.FastPNG(t, &flatImage{flat, image.Rect(0, 0, 50, 40)}), imagehash.Limits{}); err != nil {
		t.Errorf("flat: %v", err)
	}
}

type flatImage struct {
	*image.Uniform
	r image.Rectangle
}

func (f *flatImage) Bounds() image.Rectangle { return f.r }

func TestFileOrHTTPLoader(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	if err := os.MkdirAll(filepath.Join(base, "img"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(base, "img", "a.jpg"), []byte("abc"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.jpg"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(base, "big.jpg"), make([]byte, 100), 0o644)
	if err := os.Symlink(filepath.Join(dir, "secret.jpg"), filepath.Join(base, "link.jpg")); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.jpg":
			w.Write([]byte("remote"))
		case "/big.jpg":
			w.Write(make([]byte, 100))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	l := imagehash.FileOrHTTPLoader{BaseDir: base, Client: srv.Client(), MaxBytes: 50}
	ctx := context.Background()
	for _, tt := range []struct {
		src, want, err string
	}{
		{src: "img/a.jpg", want: "abc"},
		{src: "img/../img/a.jpg", want: "abc"},
		{src: "../secret.jpg", err: "outside the base directory"},
		{src: filepath.Join(dir, "secret.jpg"), err: "outside the base directory"},
		{src: "link.jpg", err: "escapes"},
		{src: "big.jpg", err: "too large"},
		{src: "missing.jpg", err: "no such file"},
		{src: srv.URL + "/ok.jpg", want: "remote"},
		{src: srv.URL + "/big.jpg", err: "too large"},
		{src: srv.URL + "/nope.jpg", err: "404"},
	} {
		got, err := l.Load(ctx, tt.src)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Load(%s): err=%v, want %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("Load(%s)=%q,%v, want %q", tt.src, got, err, tt.want)
		}
	}
}

// mustParse checks that every kind Hash writes parses at its documented
// length: 16 hex digits for the 64-bit kinds, 2 × len(CentreScales) and
// 2 × GridSide² hashes for the lists.
func mustParse(tb testing.TB, name string, h map[string]string) {
	tb.Helper()
	for _, k := range []string{imagehash.PHash, imagehash.PHashMirror, imagehash.DHash} {
		if _, err := strconv.ParseUint(h[k], 16, 64); err != nil || len(h[k]) != 16 {
			tb.Errorf("%s: %s=%q: %v", name, k, h[k], err)
		}
	}
	if _, err := ad.ParseHashList(h[imagehash.Centres], 2*len(imagehash.CentreScales)); err != nil {
		tb.Errorf("%s: %s: %v", name, imagehash.Centres, err)
	}
	if _, err := ad.ParseHashList(h[imagehash.Shifts], 2*imagehash.GridSide*imagehash.GridSide); err != nil {
		tb.Errorf("%s: %s: %v", name, imagehash.Shifts, err)
	}
}
