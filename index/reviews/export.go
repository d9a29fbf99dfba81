package reviews

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"adcensus/ad"
	"adcensus/index"
)

// Dimensions a review export may be grouped by: the forum (arena), the
// review's month or week (posted, else fetched) and its region.
func Dimensions() []string {
	return []string{index.DimArena, index.DimMonth, index.DimWeek, index.DimRegion}
}

// Row is one group of the review export.
type Row struct {
	Group []string `json:"group"`
	// Reviews counts the posts, Reviewers the distinct author pseudonyms
	// (a post without author counts as its own reviewer), ReviewedPersons
	// the distinct advertised persons strong evidence links the reviews
	// to, WeakPersons those named by weak evidence only.
	Reviews         int `json:"reviews"`
	Reviewers       int `json:"reviewers"`
	ReviewedPersons int `json:"reviewed_persons"`
	WeakPersons     int `json:"weak_persons"`
	// Advertised is the number of advertised persons in the group's
	// month, week and region (any advert arena); Share the part of them that a
	// review of the group links to. -1 when withheld.
	Advertised int     `json:"advertised_persons"`
	Share      float64 `json:"share_reviewed"`
	// Suppressed marks a withheld row (Reviews, Reviewers and the rest
	// -1), Suppression why: index.SuppressPrimary or SuppressSecondary.
	Suppressed  bool   `json:"suppressed,omitempty"`
	Suppression string `json:"suppression,omitempty"`
	Total       bool   `json:"total,omitempty"`
}

// ExportOptions control Export.
type ExportOptions struct {
	By      []string
	MinCell int
}

// Report is a review export.
type Report struct {
	By   []string `json:"by"`
	Rows []Row    `json:"rows"`
	// Bad counts stored records that could not be read.
	Bad     int `json:"bad_records,omitempty"`
	MinCell int `json:"min_cell"`
}

// Export counts the stored reviews per group of opt.By, linked against
// idx. Small cells are suppressed as in the counts export (docs/EXPORTS.md):
// a group with 1 to MinCell-1 reviewers is withheld (primary), then further
// groups (secondary) until no withheld review count follows from the
// visible groups and totals; a visible group's reviewed_persons,
// weak_persons and advertised_persons from 1 to MinCell-1 are withheld too
// (-1), with the share derived from them.
func Export(ctx context.Context, st *Store, idx index.Store, opt ExportOptions) (*Report, error) {
	for i, d := range opt.By {
		if !slices.Contains(Dimensions(), d) || slices.Index(opt.By, d) != i {
			return nil, fmt.Errorf("%w %q: allowed are %s, each once", index.ErrBadDimension, d, strings.Join(Dimensions(), ", "))
		}
	}
	if opt.MinCell < 0 {
		return nil, fmt.Errorf("min cell %d is negative", opt.MinCell)
	}
	lk, err := NewLinker(ctx, idx)
	if err != nil {
		return nil, err
	}
	counter, err := index.NewCounter(opt.By)
	if err != nil {
		return nil, err
	}
	type groupSets struct{ strong, weak map[string]bool }
	groups := map[string]*groupSets{}
	all := &groupSets{strong: map[string]bool{}, weak: map[string]bool{}}
	bad, err := st.ForEach(ctx, func(r *ad.Review) error {
		ln := lk.Link(r)
		d := reviewDoc(r, ln)
		counter.Add(d)
		key := groupKey(d, opt.By)
		g := groups[key]
		if g == nil {
			g = &groupSets{strong: map[string]bool{}, weak: map[string]bool{}}
			groups[key] = g
		}
		for _, p := range ln.Persons {
			g.strong[p], all.strong[p] = true, true
		}
		for _, p := range ln.Weak {
			g.weak[p], all.weak[p] = true, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep := &Report{By: slices.Clone(opt.By), Bad: bad, MinCell: opt.MinCell}
	small := func(n int) bool { return n > 0 && n < opt.MinCell }
	for _, cr := range counter.Rows(index.CountOptions{MinCell: opt.MinCell}) {
		row := Row{Group: cr.Group, Reviews: cr.Ads, Reviewers: cr.Persons, Total: cr.Total, Suppressed: cr.Suppressed, Suppression: cr.Suppression}
		if cr.Suppressed {
			row.ReviewedPersons, row.WeakPersons, row.Advertised, row.Share = -1, -1, -1, -1
			rep.Rows = append(rep.Rows, row)
			continue
		}
		g := all
		if !cr.Total {
			g = groups[strings.Join(cr.Group, "\x00")]
		}
		c := cell{month: index.All, week: index.All, region: index.All}
		for i, d := range opt.By {
			switch d {
			case index.DimMonth:
				c.month = cr.Group[i]
			case index.DimWeek:
				c.week = cr.Group[i]
			case index.DimRegion:
				c.region = cr.Group[i]
			}
		}
		row.ReviewedPersons, row.WeakPersons = len(g.strong), 0
		for p := range g.weak {
			if !g.strong[p] {
				row.WeakPersons++
			}
		}
		row.Advertised = lk.advertised(c)
		reviewed := 0
		for p := range g.strong {
			if lk.advertisedIn(p, c) {
				reviewed++
			}
		}
		if row.Advertised > 0 {
			row.Share = float64(reviewed) / float64(row.Advertised)
		}
		if small(row.WeakPersons) {
			row.WeakPersons = -1
		}
		if small(row.ReviewedPersons) || small(row.Advertised) || small(reviewed) {
			row.Share = -1
		}
		if small(row.ReviewedPersons) {
			row.ReviewedPersons = -1
		}
		if small(row.Advertised) {
			row.Advertised = -1
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// reviewDoc is a review as the counter sees it: the review is the
// "advert", its author the "person".
func reviewDoc(r *ad.Review, ln Link) *index.Doc {
	d := &index.Doc{ID: r.ID, Arena: r.Arena, Region: ln.Region, PersonID: r.Author}
	d.Week, d.Month = index.Period(r.Time())
	return d
}

func groupKey(d *index.Doc, by []string) string {
	g := make([]string, len(by))
	for i, dim := range by {
		g[i] = d.Dimension(dim)
	}
	return strings.Join(g, "\x00")
}

// num writes a count, or "" for a withheld one.
func num(n int) string {
	if n < 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// WriteCSV writes the report as CSV: the dimensions, then reviews,
// reviewers, reviewed_persons, weak_persons, advertised_persons,
// share_reviewed, suppressed; withheld numbers are empty.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := append(slices.Clone(r.By), "reviews", "reviewers", "reviewed_persons", "weak_persons", "advertised_persons", "share_reviewed", "suppressed")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range r.Rows {
		share := ""
		if row.Share >= 0 && !row.Suppressed {
			share = strconv.FormatFloat(row.Share, 'f', 4, 64)
		}
		rec := append(slices.Clone(row.Group), num(row.Reviews), num(row.Reviewers), num(row.ReviewedPersons),
			num(row.WeakPersons), num(row.Advertised), share, row.Suppression)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
