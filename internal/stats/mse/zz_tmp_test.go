package mse

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
)

func TestTmpDump(t *testing.T) {
	name := os.Getenv("DUMP")
	if name == "" {
		t.Skip()
	}
	tb := loadShipped(t, name+".csv")
	ds := newDataset(func() []float64 {
		n := make([]float64, len(tb.counts))
		for c, v := range tb.counts {
			n[c] = float64(v)
		}
		return n
	}(), len(tb.Lists))
	opt, _ := Options{Replicates: 1000}.withDefaults()
	totals, failed := bootstrapTotalsForTest(ds, &opt, tb.Lists)
	below := 0
	r, _ := Estimate(tb, Options{Replicates: -1, NoProfile: true, NoCompare: true})
	for _, v := range totals {
		if v < r.Total {
			below++
		}
	}
	sort.Float64s(totals); fmt.Println("lowest", totals[:6]); fmt.Printf("%s failed=%d below=%.3f q2.5=%.1f q5=%.1f q50=%.1f q95=%.1f q97.5=%.1f\n", name, failed, float64(below)/float64(len(totals)),
		quantile8(totals, 0.025), quantile8(totals, 0.05), quantile8(totals, 0.5), quantile8(totals, 0.95), quantile8(totals, 0.975))
}

func bootstrapTotalsForTest(ds *dataset, opt *Options, lists []string) ([]float64, int) {
	return runReplicates(opt, func(f *fitter, rng *rand.Rand, nb []float64) float64 {
		resamplePersons(rng, ds.n, ds.observed, nb)
		return pointTotal(f, nb, ds.k, opt, lists)
	}, ds.k)
}

func BenchmarkTmpNewOrlAIC(b *testing.B) {
	tb := loadShipped(b, "NewOrl.csv")
	for i := 0; i < b.N; i++ {
		Estimate(tb, Options{Criterion: "aic", Replicates: 50, NoProfile: true, NoCompare: true, Workers: 1})
	}
}
