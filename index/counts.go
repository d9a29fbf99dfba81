package index

import (
	"fmt"
	"slices"
	"strings"
)

// Count dimensions: the fields a count may be grouped by.
const (
	DimArena  = "arena"
	DimWeek   = "week"
	DimMonth  = "month"
	DimRegion = "region"
	DimCity   = "city"
	DimGender = "gender"
)

// Dimensions returns the allowed count dimensions.
func Dimensions() []string {
	return []string{DimArena, DimWeek, DimMonth, DimRegion, DimCity, DimGender}
}

// Group values with a special meaning.
const (
	// Unknown is the group value of an advert that lacks the dimension
	// (no city, no date).
	Unknown = "unknown"
	// All is the group value of every dimension in the total row.
	All = "*"
)

// Suppression kinds, as written in CountRow.Suppression and in JSON.
const (
	// SuppressPrimary marks a cell withheld because its persons count is
	// more than zero and less than MinCell.
	SuppressPrimary = "primary"
	// SuppressSecondary marks a cell withheld only so that a primary cell
	// cannot be recovered by subtracting visible cells from a visible total.
	SuppressSecondary = "secondary"
)

// Split values of CountOptions.Split.
const (
	// SplitMinors reports persons flagged as possible minors
	// (Doc.PossibleMinor on any of their adverts) in a table of their own.
	SplitMinors = "minors"
)

// Table names of a split count.
const (
	TablePossibleMinors = "possible_minors"
	TableOthers         = "others"
)

// CountOptions controls Counts.
type CountOptions struct {
	// MinCell suppresses small cells: a row whose persons count is more
	// than zero and less than MinCell has Ads and Persons set to -1,
	// Suppressed set and Suppression "primary". Further cells are then
	// suppressed ("secondary") until no suppressed cell's advert count can
	// be derived from the visible cells and any visible total — the total
	// rows of this export and the totals another export with fewer
	// dimensions would show (see docs/EXPORTS.md). 0 or 1 suppresses
	// nothing.
	MinCell int
	// Split is "" (one table) or SplitMinors (two tables: possible minors
	// and others; every row has Table set).
	Split string
}

// Validate checks the options; it does no I/O.
func (o CountOptions) Validate() error {
	if o.MinCell < 0 {
		return fmt.Errorf("counts: min cell %d is negative", o.MinCell)
	}
	if o.Split != "" && o.Split != SplitMinors {
		return fmt.Errorf("counts: split %q: allowed is %q", o.Split, SplitMinors)
	}
	return nil
}

// CountRow is one group of a count: the distinct adverts and persons in it.
type CountRow struct {
	// Table is "" in a count that is not split, else TablePossibleMinors or
	// TableOthers.
	Table string
	// Group holds one value per dimension, in the order asked for; in the
	// total row every value is All.
	Group      []string
	Ads        int
	Persons    int
	Suppressed bool
	// Suppression says why a suppressed row is withheld: SuppressPrimary
	// or SuppressSecondary; empty when not suppressed.
	Suppression string
	// Total marks the total row (always the last row of its table).
	Total bool
	// Seen is the interval of Persons (AttachSeen), on the total row of
	// an unsplit count only; nil elsewhere.
	Seen *Seen
}

// ValidateDimensions checks that by names allowed dimensions, each once.
func ValidateDimensions(by []string) error {
	seen := map[string]bool{}
	for _, d := range by {
		if !slices.Contains(Dimensions(), d) {
			return fmt.Errorf("%w %q: allowed are %s", ErrBadDimension, d, strings.Join(Dimensions(), ", "))
		}
		if seen[d] {
			return fmt.Errorf("%w %q: given twice", ErrBadDimension, d)
		}
		seen[d] = true
	}
	return nil
}

// Dimension returns the document's value of a count dimension, Unknown when
// the document lacks it.
func (d *Doc) Dimension(name string) string {
	var v string
	switch name {
	case DimArena:
		v = d.Arena
	case DimWeek:
		v = d.Week
	case DimMonth:
		v = d.Month
	case DimRegion:
		v = d.Region
	case DimCity:
		v = d.City
	case DimGender:
		v = d.Gender
	}
	if v == "" {
		return Unknown
	}
	return v
}

// Counter counts distinct adverts and persons per group. A person counts
// once in every group in which they advertised, and once in the total. An
// advert without an assignment counts as its own person (Doc.Person).
// Counter is not safe for concurrent use.
type Counter struct {
	by    []string
	cells map[string]*cell
	// minors holds the persons with at least one advert flagged
	// PossibleMinor; with SplitMinors all their adverts go to that table.
	minors map[string]struct{}
}

// cell holds one group's adverts, each with its person.
type cell struct {
	group []string
	ads   map[string]string // ad id → person
}

// NewCounter returns a Counter grouping by the dimensions in by; it returns
// ErrBadDimension for an unknown or repeated one.
func NewCounter(by []string) (*Counter, error) {
	if err := ValidateDimensions(by); err != nil {
		return nil, err
	}
	return &Counter{by: slices.Clone(by), cells: map[string]*cell{}, minors: map[string]struct{}{}}, nil
}

// Add counts one document. Adding the same advert twice counts it once.
func (c *Counter) Add(d *Doc) {
	if d.PossibleMinor {
		c.minors[d.Person()] = struct{}{}
	}
	group := make([]string, len(c.by))
	for i, dim := range c.by {
		group[i] = d.Dimension(dim)
	}
	key := strings.Join(group, "\x00")
	cl := c.cells[key]
	if cl == nil {
		cl = &cell{group: group, ads: map[string]string{}}
		c.cells[key] = cl
	}
	cl.ads[d.ID] = d.Person()
}

// tally is one leaf cell of the output while rows are built: the adverts
// and persons of one group in one table.
type tally struct {
	table   string
	group   []string
	ads     int
	persons map[string]struct{}
}

// Rows returns, per table (one unless opt.Split), one row per group sorted
// by group values, then the table's total row, with small cells suppressed
// as opt says (primary, then secondary suppression; see suppress). With
// SplitMinors the possible_minors table comes first, then others.
func (c *Counter) Rows(opt CountOptions) []CountRow {
	tables := []string{""}
	if opt.Split == SplitMinors {
		tables = []string{TablePossibleMinors, TableOthers}
	}
	tableOf := func(person string) string {
		if opt.Split != SplitMinors {
			return ""
		}
		if _, ok := c.minors[person]; ok {
			return TablePossibleMinors
		}
		return TableOthers
	}
	leaves := map[string]*tally{}
	for _, cl := range c.cells {
		for _, person := range cl.ads {
			t := tableOf(person)
			key := t + "\x00" + strings.Join(cl.group, "\x00")
			l := leaves[key]
			if l == nil {
				l = &tally{table: t, group: cl.group, persons: map[string]struct{}{}}
				leaves[key] = l
			}
			l.ads++
			l.persons[person] = struct{}{}
		}
	}
	cells := make([]*tally, 0, len(leaves))
	for _, l := range leaves {
		cells = append(cells, l)
	}
	slices.SortFunc(cells, func(a, b *tally) int {
		if a.table != b.table {
			return slices.Index(tables, a.table) - slices.Index(tables, b.table)
		}
		return slices.Compare(a.group, b.group)
	})
	// The table is a dimension like the others for suppression: another
	// export without --split shows the sums over both tables.
	dims := len(c.by)
	vals := func(t *tally) []string { return t.group }
	if opt.Split != "" {
		dims++
		vals = func(t *tally) []string { return append([]string{t.table}, t.group...) }
	}
	leafVals := make([][]string, len(cells))
	for i, l := range cells {
		leafVals[i] = vals(l)
	}
	// Published totals: the total row of each table (the mask holding only
	// the table dimension), or the grand total (the empty mask).
	totalMask := 0
	if opt.Split != "" {
		totalMask = 1
	}
	leafOf := func(i int) (int, map[string]struct{}) { return cells[i].ads, cells[i].persons }
	big := len(cells) > exactLimit
	var personsOf func(int) bool
	if big { // the hypercube method needs the persons of published totals only
		personsOf = func(mask int) bool { return mask == totalMask }
	}
	s := newSuppressor(leafVals, dims, leafOf, personsOf)
	s.publish(totalMask)
	switch {
	case !big:
		s.run(opt.MinCell)
	case s.hypercubeApplies(opt.MinCell):
		s.runHypercube(opt.MinCell)
	default: // a small published total: the exact method, all persons counted
		s = newSuppressor(leafVals, dims, leafOf, nil)
		s.publish(totalMask)
		s.run(opt.MinCell)
	}

	rows := make([]CountRow, 0, len(cells)+len(tables))
	for _, t := range tables {
		if len(c.by) > 0 {
			for i, l := range cells {
				if l.table == t {
					rows = append(rows, countRow(l.table, l.group, l.ads, len(l.persons), s.kind(i)))
				}
			}
		}
		r := CountRow{Table: t, Group: allGroup(len(c.by)), Total: true}
		if it := s.margin(totalMask, t); it != nil {
			r = countRow(t, allGroup(len(c.by)), it.ads, it.persons, it.state)
			r.Total = true
		}
		rows = append(rows, r)
	}
	return rows
}

func allGroup(n int) []string {
	g := make([]string, n)
	for i := range g {
		g[i] = All
	}
	return g
}

func countRow(table string, group []string, ads, persons int, kind string) CountRow {
	r := CountRow{Table: table, Group: group, Ads: ads, Persons: persons}
	if kind != "" {
		r.Ads, r.Persons, r.Suppressed, r.Suppression = -1, -1, true, kind
	}
	return r
}
