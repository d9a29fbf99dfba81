// Package synthetic holds what the test fixtures under it share — the demo
// arenas (demoarena) and the labelled corpus generator (synth) — so that
// they draw from one stock: the vocabulary of synthetic adverts (towns,
// first names, text pieces) and a small union-find. Their one photo set is
// package photoset. These are fixtures, not the product's stages:
// the stages (crawler, dedup, index, pipeline) import them only in tests,
// and cmd/adcensus ships them for `adcensus demo` and `adcensus synth`.
//
// Everything here is bland, non-explicit and about adults.
package synthetic
