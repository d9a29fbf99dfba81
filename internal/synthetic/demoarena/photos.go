package demoarena

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"sync"

	"adcensus/internal/synthetic/demoarena/internal/variant"
)

// photoFS holds the photo tiles (see photos/SOURCES.md).
//
//go:embed photos/*.jpg photos/SOURCES.md
var photoFS embed.FS

// PhotoNames lists the bundled photo tiles by file name (p001.jpg …).
func PhotoNames() []string {
	entries, err := fs.Glob(photoFS, "photos/*.jpg")
	if err != nil {
		panic(err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = path.Base(e)
	}
	sort.Strings(out)
	return out
}

// PhotoJPEG returns a photo tile as served by blomstra (the original JPEG).
func PhotoJPEG(name string) ([]byte, error) {
	return photoFS.ReadFile("photos/" + name)
}

// PhotoSources returns photos/SOURCES.md: where each tile comes from and
// under which licence.
func PhotoSources() string {
	b, _ := photoFS.ReadFile("photos/SOURCES.md")
	return string(b)
}

var (
	variantsOnce sync.Once
	variants     map[string][]byte
	variantsErr  error
)

// VariantJPEG returns a photo as served by nattlinjen: re-encoded, scaled
// to 90 % and slightly brightened. The variants are made once per process.
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
	names := PhotoNames()
	out := make([][]byte, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, n := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			orig, err := PhotoJPEG(n)
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
