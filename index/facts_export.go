package index

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The facts export (adcensus export facts, GET /api/export/facts): how the
// per-person and per-network facts are distributed — persons by number of
// adverts, of arenas and of cities, networks by number of persons and of
// cities — as counts per band, with small cells suppressed. It reads only
// the count fields of every advert (Store.ForEachFact), never a full
// document. See docs/EXPORTS.md.

// Tables of the facts export, in the order they are written.
const (
	TablePersonsByAds     = "persons_by_ads"
	TablePersonsByArenas  = "persons_by_arenas"
	TablePersonsByCities  = "persons_by_cities"
	TableNetworksByPerson = "networks_by_persons"
	TableNetworksByCities = "networks_by_cities"
)

// Units of the facts export: what a table's counts count.
const (
	UnitPersons  = "persons"
	UnitNetworks = "networks"
)

// Band is a range of a number of things, Min to Max inclusive; Max 0 with
// Min above 0 means no upper bound.
type Band struct {
	Label    string
	Min, Max int
}

// Bands of the facts export.
var (
	adsBands     = []Band{{"1", 1, 1}, {"2-4", 2, 4}, {"5-9", 5, 9}, {"10+", 10, 0}}
	arenaBands   = []Band{{"1", 1, 1}, {"2", 2, 2}, {"3+", 3, 0}}
	cityBands    = []Band{{"0", 0, 0}, {"1", 1, 1}, {"2", 2, 2}, {"3-5", 3, 5}, {"6+", 6, 0}}
	networkBands = []Band{{"1", 1, 1}, {"2", 2, 2}, {"3-5", 3, 5}, {"6-10", 6, 10}, {"11+", 11, 0}}
)

// FactsTableSpec describes one table of the facts export.
type FactsTableSpec struct {
	Table string
	Unit  string
	// Of is what the bands count: "adverts", "arenas", "cities" or
	// "persons".
	Of    string
	Bands []Band
}

// FactsTables returns the tables of the facts export with their bands.
func FactsTables() []FactsTableSpec {
	return []FactsTableSpec{
		{TablePersonsByAds, UnitPersons, "adverts", slices.Clone(adsBands)},
		{TablePersonsByArenas, UnitPersons, "arenas", slices.Clone(arenaBands)},
		{TablePersonsByCities, UnitPersons, "cities", slices.Clone(cityBands)},
		{TableNetworksByPerson, UnitNetworks, "persons", slices.Clone(networkBands)},
		{TableNetworksByCities, UnitNetworks, "cities", slices.Clone(cityBands)},
	}
}

func bandOf(bands []Band, n int) int {
	for i, b := range bands {
		open := b.Max == 0 && b.Min > 0
		if n >= b.Min && (open || n <= b.Max) {
			return i
		}
	}
	return -1 // cannot happen: the bands cover 0 (or 1) and up
}

// FactsDistribution gathers, from the count fields of every advert, each
// person's number of adverts, arenas and cities and each network's persons
// and cities. A person is Doc.Person (an unassigned advert is its own
// person); a network is a non-empty NetworkID; a city is a non-empty City
// as published; a missing arena counts as the arena Unknown. Add each
// advert once. It is not safe for concurrent use.
type FactsDistribution struct {
	personAt  map[string]int32
	persons   []personTally
	networkAt map[string]int32
	networks  []networkTally
	arenaAt   map[string]int32
	cityAt    map[string]int32
}

type personTally struct {
	ads            int32
	arenas, cities []int32 // small sets
}

type networkTally struct {
	persons, cities []int32 // with repeats; made sets in Report
}

// NewFactsDistribution returns an empty FactsDistribution.
func NewFactsDistribution() *FactsDistribution {
	return &FactsDistribution{
		personAt: map[string]int32{}, networkAt: map[string]int32{},
		arenaAt: map[string]int32{}, cityAt: map[string]int32{},
	}
}

// intern returns the number of s in m, adding it (a copy: s may point
// into a reused buffer) when new.
func intern(m map[string]int32, s string) (int32, bool) {
	if i, ok := m[s]; ok {
		return i, false
	}
	i := int32(len(m))
	m[strings.Clone(s)] = i
	return i, true
}

// addSmall adds v to the small set s.
func addSmall(s []int32, v int32) []int32 {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Add counts one advert's facts; d may be reused after Add returns.
func (f *FactsDistribution) Add(d *Doc) {
	pi, isNew := intern(f.personAt, d.Person())
	if isNew {
		f.persons = append(f.persons, personTally{})
	}
	p := &f.persons[pi]
	p.ads++
	a, _ := intern(f.arenaAt, d.Dimension(DimArena))
	p.arenas = addSmall(p.arenas, a)
	city := int32(-1)
	if c := strings.TrimSpace(d.City); c != "" {
		city, _ = intern(f.cityAt, c)
		p.cities = addSmall(p.cities, city)
	}
	if d.NetworkID == "" {
		return
	}
	ni, isNew := intern(f.networkAt, d.NetworkID)
	if isNew {
		f.networks = append(f.networks, networkTally{})
	}
	n := &f.networks[ni]
	if k := len(n.persons); k == 0 || n.persons[k-1] != pi {
		n.persons = append(n.persons, pi)
	}
	if k := len(n.cities); city >= 0 && (k == 0 || n.cities[k-1] != city) {
		n.cities = append(n.cities, city)
	}
}

// counts returns the exact number of persons or networks per band of each
// table of FactsTables.
func (f *FactsDistribution) counts() [][]int {
	specs := FactsTables()
	out := make([][]int, len(specs))
	for i, s := range specs {
		out[i] = make([]int, len(s.Bands))
	}
	for _, p := range f.persons {
		out[0][bandOf(specs[0].Bands, int(p.ads))]++
		out[1][bandOf(specs[1].Bands, len(p.arenas))]++
		out[2][bandOf(specs[2].Bands, len(p.cities))]++
	}
	for i := range f.networks {
		n := &f.networks[i]
		n.persons, n.cities = set(n.persons), set(n.cities)
		out[3][bandOf(specs[3].Bands, len(n.persons))]++
		out[4][bandOf(specs[4].Bands, len(n.cities))]++
	}
	return out
}

// set sorts s and drops repeats, in place.
func set(s []int32) []int32 {
	slices.Sort(s)
	return slices.Compact(s)
}

// FactsOptions controls FactsDistribution.Report.
type FactsOptions struct {
	// MinCell suppresses small cells as the count exports do (see
	// SuppressAdditive): a band from 1 to MinCell-1 persons (networks) is
	// withheld "primary", further bands or the total "secondary" until no
	// withheld number follows from the visible ones. 0 or 1 suppresses
	// nothing.
	MinCell int
	// Provenance is written as given (nil is written as {}).
	Provenance map[string]any
}

// FactsRow is one band of a table, or its total row (Band "*", Total set,
// no Min or Max). Count is nil when Suppressed.
type FactsRow struct {
	Band        string `json:"band"`
	Min         *int   `json:"min,omitempty"`
	Max         *int   `json:"max,omitempty"`
	Count       *int   `json:"count"`
	Suppressed  bool   `json:"suppressed,omitempty"`
	Suppression string `json:"suppression,omitempty"`
	Total       bool   `json:"total,omitempty"`
}

// FactsTable is one distribution: the persons (or networks) per band.
type FactsTable struct {
	Table string     `json:"table"`
	Unit  string     `json:"unit"`
	Of    string     `json:"of"`
	Rows  []FactsRow `json:"rows"`
}

// FactsReport is the facts export, fit to leave the program.
type FactsReport struct {
	Provenance map[string]any `json:"provenance"`
	MinCell    int            `json:"min_cell"`
	Tables     []FactsTable   `json:"tables"`
}

// Report returns the distributions with small cells suppressed. Every
// table is a partition of all persons (or all networks) into bands, so its
// bands add up to its total; each table is suppressed on its own with
// SuppressAdditive (bands are the leaves, the total their one sum), and a
// total withheld in one table is withheld in every table of the same unit
// (they are the same number). Empty bands are written as 0 and never
// withheld.
func (f *FactsDistribution) Report(opt FactsOptions) *FactsReport {
	specs := FactsTables()
	counts := f.counts()
	rep := &FactsReport{Provenance: opt.Provenance, MinCell: opt.MinCell, Tables: make([]FactsTable, len(specs))}
	if rep.Provenance == nil {
		rep.Provenance = map[string]any{}
	}
	totalState := map[string]string{} // unit → the strongest suppression of its total
	bandStates := make([][]string, len(specs))
	for ti, s := range specs {
		var values []int
		var at []int // band of each value
		for bi, n := range counts[ti] {
			if n > 0 {
				values = append(values, n)
				at = append(at, bi)
			}
		}
		sum := make([]int, len(values))
		for i := range sum {
			sum[i] = i
		}
		leaves, totals := SuppressAdditive(values, [][]int{sum}, opt.MinCell)
		bandStates[ti] = make([]string, len(s.Bands))
		for i, st := range leaves {
			bandStates[ti][at[i]] = st
		}
		if st := totals[0]; st == SuppressPrimary || st == SuppressSecondary && totalState[s.Unit] == "" {
			totalState[s.Unit] = st
		}
	}
	for ti, s := range specs {
		t := FactsTable{Table: s.Table, Unit: s.Unit, Of: s.Of, Rows: make([]FactsRow, 0, len(s.Bands)+1)}
		total := 0
		for bi, b := range s.Bands {
			n := counts[ti][bi]
			total += n
			r := factsRow(b.Label, n, bandStates[ti][bi])
			r.Min = &b.Min
			if b.Max > 0 {
				r.Max = &b.Max
			}
			t.Rows = append(t.Rows, r)
		}
		r := factsRow(All, total, totalState[s.Unit])
		r.Total = true
		t.Rows = append(t.Rows, r)
		rep.Tables[ti] = t
	}
	return rep
}

func factsRow(band string, n int, suppression string) FactsRow {
	if suppression != "" {
		return FactsRow{Band: band, Suppressed: true, Suppression: suppression}
	}
	return FactsRow{Band: band, Count: &n}
}

// FactsSource lists the count fields of every advert (Store.ForEachFact).
type FactsSource interface {
	ForEachFact(ctx context.Context, fn func(*Doc) error) error
}

// ReportFacts gathers the facts of every advert of src and returns the
// suppressed distributions.
func ReportFacts(ctx context.Context, src FactsSource, opt FactsOptions) (*FactsReport, error) {
	if opt.MinCell < 0 {
		return nil, fmt.Errorf("facts: min cell %d is negative", opt.MinCell)
	}
	f := NewFactsDistribution()
	err := src.ForEachFact(ctx, func(d *Doc) error { f.Add(d); return nil })
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	return f.Report(opt), nil
}

// WriteCSV writes the report as CSV: "table,unit,band,count", one row per
// band and a total row (band "*") per table; a suppressed count is empty.
// The provenance has no place in CSV: keep the JSON with it.
func (r *FactsReport) WriteCSV(w io.Writer) error { return r.WriteCSVDialect(w, StandardCSV()) }

// WriteCSVDialect is WriteCSV in the CSV dialect d.
func (r *FactsReport) WriteCSVDialect(w io.Writer, d CSVDialect) error {
	cw, err := d.NewWriter(w)
	if err != nil {
		return err
	}
	if err := cw.Write([]string{"table", "unit", "band", "count"}); err != nil {
		return err
	}
	for _, t := range r.Tables {
		for _, row := range t.Rows {
			n := ""
			if row.Count != nil {
				n = strconv.Itoa(*row.Count)
			}
			if err := cw.Write([]string{t.Table, t.Unit, row.Band, n}); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes the report as indented JSON.
func (r *FactsReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
