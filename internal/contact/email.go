package contact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// E-mail addresses in free text, plain ("anna@example.com") or obfuscated:
//
//   - the @ written as "(at)", "[at]", "{at}", "<at>", "(@)", "snabel-a",
//     "snabela" (bracketed or not), or a bare " at ";
//   - dots written as "(dot)", "[punkt]", " dot ", " punkt ", or " . ";
//   - spaces on both sides of the @ ("anna @ example . com", not
//     "hej @anna.se"); full-width ＠ and ．.
//
// What only looks like an e-mail is rejected:
//
//   - a plain address whose top-level domain is a file extension
//     ("logo@2x.png");
//   - an obfuscated address whose top-level domain is not a common one
//     (obfuscatedTLDs): "boka (at) hotell punkt centralen";
//   - a bare " at " unless the domain's dots are words too ("anna at
//     example dot com", not "see me at example.com"), and unless the word
//     before it is an ordinary English word ("look at example dot com");
//   - a spaced dot only with space on both sides ("mejla @ hemsidan. Se
//     bilder" is a sentence end, not ".se").
const (
	emailLocal = `[\p{L}\p{N}._%+\-]+`
	emailLabel = `[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?`
	atSymbol   = `[@＠]|\s+[@＠]\s+`
	atBracket  = `\s*[(\[{<]\s*(?:at|[@＠]|snabel-?a)\s*[)\]}>]\s*`
	atSnabel   = `\s+snabel-?a\s+`
	atBare     = `\s+at\s+`
	dotPlain   = `[.．]`
	dotSpaced  = `\s+[.．]\s+`
	dotBracket = `\s*[(\[{<]\s*(?:dot|punkt|[.．])\s*[)\]}>]\s*`
	dotWord    = `\s+(?:dot|punkt)\s+`
)

var (
	emailAny = regexp.MustCompile(`(?i)(` + emailLocal + `)(` + atSymbol + `|` + atBracket + `|` + atSnabel + `|` + atBare + `)` +
		`(` + emailLabel + `(?:(?:` + dotBracket + `|` + dotWord + `|` + dotSpaced + `|` + dotPlain + `)` + emailLabel + `)+)`)
	emailDot = regexp.MustCompile(`(?i)` + dotBracket + `|` + dotWord + `|` + dotSpaced + `|` + dotPlain)
	// emailAnchored is emailAny matched at the start of its input only.
	emailAnchored = regexp.MustCompile(`^(?:` + emailAny.String() + `)`)
)

// fileExtensions are top-level domains that are far more often file names.
var fileExtensions = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "webp": true, "svg": true, "bmp": true,
	"heic": true, "pdf": true, "html": true, "htm": true, "php": true, "js": true, "css": true,
	"txt": true, "zip": true, "mp4": true, "mov": true, "doc": true, "docx": true,
}

// obfuscatedTLDs are the top-level domains an obfuscated address may end in.
var obfuscatedTLDs = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`se nu com net org info biz eu io me co uk dk no fi is de at ch nl be fr es it pt
		pl ro bg hu cz sk ru ua by ee lv lt gr tr ng gh ke za th vn ph cn jp br us ca au nz
		email mail online live site xyz app club one pro life fun cc tv`) {
		obfuscatedTLDs[t] = true
	}
}

// bareAtStop are words before a bare " at " that make it ordinary English.
var bareAtStop = map[string]bool{
	"look": true, "me": true, "us": true, "here": true, "there": true, "available": true,
	"find": true, "see": true, "visit": true, "meet": true, "online": true, "page": true,
	"site": true, "only": true, "best": true, "stay": true, "staying": true, "located": true,
	"live": true, "work": true, "home": true, "it": true, "them": true, "you": true,
}

// emailSpan is one e-mail address found in text.
type emailSpan struct {
	start, end int
	addr       string // normalised: NFC, lower case, local@domain
}

// findEmails returns the e-mail addresses in text, plain and obfuscated,
// in order; rejected look-alikes are not returned.
func findEmails(text string) []emailSpan {
	next := nextEmail
	if needsFullScan(text) {
		next = nextEmailRegexp
	}
	var out []emailSpan
	for pos := 0; pos < len(text); {
		m := next(text, pos)
		if m == nil {
			break
		}
		start, end := m[0], m[1]
		local, at, domain := text[m[2]:m[3]], text[m[4]:m[5]], text[m[6]:m[7]]
		if addr, ok := validEmail(local, at, domain); ok && boundaryAfter(text, end) {
			out = append(out, emailSpan{start, end, addr})
			pos = end
			continue
		}
		// Not an address: look again after the local part, so that a real
		// address overlapping the rejected match is still found.
		pos = m[3]
		if pos <= start {
			_, n := utf8.DecodeRuneInString(text[start:])
			pos = start + n
		}
	}
	return out
}

// nextEmailRegexp returns the submatch indices, in text, of the leftmost
// match of emailAny at or after pos, or nil.
func nextEmailRegexp(text string, pos int) []int {
	m := emailAny.FindStringSubmatchIndex(text[pos:])
	for i := range m {
		m[i] += pos
	}
	return m
}

// nextEmail returns what nextEmailRegexp returns, without running the
// expression over the whole text. Every match of emailAny has an "at
// part" made of white space and opening brackets and then an indicator:
// "@", "＠", "at" (with white space or an opening bracket before it and
// white space or a closing bracket after it) or "snabel" (with white space
// or an opening bracket before it). The match starts in the run of
// local-part characters just before that white space and those brackets,
// and if a match starts anywhere in that run, one starts at the run's
// beginning (or at pos, if the run begins before it). So the leftmost
// match is found by trying the expression, anchored, at that beginning for
// each indicator in turn; those beginnings never decrease. Each anchored
// attempt sees the text only up to the first character no match can hold
// (emailEnd). Texts for which needsFullScan holds get the full scan.
func nextEmail(text string, pos int) []int {
	tried := -1
	for x := pos; ; x++ {
		x = atIndicator(text, x)
		if x < 0 {
			return nil
		}
		c := max(pos, emailStart(text, x))
		if c <= tried {
			continue
		}
		tried = c
		if m := emailAnchored.FindStringSubmatchIndex(text[c:emailEnd(text, c)]); m != nil {
			for i := range m {
				m[i] += c
			}
			return m
		}
	}
}

// atIndicator returns the index of the first indicator of an at part (see
// nextEmail) at or after from, or -1.
func atIndicator(text string, from int) int {
	for i := from; i < len(text); i++ {
		switch text[i] {
		case '@':
			return i
		case 0xEF: // "＠" is EF BC A0
			if strings.HasPrefix(text[i:], "＠") {
				return i
			}
		case 'a', 'A':
			if i > 0 && i+2 < len(text) && text[i+1]|0x20 == 't' && atBefore(text[i-1]) && atAfter(text[i+2]) {
				return i
			}
		case 's', 'S':
			if i > 0 && atBefore(text[i-1]) && hasPrefixFold(text[i:], "snabel") {
				return i
			}
		}
	}
	return -1
}

// atBefore and atAfter are the bytes that may stand before and after an
// indicator word of an at part: white space (\s) and brackets.
func atBefore(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\f', '\r', '(', '[', '{', '<':
		return true
	}
	return false
}

func atAfter(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\f', '\r', ')', ']', '}', '>':
		return true
	}
	return false
}

// emailStart returns where a match whose at part has its indicator at x
// would start: before the white space and opening brackets in front of x,
// and before the local-part characters in front of those.
func emailStart(text string, x int) int {
	i := x
	for i > 0 && atBefore(text[i-1]) {
		i--
	}
	for i > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:i])
		if !isLocalRune(r) {
			break
		}
		i -= n
	}
	return i
}

// emailEnd returns the index of the first character at or after c that no
// match of emailAny can hold, or len(text).
func emailEnd(text string, c int) int {
	for i := c; i < len(text); {
		b := text[i]
		if b < utf8.RuneSelf {
			if !emailASCII[b] {
				return i
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if r != '＠' && r != '．' && !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return i
		}
		i += n
	}
	return len(text)
}

// emailASCII marks the ASCII characters a match of emailAny may hold.
var emailASCII = func() (t [utf8.RuneSelf]bool) {
	for _, c := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-@ \t\n\f\r()[]{}<>" {
		t[c] = true
	}
	return t
}()

// isLocalRune says whether r may be in the local part (emailLocal).
func isLocalRune(r rune) bool {
	switch r {
	case '.', '_', '%', '+', '-':
		return true
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

func boundaryAfter(text string, end int) bool {
	if end >= len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[end:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '@'
}

// validEmail checks one candidate and returns its normalised form.
func validEmail(local, at, domain string) (string, bool) {
	local = strings.Trim(local, ".")
	if local == "" || !strings.ContainsFunc(local, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return "", false
	}
	labels := emailDot.Split(domain, -1)
	dots := emailDot.FindAllString(domain, -1)
	tld := strings.ToLower(labels[len(labels)-1])
	if utf8.RuneCountInString(tld) < 2 || strings.ContainsFunc(tld, func(r rune) bool { return !unicode.IsLetter(r) }) {
		return "", false
	}
	atKind := strings.ToLower(strings.TrimSpace(at))
	plainAt := atKind == "@" && at == "@"
	plainDots := !slices.ContainsFunc(dots, func(d string) bool { return d != "." })
	wordDots := slices.ContainsFunc(dots, func(d string) bool { return strings.TrimSpace(d) != "." && strings.TrimSpace(d) != "．" })
	switch {
	case plainAt && plainDots:
		if fileExtensions[tld] {
			return "", false
		}
	case !obfuscatedTLDs[tld]:
		return "", false
	case atKind == "at":
		if !wordDots || bareAtStop[strings.ToLower(local)] {
			return "", false
		}
	}
	return norm.NFC.String(strings.ToLower(local + "@" + strings.Join(labels, "."))), true
}
