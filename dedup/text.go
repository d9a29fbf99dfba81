package dedup

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"adcensus/internal/contact"
	"adcensus/internal/textsig"
)

// Text fingerprints (docs/DEDUP.md, "Text").
//
// A text is cut into sentences (at line breaks and at ". ", "! ", "? ",
// "; ") and each sentence into words: NFC, case-folded, runs of letters
// and digits, so "Göteborg" is one word whatever its Unicode form and å, ä,
// ö stay letters. The contact placeholders "[tel]", "[email]", "[handle]"
// are dropped. A shingle is three consecutive words of one sentence (a
// sentence of one or two words is one shingle), so reordering sentences
// changes no shingle.
//
// The signature itself (MinHash, LSH band keys, NearText, the template
// thresholds) lives in the leaf package internal/textsig, which dedup/cluster
// also imports; the names below are kept for callers of this package.
const (
	MinHashSize  = textsig.Size
	MinHashBands = textsig.Bands
	MinHashRows  = textsig.Rows
	// MinHashKind prefixes the encoded signature in
	// ad.Fingerprinted.TextMinHash.
	MinHashKind = textsig.Kind
	// textShingleWords is the number of words in a shingle.
	textShingleWords = 3
)

// MinHash is a b-bit MinHash signature of a text (16 bits per position).
type MinHash = textsig.MinHash

var (
	textFold         = cases.Fold()
	textPlaceholders = strings.NewReplacer(contact.TelPlaceholder, " ", contact.EmailPlaceholder, " ", contact.HandlePlaceholder, " ")
)

// TextSentences returns the words of each sentence of text: NFC,
// case-folded, letters and digits only, contact placeholders dropped.
// Sentences without words are left out.
func TextSentences(text string) [][]string {
	text = textPlaceholders.Replace(strings.ToValidUTF8(text, " "))
	text = norm.NFC.String(textFold.String(text))
	var out [][]string
	start := 0
	flush := func(end int) {
		if w := Tokens(text[start:end]); len(w) > 0 {
			out = append(out, w)
		}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		j := i + n
		end := false
		switch r {
		case '\n', '\r', '!', '?', ';', '•', '|':
			end = true
		case '.', '…', ':':
			next, _ := utf8.DecodeRuneInString(text[j:])
			end = j >= len(text) || unicode.IsSpace(next)
		}
		if end {
			flush(i)
			start = j
		}
		i = j
	}
	flush(len(text))
	return out
}

// hashWords hashes a run of words (FNV-1a, words separated by 0x1f).
func hashWords(words []string) uint64 {
	h := fnv.New64a()
	for i, w := range words {
		if i > 0 {
			h.Write([]byte{0x1f})
		}
		h.Write([]byte(w))
	}
	return h.Sum64()
}

// TextShingles returns the sorted, unique hashes of the shingles of the
// given sentences (TextSentences), skipping sentences for which skip
// returns true (skip may be nil).
func TextShingles(sentences [][]string, skip func(sentence uint64) bool) []uint64 {
	var out []uint64
	for _, s := range sentences {
		if skip != nil && skip(hashWords(s)) {
			continue
		}
		if len(s) < textShingleWords {
			out = append(out, hashWords(s))
			continue
		}
		for i := 0; i+textShingleWords <= len(s); i++ {
			out = append(out, hashWords(s[i:i+textShingleWords]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SentenceHashes returns the sorted, unique hashes of the sentences of
// text, as Boilerplate counts them.
func SentenceHashes(sentences [][]string) []uint64 {
	out := make([]uint64, 0, len(sentences))
	for _, s := range sentences {
		out = append(out, hashWords(s))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NewMinHash returns the signature of a set of shingle hashes, and
// ok=false for an empty set.
func NewMinHash(shingles []uint64) (MinHash, bool) { return textsig.New(shingles) }

// TextMinHash returns the signature of a text, and ok=false for a text
// without words.
func TextMinHash(text string) (MinHash, bool) {
	return NewMinHash(TextShingles(TextSentences(text), nil))
}

// ParseMinHash decodes a signature written by MinHash.String.
func ParseMinHash(s string) (MinHash, error) { return textsig.Parse(s) }

// NearText says whether two texts are near-duplicates at threshold t: they
// share an LSH band key (BandKeys) and their estimated Jaccard is at least
// t. It is symmetric, and it is what an index of band keys finds.
func NearText(a, b *MinHash, t float64) (float64, bool) { return textsig.Near(a, b, t) }

// Template thresholds (textsig): a text is a shared template when its
// near-duplicate group (NearText, the advert itself included) carries at
// least TemplateMinNames distinct non-empty names and TemplateMinContacts
// distinct contacts, as for stock photos (dedup/cluster/stock.go). The
// cluster state applies the same definition (dedup/cluster/template.go).
const (
	TemplateMinNames    = textsig.TemplateMinNames
	TemplateMinContacts = textsig.TemplateMinContacts
	// DefaultTextJaccard is the least estimated Jaccard at which two texts
	// are near-duplicates (see docs/DEDUP.md for the measurements).
	DefaultTextJaccard = textsig.DefaultJaccard
)

// TextGroups recognises near-duplicate texts and shared templates among
// adverts, incrementally. Whether an advert's text is a template depends
// only on the set of adverts added, not their order: the distinct names
// and contacts of its near-duplicate group only grow. A zero TextGroups is
// not usable; use NewTextGroups.
type TextGroups struct {
	// Threshold is the NearText threshold; MinNames and MinContacts the
	// template thresholds.
	Threshold             float64
	MinNames, MinContacts int

	ads   []textEntry
	index map[string]int32
	bands map[uint64][]int32
}

type textEntry struct {
	id                      string
	sig                     MinHash
	name                    string
	contacts                []string
	seenNames, seenContacts []string
	template                bool
}

// NewTextGroups returns empty groups with the default thresholds.
func NewTextGroups() *TextGroups {
	return &TextGroups{
		Threshold: DefaultTextJaccard, MinNames: TemplateMinNames, MinContacts: TemplateMinContacts,
		index: map[string]int32{}, bands: map[uint64][]int32{},
	}
}

// Len returns the number of adverts added.
func (g *TextGroups) Len() int { return len(g.ads) }

// Add takes in one advert's text signature, normalised name ("" when none)
// and contact pseudonyms. An id already added is an error.
func (g *TextGroups) Add(id string, sig MinHash, name string, contacts []string) error {
	if _, dup := g.index[id]; dup {
		return fmt.Errorf("text groups: advert %q added twice", id)
	}
	i := int32(len(g.ads))
	g.ads = append(g.ads, textEntry{id: id, sig: sig, name: name, contacts: slices.Clone(contacts)})
	g.index[id] = i
	g.seen(i, i)
	for _, j := range g.near(i) {
		g.seen(i, j)
		g.seen(j, i)
	}
	for _, k := range sig.BandKeys() {
		g.bands[k] = append(g.bands[k], i)
	}
	return nil
}

// near returns the adverts already indexed whose text is near advert i's.
func (g *TextGroups) near(i int32) []int32 {
	var out []int32
	a := &g.ads[i].sig
	for _, k := range a.BandKeys() {
		for _, j := range g.bands[k] {
			if j != i && !slices.Contains(out, j) && a.Jaccard(&g.ads[j].sig) >= g.Threshold {
				out = append(out, j)
			}
		}
	}
	return out
}

// seen adds advert j's name and contacts to advert i's capped sets.
func (g *TextGroups) seen(i, j int32) {
	e, o := &g.ads[i], &g.ads[j]
	if e.template {
		return
	}
	if o.name != "" && len(e.seenNames) < g.MinNames && !slices.Contains(e.seenNames, o.name) {
		e.seenNames = append(e.seenNames, o.name)
	}
	for _, c := range o.contacts {
		if len(e.seenContacts) >= g.MinContacts {
			break
		}
		if !slices.Contains(e.seenContacts, c) {
			e.seenContacts = append(e.seenContacts, c)
		}
	}
	if len(e.seenNames) >= g.MinNames && len(e.seenContacts) >= g.MinContacts {
		e.template, e.seenNames, e.seenContacts = true, nil, nil
	}
}

// Neighbours returns the ids of the adverts whose text is near the given
// advert's, sorted; nil for an unknown id.
func (g *TextGroups) Neighbours(id string) []string {
	i, ok := g.index[id]
	if !ok {
		return nil
	}
	var out []string
	for _, j := range g.near(i) {
		out = append(out, g.ads[j].id)
	}
	slices.Sort(out)
	return out
}

// Template returns the evidence that an advert's text is a shared
// template, or "" when it is not (or the id is unknown).
func (g *TextGroups) Template(id string) string {
	if i, ok := g.index[id]; ok && g.ads[i].template {
		return fmt.Sprintf("text is a template: near-duplicates seen with %d or more names and %d or more contacts", g.MinNames, g.MinContacts)
	}
	return ""
}

// Pair says whether two adverts have near-duplicate texts that are not
// templates, with the evidence ("text jaccard 0.86"). It is symmetric.
func (g *TextGroups) Pair(a, b string) (bool, string) {
	i, okA := g.index[a]
	j, okB := g.index[b]
	if !okA || !okB || i == j || g.ads[i].template || g.ads[j].template {
		return false, ""
	}
	jac, ok := NearText(&g.ads[i].sig, &g.ads[j].sig, g.Threshold)
	if !ok {
		return false, ""
	}
	return true, fmt.Sprintf("text jaccard %.2f", jac)
}

// Boilerplate counts, per sentence (SentenceHashes), the distinct contacts
// of the adverts using it, capped at MinContacts. A sentence seen with
// MinContacts or more contacts is boilerplate: a greeting or a phrase that
// many unrelated advertisers write. Leaving boilerplate sentences out of
// the shingles (TextShingles' skip) makes what is left of a text say more
// about who wrote it. Counts only grow, so whether a sentence is
// boilerplate depends on the set of adverts seen, not their order.
type Boilerplate struct {
	MinContacts int
	seen        map[uint64][]string
}

// DefaultBoilerplateContacts is the default Boilerplate.MinContacts.
const DefaultBoilerplateContacts = 5

// NewBoilerplate returns an empty count with the default threshold.
func NewBoilerplate() *Boilerplate {
	return &Boilerplate{MinContacts: DefaultBoilerplateContacts, seen: map[uint64][]string{}}
}

// Add counts one advert's sentences and contacts. An advert without
// contacts counts as one contact of its own, named by key (its id).
func (b *Boilerplate) Add(key string, sentences []uint64, contacts []string) {
	if len(contacts) == 0 {
		contacts = []string{"ad:" + key}
	}
	for _, s := range sentences {
		cs := b.seen[s]
		for _, c := range contacts {
			if len(cs) >= b.MinContacts {
				break
			}
			if !slices.Contains(cs, c) {
				cs = append(cs, c)
			}
		}
		b.seen[s] = cs
	}
}

// Is reports whether a sentence is boilerplate.
func (b *Boilerplate) Is(sentence uint64) bool { return len(b.seen[sentence]) >= b.MinContacts }
