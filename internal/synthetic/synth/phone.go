package synth

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Phone spellings. The plain ones are how pages usually print a number; the
// obfuscated ones are how advertisers dodge filters.
const (
	stDashed   = iota // 070-123 45 67 / +48 512 345 678
	stSpaced          // 070 123 45 67 / +48 512-345-678
	stCompact         // 0701234567 / +48512345678
	stIntl            // +46 70 123 45 67 / 0048 512 345 678
	stIntlComp        // +46701234567 / 0048512345678
	stZeroZero        // 0046 70 123 45 67 / +48-512-345-678
	stDotted          // 070.123.45.67 / +48.512.345.678
	stLetterO         // O7O-123 45 67
	stWordsSV         // noll sju noll …
	stWordsEN         // zero seven zero …
	stMixed           // 070-1two3 45 six7
	stKeycap          // 0️⃣7️⃣0️⃣ …
	numStyles

	numPlain = stLetterO // styles below it are plain
)

// newPhone returns a random mobile number in E.164 for an origin. The numbers
// are random, not from a fiction range: the corpus is synthetic and never
// published (see the package comment).
func newPhone(r *rand.Rand, origin string) string {
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		return b.String()
	}
	switch origin {
	case originPL:
		return "+48" + pick(r, []string{"50", "51", "53", "57", "60", "66", "69", "72", "78", "79", "88"}) + digits(7)
	case originRO:
		return "+407" + pick(r, []string{"2", "3", "4", "5", "6", "8"}) + digits(7)
	case originUK:
		return "+447" + pick(r, []string{"4", "5", "7", "8", "9"}) + digits(8)
	case originNG:
		return "+234" + pick(r, []string{"803", "806", "813", "816", "703", "706", "903", "906"}) + digits(7)
	default:
		return "+46" + pick(r, []string{"70", "72", "73", "76"}) + digits(7)
	}
}

// groups splits an E.164 number into its printed groups: for Swedish
// numbers the national form 070 123 45 67 (prefix "0", intl "+46"); for
// others the country code and groups of three or four.
func groups(e164 string) (national bool, cc string, gs []string) {
	if strings.HasPrefix(e164, "+46") {
		nat := "0" + e164[3:]
		return true, "+46", []string{nat[:3], nat[3:6], nat[6:8], nat[8:]}
	}
	cc = e164[:3]
	if strings.HasPrefix(e164, "+234") {
		cc = e164[:4]
	}
	rest := e164[len(cc):]
	if len(rest) == 10 {
		return false, cc, []string{rest[:4], rest[4:7], rest[7:]}
	}
	return false, cc, []string{rest[:3], rest[3:6], rest[6:]}
}

// spell writes e164 in a style. The obfuscated styles stay readable by a
// person and, except for the chance that a spelling is unusual, by
// contact.NormalisePhone.
func spell(r *rand.Rand, e164 string, style int) string {
	national, cc, gs := groups(e164)
	join := func(sep string) string { return strings.Join(gs, sep) }
	intlGroups := func() []string {
		if !national {
			return gs
		}
		g := append([]string{gs[0][1:]}, gs[1:]...)
		return g
	}
	switch style {
	case stDashed:
		if national {
			return gs[0] + "-" + gs[1] + " " + gs[2] + " " + gs[3]
		}
		return cc + " " + join(" ")
	case stSpaced:
		if national {
			return join(" ")
		}
		return cc + " " + join("-")
	case stCompact:
		if national {
			return join("")
		}
		return cc + join("")
	case stIntl:
		if national {
			return cc + " " + strings.Join(intlGroups(), " ")
		}
		return "00" + cc[1:] + " " + join(" ")
	case stIntlComp:
		if national {
			return cc + strings.Join(intlGroups(), "")
		}
		return "00" + cc[1:] + join("")
	case stZeroZero:
		if national {
			return "00" + cc[1:] + " " + strings.Join(intlGroups(), " ")
		}
		return cc + "-" + join("-")
	case stDotted:
		if national {
			return join(".")
		}
		return cc + "." + join(".")
	case stLetterO:
		base := spell(r, e164, pick(r, []int{stDashed, stSpaced, stIntl}))
		o := pick(r, []string{"O", "o"})
		return strings.ReplaceAll(base, "0", o)
	case stWordsSV, stWordsEN:
		words := digitWordsSV
		if style == stWordsEN {
			words = digitWordsEN
		}
		var parts []string
		if !national {
			parts = append(parts, cc)
		}
		for _, g := range gs {
			for _, d := range g {
				parts = append(parts, words[d-'0'])
			}
		}
		return strings.Join(parts, " ")
	case stMixed:
		base := []byte(spell(r, e164, stDashed))
		var b strings.Builder
		start := 0
		if !national {
			start = len(cc) // keep the country code as digits
		}
		b.Write(base[:start])
		skip := false
		for i := start; i < len(base); i++ {
			c := base[i]
			nextDigit := i+1 < len(base) && base[i+1] >= '0' && base[i+1] <= '9'
			prevDigit := i > start && base[i-1] >= '0' && base[i-1] <= '9'
			if c >= '0' && c <= '9' && !skip && (nextDigit || prevDigit) && r.IntN(4) == 0 {
				if c == '0' && r.IntN(2) == 0 {
					b.WriteByte('O')
				} else {
					b.WriteString(digitWordsEN[c-'0'])
				}
				skip = true
				continue
			}
			skip = false
			b.WriteByte(c)
		}
		return b.String()
	case stKeycap:
		var b strings.Builder
		if !national {
			b.WriteString(cc + " ")
		}
		for i, g := range gs {
			if i > 0 {
				b.WriteByte(' ')
			}
			for _, d := range g {
				b.WriteRune(d)
				b.WriteString("\ufe0f\u20e3")
			}
		}
		return b.String()
	}
	panic(fmt.Sprintf("synth: unknown phone style %d", style))
}
