package demoarena

import "adcensus/internal/synthetic"

// The word lists the demo corpus is drawn from: the first entries of the
// fixtures' shared vocabulary (package synthetic). The demo corpus was fixed
// before the corpus generator added more words, and `adcensus demo` and the
// tests pin it, so the counts here are part of the corpus.

type city = synthetic.Town

// cities are Swedish towns with their län; the first ones are drawn more
// often (see pickCity).
var cities = synthetic.Towns

// First names by origin; the corpus adds a few deliberate collisions
// between persons itself.
var (
	namesSwedishF  = synthetic.NamesSwedish
	namesIntlF     = synthetic.NamesInternational[:18:18]
	namesPolishF   = synthetic.NamesPolish[:5:5]
	namesRomanianF = synthetic.NamesRomanian[:4:4]
	namesEnglishF  = synthetic.NamesEnglish[:5:5]
	namesM         = synthetic.NamesMen[:8:8]
	namesTrans     = synthetic.NamesTrans[:4:4]
)

// words are the text pieces of one advert language. {N} name, {A} age, {C}
// city, {T} visited city, {P} phone.
type words struct {
	titles, intros, middles, closings, phoneTxt []string
	tour                                        string
}

// svWords and enWords are the Swedish and English text pieces.
var (
	svWords = demoWords(&synthetic.Swedish)
	enWords = demoWords(&synthetic.English)
)

func demoWords(l *synthetic.Lang) words {
	return words{
		titles:   l.Titles[:6:6],
		intros:   l.Intros[:4:4],
		middles:  l.Middles[:9:9],
		closings: l.Closings[:5:5],
		phoneTxt: l.PhoneLines[:3:3],
		tour:     l.Tour,
	}
}
