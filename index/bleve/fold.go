package bleve

import (
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"

	"adcensus/internal/places"
)

// The analyzers of the text fields: bleve's Swedish and English analyzers
// (lower case, stop words, stemming) followed by foldFilter, so that
// "goteborg", "GÖTEBORG" and "Göteborg", "traffas" and "träffas" are the
// same term. Folding comes after stemming: the Swedish stemmer knows its
// suffixes with their diacritics ("träffas" → "träff" → "traff", and the
// query "traffas" → "traff").
const (
	svFolded   = "sv_folded"
	enFolded   = "en_folded"
	foldFilter = "adcensus_fold"
)

func init() {
	// The filter is named in the stored mapping of every index, so it must
	// be registered before any index is opened; bleve's registry is global.
	registry.RegisterTokenFilter(foldFilter, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return folder{cf: asciifolding.New()}, nil
	})
}

// folder folds the diacritics of each token's term ("ö" → "o", "å" → "a",
// "é" → "e"), with bleve's ASCII-folding table.
type folder struct {
	cf *asciifolding.AsciiFoldingFilter
}

func (f folder) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if !isASCII(t.Term) {
			t.Term = f.cf.Filter(t.Term) // a new slice
		}
	}
	return in
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// addFoldedAnalyzers defines the two analyzers in the index mapping.
func addFoldedAnalyzers(im *mapping.IndexMappingImpl) {
	for name, filters := range map[string][]any{
		svFolded: {lowercase.Name, sv.StopName, sv.SnowballStemmerName, foldFilter},
		enFolded: {en.PossessiveName, lowercase.Name, en.StopName, porter.Name, foldFilter},
	} {
		if err := im.AddCustomAnalyzer(name, map[string]any{
			"type": custom.Name, "tokenizer": unicode.Name, "token_filters": filters,
		}); err != nil {
			panic(err) // fixed names, checked by every test that opens an index
		}
	}
}

// foldTerm is what a term query (prefix, wildcard, fuzzy, regexp) on a text
// field matches: terms are indexed lower case and folded.
func foldTerm(s string) string {
	s = strings.ToLower(s)
	if isASCII([]byte(s)) {
		return s
	}
	return string(asciifolding.New().Filter([]byte(s)))
}

// placeAlias returns the municipality a one-word query names by another
// name ("Gothenburg", "Gbg" → "Göteborg"), and false when the word is not a
// place or is already its municipality's name (folded).
func placeAlias(word string) (string, bool) {
	word = strings.TrimSpace(word)
	if word == "" || strings.ContainsAny(word, " \t,/()") {
		return "", false
	}
	p, ok := places.Lookup(word)
	if !ok || foldTerm(p.Kommun) == foldTerm(word) {
		return "", false
	}
	return p.Kommun, true
}
