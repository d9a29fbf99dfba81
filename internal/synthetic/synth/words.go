package synth

import "adcensus/internal/synthetic"

// The word lists the corpus is drawn from: the fixtures' shared vocabulary
// (package synthetic), and the arenas, origins and spelled digits that only
// this generator uses. Everything here is bland, non-explicit and about
// adults: the corpus looks like an escort directory only in its structure
// (names, ages, cities, phones, photos, reposts).

type city = synthetic.Town

// cities are Swedish towns with their län, largest first.
var cities = synthetic.Towns

// arenaStyle is a synthetic arena and the watermark it stamps on uploads.
type arenaStyle struct {
	Name    string
	Mark    int // markNone, markText, markLogo
	Corner  int // 0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right
	R, G, B uint8
}

const (
	markNone = iota
	markText
	markLogo
)

var arenas = []arenaStyle{
	{"aftonljus", markText, 3, 250, 250, 250},
	{"sidenrummet", markLogo, 0, 200, 40, 90},
	{"stadskontakt", markNone, 0, 0, 0, 0},
	{"nordkvall", markText, 0, 255, 220, 120},
	{"lyktan", markLogo, 3, 30, 110, 200},
	{"citydates", markText, 2, 255, 255, 255},
}

// Origins decide the phone country and the likely names and language.
const (
	originSE   = "se"   // Swedish name, Swedish number
	originIntl = "intl" // international name, Swedish number
	originPL   = "pl"
	originRO   = "ro"
	originUK   = "uk"
	originNG   = "ng"
)

var origins = []struct {
	Name   string
	Weight int
}{
	{originSE, 42}, {originIntl, 16}, {originPL, 12}, {originRO, 12}, {originUK, 6}, {originNG, 12},
}

// First names. The corpus draws from the first 38 Swedish names only: the
// list grew for the demo arenas after the default corpus was pinned.
var (
	namesSE   = synthetic.NamesSwedish[:38:38]
	namesIntl = synthetic.NamesInternational
	namesPL   = synthetic.NamesPolish
	namesRO   = synthetic.NamesRomanian
	namesUK   = synthetic.NamesEnglish
	namesNG   = synthetic.NamesNigerian
	namesM    = synthetic.NamesMen
	namesT    = synthetic.NamesTrans
)

// lang holds the text pieces of one language.
type lang = synthetic.Lang

// sv and en are the text pieces of the corpus's two languages.
var (
	sv = &synthetic.Swedish
	en = &synthetic.English
)

// spelled digits for obfuscated phone spellings.
var (
	digitWordsSV = [10]string{"noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio"}
	digitWordsEN = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
)
