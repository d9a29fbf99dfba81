package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"adcensus/index"
)

// cmdExportFacts writes the facts export (docs/EXPORTS.md): persons by
// number of adverts, arenas and cities, networks by number of persons and
// cities, as counts per band with small cells suppressed. It reads only
// the count fields of every advert (index.Store.ForEachFact).
func cmdExportFacts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export facts", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	format := fs.String("format", "csv", "csv, csv-excel (for Swedish Excel: BOM, ';', decimal comma) or json")
	minCell := fs.Int("min-cell", 5, "suppress bands with fewer persons (networks) than this (0: no suppression)")
	out := fs.String("out", "", "output file (default: standard output)")
	from := fs.String("from", "", "start of the period: a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year")
	pf := addPeriodFlags(fs, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	pq, err := pf.query(*from)
	if err != nil {
		return err
	}
	dialect, isCSV := index.CSVDialectOf(*format)
	if !isCSV && *format != "json" {
		return usageError{fmt.Sprintf("--format must be csv, csv-excel or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	if pf.api != "" {
		v := url.Values{"format": {*format}, "min_cell": {strconv.Itoa(*minCell)}}
		pf.values(v, *from)
		return writeOutput(stdout, *out, func(w io.Writer) error { return remoteGet(ctx, pf.api, "/api/export/facts", v, w) })
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	src, err := periodSource(ctx, *dataDir, ix, pq)
	if err != nil {
		return err
	}
	rep, err := index.ReportFacts(ctx, src, index.FactsOptions{MinCell: *minCell, Provenance: periodProvenance(provenance(ctx, *dataDir, ix), pq)})
	if err != nil {
		return err
	}
	auditRead(stderr, *dataDir, "export facts", map[string]string{"min_cell": fmt.Sprint(*minCell)}, -1)
	return writeOutput(stdout, *out, func(w io.Writer) error {
		if isCSV {
			return rep.WriteCSVDialect(w, dialect)
		}
		return rep.WriteJSON(w)
	})
}
