package textsig

import (
	"hash/fnv"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"adcensus/internal/contact"
)

// From a text to its shingles (docs/DEDUP.md, "Text").
//
// A text is cut into sentences (at line breaks and at ". ", "! ", "? ",
// "; ") and each sentence into words: NFC, case-folded, runs of letters
// and digits, so "Göteborg" is one word whatever its Unicode form and å, ä,
// ö stay letters. The contact placeholders "[tel]", "[email]", "[handle]"
// are dropped. A shingle is three consecutive words of one sentence (a
// sentence of one or two words is one shingle), so reordering sentences
// changes no shingle.

// shingleWords is the number of words in a shingle.
const shingleWords = 3

var (
	textFold         = cases.Fold()
	textPlaceholders = strings.NewReplacer(contact.TelPlaceholder, " ", contact.EmailPlaceholder, " ", contact.HandlePlaceholder, " ")
)

// Sign returns the signature of a text, and ok=false for a text without
// words.
func Sign(text string) (MinHash, bool) {
	return New(Shingles(Sentences(text)))
}

// Sentences returns the words of each sentence of text: NFC, case-folded,
// letters and digits only, contact placeholders dropped. Sentences without
// words are left out.
func Sentences(text string) [][]string {
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

// Tokens splits text into lower-case words of letters and digits (NFC), so
// that "Göteborg" stays one word whatever its Unicode form.
func Tokens(text string) []string {
	text = norm.NFC.String(strings.ToLower(text))
	return strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r)
	})
}

// Shingles returns the sorted, unique hashes of the shingles of the given
// sentences (Sentences).
func Shingles(sentences [][]string) []uint64 {
	var out []uint64
	for _, s := range sentences {
		if len(s) < shingleWords {
			out = append(out, hashWords(s))
			continue
		}
		for i := 0; i+shingleWords <= len(s); i++ {
			out = append(out, hashWords(s[i:i+shingleWords]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
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
