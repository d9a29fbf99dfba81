package bleve

import "adcensus/index"

// BleveDoc exposes the document handed to bleve, so the benchmarks can
// index exactly the same fields into a bare bleve index.
func BleveDoc(d *index.Doc) map[string]any { return bleveDoc(d) }

// Shards returns the keys of the open shards, sorted.
func (x *Index) Shards() []string {
	var out []string
	for _, s := range x.shards.list() {
		out = append(out, s.key)
	}
	return out
}
