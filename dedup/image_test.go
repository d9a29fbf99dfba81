package dedup_test

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"adcensus/dedup"
	"adcensus/dedup/bolt"
)

func MustHash(tb testing.TB, data []byte) map[string]string {
	tb.Helper()
	h, err := dedup.HashImage(data, dedup.ImageLimits{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range []string{dedup.HashPHash, dedup.HashDHash, dedup.HashPHashMirror} {
		if len(h[k]) != 16 {
			tb.Fatalf("%s=%q, want 16 hex digits", k, h[k])
		}
	}
	return h
}

func distance(tb testing.TB, a, b map[string]string) int {
	tb.Helper()
	parse := func(m map[string]string) bolt.ImageHash {
		p, err1 := strconv.ParseUint(m[dedup.HashPHash], 16, 64)
		q, err2 := strconv.ParseUint(m[dedup.HashPHashMirror], 16, 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("bad hashes %v", m)
		}
		return bolt.ImageHash{PHash: p, Mirror: q, HasMirror: true}
	}
	d, _ := bolt.ImageDistance(parse(a), parse(b))
	return d
}

func TestHashImageSamePhoto(t *testing.T) {
	p1 := pattern(1, 640, 480)
	orig := MustHash(t, MustJPEG(t, p1, 90))
	for name, data := range map[string][]byte{
		"png":             MustPNG(t, p1),
		"jpeg q40 60%":    MustJPEG(t, resized(p1, 384, 288), 40),
		"mirrored":        MustJPEG(t, mirrored(p1), 85),
		"upscaled 2x q70": MustJPEG(t, resized(p1, 1280, 960), 70),
	} {
		d := distance(t, orig, MustHash(t, data))
		t.Logf("%s: distance %d", name, d)
		if d > bolt.MaxImageDistance {
			t.Errorf("%s: distance %d, want ≤ %d", name, d, bolt.MaxImageDistance)
		}
	}
	for seed := uint64(2); seed < 12; seed++ {
		other := MustHash(t, MustJPEG(t, pattern(seed, 640, 480), 90))
		d := distance(t, orig, other)
		t.Logf("pattern %d: distance %d", seed, d)
		if d <= bolt.MaxImageDistance {
			t.Errorf("pattern %d: distance %d to pattern 1, want > %d", seed, d, bolt.MaxImageDistance)
		}
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

func TestHashImageLimits(t *testing.T) {
	_, err := dedup.HashImage(pngHeader(20000, 20000), dedup.ImageLimits{})
	if err == nil || !strings.Contains(err.Error(), "image too large: 20000x20000 pixels") {
		t.Fatalf("err=%v, want image too large: 20000x20000 pixels", err)
	}
	_, err = dedup.HashImage(make([]byte, 2000), dedup.ImageLimits{MaxBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "image too large: 2000 bytes") {
		t.Fatalf("err=%v, want too large bytes", err)
	}
	_, err = dedup.HashImage([]byte("not an image"), dedup.ImageLimits{})
	if err == nil || !strings.HasPrefix(err.Error(), "decode: ") {
		t.Fatalf("err=%v, want decode: …", err)
	}
}

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

	l := dedup.FileOrHTTPLoader{BaseDir: base, Client: srv.Client(), MaxBytes: 50}
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
