package overlap

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"adcensus/index"
)

// WriteCSV writes r as one CSV table (StandardCSV).
func (r *Report) WriteCSV(w io.Writer) error { return r.WriteCSVDialect(w, index.StandardCSV()) }

// WriteCSVDialect writes r as one CSV table with the columns
// section,arenas,persons,estimate,ci_low,ci_high,note: the rows "total",
// "arena", "pair" and "history" hold the persons (empty when suppressed);
// "seen" the persons counted with their interval (estimate, ci_low,
// ci_high: the count's estimate and 90 % bounds; note: its method);
// "estimate" the multiple-systems estimate on the table as counted (note:
// criterion, model, interval method, level); "combined" the estimate with
// the de-duplication's uncertainty (Combined); "provenance" one row per
// provenance entry, its name in arenas and its value in note (nested
// values as JSON). Values are made safe from spreadsheet formulas.
func (r *Report) WriteCSVDialect(w io.Writer, d index.CSVDialect) error {
	cw, err := d.NewWriter(w)
	if err != nil {
		return err
	}
	cell := func(c Cell) string {
		if c.Persons == nil {
			return ""
		}
		return strconv.Itoa(*c.Persons)
	}
	rows := [][]string{{"section", "arenas", "persons", "estimate", "ci_low", "ci_high", "note"}}
	add := func(v ...string) { rows = append(rows, v) }
	add("total", "*", cell(r.Persons), "", "", "", "")
	if s := r.Seen; s != nil {
		add("seen", "*", strconv.Itoa(s.Persons), d.Float(s.Estimate, 1), strconv.Itoa(s.Low), strconv.Itoa(s.High),
			fmt.Sprintf("level %g; %s; calibration: %s", s.Level, s.Method, s.Calibration))
	}
	for _, a := range r.Arenas {
		add("arena", a.Arena, cell(a.Cell), "", "", "", "")
	}
	for _, p := range r.Pairs {
		add("pair", p.A+"+"+p.B, cell(p.Cell), "", "", "", "")
	}
	for _, h := range r.Histories {
		add("history", strings.Join(h.Arenas, "+"), cell(h.Cell), "", "", "", "")
	}
	if e := r.Estimate; e != nil {
		add("estimate", "*", strconv.FormatInt(e.Observed, 10), d.Float(e.Total, 1), d.Float(e.CILow, 1), d.Float(e.CIHigh, 1),
			fmt.Sprintf("level %g; criterion %s; interactions %s; interval %s; replicates %d", e.Level, e.Criterion, orNone(e.Interactions), e.CIMethod, e.Replicates))
	} else if r.EstimateError != "" {
		add("estimate", "*", "", "", "", "", r.EstimateError)
	}
	if c := r.Combined; c != nil {
		add("combined", "*", "", d.Float(c.Total, 1), d.Float(c.Low, 1), d.Float(c.High, 1),
			fmt.Sprintf("level %g; de-duplication's 90 %% spread %s–%s over %d draws; %s", c.Level, d.Float(c.DedupLow, 1), d.Float(c.DedupHigh, 1), c.Replicates, c.Method))
	}
	keys := make([]string, 0, len(r.Provenance))
	for k := range r.Provenance {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := r.Provenance[k]
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("provenance %s: %w", k, err)
			}
			s = string(b)
		}
		add("provenance", k, "", "", "", "", s)
	}
	for _, row := range rows {
		for i, v := range row {
			row[i] = index.CSVSafe(v)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, " ")
}
