package cluster_test

import (
	"bytes"
	"image"
	"image/color/palette"
	"image/gif"
	"math/bits"
	"strconv"
	"testing"

	"adcensus/dedup/cluster"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/testimage"

	"golang.org/x/image/draw"
)

func distance(tb testing.TB, a, b map[string]string) int {
	tb.Helper()
	parse := func(m map[string]string) cluster.ImageHash {
		p, err1 := strconv.ParseUint(m[imagehash.PHash], 16, 64)
		q, err2 := strconv.ParseUint(m[imagehash.PHashMirror], 16, 64)
		if err1 != nil || err2 != nil {
			tb.Fatalf("bad hashes %v", m)
		}
		return cluster.ImageHash{PHash: p, Mirror: q, HasMirror: true}
	}
	d, _ := cluster.ImageDistance(parse(a), parse(b))
	return d
}

func TestHashImageSamePhoto(t *testing.T) {
	p1 := testimage.Pattern(1, 640, 480)
	orig := testimage.MustHash(t, testimage.MustJPEG(t, p1, 90))
	for name, data := range map[string][]byte{
		"png":             testimage.MustPNG(t, p1),
		"jpeg q40 60%":    testimage.MustJPEG(t, testimage.Resized(p1, 384, 288), 40),
		"mirrored":        testimage.MustJPEG(t, testimage.Mirrored(p1), 85),
		"upscaled 2x q70": testimage.MustJPEG(t, testimage.Resized(p1, 1280, 960), 70),
	} {
		d := distance(t, orig, testimage.MustHash(t, data))
		t.Logf("%s: distance %d", name, d)
		if d > cluster.MaxImageDistance {
			t.Errorf("%s: distance %d, want ≤ %d", name, d, cluster.MaxImageDistance)
		}
	}
	for seed := uint64(2); seed < 12; seed++ {
		other := testimage.MustHash(t, testimage.MustJPEG(t, testimage.Pattern(seed, 640, 480), 90))
		d := distance(t, orig, other)
		t.Logf("pattern %d: distance %d", seed, d)
		if d <= cluster.MaxImageDistance {
			t.Errorf("pattern %d: distance %d to pattern 1, want > %d", seed, d, cluster.MaxImageDistance)
		}
	}
}

func robustHash(tb testing.TB, data []byte) cluster.ImageHash {
	tb.Helper()
	m := testimage.MustHash(tb, data)
	return parseHashes(tb, m)
}

// TestHashImageSizesAndFormats: the same photo at advert sizes (where
// imagehash.Hash box-averages the luma down first) and in every decoded pixel
// format (YCbCr, Gray, RGBA, RGBA64, Paletted) matches the 240×180 JPEG
// under the rule in force, and a different photo does not.
func TestHashImageSizesAndFormats(t *testing.T) {
	for i := range 3 {
		photo := testimage.DemoPhoto(t, 5*i)
		orig := robustHash(t, testimage.MustJPEG(t, photo, 85))
		rgba64 := image.NewRGBA64(photo.Bounds())
		draw.Draw(rgba64, rgba64.Bounds(), photo, photo.Bounds().Min, draw.Src)
		small := testimage.Resized(photo, 120, 90)
		pal := image.NewPaletted(small.Bounds(), palette.Plan9)
		draw.FloydSteinberg.Draw(pal, pal.Bounds(), small, image.Point{})
		var gifBuf bytes.Buffer
		if err := gif.Encode(&gifBuf, pal, nil); err != nil {
			t.Fatal(err)
		}
		variants := map[string][]byte{
			"800x600 jpeg":     testimage.MustJPEG(t, testimage.Resized(photo, 800, 600), 85),
			"1200x900 jpeg":    testimage.MustJPEG(t, testimage.Resized(photo, 1200, 900), 80),
			"2000x1500 png":    testimage.FastPNG(t, testimage.Resized(photo, 2000, 1500)),
			"261x196 jpeg":     testimage.MustJPEG(t, testimage.Resized(photo, 261, 196), 85),
			"grey jpeg":        testimage.MustJPEG(t, testimage.GreyOf(photo, 240, 180), 85),
			"rgba png":         testimage.FastPNG(t, testimage.Resized(photo, 240, 180)),
			"16-bit png":       testimage.FastPNG(t, rgba64),
			"gif":              gifBuf.Bytes(),
			"180x135 jpeg q60": testimage.MustJPEG(t, testimage.Resized(photo, 180, 135), 60),
		}
		for name, data := range variants {
			h := robustHash(t, data)
			if ok, ev := cluster.SameImage(&orig, &h); !ok {
				d, _, _ := cluster.ScaleDistance(&orig, &h)
				t.Errorf("photo %d, %s: not the same image (centre distance %d, phash distance %d) %s",
					5*i, name, d, bits.OnesCount64(orig.PHash^h.PHash), ev)
			}
		}
		other := robustHash(t, testimage.MustJPEG(t, testimage.Resized(testimage.DemoPhoto(t, 5*i+1), 1200, 900), 85))
		if ok, ev := cluster.SameImage(&orig, &other); ok {
			t.Errorf("photo %d and %d match: %s", 5*i, 5*i+1, ev)
		}
	}
}
