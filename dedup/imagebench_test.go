package dedup_test

import (
	"bytes"
	"image"
	"testing"

	"adcensus/crawler/demoarena"
	"adcensus/dedup"
)

func benchPhotos(b *testing.B) [][]byte {
	b.Helper()
	var out [][]byte
	for _, n := range demoarena.PhotoNames()[:32] {
		data, err := demoarena.PhotoJPEG(n)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkDecodeOnly is the floor for BenchmarkHashImage: DecodeConfig
// and Decode of the same demo photos (240×180 JPEG).
func BenchmarkDecodeOnly(b *testing.B) {
	photos := benchPhotos(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		data := photos[i%len(photos)]
		i++
		if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashImage is decode plus every hash kind.
func BenchmarkHashImage(b *testing.B) {
	photos := benchPhotos(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := dedup.HashImage(photos[i%len(photos)], dedup.ImageLimits{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
