package census

import (
	"context"
	"fmt"
	"slices"
	"time"

	"adcensus/index"
)

// Docs is what a PeriodSource reads: the index's documents (index.Store).
type Docs interface {
	ForEachFact(ctx context.Context, fn func(*index.Doc) error) error
	ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error
}

// Query says which adverts of a period to count, and how.
type Query struct {
	Period Period
	// Basis is BasisSeen (default when empty) or BasisPosted.
	Basis string
	// Gap is the longest time between two sightings during which an
	// advert counts as live throughout (0: DefaultGap).
	Gap time.Duration
	// Expand, with BasisSeen, gives an advert once per (week, month) in
	// which it was live within the period, its Week and Month set to it,
	// so that counts by week or month count each period an advert and a
	// person was active in. Without it an advert live in the period is
	// given once, as stored.
	Expand bool
}

func (q Query) gap() time.Duration {
	if q.Gap <= 0 {
		return DefaultGap
	}
	return q.Gap
}

func (q Query) seen() bool { return q.Basis != BasisPosted }

// PeriodSource lists the documents of a period (index.FactsSource,
// overlap's source): with BasisSeen the adverts live in it, by their
// sightings; with BasisPosted those whose posting (or first fetch) time
// lies in it. An advert without sightings (indexed from a file by 'adcensus
// ingest' or before the census existed) counts, under BasisSeen, at its
// posting or fetch time, as under BasisPosted.
type PeriodSource struct {
	Docs  Docs
	Life  map[string]*Lifetime
	Query Query
}

// NewPeriodSource reads every lifetime of st (nil: none) and returns the
// source of q over docs.
func NewPeriodSource(ctx context.Context, docs Docs, st *Store, q Query) (*PeriodSource, error) {
	if q.Basis == "" {
		q.Basis = BasisSeen
	}
	if err := CheckBasis(q.Basis); err != nil {
		return nil, err
	}
	life := map[string]*Lifetime{}
	if st != nil && q.seen() {
		var err error
		if life, err = st.Lifetimes(ctx); err != nil {
			return nil, err
		}
	}
	return &PeriodSource{Docs: docs, Life: life, Query: q}, nil
}

// ForEachFact implements index.FactsSource over the period. The
// documents are fresh copies when expanded, else the source's own (which
// fn must not keep).
func (s *PeriodSource) ForEachFact(ctx context.Context, fn func(*index.Doc) error) error {
	q := s.Query
	if !q.seen() && !q.Period.IsZero() {
		// Posting times are in the full documents only.
		return s.Docs.ForEachDoc(ctx, func(d *index.Doc) error {
			if !postedIn(d, q.Period) {
				return nil
			}
			return fn(d)
		})
	}
	return s.Docs.ForEachFact(ctx, func(d *index.Doc) error {
		if !q.seen() {
			return fn(d)
		}
		l := s.Life[d.ID]
		if l == nil || len(l.Sightings) == 0 {
			if !q.Period.IsZero() && !weekIn(d, q.Period) {
				return nil
			}
			return fn(d)
		}
		if !q.Expand {
			if !l.LiveIn(q.Period, q.gap()) {
				return nil
			}
			return fn(d)
		}
		type wm struct{ w, m string }
		var seen []wm
		for _, day := range l.Days(q.Period, q.gap()) {
			k := wm{WeekOf(day), MonthOf(day)}
			if slices.Contains(seen, k) {
				continue
			}
			seen = append(seen, k)
			c := *d
			c.Week, c.Month = k.w, k.m
			if err := fn(&c); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForEachDoc is ForEachFact (the count fields are what a period export
// reads).
func (s *PeriodSource) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	return s.ForEachFact(ctx, fn)
}

// postedIn reports whether the advert's posting (or first fetch) time lies
// in p.
func postedIn(d *index.Doc, p Period) bool {
	t := d.PostedAt
	if t.IsZero() {
		t = d.FetchedAt
	}
	if t.IsZero() {
		return false
	}
	return p.Contains(t)
}

// weekIn reports whether the advert's week (posting or fetch) starts in p,
// for adverts without sightings.
func weekIn(d *index.Doc, p Period) bool {
	if d.Week == "" {
		return false
	}
	s, e, err := ParseSpan(d.Week)
	if err != nil {
		return false
	}
	return p.Overlaps(s, e.Add(-time.Nanosecond))
}

// Counts counts distinct adverts and persons per group of by over the
// period, with the same suppression as index.Store.Counts. Under
// BasisSeen, with week or month among by, an advert and its person count
// in every week or month they were live; the total row then counts each
// person once and each advert once per period it was live.
func Counts(ctx context.Context, docs Docs, st *Store, by []string, q Query, opt index.CountOptions) ([]index.CountRow, error) {
	c, err := index.NewCounter(by)
	if err != nil {
		return nil, err
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	q.Expand = slices.Contains(by, index.DimWeek) || slices.Contains(by, index.DimMonth)
	src, err := NewPeriodSource(ctx, docs, st, q)
	if err != nil {
		return nil, err
	}
	err = src.ForEachFact(ctx, func(d *index.Doc) error {
		if q.Expand {
			d = &index.Doc{ID: d.ID + "\x00" + d.Week + "\x00" + d.Month, Arena: d.Arena, Week: d.Week, Month: d.Month,
				Region: d.Region, City: d.City, Gender: d.Gender, PersonID: d.Person(), PossibleMinor: d.PossibleMinor}
		}
		c.Add(d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return c.Rows(opt), nil
}

// SnapshotCounts counts, per crawl run that ended in the period, the
// adverts it sighted and their distinct persons (the Swedish mappings'
// snapshot day is a run per arena), with the same suppression as Counts.
// Rows are grouped by run id (Group[0]) in run order, then the total row.
func SnapshotCounts(ctx context.Context, docs Docs, st *Store, p Period, opt index.CountOptions) ([]index.CountRow, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	runs, err := st.Runs()
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, r := range runs {
		if p.Contains(r.Ended) {
			in[r.Run] = true
		}
	}
	life, err := st.Lifetimes(ctx)
	if err != nil {
		return nil, err
	}
	// The week dimension carries the run id: Counter's groups and
	// suppression, another name.
	c, err := index.NewCounter([]string{index.DimWeek})
	if err != nil {
		return nil, err
	}
	err = docs.ForEachFact(ctx, func(d *index.Doc) error {
		l := life[d.ID]
		if l == nil {
			return nil
		}
		for _, s := range l.Sightings {
			if in[s.Run] {
				c.Add(&index.Doc{ID: d.ID + "\x00" + s.Run, Week: s.Run, PersonID: d.Person(), PossibleMinor: d.PossibleMinor})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot counts: %w", err)
	}
	return c.Rows(opt), nil
}
