// Package dedup is the de-duplication stage of adcensus: it fingerprints
// adverts (keyed-HMAC contact pseudonyms, perceptual image hashes, a text
// signature) and clusters them into persons and networks.
//
// The stage has two halves. The fingerprint half (Fingerprinter, run on
// the stream as FingerprintStage) is stateless and runs on many workers.
// The cluster half lives in the subpackage dedup/cluster (cluster.Stage):
// one writer that keeps the clustering state, with the evidence of every
// link, in a bbolt file that can be rebuilt by replay. Both are
// pipeline.Stage values driven by pipeline.Run; Offline runs the same two
// Process functions over a JSON Lines file, as `adcensus dedup` does.
//
// The rules for "same person" and "same network" are in docs/DEDUP.md.
package dedup
