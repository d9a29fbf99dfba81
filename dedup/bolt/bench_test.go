package bolt_test

import (
	"fmt"
	"testing"
)

// BenchmarkAddBatch adds batches of 1000 synthetic adverts to a growing
// state; ns/op is per batch.
func BenchmarkAddBatch(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			c := MustOpen(b, "")
			b.ReportAllocs()
			round := 0
			for b.Loop() {
				fps := synthetic(n, uint64(round))
				for _, f := range fps {
					f.Ad.ID = fmt.Sprintf("r%05d-%s", round, f.Ad.ID)
				}
				MustAdd(b, c, fps...)
				round++
			}
		})
	}
}
