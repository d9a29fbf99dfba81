package cluster_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkShapes clusters corpora of the shapes real arenas have, each
// in batches as the cluster stage does (runCluster: wall, CPU, peak heap
// and peak RSS, and the assignments' digest):
//
//   - today: the default corpus of BenchmarkCluster (about 4 adverts per
//     person, agencies of about 20 persons);
//   - heavytail: adverts per person Zipf-distributed (weight 1/rank,
//     capped so that the heaviest persons post max(1,500, n/400)
//     adverts): at 20,000 adverts a few persons post 1,000 or more;
//   - agencies: 30 % of persons in agencies of 50–200 persons each, the
//     agency's phone on 80 % of their adverts, its text template on half
//     of those and its logo on half of all their adverts;
//   - stock: 2,000 stock photos on 30 % of adverts and 500 web template
//     texts on 25 %.
//
// It runs only when CLUSTER_SHAPES is set, to the sizes to run
// (CLUSTER_SHAPES=20000,100000); peak RSS is the process's, so run one
// size and shape per process to read it, e.g.
//
//	CLUSTER_SHAPES=1000000 go test -run '^$' -bench 'Shapes/shape=agencies/' -benchtime 1x -timeout 60m ./dedup/cluster/
func BenchmarkShapes(b *testing.B) {
	env := os.Getenv("CLUSTER_SHAPES")
	if env == "" {
		b.Skip("CLUSTER_SHAPES not set (e.g. CLUSTER_SHAPES=20000,100000)")
	}
	var sizes []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			b.Fatalf("CLUSTER_SHAPES: %q is not a positive number", f)
		}
		sizes = append(sizes, n)
	}
	for _, shape := range []string{"today", "heavytail", "agencies", "stock"} {
		for _, n := range sizes {
			b.Run(fmt.Sprintf("shape=%s/ads=%d", shape, n), func(b *testing.B) {
				for b.Loop() {
					runCluster(b, newShapeCorpus(n, shape), n, false)
				}
			})
		}
	}
}

// newShapeCorpus is the v1 corpus with texts (newCorpus) in one of the
// shapes of BenchmarkShapes. The shapes draw from a random stream of
// their own, so "today" is BenchmarkCluster's images=v1 corpus.
func newShapeCorpus(n int, shape string) *corpus {
	g := newCorpus(n, 1, false)
	g.texts = true
	g.sr = rand.New(rand.NewPCG(1, 0x5a))
	switch shape {
	case "today":
	case "heavytail":
		top := float64(max(1500, n/400)) / float64(n) // the heaviest persons' share
		w := make([]float64, len(g.persons))
		total := 0.0
		for k := range w {
			w[k] = 1 / float64(k+1)
			total += w[k]
		}
		// Cap at top of the total, then renormalise (a few rounds).
		for range 4 {
			capped := top * total
			total = 0
			for k := range w {
				w[k] = math.Min(w[k], capped)
				total += w[k]
			}
		}
		// Persons in random order, so the heaviest are not the first.
		g.sr.Shuffle(len(w), func(i, j int) { w[i], w[j] = w[j], w[i] })
		g.cum = make([]float64, len(w))
		sum := 0.0
		for k, x := range w {
			sum += x
			g.cum[k] = sum
		}
	case "agencies":
		for i := range g.persons {
			g.persons[i].agency = ""
		}
		g.logos = map[string]cPhoto{}
		order := g.sr.Perm(len(g.persons))
		want := len(g.persons) * 3 / 10
		for a, at := 0, 0; at < want; a++ {
			phone := fmt.Sprintf("tel:b%015x", a)
			size := min(50+g.sr.IntN(151), want-at)
			for _, i := range order[at : at+size] {
				g.persons[i].agency = phone
			}
			at += size
			g.agencyTexts[phone] = randSig(g.sr)
			g.logos[phone] = g.photo()
		}
	case "stock":
		for range 1800 {
			g.stock = append(g.stock, g.photo())
		}
		for range 450 {
			g.webTexts = append(g.webTexts, randSig(g.sr))
		}
		g.stockPct, g.webPct = 30, 25
	default:
		panic("unknown shape " + shape)
	}
	return g
}
