// Package places is the gazetteer of Sweden's 290 municipalities
// (kommuner) and 21 counties (län): it resolves the city and region names
// adverts write ("Gothenburg", "Malmo", "Södermalm, Stockholm",
// "Skåne") to their canonical names. The crawler and the fingerprint
// stage both use it.
package places

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
)

// kommunerTSV is Sweden's 290 municipalities with their county; see the
// header of kommuner.tsv for the format.
//
//go:embed kommuner.tsv
var kommunerTSV string

// Place is a Swedish municipality and its county.
type Place struct {
	Kommun string // "Göteborg"
	Lan    string // "Västra Götalands län"
}

// gazetteer looks places up by normalised name.
type gazetteer struct {
	kommuner []Place
	exact    map[string]Place // lower case, diacritics kept
	folded   map[string]Place // lower case, diacritics folded or transliterated
	lan      map[string]string
}

var (
	gazOnce sync.Once
	gaz     *gazetteer
)

// places returns the gazetteer, parsed on first use (read-only after).
func places() *gazetteer {
	gazOnce.Do(func() {
		g, err := parseGazetteer(kommunerTSV)
		if err != nil {
			panic(err) // the embedded file is checked by tests
		}
		gaz = g
	})
	return gaz
}

func parseGazetteer(data string) (*gazetteer, error) {
	g := &gazetteer{exact: map[string]Place{}, folded: map[string]Place{}, lan: map[string]string{}}
	ambiguous := map[string]bool{}
	addFolded := func(key string, p Place) {
		for _, k := range []string{Fold(key), translit.Replace(key)} {
			if old, ok := g.folded[k]; ok && old != p {
				ambiguous[k] = true // Håbo and Habo both fold to "habo"
			}
			g.folded[k] = p
		}
	}
	for i, line := range strings.Split(data, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 2 || cols[0] == "" || !strings.HasSuffix(cols[1], " län") {
			return nil, fmt.Errorf("places/kommuner.tsv:%d: want kommun<TAB>län[<TAB>aliases]", i+1)
		}
		p := Place{Kommun: cols[0], Lan: cols[1]}
		g.kommuner = append(g.kommuner, p)
		names := []string{p.Kommun}
		if len(cols) > 2 {
			for _, a := range strings.Split(cols[2], ",") {
				if a = strings.TrimSpace(a); a != "" {
					names = append(names, a)
				}
			}
		}
		for _, n := range names {
			k := placeKey(n)
			if old, ok := g.exact[k]; ok && old != p {
				return nil, fmt.Errorf("places/kommuner.tsv:%d: %q is already %s", i+1, n, old.Kommun)
			}
			g.exact[k] = p
			addFolded(k, p)
		}
		lk := placeKey(p.Lan)
		g.lan[lk] = p.Lan
		base := strings.TrimSuffix(strings.TrimSuffix(lk, " lan"), " län")
		g.lan[base] = p.Lan
		g.lan[strings.TrimSuffix(base, "s")] = p.Lan // "Stockholm" → Stockholms län
		for _, k := range []string{lk, base, strings.TrimSuffix(base, "s")} {
			g.lan[Fold(k)] = p.Lan
		}
	}
	for k := range ambiguous {
		delete(g.folded, k)
	}
	return g, nil
}

var translit = strings.NewReplacer("å", "aa", "ä", "ae", "ö", "oe", "é", "e", "ü", "ue")

// placeKey is the lookup form of a name: lower case, hyphens as spaces,
// spaces folded.
func placeKey(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "-", " "))
	return strings.Join(strings.Fields(s), " ")
}

// Lookup finds the Swedish municipality a city name belongs to, case-
// and diacritic-insensitively ("Malmo", "GÖTEBORG", "Goeteborg",
// "Gothenburg", "Umeå kommun", "Stockholms stad", "Visby"). Text after a
// comma, slash or parenthesis is tried last ("Södermalm, Stockholm").
func Lookup(city string) (Place, bool) {
	g := places()
	try := func(s string) (Place, bool) {
		k := placeKey(s)
		for _, suf := range []string{"", " kommun", " stad", " city", " centrum", " c"} {
			base := strings.TrimSuffix(k, suf)
			if suf != "" && base == k {
				continue
			}
			for _, cand := range []string{base, strings.TrimSuffix(base, "s")} {
				if cand == "" {
					continue
				}
				if p, ok := g.exact[cand]; ok {
					return p, true
				}
				if p, ok := g.folded[Fold(cand)]; ok {
					return p, true
				}
			}
		}
		return Place{}, false
	}
	city = strings.TrimSpace(city)
	if city == "" {
		return Place{}, false
	}
	if p, ok := try(city); ok {
		return p, true
	}
	parts := strings.FieldsFunc(city, func(r rune) bool { return strings.ContainsRune(",/()|;", r) })
	for _, part := range parts {
		if p, ok := try(part); ok {
			return p, true
		}
	}
	return Place{}, false
}

// RegionOf returns the län of a city name, or "" when it is not a known
// Swedish municipality (see Lookup).
func RegionOf(city string) string {
	p, _ := Lookup(city)
	return p.Lan
}

// NormaliseRegion returns the canonical name of a län written as a page
// shows it ("Skåne", "skane lan", "Västra Götaland"), or s unchanged
// (whitespace folded) when it is not one.
func NormaliseRegion(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	k := placeKey(s)
	g := places()
	if l, ok := g.lan[k]; ok {
		return l
	}
	if l, ok := g.lan[Fold(k)]; ok {
		return l
	}
	return s
}

var foldReplacer = strings.NewReplacer(
	"å", "a", "ä", "a", "á", "a", "à", "a", "â", "a", "ã", "a", "ą", "a", "ă", "a",
	"Å", "A", "Ä", "A", "Á", "A", "À", "A", "Â", "A", "Ã", "A", "Ą", "A", "Ă", "A",
	"ö", "o", "ø", "o", "ó", "o", "ò", "o", "ô", "o", "õ", "o",
	"Ö", "O", "Ø", "O", "Ó", "O", "Ò", "O", "Ô", "O", "Õ", "O",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "ę", "e", "É", "E", "È", "E", "Ê", "E", "Ë", "E", "Ę", "E",
	"ü", "u", "ú", "u", "ù", "u", "û", "u", "Ü", "U", "Ú", "U", "Ù", "U", "Û", "U",
	"í", "i", "ì", "i", "î", "i", "ï", "i", "Í", "I", "Ì", "I", "Î", "I", "Ï", "I",
	"ç", "c", "ć", "c", "Ç", "C", "Ć", "C", "ñ", "n", "ń", "n", "Ñ", "N", "Ń", "N",
	"ś", "s", "ș", "s", "ş", "s", "Ś", "S", "Ș", "S", "Ş", "S", "ț", "t", "ţ", "t", "Ț", "T", "Ţ", "T",
	"ż", "z", "ź", "z", "Ż", "Z", "Ź", "Z", "ł", "l", "Ł", "L", "ý", "y", "ÿ", "y", "Ý", "Y",
	"æ", "ae", "Æ", "AE", "ß", "ss",
)

// Fold removes diacritics from Latin letters: "Malmö" → "Malmo",
// "Umeå" → "Umea". Other characters are kept.
func Fold(s string) string { return foldReplacer.Replace(s) }
