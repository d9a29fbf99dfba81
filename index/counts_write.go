package index

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteCountsCSV writes rows as CSV: a header of the dimension names then
// "ads,persons"; suppressed cells are written empty, and the total row has
// "*" in every dimension column. Rows of a split count (Table set) get a
// leading column "table". When the total row carries the persons'
// interval (CountRow.Seen), two more columns "persons_low,persons_high"
// hold it on that row and are empty on the others.
func WriteCountsCSV(w io.Writer, by []string, rows []CountRow) error {
	return WriteCountsCSVDialect(w, by, rows, StandardCSV())
}

// WriteCountsCSVDialect is WriteCountsCSV in the CSV dialect d (for
// example SwedishExcelCSV).
func WriteCountsCSVDialect(w io.Writer, by []string, rows []CountRow, d CSVDialect) error {
	split := len(rows) > 0 && rows[0].Table != ""
	cw, err := d.NewWriter(w)
	if err != nil {
		return err
	}
	header := append(slices.Clone(by), "ads", "persons")
	seen := seenOf(rows) != nil
	if seen {
		header = append(header, "persons_low", "persons_high")
	}
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
			rec = append(rec, CSVSafe(g))
		}
		if r.Suppressed {
			rec = append(rec, "", "")
		} else {
			rec = append(rec, strconv.Itoa(r.Ads), strconv.Itoa(r.Persons))
		}
		switch {
		case r.Seen != nil:
			rec = append(rec, strconv.Itoa(r.Seen.Low), strconv.Itoa(r.Seen.High))
		case seen:
			rec = append(rec, "", "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVSafe keeps a value taken from the web from being run as a formula by
// a spreadsheet that opens the export: a leading =, +, -, @, tab or CR gets
// a leading apostrophe (the OWASP CSV-injection advice). Every CSV export
// writes its text cells through it.
func CSVSafe(v string) string {
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
	PersonsLow  *int              `json:"persons_low,omitempty"`
	PersonsHigh *int              `json:"persons_high,omitempty"`
}

// WriteCountsJSON writes rows as one JSON object
// {"provenance": …, "by": […], "min_cell": n, "rows": [{"group": {dim: value},
// "ads": n, "persons": n}, …]}; suppressed rows have null counts,
// "suppressed": true and "suppression": "primary" or "secondary"; the total
// row has "total": true. With opt.Split the object has "split" and, instead
// of "rows", one row set per table: "possible_minors" and "others".
// provenance is written as given (nil is written as {}). When the total
// row carries the persons' interval (CountRow.Seen), that row has
// "persons_low" and "persons_high", and the object has "seen": the whole
// interval with its method, calibration and evidence (Seen).
func WriteCountsJSON(w io.Writer, by []string, rows []CountRow, opt CountOptions, provenance map[string]any) error {
	out := struct {
		Provenance     map[string]any `json:"provenance"`
		By             []string       `json:"by"`
		MinCell        int            `json:"min_cell"`
		Split          string         `json:"split,omitempty"`
		Rows           *[]jsonRow     `json:"rows,omitempty"`
		PossibleMinors *[]jsonRow     `json:"possible_minors,omitempty"`
		Others         *[]jsonRow     `json:"others,omitempty"`
		Seen           *Seen          `json:"seen,omitempty"`
	}{Provenance: provenance, By: by, MinCell: opt.MinCell, Split: opt.Split, Seen: seenOf(rows)}
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
		if r.Seen != nil {
			jr.PersonsLow, jr.PersonsHigh = &r.Seen.Low, &r.Seen.High
		}
		*set = append(*set, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
