package cluster_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"adcensus/dedup/cluster"
)

// comparedPairs lists the distances of every hash pair the robust rule
// compares, written out independently of robust.go: centred regions of a
// and b at the same or neighbouring scales in all four orientation pairs,
// and the 86 % and 74 % centres (as is) of each image against every
// shifted window of the other (as is and mirrored).
func comparedPairs(a, b *cluster.ImageHash) []int {
	var out []int
	for i := range cluster.NumScales {
		for j := range cluster.NumScales {
			if i-j > 1 || j-i > 1 {
				continue
			}
			for _, x := range a.Scales[2*i : 2*i+2] {
				for _, y := range b.Scales[2*j : 2*j+2] {
					out = append(out, cluster.Hamming(x, y))
				}
			}
		}
	}
	for _, c := range []int{2, 4} { // Scales[2], Scales[4]: 86 % and 74 %, as is
		for _, g := range b.Grid {
			out = append(out, cluster.Hamming(a.Scales[c], g))
		}
		for _, g := range a.Grid {
			out = append(out, cluster.Hamming(b.Scales[c], g))
		}
	}
	return out
}

// TestRobustDistanceIsTheLeast: RobustDistance is the least distance over
// all the hash pairs compared (112), whichever kind gives it, in both
// argument orders; its evidence names the kind.
func TestRobustDistanceIsTheLeast(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	hashes := func(p robustPhoto) *cluster.ImageHash {
		return &cluster.ImageHash{PHash: p[0], Mirror: p[1], HasMirror: true,
			Scales: p[2 : 2+2*cluster.NumScales], Grid: p[2+2*cluster.NumScales:]}
	}
	kinds := map[string]int{}
	for n := range 400 {
		p := randomPhoto(r)
		c := randomPhoto(r)
		// a few hashes of c close to random hashes of p, at distances 0–14
		for range 1 + r.IntN(3) {
			c[2+r.IntN(len(c)-2)] = movedBits(r, p[2+r.IntN(len(p)-2)], r.IntN(8))
		}
		a, b := hashes(p), hashes(c)
		want := cluster.NoDistance
		for _, d := range comparedPairs(a, b) {
			want = min(want, d)
		}
		for _, x := range [2][2]*cluster.ImageHash{{a, b}, {b, a}} {
			got, detail := cluster.RobustDistance(x[0], x[1])
			if got != want {
				t.Fatalf("case %d: RobustDistance = %d (%s), want the least %d", n, got, detail, want)
			}
			if ok, _ := cluster.SameImage(x[0], x[1]); ok != (want <= cluster.MaxRobustDistance) {
				t.Fatalf("case %d: SameImage = %v at distance %d", n, ok, want)
			}
			if ok := cluster.ImagesMatch(x[0], x[1]); ok != (want <= cluster.MaxRobustDistance) {
				t.Fatalf("case %d: ImagesMatch = %v at distance %d", n, ok, want)
			}
			if want <= cluster.MaxRobustDistance {
				kinds[strings.Fields(detail)[1]]++
			}
		}
	}
	if kinds["centre"] < 20 || kinds["shifted-window"] < 20 {
		t.Fatalf("too few close pairs of each kind: %v", kinds)
	}
}

// BenchmarkImagesMatch: the image test of the index lookup and the stock
// marks, on pairs of unrelated photos (most candidates) and of copies
// close in one centred region or one shifted window.
func BenchmarkImagesMatch(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var pairs [][2]cluster.ImageHash
	for k := range 64 {
		p, c := randomPhoto(r), randomPhoto(r)
		switch k % 4 {
		case 1:
			c[2+2] = movedBits(r, p[2+2], 3)
		case 2:
			c[2+2*cluster.NumScales+5] = movedBits(r, p[2+4], 4)
		}
		h := func(q robustPhoto) cluster.ImageHash {
			return cluster.ImageHash{PHash: q[0], Mirror: q[1], HasMirror: true, Scales: q[2 : 2+2*cluster.NumScales], Grid: q[2+2*cluster.NumScales:]}
		}
		pairs = append(pairs, [2]cluster.ImageHash{h(p), h(c)})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := &pairs[i%len(pairs)]
		cluster.ImagesMatch(&p[0], &p[1])
		i++
	}
}
