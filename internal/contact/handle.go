package contact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Messaging handles. A handle is taken from free text only when a service
// keyword introduces it ("snap: anna_92", "kik anna.k", "telegram @anna92",
// "insta/IG: anna.k") or as a profile link ("t.me/anna92",
// "instagram.com/anna.k"); an "@word" on its own is ordinary text. Its
// pseudonym is "handle:<service>:<hex>", the HMAC of "<service>:<handle>"
// with the handle in lower case without a leading @.
//
// A keyword followed by a separator (":", "=", "-", "→", "är", "is") or by
// "@" introduces whatever handle-shaped word follows; a keyword followed by
// a space only introduces a word that looks like a handle (it holds a
// digit, "_" or an inner "."), so "kik anna.k" counts and "snap decision"
// does not. WhatsApp, Viber and wa.me links carry phone numbers: the phone
// finder pseudonymises them as tel:.

// HandlePrefix starts the pseudonyms of messaging handles;
// HandlePlaceholder replaces a handle in text.
const (
	HandlePrefix      = "handle:"
	HandlePlaceholder = "[handle]"
)

// services maps a keyword (lower case) to its service; "" marks services
// whose contact is a phone number.
var services = map[string]string{
	"snapchat": "snapchat", "snap": "snapchat", "sc": "snapchat",
	"kik":      "kik",
	"telegram": "telegram", "tg": "telegram",
	"instagram": "instagram", "insta": "instagram", "ig": "instagram",
	"signal":   "signal",
	"onlyfans": "onlyfans",
	"twitter":  "twitter",
	"whatsapp": "", "whats app": "", "wapp": "", "wa": "", "viber": "",
}

// shortKeyword keywords introduce a handle only with a separator or "@".
func shortKeyword(kw string) bool { return len(kw) <= 2 }

const (
	handleKW   = `snapchat|snap|sc|kik|telegram|tg|instagram|insta|ig|signal|onlyfans|twitter|whatsapp|whats\s?app|wapp|wa|viber`
	handleList = `(?:\s*(?:/|,|&|\+|\|)\s*|\s+(?:och|and|eller|or)\s+)`
	handleSfx  = `(?:\s*-?\s*(?:användarnamn|username|user|namn|name|id))?`
	handleSep  = `\s*(?:[:=]|->|→)\s*|\s*[-–—]\s+|\s+(?:är|is|heter)\s+|\s+`
	handleVal  = `[A-Za-z0-9._\-]+`
)

var (
	handleRE = regexp.MustCompile(`(?i)(` + handleKW + `)((?:` + handleList + `(?:` + handleKW + `))*)` + handleSfx +
		`(` + handleSep + `)(@?)(` + handleVal + `)`)
	handleKWRE = regexp.MustCompile(`(?i)` + handleKW)
	// handleAnchored is handleRE matched at the start of its input only.
	handleAnchored = regexp.MustCompile(`^(?:` + handleRE.String() + `)`)
	profileRE      = regexp.MustCompile(`(?i)(?:https?://)?(?:www\.)?(t\.me|telegram\.me|telegram\.dog|instagram\.com|instagr\.am|` +
		`snapchat\.com/add|kik\.me|onlyfans\.com|twitter\.com|x\.com|wa\.me)/(@?)([A-Za-z0-9._\-]+)`)
)

var profileHosts = map[string]string{
	"t.me": "telegram", "telegram.me": "telegram", "telegram.dog": "telegram",
	"instagram.com": "instagram", "instagr.am": "instagram", "snapchat.com/add": "snapchat",
	"kik.me": "kik", "onlyfans.com": "onlyfans", "twitter.com": "twitter", "x.com": "twitter",
	"wa.me": "",
}

// handleStop are words that follow a keyword in ordinary text, and path
// words of profile links that are not handles.
var handleStop = map[string]bool{
	"ja": true, "nej": true, "yes": true, "no": true, "finns": true, "me": true, "mig": true,
	"på": true, "on": true, "och": true, "and": true, "eller": true, "or": true, "is": true,
	"the": true, "för": true, "for": true, "to": true, "till": true, "med": true, "with": true,
	"only": true, "endast": true, "bara": true, "also": true, "också": true, "name": true,
	"namn": true, "id": true, "add": true, "joinchat": true, "share": true,
	"reel": true, "explore": true, "stories": true, "home": true, "login": true, "intent": true,
}

// handleSpan is one handle (or a wa.me phone number) found in text.
type handleSpan struct {
	start, end int      // the span replaced by the placeholder: the handle itself
	services   []string // canonical services it belongs to
	value      string   // normalised handle; for wa.me, the digits
	phone      bool     // value is a phone number (wa.me)
}

// NormaliseHandle returns handle in lower case without a leading "@" or
// trailing punctuation, and ok=false when it is not handle-shaped (2 to 32
// characters of letters, digits, ".", "_", "-", at least one letter, not
// an ordinary word).
func NormaliseHandle(handle string) (string, bool) {
	h := strings.ToLower(strings.TrimSpace(handle))
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

// Service returns the canonical service of a keyword ("IG" → "instagram")
// and ok=false for an unknown keyword or a phone-only service.
func Service(keyword string) (string, bool) {
	kw := strings.Join(strings.Fields(strings.ToLower(keyword)), " ")
	s := services[kw]
	return s, s != ""
}

// Handle returns the pseudonym of a handle on a service (a keyword as
// accepted by Service), or ok=false when either is not valid.
func (p *Pseudonymiser) Handle(service, handle string) (string, bool) {
	svc, ok := Service(service)
	if !ok {
		return "", false
	}
	h, ok := NormaliseHandle(handle)
	if !ok {
		return "", false
	}
	return p.handle(svc, h), true
}

func (p *Pseudonymiser) handle(svc, h string) string {
	return p.sum(HandlePrefix+svc+":", svc+":"+h)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func runeBefore(text string, i int) rune {
	if i == 0 {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return r
}

func runeAt(text string, i int) rune {
	if i >= len(text) {
		return ' '
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return r
}

// findHandles returns the handles in text, in order, profile links first
// resolved where they overlap keyword matches.
func findHandles(text string) []handleSpan {
	full := needsFullScan(text)
	var out []handleSpan
	if full {
		out = profileHandles(text, 0, len(text))
	} else if a, b, ok := profileLinkSpan(text); ok {
		out = profileHandles(text, a, b)
	}
	inLink := func(i int) bool {
		return slices.ContainsFunc(out, func(s handleSpan) bool { return i >= s.start && i < s.end })
	}
	if full {
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
			if hs, ok := keywordHandle(text, m); ok && !inLink(hs.start) {
				out = append(out, hs)
				pos = m[1]
				continue
			}
			pos = m[3] // past the first keyword
		}
	} else {
		// The same matches as above: a match of handleRE starts with a
		// keyword, and keywordHandle refuses every match whose keyword
		// follows a word character, ".", "/" or "@"; the end of such a
		// match's first keyword (where the search above goes on) is never
		// past the next keyword that follows none of those. So handleRE is
		// tried, anchored, only where such a keyword starts.
		for pos := 0; pos < len(text); {
			t := nextKeyword(text, pos)
			if t < 0 {
				break
			}
			m := handleAnchored.FindStringSubmatchIndex(text[t:])
			if m == nil {
				pos = t + 1 // a keyword starts with an ASCII letter
				continue
			}
			for i := range m {
				if m[i] >= 0 {
					m[i] += t
				}
			}
			if hs, ok := keywordHandle(text, m); ok && !inLink(hs.start) {
				out = append(out, hs)
				pos = m[1]
				continue
			}
			pos = m[3] // past the first keyword
		}
	}
	slices.SortFunc(out, func(a, b handleSpan) int { return a.start - b.start })
	return out
}

// profileHandles returns the handles (and wa.me phone numbers) of the
// profile links in text[from:to], where all matches of profileRE in text
// lie.
func profileHandles(text string, from, to int) []handleSpan {
	var out []handleSpan
	for _, m := range profileRE.FindAllStringSubmatchIndex(text[from:to], -1) {
		for i := range m {
			if m[i] >= 0 {
				m[i] += from
			}
		}
		if b := runeBefore(text, m[0]); isWordRune(b) || b == '.' || b == '-' || b == '/' {
			continue
		}
		host := strings.ToLower(text[m[2]:m[3]])
		svc := profileHosts[host]
		raw := text[m[6]:m[7]]
		if svc == "" { // wa.me/<digits>
			digits := strings.TrimLeft(raw, "+")
			if len(digits) < 7 || strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' }) {
				continue
			}
			out = append(out, handleSpan{start: m[4], end: m[7], value: "+" + digits, phone: true})
			continue
		}
		h, ok := NormaliseHandle(raw)
		if !ok {
			continue
		}
		out = append(out, handleSpan{start: m[4], end: m[4] + len(strings.TrimRight(text[m[4]:m[7]], ".-")), services: []string{svc}, value: h})
	}
	return out
}

// profileLinkSpan returns the part of text where the matches of profileRE
// lie, and ok=false when there is none. Every match has a profile host (in
// some ASCII case) followed by "/", at most len("https://www.") bytes
// after the match's start, and ends where the run of handle characters
// after that "/" (and an "@") ends; such a run cannot pass a later "/".
func profileLinkSpan(text string) (from, to int, ok bool) {
	first, last := -1, -1
	for j := strings.IndexByte(text, '/'); j >= 0; {
		for _, host := range profileHostList {
			if len(host) <= j && strings.EqualFold(text[j-len(host):j], host) {
				if first < 0 {
					first = j
				}
				last = j
				break
			}
		}
		k := strings.IndexByte(text[j+1:], '/')
		if k < 0 {
			break
		}
		j += 1 + k
	}
	if first < 0 {
		return 0, 0, false
	}
	from = max(0, first-maxProfileHostLen-len("https://www."))
	to = last + 1
	if to < len(text) && text[to] == '@' {
		to++
	}
	for to < len(text) && isHandleByte(text[to]) {
		to++
	}
	return from, to, true
}

// isHandleByte says whether c is in profileRE's handle class [A-Za-z0-9._\-].
func isHandleByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// profileHostList is the hosts of profileHosts, and maxProfileHostLen the
// longest.
var profileHostList, maxProfileHostLen = func() ([]string, int) {
	var hosts []string
	n := 0
	for h := range profileHosts {
		hosts = append(hosts, h)
		n = max(n, len(h))
	}
	slices.Sort(hosts)
	return hosts, n
}()

// keywordPrefixes are the beginnings of handleKW's keywords: every match
// of handleRE starts with one of them, in some ASCII case.
var keywordPrefixes = func() (ps []string) {
	for _, kw := range strings.Split(handleKW, "|") {
		kw, _, _ = strings.Cut(kw, `\`) // whats\s?app
		ps = append(ps, kw)
	}
	return ps
}()

// keywordFirst marks the bytes a keyword prefix starts with.
var keywordFirst = func() (t [256]bool) {
	for _, p := range keywordPrefixes {
		t[p[0]] = true
		t[p[0]-'a'+'A'] = true
	}
	return t
}()

// nextKeyword returns the index of the first keyword at or after from that
// follows no word character, ".", "/" or "@", or -1.
func nextKeyword(text string, from int) int {
	for i := from; i < len(text); i++ {
		if !keywordFirst[text[i]] {
			continue
		}
		if b := runeBefore(text, i); isWordRune(b) || b == '.' || b == '/' || b == '@' {
			continue
		}
		for _, p := range keywordPrefixes {
			if hasPrefixFold(text[i:], p) {
				return i
			}
		}
	}
	return -1
}

// keywordHandle checks one match of handleRE.
func keywordHandle(text string, m []int) (handleSpan, bool) {
	if b := runeBefore(text, m[0]); isWordRune(b) || b == '.' || b == '/' || b == '@' {
		return handleSpan{}, false
	}
	valStart, valEnd := m[10], m[11]
	if r := runeAt(text, valEnd); isWordRune(r) || r == '@' {
		return handleSpan{}, false // runs on into non-ASCII letters, or an e-mail
	}
	kws := append([]string{text[m[2]:m[3]]}, handleKWRE.FindAllString(text[m[4]:m[5]], -1)...)
	var svcs []string
	short := true
	for _, kw := range kws {
		kw = strings.Join(strings.Fields(strings.ToLower(kw)), " ")
		if !shortKeyword(kw) {
			short = false
		}
		if s := services[kw]; s != "" && !slices.Contains(svcs, s) {
			svcs = append(svcs, s)
		}
	}
	if len(svcs) == 0 {
		return handleSpan{}, false
	}
	sep := strings.TrimSpace(text[m[6]:m[7]])
	at := m[9] > m[8]
	raw := text[valStart:valEnd]
	h, ok := NormaliseHandle(raw)
	if !ok {
		return handleSpan{}, false
	}
	if sep == "" && !at {
		inner := strings.Trim(raw, ".-")
		if c := inner[0]; short || !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') || !strings.ContainsAny(inner, "0123456789_.") {
			return handleSpan{}, false
		}
	}
	if at {
		valStart = m[8]
	}
	end := valStart + len(strings.TrimRight(text[valStart:valEnd], ".-"))
	slices.Sort(svcs)
	return handleSpan{start: valStart, end: end, services: svcs, value: h}, true
}
