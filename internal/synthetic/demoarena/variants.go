package demoarena

import (
	"fmt"
	"runtime"
	"sync"

	"adcensus/internal/synthetic/internal/variant"
	"adcensus/internal/synthetic/photoset"
)

var (
	variantsOnce sync.Once
	variants     map[string][]byte
	variantsErr  error
)

// VariantJPEG returns a photo tile (photoset.Names) as served by
// nattlinjen: re-encoded, scaled to 90 % and slightly brightened. The
// variants are made once per process. blomstra serves the tiles as they are
// (photoset.JPEG).
func VariantJPEG(name string) ([]byte, error) {
	variantsOnce.Do(makeVariants)
	if variantsErr != nil {
		return nil, variantsErr
	}
	v, ok := variants[name]
	if !ok {
		return nil, fmt.Errorf("demoarena: no photo %q", name)
	}
	return v, nil
}

func makeVariants() {
	names := photoset.Names()
	out := make([][]byte, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			orig, err := photoset.JPEG(n)
			if err == nil {
				out[i], err = variant.JPEG(orig)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	variants = map[string][]byte{}
	for i, n := range names {
		if errs[i] != nil {
			variantsErr = fmt.Errorf("demoarena: variant of %s: %w", n, errs[i])
			return
		}
		variants[n] = out[i]
	}
}
