package index

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
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

// WriteCountsCSV writes rows as CSV: a header of the dimension names then
// "ads,persons"; suppressed cells are written empty, and the total row has
// "*" in every dimension column. Rows of a split count (Table set) get a
// leading column "table".
func WriteCountsCSV(w io.Writer, by []string, rows []CountRow) error {
	split := len(rows) > 0 && rows[0].Table != ""
	cw := csv.NewWriter(w)
	header := append(slices.Clone(by), "ads", "persons")
	if split {
		header = append([]string{"table"}, header...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Group) != len(by) {
			return fmt.Errorf("count row has %d group values, want %d", len(r.Group), len(by))
		}
		if (r.Table != "") != split {
			return fmt.Errorf("count rows mix split and unsplit tables")
		}
		rec := make([]string, 0, len(by)+3)
		if split {
			rec = append(rec, r.Table)
		}
		for _, g := range r.Group {
			rec = append(rec, csvSafe(g))
		}
		if r.Suppressed {
			rec = append(rec, "", "")
		} else {
			rec = append(rec, strconv.Itoa(r.Ads), strconv.Itoa(r.Persons))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a value taken from the web from being run as a formula by
// a spreadsheet that opens the export: a leading =, +, -, @, tab or CR gets
// a leading apostrophe (the OWASP CSV-injection advice).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// jsonRow is a CountRow as written by WriteCountsJSON: suppressed counts are
// null.
type jsonRow struct {
	Group       map[string]string `json:"group"`
	Ads         *int              `json:"ads"`
	Persons     *int              `json:"persons"`
	Suppressed  bool              `json:"suppressed,omitempty"`
	Suppression string            `json:"suppression,omitempty"`
	Total       bool              `json:"total,omitempty"`
}

// WriteCountsJSON writes rows as one JSON object
// {"provenance": …, "by": […], "min_cell": n, "rows": [{"group": {dim: value},
// "ads": n, "persons": n}, …]}; suppressed rows have null counts,
// "suppressed": true and "suppression": "primary" or "secondary"; the total
// row has "total": true. With opt.Split the object has "split" and, instead
// of "rows", one row set per table: "possible_minors" and "others".
// provenance is written as given (nil is written as {}).
func WriteCountsJSON(w io.Writer, by []string, rows []CountRow, opt CountOptions, provenance map[string]any) error {
	out := struct {
		Provenance     map[string]any `json:"provenance"`
		By             []string       `json:"by"`
		MinCell        int            `json:"min_cell"`
		Split          string         `json:"split,omitempty"`
		Rows           *[]jsonRow     `json:"rows,omitempty"`
		PossibleMinors *[]jsonRow     `json:"possible_minors,omitempty"`
		Others         *[]jsonRow     `json:"others,omitempty"`
	}{Provenance: provenance, By: by, MinCell: opt.MinCell, Split: opt.Split}
	if out.Provenance == nil {
		out.Provenance = map[string]any{}
	}
	if out.By == nil {
		out.By = []string{}
	}
	sets := map[string]*[]jsonRow{}
	if opt.Split == SplitMinors {
		out.PossibleMinors, out.Others = &[]jsonRow{}, &[]jsonRow{}
		sets[TablePossibleMinors], sets[TableOthers] = out.PossibleMinors, out.Others
	} else {
		out.Rows = &[]jsonRow{}
		sets[""] = out.Rows
	}
	for _, r := range rows {
		if len(r.Group) != len(by) {
			return fmt.Errorf("count row has %d group values, want %d", len(r.Group), len(by))
		}
		set, ok := sets[r.Table]
		if !ok {
			return fmt.Errorf("count row of table %q in a count split %q", r.Table, opt.Split)
		}
		jr := jsonRow{Group: map[string]string{}, Suppressed: r.Suppressed, Suppression: r.Suppression, Total: r.Total}
		for i, d := range by {
			jr.Group[d] = r.Group[i]
		}
		if !r.Suppressed {
			jr.Ads, jr.Persons = &r.Ads, &r.Persons
		}
		*set = append(*set, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// Secondary suppression.
//
// The leaf cells of a count are the unknowns. Every total a reader can see
// is a linear equation over their advert counts: the total rows of this
// export, and the totals another export with fewer dimensions would show
// (one per subset of the dimensions, the table of a split count included),
// taken as visible unless their own persons count is suppressed. Advert
// counts add up over cells (an advert is in exactly one cell); persons do
// not, so the equations are over adverts. A suppressed row is recoverable
// when its value lies in the span of the visible equations, or when the
// equation bounds it exactly (k suppressed cells that must share k adverts
// hold one each). suppressor adds secondary suppressions, smallest cells
// first, until no suppressed row is recoverable.

// supItem is a leaf cell or a total over leaf cells.
type supItem struct {
	mask      int // dimensions fixed; the full mask is a leaf
	key       string
	leaves    []int
	ads       int
	persons   int
	published bool   // a row of this export
	state     string // "", SuppressPrimary, SuppressSecondary, or hidden
}

// hidden marks a total of another export that is itself suppressed.
const hidden = "hidden"

type suppressor struct {
	// external says whether the totals of other exports count as visible.
	external bool
	full     int
	leaves   []*supItem
	totals   []*supItem // every non-leaf total, any mask
	byMask   map[int]map[string]*supItem
	vals     [][]string // the group values of each leaf
	// fellBack is set when runHypercube used the exact method, partial
	// when it used a box over fewer dimensions for some cell.
	fellBack, partial bool
}

// newSuppressor builds the leaves and every total. The persons of a total
// (a union of its leaves' persons, the costliest part on large tables) are
// counted only for the masks personsOf accepts (nil: all); others get -1.
func newSuppressor(vals [][]string, dims int, leaf func(i int) (ads int, persons map[string]struct{}), personsOf func(mask int) bool) *suppressor {
	s := &suppressor{full: 1<<dims - 1, byMask: map[int]map[string]*supItem{}, vals: vals}
	keyOf := func(v []string, mask int) string {
		var parts []string
		for d := range dims {
			if mask&(1<<d) != 0 {
				parts = append(parts, v[d])
			}
		}
		return strings.Join(parts, "\x00")
	}
	for mask := 0; mask <= s.full; mask++ {
		s.byMask[mask] = map[string]*supItem{}
		union := map[string]map[string]struct{}{}
		count := mask != s.full && (personsOf == nil || personsOf(mask))
		for i, v := range vals {
			ads, persons := leaf(i)
			k := keyOf(v, mask)
			it := s.byMask[mask][k]
			if it == nil {
				it = &supItem{mask: mask, key: k, persons: -1}
				s.byMask[mask][k] = it
				if count {
					union[k] = map[string]struct{}{}
				}
				if mask == s.full {
					it.published = true
					s.leaves = append(s.leaves, it)
				} else {
					s.totals = append(s.totals, it)
				}
			}
			it.leaves = append(it.leaves, i)
			it.ads += ads
			if mask == s.full { // a leaf: its own persons
				it.persons = len(persons)
			} else if count {
				for p := range persons {
					union[k][p] = struct{}{}
				}
			}
		}
		for k, u := range union {
			s.byMask[mask][k].persons = len(u)
		}
	}
	return s
}

// publish marks the totals of mask as rows of this export.
func (s *suppressor) publish(mask int) {
	for _, it := range s.byMask[mask] {
		it.published = true
	}
}

// margin returns the item of mask and key, nil if there is none.
func (s *suppressor) margin(mask int, key string) *supItem { return s.byMask[mask][key] }

// kind returns the suppression of leaf i.
func (s *suppressor) kind(i int) string { return s.leaves[i].state }

func (s *suppressor) run(minCell int) {
	if minCell <= 1 {
		return
	}
	for _, it := range slices.Concat(s.leaves, s.totals) {
		if it.persons > 0 && it.persons < minCell {
			if it.published {
				it.state = SuppressPrimary
			} else {
				it.state = hidden
			}
		}
	}
	// First against this export's own total rows: that protection is
	// always possible (at worst every row is withheld). Then, best effort,
	// against the totals of other exports as well: a row those give away
	// whatever this export withholds is left as it is.
	for _, s.external = range []bool{false, true} {
		given := map[*supItem]bool{}
		for range 2 * (len(s.leaves) + len(s.totals)) {
			v := s.firstRecoverable(given)
			if v == nil {
				break
			}
			if !s.protect(v) {
				given[v] = true
			}
		}
	}
}

// system is the visible equations restricted to the suppressed leaves.
type system struct {
	col   map[int]int // leaf → column
	basis [][]float64 // reduced rows, pivot 1 at pivots[i]
	piv   []int
	exact map[int]bool // leaves pinned by a bound (k cells, k adverts)
}

const eps = 1e-9

func (s *suppressor) system() *system {
	sys := &system{col: map[int]int{}, exact: map[int]bool{}}
	for i, l := range s.leaves {
		if l.state != "" {
			sys.col[i] = len(sys.col)
		}
	}
	for _, it := range s.totals {
		if !s.visible(it) {
			continue
		}
		row := make([]float64, len(sys.col))
		rhs, k := it.ads, 0
		for _, i := range it.leaves {
			if c, ok := sys.col[i]; ok {
				row[c] = 1
				k++
			} else {
				rhs -= s.leaves[i].ads
			}
		}
		if k == 0 {
			continue
		}
		if rhs == k { // every suppressed cell in it holds one advert
			for _, i := range it.leaves {
				if _, ok := sys.col[i]; ok {
					sys.exact[i] = true
				}
			}
		}
		sys.add(row)
	}
	return sys
}

func (sys *system) reduce(row []float64) []float64 {
	r := slices.Clone(row)
	for bi, b := range sys.basis {
		if f := r[sys.piv[bi]]; f > eps || f < -eps {
			for j := range r {
				r[j] -= f * b[j]
			}
		}
	}
	return r
}

func (sys *system) add(row []float64) {
	r := sys.reduce(row)
	p := slices.IndexFunc(r, func(x float64) bool { return x > eps || x < -eps })
	if p < 0 {
		return
	}
	f := r[p]
	for j := range r {
		r[j] /= f
	}
	for _, b := range sys.basis {
		if g := b[p]; g > eps || g < -eps {
			for j := range b {
				b[j] -= g * r[j]
			}
		}
	}
	sys.basis = append(sys.basis, r)
	sys.piv = append(sys.piv, p)
}

// determined reports whether the sum of the suppressed leaves among leaves
// follows from the visible equations.
func (sys *system) determined(leaves []int) bool {
	v := make([]float64, len(sys.col))
	n := 0
	for _, i := range leaves {
		if c, ok := sys.col[i]; ok {
			v[c] = 1
			n++
		}
	}
	if n == 1 {
		for _, i := range leaves {
			if sys.exact[i] {
				return true
			}
		}
	}
	return !slices.ContainsFunc(sys.reduce(v), func(x float64) bool { return x > eps || x < -eps })
}

// firstRecoverable returns the first suppressed row whose value follows
// from the visible ones, or nil.
func (s *suppressor) firstRecoverable(skip map[*supItem]bool) *supItem {
	sys := s.system()
	for _, it := range slices.Concat(s.leaves, s.totals) {
		if !skip[it] && it.published && (it.state == SuppressPrimary || it.state == SuppressSecondary) && sys.determined(it.leaves) {
			return it
		}
	}
	return nil
}

// visible reports whether a total's value is known to a reader.
func (s *suppressor) visible(it *supItem) bool {
	return it.state == "" && (it.published || s.external)
}

// exposed reports whether leaf i is the only cell of a visible total (of
// another export): it is known whatever this export shows.
func (s *suppressor) exposed(i int) bool {
	for _, it := range s.totals {
		if len(it.leaves) == 1 && it.leaves[0] == i && s.visible(it) {
			return true
		}
	}
	return false
}

// protect suppresses one more visible row so that v is no longer
// recoverable, preferring the smallest cells that share a total with v; it
// reports false when no suppression in this export can protect v.
func (s *suppressor) protect(v *supItem) bool {
	in := map[int]bool{}
	for _, i := range v.leaves {
		in[i] = true
	}
	var cands []*supItem
	seen := map[int]bool{}
	for _, it := range s.totals {
		if !s.visible(it) || !slices.ContainsFunc(it.leaves, func(i int) bool { return in[i] }) {
			continue
		}
		for _, j := range it.leaves {
			if l := s.leaves[j]; !seen[j] && l.state == "" && !s.exposed(j) {
				seen[j] = true
				cands = append(cands, l)
			}
		}
	}
	smallest := func(a, b *supItem) int {
		if a.persons != b.persons {
			return a.persons - b.persons
		}
		if a.ads != b.ads {
			return a.ads - b.ads
		}
		return strings.Compare(a.key, b.key)
	}
	slices.SortStableFunc(cands, smallest)
	var tots []*supItem
	for _, it := range s.totals {
		if it.published && it.state == "" && len(it.leaves) > 0 { // an empty sum is 0 whatever is shown
			tots = append(tots, it)
		}
	}
	slices.SortStableFunc(tots, smallest)
	cands = append(cands, tots...)
	if len(cands) == 0 {
		return false
	}
	for _, c := range cands[:min(len(cands), 32)] {
		c.state = SuppressSecondary
		if !s.system().determined(v.leaves) {
			return true
		}
		c.state = ""
	}
	// No single row protects v. If suppressing them all would, take the
	// smallest and try again; if not, v is known from other exports alone
	// (a total of another export over cells that must hold one advert
	// each), and nothing this export withholds changes that.
	for _, c := range cands {
		c.state = SuppressSecondary
	}
	fixable := !s.system().determined(v.leaves)
	for _, c := range cands {
		c.state = ""
	}
	if !fixable {
		return false
	}
	cands[0].state = SuppressSecondary
	return true
}

// SuppressAdditive applies primary and secondary suppression to a table
// whose every published number is a sum of leaf cells, such as the arena
// overlap (leaves: the capture histories; sums: persons per arena, per
// pair, per number of arenas, the total). values are the leaves' counts;
// each of sums lists the leaves (indexes into values) it adds up. A leaf
// or sum from 1 to minCell-1 is suppressed "primary"; further ones
// "secondary", smallest first, until no suppressed number follows from the
// visible ones, by linear algebra or with the bounds every leaf obeys
// (each holds at least one; see suppress_bounds.go). Leaves must be at
// least 1. The returned slices hold "",
// SuppressPrimary or SuppressSecondary per leaf and per sum. minCell 0 or
// 1 suppresses nothing.
func SuppressAdditive(values []int, sums [][]int, minCell int) (leaves, totals []string) {
	s := &suppressor{}
	for i, v := range values {
		s.leaves = append(s.leaves, &supItem{key: fmt.Sprintf("%08d", i), leaves: []int{i}, ads: v, persons: v, published: true})
	}
	for j, sum := range sums {
		it := &supItem{key: fmt.Sprintf("t%08d", j), leaves: slices.Clone(sum), published: true}
		for _, i := range sum {
			it.ads += values[i]
		}
		it.persons = it.ads
		s.totals = append(s.totals, it)
	}
	s.run(minCell)
	// Then against the bounds attack (every leaf holds at least one): the
	// tables this is for are small enough for linear programming.
	if minCell > 1 {
		given := map[*supItem]bool{}
		for range len(s.leaves) + len(s.totals) {
			v := s.boundsPinned(given)
			if v == nil {
				break
			}
			if !s.protect(v) {
				given[v] = true
			}
		}
	}
	leaves, totals = make([]string, len(values)), make([]string, len(sums))
	for i, l := range s.leaves {
		leaves[i] = l.state
	}
	for j, t := range s.totals {
		totals[j] = t.state
	}
	return leaves, totals
}
