package bleve

import (
	"testing"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/mapping"
)

// BenchmarkAnalyzer: what folding costs per advert text, the folded
// analyzers against bleve's own (docs/BENCHMARKS.md).
func BenchmarkAnalyzer(b *testing.B) {
	im := newMapping().(*mapping.IndexMappingImpl)
	text := []byte("Ny i Göteborg: trevlig och glad tjej, 28 år, kan träffas på kvällar och helger. " +
		"Jag tar emot i lugn lägenhet nära centrum, eller kommer till dig på hotell. " +
		"Hör av dig för en trevlig stund – välkommen! Hello, new in town, English spoken, café nearby.")
	for _, name := range []string{sv.AnalyzerName, svFolded, en.AnalyzerName, enFolded} {
		b.Run(name, func(b *testing.B) {
			a := im.AnalyzerNamed(name)
			if a == nil {
				b.Fatalf("no analyzer %s", name)
			}
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				a.Analyze(text)
			}
		})
	}
}
