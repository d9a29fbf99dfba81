package contact

import (
	"iter"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fast paths. The scans of email.go, handle.go and findPhones are defined
// by regular expressions (and libphonenumber's matcher) run over the whole
// text; most advert texts hold no contact, and running them everywhere
// cost ≈ 1 ms an advert. The fast paths below give the same results by
// running them only where a match can start or lie; the reasons are given
// where each is used, and TestFastPathMatchesReference compares them with
// the code as it was.

// needsFullScan says whether text must get the plain scans: texts that
// are not valid UTF-8 (where reading backwards and forwards could split
// characters differently), and texts holding "ſ" (U+017F) or the Kelvin
// sign (U+212A), which case-insensitive expressions match as "s" and "k"
// and the ASCII pre-filters would not.
func needsFullScan(text string) bool {
	return !utf8.ValidString(text) || strings.Contains(text, "\u017f") || strings.Contains(text, "\u212a")
}

// hasPrefixFold says whether s starts with prefix (lower-case ASCII
// letters) in any ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}

// minPhoneDigits is the fewest digits a number taken from free text can
// be written with: libphonenumber's metadata has no country whose calling
// code and shortest possible national number make fewer than 6 digits
// (Austria, Germany and Iran: 2 + 4), a Swedish number written nationally
// has the trunk 0 and at least 6 more, and the rules that rewrite national
// prefixes while parsing (Norfolk Island, San Marino, …) start from at
// least 5 national digits after the calling code. TestMinPhoneDigits
// checks the first two against the metadata.
const minPhoneDigits = 6

// phoneRune marks the characters libphonenumber's matcher pattern can
// match (besides digits, \p{Nd}): leading "+" and brackets, the valid
// punctuation (dashes, spaces, dots, slashes, brackets, tildes, "x"),
// extension labels and their separators (";ext=", "ext", "extensión",
// "anexo", "доб", "int", "#", full-width forms, ":" "," tab), in either
// case, and ":" also because the matcher looks at a ":" and two digits
// after a candidate to skip times. Read from the pattern of
// github.com/nyaruka/phonenumbers v2.0.7 (phoneNumberMatcherPattern,
// validPunctuation, extnPatternsForMatching): check it again when that
// module is upgraded.
var phoneRune = func() map[rune]bool {
	const chars = "+\uff0b([\uff08\uff3b)]\uff09\uff3d" +
		"-x\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff0e\uff0f \u00a0\u00ad\u200b\u2060\u3000./~\u2053\u223c\uff5e" +
		";=:,\t#\uff03" +
		"extnsio\u0301\u00f3\uff45\uff58\uff54\uff4e\uff49\u0434\u043e\u0431a"
	m := map[rune]bool{}
	for _, r := range chars {
		for f := r; ; {
			m[f] = true
			if f = unicode.SimpleFold(f); f == r {
				break
			}
		}
	}
	return m
}()

// phoneWindows yields the stretches of text that may hold a phone number
// for libphonenumber's matcher: maximal runs of characters its pattern can
// match (phoneRune and digits), trimmed to where a match can start and end
// (trimPhoneWindow), that hold a digit and at least minPhoneDigits digits
// and letters together (the parser reads letters as digits when there are
// three or more). No candidate of the matcher crosses the end of a run,
// and with the leniency used here it looks at nothing outside its
// candidate except a ":" and two digits after it, inside the trimmed run;
// so the matcher finds in each window what it finds there in the whole
// text.
func phoneWindows(text string) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		start, digits := -1, 0
		for i := 0; i <= len(text); {
			r, n := rune(-1), 1
			if i < len(text) {
				r, n = utf8.DecodeRuneInString(text[i:])
			}
			var in bool
			switch {
			case r < 0:
			case r >= '0' && r <= '9':
				in = true
				digits++
			case r < utf8.RuneSelf && r != '+' && r != '(' && r != '[' && r != ')' && r != ']' && r != '-' && r != ' ' &&
				r != '.' && r != '/' && r != '~' && r != ';' && r != '=' && r != ':' && r != ',' && r != '\t' && r != '#' &&
				!(r >= 'a' && r <= 'z') && !(r >= 'A' && r <= 'Z'):
			case unicode.Is(unicode.Nd, r):
				in = true
				digits++
			case phoneRune[r]:
				in = true
			}
			if in {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				if digits > 0 {
					if s, e := trimPhoneWindow(text, start, i); mayHoldPhone(text[s:e]) && !yield(s, e) {
						return
					}
				}
				start, digits = -1, 0
			}
			i += n
		}
	}
}

// mayHoldPhone says whether a window holds a digit and at least
// minPhoneDigits digits and letters together.
func mayHoldPhone(w string) bool {
	digits, letters := 0, 0
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				letters++
			}
		case unicode.Is(unicode.Nd, r):
			digits++
		case unicode.IsLetter(r):
			letters++
		}
	}
	return digits > 0 && digits+letters >= minPhoneDigits
}

// trimPhoneWindow narrows text[start:end] to its first character that can
// start a match of the matcher's pattern (a digit, "+", "＋" or an opening
// bracket) and its last that can end one (a digit or "#").
func trimPhoneWindow(text string, start, end int) (int, int) {
	for start < end {
		r, n := utf8.DecodeRuneInString(text[start:end])
		if r == '+' || r == '＋' || r == '(' || r == '[' || r == '（' || r == '［' || unicode.Is(unicode.Nd, r) {
			break
		}
		start += n
	}
	for end > start {
		r, n := utf8.DecodeLastRuneInString(text[start:end])
		if r == '#' || unicode.Is(unicode.Nd, r) {
			break
		}
		end -= n
	}
	return start, end
}

// simplePhoneWindow returns, for a window that is only digit groups (at
// most 21, of at most 20 digits) separated by one to four spaces, hyphens
// or dots, after an optional "+", the one match libphonenumber's matcher
// (leniency POSSIBLE) finds in it, without the matcher's scans, or
// ok=false when the matcher has to be run. The matcher's first candidate
// in such a window is the whole window: its pattern is digit blocks of up
// to 20 digits separated by up to four punctuation characters, greedy. Its
// checks before parsing let such a candidate through: there is no slash
// (dates, second numbers), no bracket, and a time stamp is refused only
// when ":" and two digits follow it, and nothing follows in the window.
// When the candidate parses into a possible number, the matcher returns it
// as it is done here, with the raw input fields cleared, and finds nothing
// after the window's end; when it does not, the matcher goes on to look
// for numbers inside the candidate, and ok is false.
//
// The window is parsed as its digits (and leading "+") alone, through
// found's memo (nil: none): libphonenumber strips the separators of such a
// window before parsing, so the number is the same, and the matcher's
// result has the raw input fields cleared anyway.
func simplePhoneWindow(w string, found *collected) (pp *parsedPhone, ok bool) {
	i := 0
	if strings.HasPrefix(w, "+") {
		i = 1
	}
	groups, digits, seps := 0, 0, 0
	for ; i < len(w); i++ {
		switch c := w[i]; {
		case c >= '0' && c <= '9':
			if digits == 0 {
				groups++
			}
			digits++
			seps = 0
			if digits > 20 || groups > 21 {
				return nil, false
			}
		case c == ' ' || c == '-' || c == '.':
			if digits == 0 && seps == 0 { // after "+", or at the start
				return nil, false
			}
			digits = 0
			seps++
			if seps > 4 {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	if groups == 0 || seps > 0 {
		return nil, false
	}
	key := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		if c := w[i]; c >= '0' && c <= '9' || c == '+' {
			key = append(key, c)
		}
	}
	pp = found.parse(string(key))
	if pp.num == nil || !pp.isPossible() {
		return nil, false
	}
	return pp, true
}
