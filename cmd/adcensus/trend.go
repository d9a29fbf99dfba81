package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"adcensus/index"
	"adcensus/index/census"
)

// cmdExportTrend writes persons active, new and gone per week or month
// and arena or region (docs/EXPORTS.md), by the census's sightings.
func cmdExportTrend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export trend", stderr)
	by := fs.String("by", index.DimArena, "arena or region")
	period := fs.String("period", index.DimWeek, "week or month")
	format := fs.String("format", "csv", "csv or json")
	dataDir := fs.String("data", "./data", "data directory")
	minCell := fs.Int("min-cell", 5, "suppress cells with fewer distinct persons than this (0: no suppression)")
	out := fs.String("out", "", "output file (default: standard output)")
	from := fs.String("from", "", "first period: a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year")
	to := fs.String("to", "", "last period (inclusive)")
	gap := fs.Duration("gap", census.DefaultGap, "longest time between two sightings of an advert during which it counts as live throughout")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *by != index.DimArena && *by != index.DimRegion {
		return usageError{fmt.Sprintf("--by must be arena or region, not %q", *by)}
	}
	if *period != index.DimWeek && *period != index.DimMonth {
		return usageError{fmt.Sprintf("--period must be week or month, not %q", *period)}
	}
	if *format != "csv" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be csv or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	if *gap <= 0 {
		return usageError{"--gap must be more than 0"}
	}
	p, err := census.ParsePeriod(*from, *to)
	if err != nil {
		return usageError{err.Error()}
	}
	st, err := openCensusRead(*dataDir)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("no census in %s (census.db): it is written by 'adcensus run' as it crawls", *dataDir)
	}
	defer st.Close()
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	q := census.Query{Period: p, Basis: census.BasisSeen, Gap: *gap}
	rows, err := census.Trend(ctx, ix, st, *by, *period, q, *minCell)
	if err != nil {
		return err
	}
	auditRead(stderr, *dataDir, "export trend", map[string]string{"by": *by, "period": *period, "min_cell": fmt.Sprint(*minCell)}, len(rows))
	return writeOutput(stdout, *out, func(w io.Writer) error {
		if *format == "json" {
			return writeJSON(w, map[string]any{
				"by": *by, "period": *period, "min_cell": *minCell, "rows": rows,
				"provenance": periodProvenance(provenance(ctx, *dataDir, ix), q),
			})
		}
		cw := csv.NewWriter(w)
		cw.Write([]string{*period, *by, "active", "new", "gone"})
		n := func(v int) string {
			if v < 0 {
				return ""
			}
			return strconv.Itoa(v)
		}
		for _, r := range rows {
			cw.Write([]string{r.Period, r.Group, n(r.Active), n(r.New), n(r.Gone)})
		}
		cw.Flush()
		return cw.Error()
	})
}
