package census

import (
	"context"
	"fmt"
	"slices"
	"time"

	"adcensus/index"
)

// TrendRow is one period of one group of a trend: the persons active in
// it, new in it (never active in the group before) and gone (active in the
// group in the period before, not in this one). A count of -1 is
// suppressed.
type TrendRow struct {
	Period string `json:"period"`
	Group  string `json:"group"`
	Active int    `json:"active"`
	New    int    `json:"new"`
	Gone   int    `json:"gone"`
	// Suppression is "primary" or "secondary" when Active is withheld
	// (then New and Gone too), as in export counts.
	Suppression string `json:"suppression,omitempty"`
	// Withheld is "secondary" when New or Gone is withheld, though not
	// small, because with the active counts it would have narrowed the
	// other, small one (trend_suppress.go).
	Withheld string `json:"withheld,omitempty"`
}

// Trend lists persons active, new and gone per period (index.DimWeek or
// index.DimMonth) and group (index.DimArena or index.DimRegion), by the
// census's sightings (BasisSeen), for the periods of q that lie between
// the first and the last period anything was observed. Active is the
// persons count of export counts --by GROUP,PERIOD --basis seen, with
// its suppression; New and Gone under minCell are suppressed.
func Trend(ctx context.Context, docs Docs, st *Store, by, period string, q Query, minCell int) ([]TrendRow, error) {
	if by != index.DimArena && by != index.DimRegion {
		return nil, fmt.Errorf("%w %q: a trend is by %s or %s", index.ErrBadDimension, by, index.DimArena, index.DimRegion)
	}
	if period != index.DimWeek && period != index.DimMonth {
		return nil, fmt.Errorf("%w %q: a trend's period is %s or %s", index.ErrBadDimension, period, index.DimWeek, index.DimMonth)
	}
	q.Basis = BasisSeen
	life, err := st.Lifetimes(ctx)
	if err != nil {
		return nil, err
	}
	name := WeekOf
	if period == index.DimMonth {
		name = MonthOf
	}
	// Every period each person was active in, per group, over all time.
	type key struct{ group, person string }
	active := map[key]map[string]bool{}
	var first, last time.Time
	err = docs.ForEachFact(ctx, func(d *index.Doc) error {
		l := life[d.ID]
		if l == nil || len(l.Sightings) == 0 {
			return nil
		}
		k := key{d.Dimension(by), d.Person()}
		ps := active[k]
		if ps == nil {
			ps = map[string]bool{}
			active[k] = ps
		}
		for _, day := range l.Days(Period{}, q.gap()) {
			ps[name(day)] = true
			if first.IsZero() || day.Before(first) {
				first = day
			}
			if day.After(last) {
				last = day
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if first.IsZero() {
		return nil, nil
	}
	// The periods from the first to the last observed, in order.
	var periods []string
	var starts []time.Time
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if p := name(d); len(periods) == 0 || periods[len(periods)-1] != p {
			periods = append(periods, p)
			starts = append(starts, d)
		}
	}
	type cell struct{ group, period string }
	counts := map[cell]*TrendRow{}
	row := func(g, p string) *TrendRow {
		c := counts[cell{g, p}]
		if c == nil {
			c = &TrendRow{Period: p, Group: g}
			counts[cell{g, p}] = c
		}
		return c
	}
	for k, ps := range active {
		seenBefore := false
		for i, p := range periods {
			was := i > 0 && ps[periods[i-1]]
			switch {
			case ps[p] && !seenBefore:
				row(k.group, p).New++
			case !ps[p] && was:
				row(k.group, p).Gone++
			}
			seenBefore = seenBefore || ps[p]
		}
	}
	// Active, with export counts' suppression.
	rows, err := Counts(ctx, docs, st, []string{by, period}, q, index.CountOptions{MinCell: minCell})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Total {
			continue
		}
		c := row(r.Group[0], r.Group[1])
		c.Active, c.Suppression = r.Persons, r.Suppression
	}
	// Suppression over every period (a period outside q's still tells
	// the change of the active count into the first one inside), then
	// the periods of q.
	var all []TrendRow
	for _, r := range counts {
		if r.Suppression != "" {
			r.Active, r.New, r.Gone = -1, -1, -1
		} else {
			r.New, r.Gone = suppress(r.New, minCell), suppress(r.Gone, minCell)
		}
		all = append(all, *r)
	}
	protectNewGone(all, periods, minCell)
	var out []TrendRow
	for i, p := range periods {
		if !q.Period.Contains(starts[i]) {
			continue
		}
		for _, r := range all {
			if r.Period == p {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b TrendRow) int {
		if c := compareStrings(a.Period, b.Period); c != 0 {
			return c
		}
		return compareStrings(a.Group, b.Group)
	})
	return out, nil
}
