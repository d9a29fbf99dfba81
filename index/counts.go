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

// CountOptions controls Counts.
type CountOptions struct {
	// MinCell suppresses small cells: a row whose persons count is more
	// than zero and less than MinCell has Ads and Persons set to -1 and
	// Suppressed set. 0 or 1 suppresses nothing. This is primary
	// suppression only.
	MinCell int
}

// CountRow is one group of a count: the distinct adverts and persons in it.
type CountRow struct {
	// Group holds one value per dimension, in the order asked for; in the
	// total row every value is All.
	Group      []string
	Ads        int
	Persons    int
	Suppressed bool
	// Total marks the total row (always the last row).
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
	total cell
}

type cell struct {
	group   []string
	ads     map[string]struct{}
	persons map[string]struct{}
}

func newCell(group []string) *cell {
	return &cell{group: group, ads: map[string]struct{}{}, persons: map[string]struct{}{}}
}

func (c *cell) add(d *Doc) {
	c.ads[d.ID] = struct{}{}
	c.persons[d.Person()] = struct{}{}
}

// NewCounter returns a Counter grouping by the dimensions in by; it returns
// ErrBadDimension for an unknown or repeated one.
func NewCounter(by []string) (*Counter, error) {
	if err := ValidateDimensions(by); err != nil {
		return nil, err
	}
	return &Counter{by: slices.Clone(by), cells: map[string]*cell{}, total: *newCell(nil)}, nil
}

// Add counts one document. Adding the same advert twice counts it once.
func (c *Counter) Add(d *Doc) {
	c.total.add(d)
	if len(c.by) == 0 {
		return // the total row is the only row
	}
	group := make([]string, len(c.by))
	for i, dim := range c.by {
		group[i] = d.Dimension(dim)
	}
	key := strings.Join(group, "\x00")
	cl := c.cells[key]
	if cl == nil {
		cl = newCell(group)
		c.cells[key] = cl
	}
	cl.add(d)
}

// Rows returns one row per group, sorted by group values, then the total
// row, with small cells suppressed as opt says.
func (c *Counter) Rows(opt CountOptions) []CountRow {
	rows := make([]CountRow, 0, len(c.cells)+1)
	for _, cl := range c.cells {
		rows = append(rows, row(cl, opt))
	}
	slices.SortFunc(rows, func(a, b CountRow) int { return slices.Compare(a.Group, b.Group) })
	total := c.total
	total.group = make([]string, len(c.by))
	for i := range total.group {
		total.group[i] = All
	}
	t := row(&total, opt)
	t.Total = true
	return append(rows, t)
}

func row(cl *cell, opt CountOptions) CountRow {
	r := CountRow{Group: cl.group, Ads: len(cl.ads), Persons: len(cl.persons)}
	if r.Persons > 0 && r.Persons < opt.MinCell {
		r.Ads, r.Persons, r.Suppressed = -1, -1, true
	}
	return r
}

// WriteCountsCSV writes rows as CSV: a header of the dimension names then
// "ads,persons"; suppressed cells are written empty, and the total row has
// "*" in every dimension column.
func WriteCountsCSV(w io.Writer, by []string, rows []CountRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(slices.Clone(by), "ads", "persons")); err != nil {
		return err
	}
	for _, r := range rows {
		if len(r.Group) != len(by) {
			return fmt.Errorf("count row has %d group values, want %d", len(r.Group), len(by))
		}
		rec := make([]string, 0, len(by)+2)
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
	Group      map[string]string `json:"group"`
	Ads        *int              `json:"ads"`
	Persons    *int              `json:"persons"`
	Suppressed bool              `json:"suppressed,omitempty"`
	Total      bool              `json:"total,omitempty"`
}

// WriteCountsJSON writes rows as one JSON object
// {"provenance": …, "by": […], "min_cell": n, "rows": [{"group": {dim: value},
// "ads": n, "persons": n}, …]}; suppressed rows have null counts and
// "suppressed": true, the total row has "total": true. provenance is written
// as given (nil is written as {}).
func WriteCountsJSON(w io.Writer, by []string, rows []CountRow, opt CountOptions, provenance map[string]any) error {
	out := struct {
		Provenance map[string]any `json:"provenance"`
		By         []string       `json:"by"`
		MinCell    int            `json:"min_cell"`
		Rows       []jsonRow      `json:"rows"`
	}{Provenance: provenance, By: by, MinCell: opt.MinCell, Rows: []jsonRow{}}
	if out.Provenance == nil {
		out.Provenance = map[string]any{}
	}
	if out.By == nil {
		out.By = []string{}
	}
	for _, r := range rows {
		if len(r.Group) != len(by) {
			return fmt.Errorf("count row has %d group values, want %d", len(r.Group), len(by))
		}
		jr := jsonRow{Group: map[string]string{}, Suppressed: r.Suppressed, Total: r.Total}
		for i, d := range by {
			jr.Group[d] = r.Group[i]
		}
		if !r.Suppressed {
			jr.Ads, jr.Persons = &r.Ads, &r.Persons
		}
		out.Rows = append(out.Rows, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
