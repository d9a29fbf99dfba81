package cluster

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// parallelMin is the smallest chunk spread over cores.
const parallelMin = 64

// parallel calls fn(0) … fn(n−1), spread over the cores for large n.
// The workers take the next few k as they go, so one left with the
// costlier adverts does not keep the others waiting (the lookups of a
// chunk run beside the adding: a core left idle at the end of one is
// lost).
func parallel(n int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		for k := range n {
			fn(k)
		}
		return
	}
	step := int64(max(1, n/(workers*32)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(step) - step)
				if lo >= n {
					return
				}
				for k := lo; k < min(n, lo+int(step)); k++ {
					fn(k)
				}
			}
		})
	}
	wg.Wait()
}
