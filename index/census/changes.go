package census

import (
	"context"
	"fmt"
	"slices"
	"time"

	"adcensus/ad"
	"adcensus/index"
)

// ArenaChange is what changed on one arena since a time.
type ArenaChange struct {
	Arena   string `json:"arena"`
	New     int    `json:"new"`     // adverts first sighted since
	Changed int    `json:"changed"` // adverts sighted since with changed content
	Gone    int    `json:"gone"`    // adverts gone now, marked gone since
	Back    int    `json:"back"`    // adverts sighted again since after being gone
	// Before is the number of adverts the last complete run before since
	// sighted (-1: no run before: a new arena); Now the latest complete
	// run's.
	Before int `json:"before"`
	Now    int `json:"now"`
	// Trend is "new arena", "grew", "shrank" or "same".
	Trend string `json:"trend"`
}

// FieldShare is the share of a run's adverts that had a field empty, and
// the share in the run before.
type FieldShare struct {
	Field  string  `json:"field"`
	Before float64 `json:"before"`
	Now    float64 `json:"now"`
}

// Flag is a run the operator should look at: its adverts dropped by more
// than half against the arena's run before (usually a redesign that broke
// the selectors: Empty names the fields that came back empty more often),
// or it was incomplete.
type Flag struct {
	Run     string       `json:"run"`
	Arena   string       `json:"arena"`
	Ended   time.Time    `json:"ended"`
	Sighted int          `json:"sighted"`
	Before  int          `json:"before"` // sighted by the arena's run before
	Why     string       `json:"why"`
	Empty   []FieldShare `json:"empty_fields,omitempty"`
}

// Changes is the report of `adcensus changes`.
type Changes struct {
	Since  time.Time     `json:"since"`
	Runs   int           `json:"runs"` // runs ended since
	Arenas []ArenaChange `json:"arenas"`
	// PersonsNew are persons whose first advert was first sighted since;
	// PersonsGone persons all of whose adverts are gone now, the last
	// marked gone since. -1 when suppressed (fewer than MinCell).
	PersonsNew  int    `json:"persons_new"`
	PersonsGone int    `json:"persons_gone"`
	Flags       []Flag `json:"flags,omitempty"`
}

// SinceRun returns when the run ended (changes since a run are those of
// the runs after it).
func (s *Store) SinceRun(run string) (time.Time, error) {
	runs, err := s.Runs()
	if err != nil {
		return time.Time{}, err
	}
	for _, r := range runs {
		if r.Run == run {
			return r.Ended.Add(time.Nanosecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("census: no ended run %q (adcensus runs lists them)", run)
}

// ReportChanges reports what changed since the time: adverts new, changed,
// gone and back per arena, arenas grown or shrunk, persons new and gone
// (person counts under minCell suppressed), and runs to look at.
func ReportChanges(ctx context.Context, docs Docs, st *Store, since time.Time, minCell int) (*Changes, error) {
	runs, err := st.Runs()
	if err != nil {
		return nil, err
	}
	life, err := st.Lifetimes(ctx)
	if err != nil {
		return nil, err
	}
	ch := &Changes{Since: since}
	arenas := map[string]*ArenaChange{}
	arena := func(name string) *ArenaChange {
		a := arenas[name]
		if a == nil {
			a = &ArenaChange{Arena: name, Before: -1}
			arenas[name] = a
		}
		return a
	}
	prev := map[string]*Run{}
	for i := range runs {
		r := &runs[i]
		a := arena(r.Arena)
		if r.Ended.Before(since) {
			if r.Complete {
				a.Before, a.Now = r.Sighted, r.Sighted
				prev[r.Arena] = r
			}
			continue
		}
		ch.Runs++
		if f, ok := flagRun(r, prev[r.Arena]); ok {
			ch.Flags = append(ch.Flags, f)
		}
		if r.Complete { // an incomplete run is no measure of the arena
			a.Now = r.Sighted
			prev[r.Arena] = r
		}
	}
	for _, l := range life {
		a := arena(l.Arena)
		if !l.First().Before(since) {
			a.New++
		}
		for i := 1; i < len(l.Sightings); i++ {
			s := l.Sightings[i]
			if s.At.Before(since) {
				continue
			}
			if s.Hash != l.Sightings[i-1].Hash {
				a.Changed++
				break
			}
		}
		for i := 1; i < len(l.Sightings); i++ {
			if s := l.Sightings[i]; !s.At.Before(since) && wasGoneBetween(l, l.Sightings[i-1].At, s.At) {
				a.Back++
				break
			}
		}
		if g, gone := l.GoneAt(); gone && !g.At.Before(since) {
			a.Gone++
		}
	}
	for _, a := range arenas {
		switch {
		case a.Before < 0:
			a.Trend = "new arena"
		case a.Now > a.Before:
			a.Trend = "grew"
		case a.Now < a.Before:
			a.Trend = "shrank"
		default:
			a.Trend = "same"
		}
		ch.Arenas = append(ch.Arenas, *a)
	}
	slices.SortFunc(ch.Arenas, func(a, b ArenaChange) int { return compareStrings(a.Arena, b.Arena) })

	// Persons: the first sighting and the gone state over their adverts.
	type pstate struct {
		first    time.Time
		allGone  bool
		lastGone time.Time
	}
	persons := map[string]*pstate{}
	err = docs.ForEachFact(ctx, func(d *index.Doc) error {
		l := life[d.ID]
		if l == nil || len(l.Sightings) == 0 {
			return nil
		}
		p := persons[d.Person()]
		if p == nil {
			p = &pstate{first: l.First(), allGone: true}
			persons[d.Person()] = p
		}
		if l.First().Before(p.first) {
			p.first = l.First()
		}
		if g, gone := l.GoneAt(); gone {
			if g.At.After(p.lastGone) {
				p.lastGone = g.At
			}
		} else {
			p.allGone = false
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range persons {
		if !p.first.Before(since) {
			ch.PersonsNew++
		}
		if p.allGone && !p.lastGone.Before(since) {
			ch.PersonsGone++
		}
	}
	ch.PersonsNew, ch.PersonsGone = suppress(ch.PersonsNew, minCell), suppress(ch.PersonsGone, minCell)
	return ch, nil
}

func suppress(n, minCell int) int {
	if n > 0 && n < minCell {
		return -1
	}
	return n
}

// flagRun flags a run whose adverts dropped by more than half against the
// run before, or that was incomplete.
func flagRun(r, before *Run) (Flag, bool) {
	f := Flag{Run: r.Run, Arena: r.Arena, Ended: r.Ended, Sighted: r.Sighted, Before: -1}
	if before != nil {
		f.Before = before.Sighted
	}
	switch {
	case !r.Complete:
		f.Why = "incomplete: " + r.Why
	case before != nil && before.Sighted > 0 && 2*r.Sighted < before.Sighted:
		f.Why = fmt.Sprintf("adverts dropped from %d to %d", before.Sighted, r.Sighted)
		f.Empty = emptier(r, before)
	case before != nil && before.Sighted > 0 && r.Sighted > 0 && len(jumps(emptier(r, before))) > 0:
		f.Empty = jumps(emptier(r, before))
		f.Why = "fields came back empty in at least half more of the adverts"
	default:
		return f, false
	}
	return f, true
}

// emptier lists the fields empty in a larger share of the run's adverts
// than in the run before, most increased first (every field when the run
// sighted nothing: nothing came back at all).
func emptier(r, before *Run) []FieldShare {
	share := func(run *Run, f string) float64 {
		if run.Sighted == 0 {
			return 1
		}
		return float64(run.Empty[f]) / float64(run.Sighted)
	}
	fields := map[string]bool{}
	for _, f := range []string{ad.FieldTitle, ad.FieldBody, ad.FieldName, ad.FieldAge, ad.FieldCity, ad.FieldGender, ad.FieldContacts, ad.FieldImages, ad.FieldPosted} {
		fields[f] = true
	}
	for f := range r.Empty {
		fields[f] = true
	}
	for f := range before.Empty {
		fields[f] = true
	}
	var out []FieldShare
	for f := range fields {
		if s := (FieldShare{Field: f, Before: share(before, f), Now: share(r, f)}); s.Now > s.Before {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b FieldShare) int {
		da, db := a.Now-a.Before, b.Now-b.Before
		switch {
		case da > db:
			return -1
		case da < db:
			return 1
		}
		return compareStrings(a.Field, b.Field)
	})
	return out
}

// jumps keeps the fields whose empty share rose by at least one half.
func jumps(fs []FieldShare) []FieldShare {
	var out []FieldShare
	for _, f := range fs {
		if f.Now-f.Before >= 0.5 {
			out = append(out, f)
		}
	}
	return out
}
