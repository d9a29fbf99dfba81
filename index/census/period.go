package census

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	_ "time/tzdata" // periods are Swedish calendar periods on any host
)

// Bases of a period count.
const (
	// BasisSeen counts what was observed: adverts live in the period
	// (sighted in it, or between two sightings at most the gap apart),
	// persons with such an advert.
	BasisSeen = "seen"
	// BasisPosted counts by posting date (or first fetch when the arena
	// shows none): the counts adcensus gave before the census.
	BasisPosted = "posted"
)

// DefaultGap is the default longest time between two sightings of an
// advert during which it counts as live throughout: a little over a week,
// so that weekly crawls see an advert live from one crawl to the next.
const DefaultGap = 8 * 24 * time.Hour

// CheckBasis returns an error naming the allowed bases for another value.
func CheckBasis(b string) error {
	if b != BasisSeen && b != BasisPosted {
		return fmt.Errorf("basis %q: allowed are %s and %s", b, BasisSeen, BasisPosted)
	}
	return nil
}

// Period is the half-open time range [From, To); a zero bound is open.
type Period struct {
	From, To time.Time
}

// IsZero reports whether the period is unbounded.
func (p Period) IsZero() bool { return p.From.IsZero() && p.To.IsZero() }

// Contains reports whether t lies in the period.
func (p Period) Contains(t time.Time) bool {
	return (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || t.Before(p.To))
}

// Overlaps reports whether the closed interval [a, b] meets the period.
func (p Period) Overlaps(a, b time.Time) bool {
	return (p.To.IsZero() || a.Before(p.To)) && (p.From.IsZero() || !b.Before(p.From))
}

// String is the period as "FROM/TO" in RFC 3339 ("" for an open bound).
func (p Period) String() string {
	f := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	return f(p.From) + "/" + f(p.To)
}

var (
	reDay   = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})$`)
	reWeek  = regexp.MustCompile(`^(\d{4})-W(\d{2})$`)
	reMonth = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
	reYear  = regexp.MustCompile(`^(\d{4})$`)
)

// ParseSpan parses a calendar span in Swedish time (Europe/Stockholm): a
// date "2026-12-07", an ISO week "2026-W49", a month "2026-11" or a year
// "2026", and returns its first instant and the first instant after it.
func ParseSpan(s string) (start, end time.Time, err error) {
	loc := Stockholm()
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	switch {
	case reDay.MatchString(s):
		m := reDay.FindStringSubmatch(s)
		start = time.Date(atoi(m[1]), time.Month(atoi(m[2])), atoi(m[3]), 0, 0, 0, 0, loc)
		if start.Format("2006-01-02") != s {
			return start, end, fmt.Errorf("date %q does not exist", s)
		}
		return start, start.AddDate(0, 0, 1), nil
	case reWeek.MatchString(s):
		m := reWeek.FindStringSubmatch(s)
		y, w := atoi(m[1]), atoi(m[2])
		// ISO week 1 holds 4 January; weeks start on Monday.
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, loc)
		monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		start = monday.AddDate(0, 0, 7*(w-1))
		if yy, ww := start.ISOWeek(); w < 1 || yy != y || ww != w {
			return start, end, fmt.Errorf("week %q does not exist", s)
		}
		return start, start.AddDate(0, 0, 7), nil
	case reMonth.MatchString(s):
		m := reMonth.FindStringSubmatch(s)
		mo := atoi(m[2])
		if mo < 1 || mo > 12 {
			return start, end, fmt.Errorf("month %q does not exist", s)
		}
		start = time.Date(atoi(m[1]), time.Month(mo), 1, 0, 0, 0, 0, loc)
		return start, start.AddDate(0, 1, 0), nil
	case reYear.MatchString(s):
		start = time.Date(atoi(s), 1, 1, 0, 0, 0, 0, loc)
		return start, start.AddDate(1, 0, 0), nil
	}
	return start, end, fmt.Errorf("%q is not a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year (2026)", s)
}

// ParsePeriod makes the period from the start of from to the end of to,
// both spans ParseSpan reads; either may be empty (open).
func ParsePeriod(from, to string) (Period, error) {
	var p Period
	if from != "" {
		s, _, err := ParseSpan(from)
		if err != nil {
			return p, fmt.Errorf("--from: %w", err)
		}
		p.From = s
	}
	if to != "" {
		_, e, err := ParseSpan(to)
		if err != nil {
			return p, fmt.Errorf("--to: %w", err)
		}
		p.To = e
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To) {
		return p, fmt.Errorf("--from %s is after --to %s", from, to)
	}
	return p, nil
}

// Stockholm is the time zone of the census's calendar periods.
func Stockholm() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil { // cannot happen with time/tzdata embedded
		return time.UTC
	}
	return loc
}

// WeekOf and MonthOf name the ISO week ("2026-W49") and month ("2026-12")
// of t in Swedish time, as index.Period does.
func WeekOf(t time.Time) string {
	y, w := t.In(Stockholm()).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// MonthOf: see WeekOf.
func MonthOf(t time.Time) string { return t.In(Stockholm()).Format("2006-01") }

// Interval is a closed time range in which an advert was live.
type Interval struct{ From, To time.Time }

// Intervals returns the times the advert was live: each sighting, joined
// with the next when they are at most gap apart and no gone event lies
// between them.
func (l *Lifetime) Intervals(gap time.Duration) []Interval {
	var out []Interval
	for i, s := range l.Sightings {
		if i > 0 {
			prev := l.Sightings[i-1].At
			if s.At.Sub(prev) <= gap && !wasGoneBetween(l, prev, s.At) {
				out[len(out)-1].To = s.At
				continue
			}
		}
		out = append(out, Interval{s.At, s.At})
	}
	return out
}

// LiveIn reports whether the advert was live at some time in p.
func (l *Lifetime) LiveIn(p Period, gap time.Duration) bool {
	for _, iv := range l.Intervals(gap) {
		if p.Overlaps(iv.From, iv.To) {
			return true
		}
	}
	return false
}

// Days returns the Swedish calendar days (midnight, Europe/Stockholm) on
// which the advert was live within p, in order, without repeats.
func (l *Lifetime) Days(p Period, gap time.Duration) []time.Time {
	loc := Stockholm()
	var out []time.Time
	for _, iv := range l.Intervals(gap) {
		if !p.Overlaps(iv.From, iv.To) {
			continue
		}
		a, b := iv.From, iv.To
		if !p.From.IsZero() && a.Before(p.From) {
			a = p.From
		}
		if !p.To.IsZero() && !b.Before(p.To) {
			b = p.To.Add(-time.Nanosecond)
		}
		a = a.In(loc)
		d := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, loc)
		for ; !d.After(b); d = d.AddDate(0, 0, 1) {
			if n := len(out); n == 0 || out[n-1].Before(d) {
				out = append(out, d)
			}
		}
	}
	return out
}

// Weeks returns the ISO weeks in which the advert was live within p.
func (l *Lifetime) Weeks(p Period, gap time.Duration) []string {
	var out []string
	for _, d := range l.Days(p, gap) {
		if w := WeekOf(d); len(out) == 0 || out[len(out)-1] != w {
			out = append(out, w)
		}
	}
	return out
}
