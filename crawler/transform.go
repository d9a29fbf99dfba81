package crawler

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/Stockholm must load on hosts without a zoneinfo database
	"unicode"

	"adcensus/internal/places"
)

// Transforms are the names a field's `transform` list may hold. They run in
// order on each value, after `regex`; a value a transform cannot read
// becomes empty (and, for the typed fields age and posted_at, a problem).
var Transforms = []string{"trim", "fold", "lower", "swedish_date", "int", "price"}

// transformFunc rewrites one value; now is the fetch time (for relative dates).
type transformFunc func(v string, now time.Time) (string, error)

func transformByName(name string) (transformFunc, bool) {
	switch name {
	case "trim":
		return func(v string, _ time.Time) (string, error) { return trimValue(v), nil }, true
	case "fold":
		return func(v string, _ time.Time) (string, error) { return places.Fold(v), nil }, true
	case "lower":
		return func(v string, _ time.Time) (string, error) { return strings.ToLower(v), nil }, true
	case "swedish_date":
		return func(v string, now time.Time) (string, error) {
			t, err := ParseSwedishDate(v, now)
			if err != nil {
				return "", err
			}
			return t.Format(time.RFC3339), nil
		}, true
	case "int":
		return func(v string, _ time.Time) (string, error) {
			n, err := strconv.ParseInt(intRe.FindString(v), 10, 64)
			if err != nil {
				return "", fmt.Errorf("no number in %.40q", v)
			}
			return strconv.FormatInt(n, 10), nil
		}, true
	case "price":
		return func(v string, _ time.Time) (string, error) { return parsePrice(v) }, true
	}
	return nil, false
}

// trimValue strips surrounding spaces and the punctuation that labels and
// separators leave behind (": ", " -", "•").
func trimValue(v string) string {
	return strings.TrimFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || (unicode.IsPunct(r) && r != ')' && r != '(' && r != '"') || r == '|' || r == '•'
	})
}

var intRe = regexp.MustCompile(`\d+`)

// priceRe is the first amount: digits grouped by spaces, dots or
// non-breaking spaces ("1 500", "1.500"), or a plain run ("1500").
var priceRe = regexp.MustCompile(`\d{1,3}(?:[ \x{00a0}\x{202f}.]\d{3})+|\d+`)

// parsePrice reads "1 500 kr", "1500:-", "från 1.200 SEK/h" as "1500",
// "1500", "1200"; decimals (",50") are dropped.
func parsePrice(v string) (string, error) {
	m := priceRe.FindString(v)
	if m == "" {
		return "", fmt.Errorf("no amount in %.40q", v)
	}
	var b strings.Builder
	for _, r := range m {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

var stockholm = mustLoadStockholm()

func mustLoadStockholm() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil { // cannot happen with time/tzdata embedded
		panic(err)
	}
	return loc
}

var svMonths = map[string]time.Month{
	"januari": 1, "jan": 1, "februari": 2, "feb": 2, "mars": 3, "mar": 3,
	"april": 4, "apr": 4, "maj": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
	"augusti": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
	"oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

var (
	isoDateRe = regexp.MustCompile(`(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?`)
	svDateRe  = regexp.MustCompile(`(?i)(\d{1,2})\s*\.?\s+([a-zåäö]{3,9})\.?(?:\s+(\d{4}))?(?:,?\s+(?:kl\.?\s*)?(\d{1,2})[:.](\d{2}))?`)
	relDateRe = regexp.MustCompile(`(?i)(?:^|[^\p{L}])(idag|i dag|igår|i går|igar|i gar|today|yesterday)(?:$|[^\p{L}]\s*(?:kl\.?\s*)?(?:(\d{1,2})[:.](\d{2}))?)`)
)

// ErrNotADate is returned by ParseSwedishDate for text without a date.
var ErrNotADate = errors.New("not a date")

// ParseSwedishDate reads the first date in text as Swedish sites write it:
// "publicerad 3 mars 2026", "3 mar 2026 14:05", "3 mars kl. 14:05" (the year
// of now, or the year before when that would lie in the future), "idag 09:12",
// "igår 14:05", "2026-03-03", "2026-03-03 14:05", RFC 3339. Times without a
// zone are Europe/Stockholm; relative days count from now in Stockholm.
func ParseSwedishDate(text string, now time.Time) (time.Time, error) {
	s := strings.TrimSpace(text)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	now = now.In(stockholm)
	clock := func(h, m string) (int, int, bool) {
		if h == "" {
			return 0, 0, true
		}
		hh, _ := strconv.Atoi(h)
		mm, _ := strconv.Atoi(m)
		return hh, mm, hh < 24 && mm < 60
	}
	if m := isoDateRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		h, mi, ok := clock(m[4], m[5])
		sec, _ := strconv.Atoi(m[6])
		if ok && validDate(y, mo, d) {
			return time.Date(y, time.Month(mo), d, h, mi, sec, 0, stockholm), nil
		}
	}
	if m := relDateRe.FindStringSubmatch(s); m != nil {
		day := now
		switch strings.ToLower(m[1]) {
		case "igår", "i går", "igar", "i gar", "yesterday":
			day = now.AddDate(0, 0, -1)
		}
		if h, mi, ok := clock(m[2], m[3]); ok {
			return time.Date(day.Year(), day.Month(), day.Day(), h, mi, 0, 0, stockholm), nil
		}
	}
	for _, m := range svDateRe.FindAllStringSubmatch(s, -1) {
		mo, ok := svMonths[strings.ToLower(m[2])]
		if !ok {
			continue
		}
		d, _ := strconv.Atoi(m[1])
		h, mi, ok := clock(m[4], m[5])
		if !ok {
			continue
		}
		y := now.Year()
		if m[3] != "" {
			y, _ = strconv.Atoi(m[3])
		}
		if !validDate(y, int(mo), d) {
			continue
		}
		t := time.Date(y, mo, d, h, mi, 0, 0, stockholm)
		if m[3] == "" && t.After(now.Add(24*time.Hour)) {
			t = t.AddDate(-1, 0, 0)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %.40q", ErrNotADate, s)
}

func validDate(y, m, d int) bool {
	if y < 1990 || y > 2200 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Day() == d
}
