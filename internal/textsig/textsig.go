// Package textsig holds the text signature that the fingerprint stage
// writes and the cluster stage compares: a text's sentences, words and
// shingles (text.go), a b-bit MinHash of the shingle set, its LSH band
// keys and the near-duplicate test (docs/DEDUP.md, "Text"). It is a leaf
// package, so that dedup (which computes signatures) and dedup/cluster
// (which compares them) can both import it.
//
// The MinHash signature keeps, for each of Size seeded hash functions,
// the low 16 bits of the least hash of any shingle (b-bit MinHash). Two
// signatures agree in a position with probability J + (1−J) 2⁻¹⁶, J the
// Jaccard similarity of the shingle sets, so the share of equal positions
// estimates J (standard error √(J(1−J)/128) ≈ 0.035 at J = 0.8).
//
// LSH: the signature is cut into Bands bands of Rows rows; two texts are
// candidates when they agree on a whole band. The probability is
// 1 − (1 − J⁸)¹⁶: 0.06 at J = 0.5, 0.61 at 0.7, 0.95 at 0.8, 0.9996 at
// 0.9 (threshold ≈ (1/16)^(1/8) ≈ 0.71). BandKeys gives the keys for an
// index; a candidate is then confirmed with Jaccard.
package textsig

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

const (
	Size  = 128
	Bands = 16
	Rows  = Size / Bands
	// Kind prefixes the encoded signature in ad.Fingerprinted.TextMinHash.
	Kind = "mh128x16"
)

// Template thresholds: a text is a shared template when its near-duplicate
// group (Near, the advert itself included) carries at least
// TemplateMinNames distinct non-empty names and TemplateMinContacts
// distinct contacts, as for stock photos (dedup/cluster/stock.go).
const (
	TemplateMinNames    = 3
	TemplateMinContacts = 3
	// DefaultJaccard is the least estimated Jaccard at which two texts
	// are near-duplicates (see docs/DEDUP.md for the measurements).
	DefaultJaccard = 0.7
)

// MinHash is a b-bit MinHash signature of a text (16 bits per position).
type MinHash [Size]uint16

// seeds are the seeds of the hash functions, fixed forever: a signature
// is only comparable with signatures made with the same seeds.
var seeds = func() (s [Size]uint64) {
	x := uint64(0x6164636e73757331) // "adcnsus1"
	for i := range s {
		x += 0x9e3779b97f4a7c15
		s[i] = mix64(x)
	}
	return s
}()

// mix64 is the SplitMix64 finaliser: a bijection that spreads every input
// bit over the output.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// New returns the signature of a set of shingle hashes, and ok=false for
// an empty set.
func New(shingles []uint64) (m MinHash, ok bool) {
	if len(shingles) == 0 {
		return m, false
	}
	var mins [Size]uint64
	for i := range mins {
		mins[i] = math.MaxUint64
	}
	for _, x := range shingles {
		for i, seed := range seeds {
			if h := mix64(x ^ seed); h < mins[i] {
				mins[i] = h
			}
		}
	}
	for i, v := range mins {
		m[i] = uint16(v)
	}
	return m, true
}

// Jaccard estimates the Jaccard similarity of the shingle sets of two
// signatures: the share of positions where they agree.
func (m *MinHash) Jaccard(o *MinHash) float64 {
	n := 0
	for i := range m {
		if m[i] == o[i] {
			n++
		}
	}
	return float64(n) / Size
}

// BandKeys returns the LSH keys of the signature: for each band, a 64-bit
// hash of the band's index and rows. Two signatures are LSH candidates when
// they share a key (keys of different bands never collide on purpose).
func (m *MinHash) BandKeys() [Bands]uint64 {
	var keys [Bands]uint64
	for b := range keys {
		k := mix64(uint64(b) + 0x5bd1e995)
		for r := range Rows {
			k = mix64(k ^ uint64(m[b*Rows+r]))
		}
		keys[b] = k
	}
	return keys
}

// String encodes the signature as Kind ":" base64url (no padding) of its
// positions, 16-bit little-endian: 342 characters after the colon.
func (m *MinHash) String() string {
	var b [2 * Size]byte
	for i, v := range m {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return Kind + ":" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Parse decodes a signature written by String.
func Parse(s string) (MinHash, error) {
	var m MinHash
	kind, val, ok := strings.Cut(s, ":")
	if !ok || kind != Kind {
		return m, fmt.Errorf("text minhash: kind %q, want %q", kind, Kind)
	}
	b, err := base64.RawURLEncoding.DecodeString(val)
	if err != nil {
		return m, fmt.Errorf("text minhash: %w", err)
	}
	if len(b) != 2*Size {
		return m, fmt.Errorf("text minhash: %d bytes, want %d", len(b), 2*Size)
	}
	for i := range m {
		m[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return m, nil
}

// Near says whether two texts are near-duplicates at threshold t: they
// share an LSH band key (BandKeys) and their estimated Jaccard is at least
// t. It is symmetric, and it is exactly what an index of band keys finds.
func Near(a, b *MinHash, t float64) (float64, bool) {
	ka, kb := a.BandKeys(), b.BandKeys()
	return NearKeys(a, b, &ka, &kb, t)
}

// NearKeys is Near with the band keys of a and b already computed.
func NearKeys(a, b *MinHash, ka, kb *[Bands]uint64, t float64) (float64, bool) {
	for i := range ka {
		if ka[i] == kb[i] {
			j := a.Jaccard(b)
			return j, j >= t
		}
	}
	return 0, false
}
