package contact

// A frozen copy of the contact scanning code as it was before the fast
// paths (pre-filters, anchored and windowed scans, lazy de-obfuscation),
// with every function and type renamed ref…; TestFastPathMatchesReference
// checks that Apply gives exactly what refApply gives. Generated from the
// old contact.go, email.go, handle.go and deobfuscate.go (comments
// dropped). When Apply's results are changed on purpose, change this copy
// the same way.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"adcensus/ad"

	"github.com/nyaruka/phonenumbers/v2"
	"golang.org/x/text/unicode/norm"
)

func (p *Pseudonymiser) refEmail(addr string) string {
	return p.sum(EmailPrefix, norm.NFC.String(strings.ToLower(strings.TrimSpace(addr))))
}
func refNormalisePhone(raw string) (e164 string, ok bool) {
	if len(raw) > MaxPhoneLen || !utf8.ValidString(raw) {
		return "", false
	}
	clean := refDeobfuscate(raw, true).text
	var b strings.Builder
	for _, r := range clean {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && b.Len() == 0:
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) < 3 || len(s) > MaxPhoneLen {
		return "", false
	}
	num, err := phonenumbers.Parse(s, Region)
	if err != nil || !refAcceptable(num, s, true) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}
func refAcceptable(num *phonenumbers.PhoneNumber, written string, field bool) bool {
	w := strings.TrimSpace(written)
	international := strings.HasPrefix(w, "+") || strings.HasPrefix(w, "00")
	if !field && !international {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, w)
		if !strings.HasPrefix(digits, "0") && !strings.HasPrefix(digits, strconv.Itoa(int(num.GetCountryCode()))) {
			return false
		}
	}
	if phonenumbers.IsValidNumber(num) {
		return true
	}
	if phonenumbers.IsPossibleNumberWithReason(num) != phonenumbers.IS_POSSIBLE {
		return false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if nsn == "" || nsn[0] == '0' || strings.Count(nsn, nsn[:1]) == len(nsn) {
		return false
	}
	return field || international
}
func (p *Pseudonymiser) refApply(a *ad.Ad) []string {
	var problems []string
	found := &refCollected{contacts: slices.Clone(a.Contacts), countries: slices.Clone(a.ContactCountries)}
	for i, raw := range a.Phones {
		if e164, ok := refNormalisePhone(raw); ok {
			found.phone(p, e164)
			continue
		}
		var n int
		if len(raw) <= 4*MaxPhoneLen {
			_, n = p.refFindPhones(raw, found)
		}
		if n == 0 {
			problems = append(problems, fmt.Sprintf("phones[%d] %s: not a valid phone number", i, refDescribe(raw)))
		}
	}
	a.Phones = nil
	a.Title = p.refScrub(a.Title, found)
	a.Body = p.refScrub(a.Body, found)
	a.Contacts = refSortedUnique(found.contacts)
	a.ContactCountries = refSortedUnique(found.countries)
	return problems
}

type refCollected struct{ contacts, countries []string }

func (c *refCollected) phone(p *Pseudonymiser, e164 string) {
	c.contacts = append(c.contacts, p.sum(TelPrefix, e164))
	if num, err := phonenumbers.Parse(e164, ""); err == nil {
		c.countries = append(c.countries, "+"+strconv.Itoa(int(num.GetCountryCode())))
	}
}
func refSortedUnique(xs []string) []string {
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if len(xs) == 0 {
		return nil
	}
	return xs
}
func refDescribe(raw string) string {
	digits := 0
	for _, r := range raw {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	if digits <= 4 && utf8.RuneCountInString(raw) <= 12 {
		return fmt.Sprintf("%q", raw)
	}
	return fmt.Sprintf("(%d characters, %d digits)", utf8.RuneCountInString(raw), digits)
}
func (p *Pseudonymiser) refScrub(text string, found *refCollected) string {
	if text == "" {
		return text
	}
	var spans []refSpan
	for _, e := range refFindEmails(text) {
		found.contacts = append(found.contacts, p.refEmail(e.addr))
		spans = append(spans, refSpan{e.start, e.end})
	}
	text = refReplaceSpans(text, spans, EmailPlaceholder)
	spans = spans[:0]
	var phones []bool
	for _, h := range refFindHandles(text) {
		if h.phone {
			e164, ok := refNormalisePhone(h.value)
			if !ok {
				continue
			}
			found.phone(p, e164)
			spans = append(spans, refSpan{h.start, h.end})
			phones = append(phones, true)
			continue
		}
		phones = append(phones, false)
		for _, svc := range h.services {
			found.contacts = append(found.contacts, p.refHandle(svc, h.value))
		}
		spans = append(spans, refSpan{h.start, h.end})
	}
	text = refReplaceSpansWith(text, spans, func(i int) string {
		if phones[i] {
			return TelPlaceholder
		}
		return HandlePlaceholder
	})
	out, _ := p.refFindPhones(text, found)
	return out
}
func refReplaceSpans(text string, spans []refSpan, placeholder string) string {
	return refReplaceSpansWith(text, spans, func(int) string {
		return placeholder
	})
}
func refReplaceSpansWith(text string, spans []refSpan, placeholder func(int) string) string {
	if len(spans) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for i, sp := range spans {
		if sp.start < last {
			continue
		}
		b.WriteString(text[last:sp.start])
		b.WriteString(placeholder(i))
		last = sp.end
	}
	b.WriteString(text[last:])
	return b.String()
}
func (p *Pseudonymiser) refFindPhones(text string, found *refCollected) (string, int) {
	d := refDeobfuscate(text, false)
	var spans []refSpan
	for m := range phonenumbers.FindNumbersWithLeniency(d.text, Region, phonenumbers.POSSIBLE, math.MaxInt) {
		if !refAcceptable(m.Number(), m.RawString(), false) {
			continue
		}
		found.phone(p, phonenumbers.Format(m.Number(), phonenumbers.E164))
		s, e := d.refOrigSpan(m.Start(), m.End())
		if n := len(spans); n > 0 && s < spans[n-1].end {
			spans[n-1].end = max(spans[n-1].end, e)
			continue
		}
		spans = append(spans, refSpan{s, e})
	}
	return refReplaceSpans(text, spans, TelPlaceholder), len(spans)
}

type refEmailSpan struct {
	start, end int
	addr       string
}

func refFindEmails(text string) []refEmailSpan {
	var out []refEmailSpan
	for pos := 0; pos < len(text); {
		m := emailAny.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			break
		}
		for i := range m {
			m[i] += pos
		}
		start, end := m[0], m[1]
		local, at, domain := text[m[2]:m[3]], text[m[4]:m[5]], text[m[6]:m[7]]
		if addr, ok := refValidEmail(local, at, domain); ok && refBoundaryAfter(text, end) {
			out = append(out, refEmailSpan{start, end, addr})
			pos = end
			continue
		}
		pos = m[3]
		if pos <= start {
			_, n := utf8.DecodeRuneInString(text[start:])
			pos = start + n
		}
	}
	return out
}
func refBoundaryAfter(text string, end int) bool {
	if end >= len(text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[end:])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '@'
}
func refValidEmail(local, at, domain string) (string, bool) {
	local = strings.Trim(local, ".")
	if local == "" || !strings.ContainsFunc(local, func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r)
	}) {
		return "", false
	}
	labels := emailDot.Split(domain, -1)
	dots := emailDot.FindAllString(domain, -1)
	tld := strings.ToLower(labels[len(labels)-1])
	if utf8.RuneCountInString(tld) < 2 || strings.ContainsFunc(tld, func(r rune) bool {
		return !unicode.IsLetter(r)
	}) {
		return "", false
	}
	atKind := strings.ToLower(strings.TrimSpace(at))
	plainAt := atKind == "@" && at == "@"
	plainDots := !slices.ContainsFunc(dots, func(d string) bool {
		return d != "."
	})
	wordDots := slices.ContainsFunc(dots, func(d string) bool {
		return strings.TrimSpace(d) != "." && strings.TrimSpace(d) != "．"
	})
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
func refShortKeyword(kw string) bool {
	return len(kw) <= 2
}

type refHandleSpan struct {
	start, end int
	services   []string
	value      string
	phone      bool
}

func refNormaliseHandle(refHandle string) (string, bool) {
	h := strings.ToLower(strings.TrimSpace(refHandle))
	h = strings.TrimPrefix(h, "@")
	h = strings.TrimRight(h, ".-")
	h = strings.TrimLeft(h, ".-")
	if n := len(h); n < 2 || n > 32 || handleStop[h] {
		return "", false
	}
	letter := false
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z':
			letter = true
		case r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return "", false
		}
	}
	return h, letter
}
func (p *Pseudonymiser) refHandle(svc, h string) string {
	return p.sum(HandlePrefix+svc+":", svc+":"+h)
}
func refIsWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
}
func refRuneBefore(text string, i int) rune {
	if i == 0 {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return r
}
func refRuneAt(text string, i int) rune {
	if i >= len(text) {
		return ' '
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return r
}
func refFindHandles(text string) []refHandleSpan {
	var out []refHandleSpan
	for _, m := range profileRE.FindAllStringSubmatchIndex(text, -1) {
		if b := refRuneBefore(text, m[0]); refIsWordRune(b) || b == '.' || b == '-' || b == '/' {
			continue
		}
		host := strings.ToLower(text[m[2]:m[3]])
		svc := profileHosts[host]
		raw := text[m[6]:m[7]]
		if svc == "" {
			digits := strings.TrimLeft(raw, "+")
			if len(digits) < 7 || strings.ContainsFunc(digits, func(r rune) bool {
				return r < '0' || r > '9'
			}) {
				continue
			}
			out = append(out, refHandleSpan{start: m[4], end: m[7], value: "+" + digits, phone: true})
			continue
		}
		h, ok := refNormaliseHandle(raw)
		if !ok {
			continue
		}
		out = append(out, refHandleSpan{start: m[4], end: m[4] + len(strings.TrimRight(text[m[4]:m[7]], ".-")), services: []string{svc}, value: h})
	}
	inLink := func(i int) bool {
		return slices.ContainsFunc(out, func(s refHandleSpan) bool {
			return i >= s.start && i < s.end
		})
	}
	for pos := 0; pos < len(text); {
		m := handleRE.FindStringSubmatchIndex(text[pos:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		if hs, ok := refKeywordHandle(text, m); ok && !inLink(hs.start) {
			out = append(out, hs)
			pos = m[1]
			continue
		}
		pos = m[3]
	}
	slices.SortFunc(out, func(a, b refHandleSpan) int {
		return a.start - b.start
	})
	return out
}
func refKeywordHandle(text string, m []int) (refHandleSpan, bool) {
	if b := refRuneBefore(text, m[0]); refIsWordRune(b) || b == '.' || b == '/' || b == '@' {
		return refHandleSpan{}, false
	}
	valStart, valEnd := m[10], m[11]
	if r := refRuneAt(text, valEnd); refIsWordRune(r) || r == '@' {
		return refHandleSpan{}, false
	}
	kws := append([]string{text[m[2]:m[3]]}, handleKWRE.FindAllString(text[m[4]:m[5]], -1)...)
	var svcs []string
	short := true
	for _, kw := range kws {
		kw = strings.Join(strings.Fields(strings.ToLower(kw)), " ")
		if !refShortKeyword(kw) {
			short = false
		}
		if s := services[kw]; s != "" && !slices.Contains(svcs, s) {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) == 0 {
		return refHandleSpan{}, false
	}
	sep := strings.TrimSpace(text[m[6]:m[7]])
	at := m[9] > m[8]
	raw := text[valStart:valEnd]
	h, ok := refNormaliseHandle(raw)
	if !ok {
		return refHandleSpan{}, false
	}
	if sep == "" && !at {
		inner := strings.Trim(raw, ".-")
		if c := inner[0]; short || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || !strings.ContainsAny(inner, "0123456789_.") {
			return refHandleSpan{}, false
		}
	}
	if at {
		valStart = m[8]
	}
	end := valStart + len(strings.TrimRight(text[valStart:valEnd], ".-"))
	slices.Sort(svcs)
	return refHandleSpan{start: valStart, end: end, services: svcs, value: h}, true
}

var refNumberWords = map[string]byte{"noll": '0', "ett": '1', "två": '2', "tva": '2', "tre": '3', "fyra": '4', "fem": '5', "sex": '6', "sju": '7', "åtta": '8', "atta": '8', "nio": '9', "zero": '0', "one": '1', "two": '2', "three": '3', "four": '4', "five": '5', "six": '6', "seven": '7', "eight": '8', "nine": '9'}

const refMinRunDigits = 7

type refTokKind uint8

const (
	refTDigit refTokKind = iota
	refTWord
	refTSep
	refTOther
)

type refToken struct {
	kind       refTokKind
	start, end int
	out        string
	conv       bool
	oRun       bool
}
type refSpan struct{ start, end int }
type refDeobfuscated struct {
	text string
	src  []refSpan
}

func (d *refDeobfuscated) refOrigSpan(s, e int) (int, int) {
	return d.src[s].start, d.src[e-1].end
}
func refIsSep(r rune) bool {
	switch r {
	case '.', '/', '(', ')', '（', '）', '．', '／', '\u00a0':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Pd, r)
}
func refDigitOf(r rune) (byte, bool) {
	switch {
	case r >= '0' && r <= '9':
		return byte(r), true
	case r >= '０' && r <= '９':
		return byte('0' + r - '０'), true
	}
	return 0, false
}
func refTokenise(s string) []refToken {
	var toks []refToken
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		j := i + size
		if d, ok := refDigitOf(r); ok {
			conv := r > '9'
			if strings.HasPrefix(s[j:], "\ufe0f") {
				j += len("\ufe0f")
				conv = true
			}
			if strings.HasPrefix(s[j:], "\u20e3") {
				j += len("\u20e3")
				conv = true
			}
			toks = append(toks, refToken{kind: refTDigit, start: i, end: j, out: string(d), conv: conv})
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
			if d, ok := refNumberWords[w]; ok {
				toks = append(toks, refToken{kind: refTWord, start: i, end: j, out: string(d), conv: true})
			} else if strings.Trim(w, "o") == "" {
				toks = append(toks, refToken{kind: refTWord, start: i, end: j, out: strings.Repeat("0", j-i), conv: true, oRun: true})
			} else {
				toks = append(toks, refToken{kind: refTOther, start: i, end: j, out: s[i:j]})
			}
			i = j
			continue
		}
		switch {
		case r == '＋':
			toks = append(toks, refToken{kind: refTOther, start: i, end: j, out: "+"})
		case refIsSep(r):
			toks = append(toks, refToken{kind: refTSep, start: i, end: j, out: s[i:j]})
		default:
			toks = append(toks, refToken{kind: refTOther, start: i, end: j, out: s[i:j]})
		}
		i = j
	}
	return toks
}
func refDeobfuscate(s string, aggressive bool) refDeobfuscated {
	toks := refTokenise(s)
	d := refDeobfuscated{src: make([]refSpan, 0, len(s))}
	var b strings.Builder
	b.Grow(len(s))
	emit := func(str string, sp refSpan) {
		b.WriteString(str)
		for range len(str) {
			d.src = append(d.src, sp)
		}
	}
	verbatim := func(t refToken) {
		if t.kind == refTOther && t.out != s[t.start:t.end] {
			emit(t.out, refSpan{t.start, t.end})
			return
		}
		for k := t.start; k < t.end; k++ {
			b.WriteByte(s[k])
			d.src = append(d.src, refSpan{k, k + 1})
		}
	}
	subRun := func(a, z int) {
		for a < z && toks[a].kind == refTSep {
			verbatim(toks[a])
			a++
		}
		y := z
		for y > a && toks[y-1].kind == refTSep {
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
			if t.kind == refTDigit || t.kind == refTWord {
				digits += len(t.out)
				conv = conv || t.conv
			}
		}
		min := refMinRunDigits
		if aggressive {
			min = 1
		}
		for _, t := range toks[a:z] {
			switch {
			case conv && digits >= min && t.kind != refTSep:
				emit(t.out, refSpan{t.start, t.end})
			case conv && digits >= min:
			default:
				verbatim(t)
			}
		}
	}
	adjacentDigit := func(k int) bool {
		return (k > 0 && toks[k-1].kind == refTDigit && toks[k-1].end == toks[k].start) || (k+1 < len(toks) && toks[k+1].kind == refTDigit && toks[k+1].start == toks[k].end)
	}
	for i := 0; i < len(toks); {
		if toks[i].kind != refTDigit && toks[i].kind != refTWord {
			verbatim(toks[i])
			i++
			continue
		}
		j, last, words := i, i, 0
		for ; j < len(toks) && toks[j].kind != refTOther; j++ {
			if toks[j].kind != refTSep {
				last = j
				if toks[j].kind == refTWord && !toks[j].oRun {
					words++
				}
			}
		}
		end := last + 1
		start := i
		for k := i; k < end; k++ {
			t := toks[k]
			if t.kind != refTWord || aggressive || adjacentDigit(k) || (!t.oRun && words >= 2) {
				continue
			}
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
