package contact

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// numberWords are digits written as words, Swedish and English.
var numberWords = map[string]byte{
	"noll": '0', "ett": '1', "två": '2', "tva": '2', "tre": '3', "fyra": '4',
	"fem": '5', "sex": '6', "sju": '7', "åtta": '8', "atta": '8', "nio": '9',
	"zero": '0', "one": '1', "two": '2', "three": '3', "four": '4',
	"five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9',
}

// minRunDigits is the fewest digits a de-obfuscated run in free text must
// have to be rewritten; shorter runs are left as written.
const minRunDigits = 7

type tokKind uint8

const (
	tDigit tokKind = iota // one digit (ASCII, full-width or keycap)
	tWord                 // a number word, or a run of letters O/o
	tSep                  // a separator inside numbers: space, dash, dot, slash, bracket
	tOther
)

type token struct {
	kind       tokKind
	start, end int    // bytes in the input
	out        string // the digit(s) it stands for (tDigit, tWord) or its replacement
	conv       bool   // written in a form that needs conversion
	oRun       bool   // a run of letters O/o
}

// span is a byte range in the original text.
type span struct{ start, end int }

// deobfuscated is text with obfuscated numbers rewritten as plain digits,
// and for every byte of it the range of the original text it came from.
type deobfuscated struct {
	text string
	src  []span
}

// origSpan maps the byte range [s, e) of d.text back to the original text.
func (d *deobfuscated) origSpan(s, e int) (int, int) {
	return d.src[s].start, d.src[e-1].end
}

func isSep(r rune) bool {
	switch r {
	case '.', '/', '(', ')', '（', '）', '．', '／', '\u00a0':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}

func digitOf(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}

func tokenise(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		if d, ok := digitOf(r); ok {
			conv := r > '9'
			// keycap emoji: digit, optional U+FE0F, U+20E3
			if strings.HasPrefix(s[j:], "\ufe0f") {
				j += len("\ufe0f")
				conv = true
			}
			if strings.HasPrefix(s[j:], "\u20e3") {
				j += len("\u20e3")
				conv = true
			}
			toks = append(toks, token{kind: tDigit, start: i, end: j, out: string(d), conv: conv})
			i = j
			continue
		}
		if unicode.IsLetter(r) {
			for j < len(s) {
				r2, n := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) {
					break
				}
				j += n
			}
			w := strings.ToLower(s[i:j])
			if d, ok := numberWords[w]; ok {
				toks = append(toks, token{kind: tWord, start: i, end: j, out: string(d), conv: true})
			} else if strings.Trim(w, "o") == "" {
				toks = append(toks, token{kind: tWord, start: i, end: j, out: strings.Repeat("0", j-i), conv: true, oRun: true})
			} else {
				toks = append(toks, token{kind: tOther, start: i, end: j, out: s[i:j]})
			}
			i = j
			continue
		}
		switch {
		case r == '＋':
			toks = append(toks, token{kind: tOther, start: i, end: j, out: "+"})
		case isSep(r):
			toks = append(toks, token{kind: tSep, start: i, end: j, out: s[i:j]})
		default:
			toks = append(toks, token{kind: tOther, start: i, end: j, out: s[i:j]})
		}
		i = j
	}
	return toks
}

// deobfuscate rewrites obfuscated phone numbers in s as plain digit strings:
// full-width and keycap digits, letters O/o inside digit runs, digits
// written as words. Runs that need no conversion are kept as written, with
// their separators, for phonenumbers to parse.
//
// In free text (aggressive false) a number word converts only beside a
// digit ("1two3") or among other number words ("noll sju noll …"), and a
// converted run must have at least minRunDigits digits; a phone field
// (aggressive true) converts every number word and O.
func deobfuscate(s string, aggressive bool) deobfuscated {
	toks := tokenise(s)
	d := deobfuscated{src: make([]span, 0, len(s))}
	var b strings.Builder
	b.Grow(len(s))
	emit := func(str string, sp span) {
		b.WriteString(str)
		for range len(str) {
			d.src = append(d.src, sp)
		}
	}
	verbatim := func(t token) {
		if t.kind == tOther && t.out != s[t.start:t.end] {
			emit(t.out, span{t.start, t.end})
			return
		}
		for k := t.start; k < t.end; k++ {
			b.WriteByte(s[k])
			d.src = append(d.src, span{k, k + 1})
		}
	}
	// subRun emits toks[a:b] (units and separators, no tOther).
	subRun := func(a, z int) {
		for a < z && toks[a].kind == tSep {
			verbatim(toks[a])
			a++
		}
		y := z
		for y > a && toks[y-1].kind == tSep {
			y--
		}
		trailing := toks[y:z]
		defer func() {
			for _, t := range trailing {
				verbatim(t)
			}
		}()
		z = y
		digits, conv := 0, false
		for _, t := range toks[a:z] {
			if t.kind == tDigit || t.kind == tWord {
				digits += len(t.out)
				conv = conv || t.conv
			}
		}
		min := minRunDigits
		if aggressive {
			min = 1
		}
		for _, t := range toks[a:z] {
			switch {
			case conv && digits >= min && t.kind != tSep:
				emit(t.out, span{t.start, t.end})
			case conv && digits >= min:
				// separators inside a converted run are dropped
			default:
				verbatim(t)
			}
		}
	}
	adjacentDigit := func(k int) bool {
		return (k > 0 && toks[k-1].kind == tDigit && toks[k-1].end == toks[k].start) ||
			(k+1 < len(toks) && toks[k+1].kind == tDigit && toks[k+1].start == toks[k].end)
	}
	for i := 0; i < len(toks); {
		if toks[i].kind != tDigit && toks[i].kind != tWord {
			verbatim(toks[i])
			i++
			continue
		}
		// candidate run: units separated by separators
		j, last, words := i, i, 0
		for ; j < len(toks) && toks[j].kind != tOther; j++ {
			if toks[j].kind != tSep {
				last = j
				if toks[j].kind == tWord && !toks[j].oRun {
					words++
				}
			}
		}
		end := last + 1
		start := i
		for k := i; k < end; k++ {
			t := toks[k]
			if t.kind != tWord || aggressive || adjacentDigit(k) || (!t.oRun && words >= 2) {
				continue
			}
			// a lone word that stays a word splits the run
			if start < k {
				subRun(start, k)
			}
			verbatim(t)
			start = k + 1
		}
		if start < end {
			subRun(start, end)
		}
		i = end
	}
	d.text = b.String()
	return d
}
