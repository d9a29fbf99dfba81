package contact

import (
	"strings"
	"sync"
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
	if d.src == nil { // d.text is the original text
		return s, e
	}
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

// digitStrings holds the one-digit strings, so that tokens need not
// allocate them.
const digitStrings = "0123456789"

// maxNumberWordRunes is the length of the longest number word.
const maxNumberWordRunes = 5

// numberWord returns the digit a word of letters stands for.
func numberWord(w string) (byte, bool) {
	if len(w) > 4*maxNumberWordRunes {
		return 0, false
	}
	var buf [maxNumberWordRunes]byte
	n := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			// Lower-casing maps rune to rune; non-ASCII letters may
			// lower-case to ASCII ones (U+0130 to "i").
			if utf8.RuneCountInString(w) > maxNumberWordRunes {
				return 0, false
			}
			d, ok := numberWords[strings.ToLower(w)]
			return d, ok
		}
		if n == len(buf) {
			return 0, false
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	d, ok := numberWords[string(buf[:n])]
	return d, ok
}

// oRun says whether a word of letters is all "o" once lower-cased: only
// "o" and "O" lower-case to "o".
func oRun(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] != 'o' && w[i] != 'O' {
			return false
		}
	}
	return true
}

// tokenise appends the tokens of s to toks.
func tokenise(toks []token, s string) []token {
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
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
			toks = append(toks, token{kind: tDigit, start: i, end: j, out: digitStrings[d-'0' : d-'0'+1], conv: conv})
			i = j
			continue
		}
		if unicode.IsLetter(r) {
			for j < len(s) {
				r2, n := rune(s[j]), 1
				if r2 >= utf8.RuneSelf {
					r2, n = utf8.DecodeRuneInString(s[j:])
				}
				if !unicode.IsLetter(r2) {
					break
				}
				j += n
			}
			w := s[i:j]
			if d, ok := numberWord(w); ok {
				toks = append(toks, token{kind: tWord, start: i, end: j, out: digitStrings[d-'0' : d-'0'+1], conv: true})
			} else if oRun(w) {
				toks = append(toks, token{kind: tWord, start: i, end: j, out: strings.Repeat("0", j-i), conv: true, oRun: true})
			} else {
				toks = append(toks, token{kind: tOther, start: i, end: j, out: w})
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

// tokenPool holds token slices for deobfuscate.
var tokenPool = sync.Pool{New: func() any { return new([]token) }}

// deobWriter builds the text of a deobfuscated and its map to the
// original. While everything written is the original text, byte for byte
// at the same place, it only counts; the text and the map are made at the
// first change.
type deobWriter struct {
	s    string
	n    int  // bytes of s written unchanged so far
	copy bool // b and src are in use
	b    []byte
	src  []span
}

func (w *deobWriter) materialise() {
	w.copy = true
	w.b = make([]byte, w.n, len(w.s)+16)
	copy(w.b, w.s[:w.n])
	w.src = make([]span, w.n, len(w.s)+16)
	for k := range w.n {
		w.src[k] = span{k, k + 1}
	}
}

// verbatim writes s[start:end] as it is.
func (w *deobWriter) verbatim(start, end int) {
	if !w.copy && w.n == start {
		w.n = end
		return
	}
	if !w.copy {
		w.materialise()
	}
	w.b = append(w.b, w.s[start:end]...)
	for k := start; k < end; k++ {
		w.src = append(w.src, span{k, k + 1})
	}
}

// emit writes str for the original bytes sp.
func (w *deobWriter) emit(str string, sp span) {
	if !w.copy && w.n == sp.start && len(str) == 1 && sp.end == sp.start+1 && str[0] == w.s[sp.start] {
		w.n = sp.end
		return
	}
	if !w.copy {
		w.materialise()
	}
	w.b = append(w.b, str...)
	for range len(str) {
		w.src = append(w.src, sp)
	}
}

func (w *deobWriter) result() deobfuscated {
	if !w.copy && w.n == len(w.s) {
		return deobfuscated{text: w.s}
	}
	if !w.copy {
		w.materialise()
	}
	return deobfuscated{text: string(w.b), src: w.src}
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
	pooled := tokenPool.Get().(*[]token)
	toks := tokenise((*pooled)[:0], s)
	defer func() {
		clear(toks) // drop the references to s
		*pooled = toks[:0]
		tokenPool.Put(pooled)
	}()
	w := &deobWriter{s: s}
	verbatim := func(t token) {
		if t.kind == tOther && t.out != s[t.start:t.end] {
			w.emit(t.out, span{t.start, t.end})
			return
		}
		w.verbatim(t.start, t.end)
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
				w.emit(t.out, span{t.start, t.end})
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
	return w.result()
}
