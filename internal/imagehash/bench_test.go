package imagehash_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"slices"
	"sync"
	"testing"
	"time"

	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/photoset"

	"golang.org/x/image/draw"
)

// The image benchmarks run on JPEGs made, once per process, from the real
// demo photos (240×180 tiles of larger photographs):
//
//   - 240x180: the first 32 tiles as served (quality 80).
//   - 800x600, 1200x900: the same tiles scaled up (bilinear) and encoded at
//     quality 85, the size of typical advert photos. Scaled-up photos are
//     smoother than real ones, so they decode faster than a real photo of
//     that size would: a conservative floor for the ratio.
//   - 1200x900-mosaic: 5×5 different tiles side by side at their native
//     resolution, encoded at quality 85: full photographic detail at advert
//     size (slower to decode than the scaled-up set).
//
// The floor is BenchmarkDecodeOnly: DecodeConfig and Decode of the same
// bytes, which Hash also does. BenchmarkHashVsDecode times both on
// each image in turn and reports their ratio, so that load from other
// processes hits both sides alike.

type benchSet struct {
	name   string
	photos [][]byte
}

var (
	benchOnce sync.Once
	benchSets []benchSet
	benchErr  error
)

const benchPhotoCount = 32

func makeBenchSets() {
	names := photoset.Names()
	if len(names) < 25+benchPhotoCount {
		benchErr = fmt.Errorf("only %d demo photos", len(names))
		return
	}
	var raw [][]byte
	var imgs []image.Image
	for _, n := range names {
		data, err := photoset.JPEG(n)
		if err != nil {
			benchErr = err
			return
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			benchErr = fmt.Errorf("%s: %w", n, err)
			return
		}
		raw = append(raw, data)
		imgs = append(imgs, img)
	}
	enc := func(img image.Image) []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			benchErr = err
		}
		return buf.Bytes()
	}
	benchSets = append(benchSets, benchSet{"240x180", raw[:benchPhotoCount]})
	for _, sz := range []image.Point{{800, 600}, {1200, 900}} {
		set := benchSet{name: fmt.Sprintf("%dx%d", sz.X, sz.Y)}
		for _, img := range imgs[:benchPhotoCount] {
			dst := image.NewRGBA(image.Rect(0, 0, sz.X, sz.Y))
			draw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
			set.photos = append(set.photos, enc(dst))
		}
		benchSets = append(benchSets, set)
	}
	mosaic := benchSet{name: "1200x900-mosaic"}
	for k := range benchPhotoCount {
		dst := image.NewRGBA(image.Rect(0, 0, 1200, 900))
		for t := range 25 {
			src := imgs[(k*7+t)%len(imgs)]
			at := image.Pt(240*(t%5), 180*(t/5))
			draw.Draw(dst, image.Rectangle{at, at.Add(image.Pt(240, 180))}, src, src.Bounds().Min, draw.Src)
		}
		mosaic.photos = append(mosaic.photos, enc(dst))
	}
	benchSets = append(benchSets, mosaic)
}

func forBenchSets(b *testing.B, f func(b *testing.B, photos [][]byte)) {
	benchOnce.Do(makeBenchSets)
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	for _, s := range benchSets {
		b.Run(s.name, func(b *testing.B) { f(b, s.photos) })
	}
}

func decodeOnly(b *testing.B, data []byte) {
	if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
	if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDecodeOnly is the floor for BenchmarkHashImage: DecodeConfig
// and Decode of the same photos.
func BenchmarkDecodeOnly(b *testing.B) {
	forBenchSets(b, func(b *testing.B, photos [][]byte) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			decodeOnly(b, photos[i%len(photos)])
			i++
		}
	})
}

// BenchmarkHashImage is decode plus every hash kind.
func BenchmarkHashImage(b *testing.B) {
	forBenchSets(b, func(b *testing.B, photos [][]byte) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := imagehash.Hash(photos[i%len(photos)], imagehash.Limits{}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkHashVsDecode decodes and hashes each photo in turn and reports
// decode-ns/img, hash-ns/img (Hash, decode included), their ratio
// x-decode (the target is ≤ 1.5) and x-decode-p50, the median of
// the ratio per image: a burst of load from other processes skews the
// mean ratio but hardly the median.
func BenchmarkHashVsDecode(b *testing.B) {
	forBenchSets(b, func(b *testing.B, photos [][]byte) {
		var dec, hash time.Duration
		var ratios []float64
		n := 0
		for b.Loop() {
			data := photos[n%len(photos)]
			n++
			t0 := time.Now()
			decodeOnly(b, data)
			t1 := time.Now()
			if _, err := imagehash.Hash(data, imagehash.Limits{}); err != nil {
				b.Fatal(err)
			}
			t2 := time.Now()
			dec += t1.Sub(t0)
			hash += t2.Sub(t1)
			ratios = append(ratios, float64(t2.Sub(t1))/float64(t1.Sub(t0)))
		}
		slices.Sort(ratios)
		b.ReportMetric(float64(dec.Nanoseconds())/float64(n), "decode-ns/img")
		b.ReportMetric(float64(hash.Nanoseconds())/float64(n), "hash-ns/img")
		b.ReportMetric(float64(hash)/float64(dec), "x-decode")
		b.ReportMetric(ratios[len(ratios)/2], "x-decode-p50")
	})
}
