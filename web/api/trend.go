package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"adcensus/index"
	"adcensus/index/census"
)

// TrendFunc lists persons active, new and gone per period and group by
// the census (census.Trend); Options.Trend.
type TrendFunc func(ctx context.Context, by, period string, q census.Query, minCell int) ([]census.TrendRow, error)

// trend answers GET /api/export/trend?by=arena|region&period=week|month
// (from, to, gap as the period routes; min_cell; format json, csv or
// csv-excel), as 'adcensus export trend'.
func (s *server) trend(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Trend == nil {
		return fmt.Errorf("trend: %w: this server has no census of crawl sightings", errNotImplemented)
	}
	v := r.URL.Query()
	by, period := v.Get("by"), v.Get("period")
	if by == "" {
		by = index.DimArena
	}
	if period == "" {
		period = index.DimWeek
	}
	if by != index.DimArena && by != index.DimRegion {
		return badRequest("by=%q: a trend is by arena or region", shortValue(by))
	}
	if period != index.DimWeek && period != index.DimMonth {
		return badRequest("period=%q: week or month", shortValue(period))
	}
	format, dialect, err := exportFormat(r)
	if err != nil {
		return err
	}
	minCell, err := s.minCell(r)
	if err != nil {
		return err
	}
	q, err := periodQuery(r)
	if err != nil {
		return err
	}
	if q.Basis != census.BasisSeen {
		return badRequest("basis=%q: a trend is by crawl sightings only (seen)", shortValue(q.Basis))
	}
	setWhat(r, "by", by)
	setWhat(r, "period", period)
	setWhat(r, "min_cell", strconv.Itoa(minCell))
	rows, err := s.opt.Trend(r.Context(), by, period, q, minCell)
	if err != nil {
		return err
	}
	setRows(r, len(rows))
	var buf bytes.Buffer
	if format != "json" {
		cw, err := dialect.NewWriter(&buf)
		if err != nil {
			return err
		}
		n := func(v int) string {
			if v < 0 {
				return ""
			}
			return strconv.Itoa(v)
		}
		cw.Write([]string{period, by, "active", "new", "gone"})
		for _, t := range rows {
			cw.Write([]string{index.CSVSafe(t.Period), index.CSVSafe(t.Group), n(t.Active), n(t.New), n(t.Gone)})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		writeCSV(w, csvName("trend", format), buf.Bytes())
		return nil
	}
	type row struct {
		Period      string `json:"period"`
		Group       string `json:"group"`
		Active      *int   `json:"active"`
		New         *int   `json:"new"`
		Gone        *int   `json:"gone"`
		Suppression string `json:"suppression,omitempty"`
	}
	out := make([]row, 0, len(rows))
	for _, t := range rows {
		cell := func(v int) *int {
			if v < 0 {
				return nil
			}
			return &v
		}
		out = append(out, row{t.Period, t.Group, cell(t.Active), cell(t.New), cell(t.Gone), t.Suppression})
	}
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(map[string]any{"by": by, "period": period, "min_cell": minCell, "rows": out,
		"provenance": s.provenance(r.Context())}); err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
	return nil
}
