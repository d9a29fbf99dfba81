package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"adcensus/index/census"
)

// checkTrendSuppressed runs 'export trend' with --min-cell 5 and checks it
// against the truth (want: "week,arena" → "active,new,gone"): every count
// published is the truth's; a new or gone withheld by primary suppression
// is between 1 and 4; one withheld as secondary was published before; and
// no withheld new or gone can be narrowed from its published partner and
// the active counts of the period and the one before.
func checkTrendSuppressed(t *testing.T, dataDir string, want map[string]string) {
	t.Helper()
	var rep struct{ Rows []census.TrendRow }
	if err := json.Unmarshal([]byte(runMain(t, "export", "trend", "--data", dataDir, "--by", "arena", "--period", "week", "--min-cell", "5", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	active := map[string]int{}
	var periods []string
	for _, r := range rep.Rows {
		active[r.Period+","+r.Group] = r.Active
		if !slices.Contains(periods, r.Period) {
			periods = append(periods, r.Period) // rows come in period order
		}
	}
	withheld, secondary := 0, 0
	for _, r := range rep.Rows {
		k := r.Period + "," + r.Group
		var a, n, g int
		if _, err := fmt.Sscanf(want[k], "%d,%d,%d", &a, &n, &g); err != nil {
			t.Fatalf("no truth for trend row %s", k)
		}
		if r.Suppression != "" {
			continue // the whole row withheld, as export counts does
		}
		for _, c := range []struct {
			name      string
			got, want int
		}{{"active", r.Active, a}, {"new", r.New, n}, {"gone", r.Gone, g}} {
			switch {
			case c.got >= 0 && c.got != c.want:
				t.Errorf("trend %s: %s %d, want the truth's %d", k, c.name, c.got, c.want)
			case c.got < 0 && r.Withheld == "" && (c.want < 1 || c.want > 4):
				t.Errorf("trend %s: %s withheld, but the truth's %d is not small", k, c.name, c.want)
			case c.got < 0:
				withheld++
			}
		}
		if r.Withheld != "" {
			secondary++
		}
		// The previous week's active count (no row: 0), when published.
		i := slices.Index(periods, r.Period)
		if i == 0 {
			continue
		}
		before := active[periods[i-1]+","+r.Group]
		if before < 0 {
			continue
		}
		delta := r.Active - before
		if r.New < 0 && r.Gone >= 0 && delta+r.Gone < 4 {
			t.Errorf("trend %s: withheld new narrowed to at most %d by gone %d and the active counts", k, delta+r.Gone, r.Gone)
		}
		if r.Gone < 0 && r.New >= 0 && r.New-delta > 1 {
			t.Errorf("trend %s: withheld gone narrowed to at least %d by new %d and the active counts", k, r.New-delta, r.New)
		}
	}
	t.Logf("trend --min-cell 5: %d counts withheld, %d rows with a secondary withholding", withheld, secondary)
}
