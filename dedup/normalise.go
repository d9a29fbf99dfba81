package dedup

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"adcensus/internal/places"
)

// NormaliseCity returns the canonical name of the Swedish municipality
// (kommun) a city name belongs to, whatever the spelling ("Gothenburg",
// "GÖTEBORG", "Goteborg" → "Göteborg"; "Södermalm, Stockholm" →
// "Stockholm"; "Visby" → "Gotland", its kommun), so that counts by city
// and the cities of a touring person count places, not spellings. A name
// the gazetteer does not know (a foreign city, an unknown district) is
// kept, in NFC with its white space folded.
func NormaliseCity(city string) string {
	if p, ok := places.Lookup(city); ok {
		return p.Kommun
	}
	return foldSpaceNFC(city)
}

// NormaliseRegion returns the canonical name of a län ("Skåne", "skane
// lan" → "Skåne län"), or the name in NFC with white space folded.
func NormaliseRegion(region string) string {
	return places.NormaliseRegion(norm.NFC.String(region))
}

// Canonical genders (NormaliseGender).
const (
	GenderWoman  = "kvinna"
	GenderMan    = "man"
	GenderTrans  = "trans"
	GenderCouple = "par"
)

// genders maps the ways arenas write a gender, in Swedish and English,
// lower case, to the canonical values.
var genders = map[string]string{
	"kvinna": GenderWoman, "kvinnor": GenderWoman, "tjej": GenderWoman, "tjejer": GenderWoman,
	"dam": GenderWoman, "female": GenderWoman, "woman": GenderWoman, "women": GenderWoman,
	"f": GenderWoman, "k": GenderWoman, "kvinnlig": GenderWoman,
	"man": GenderMan, "män": GenderMan, "kille": GenderMan, "killar": GenderMan, "herr": GenderMan,
	"male": GenderMan, "men": GenderMan, "m": GenderMan, "manlig": GenderMan,
	"trans": GenderTrans, "transperson": GenderTrans, "transkvinna": GenderTrans, "transman": GenderTrans,
	"transsexuell": GenderTrans, "transgender": GenderTrans, "ts": GenderTrans, "tv": GenderTrans,
	"par": GenderCouple, "couple": GenderCouple, "paret": GenderCouple,
}

// NormaliseGender returns the canonical gender ("kvinna", "man", "trans",
// "par") of the way an arena writes it ("Tjej", "Female", "Transperson",
// "Couple"), or the value lower case, in NFC, with white space folded
// when it is none of them.
func NormaliseGender(g string) string {
	g = strings.ToLower(foldSpaceNFC(g))
	if c, ok := genders[g]; ok {
		return c
	}
	return g
}

// foldSpaceNFC makes s valid UTF-8 in NFC and folds runs of white space
// to one space, trimming both ends.
func foldSpaceNFC(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))), " ")
}
