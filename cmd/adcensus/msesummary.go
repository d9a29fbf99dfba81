package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"adcensus/internal/stats/mse"
)

// seenAndEstimated is what `adcensus mse --seen report.json --format json`
// writes: the persons seen, with the de-duplication's interval, beside the
// estimated total, with where both come from (issue 16, part 3).
type seenAndEstimated struct {
	Seen       seenPersons    `json:"seen"`
	Estimate   *mse.Result    `json:"estimate"`
	Provenance map[string]any `json:"provenance"`
}

type seenPersons struct {
	Persons     int     `json:"persons"`
	Estimate    float64 `json:"persons_estimate"`
	Low         int     `json:"persons_low"`
	High        int     `json:"persons_high"`
	Level       float64 `json:"level"`
	Calibration string  `json:"calibration"`
}

// readSeen reads a report of `adcensus dedup --report`.
func readSeen(path string) (*dedupReport, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var r dedupReport
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, fmt.Errorf("%s: not a dedup report: %w", path, err)
	}
	if r.Persons <= 0 || r.PersonsLow > r.PersonsHigh || r.Level <= 0 {
		return nil, nil, fmt.Errorf("%s: not a dedup report with a count interval (write one with 'adcensus dedup --report')", path)
	}
	return &r, b, nil
}

// seenSummary combines the dedup report and the estimate, with provenance:
// the software version, the time, both files with their SHA-256, and the
// options of the estimate.
func seenSummary(rep *dedupReport, repBytes []byte, repPath, tablePath string, tableBytes []byte, res *mse.Result, opt mse.Options) seenAndEstimated {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	sum := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	return seenAndEstimated{
		Seen: seenPersons{Persons: rep.Persons, Estimate: rep.PersonsEstimate, Low: rep.PersonsLow, High: rep.PersonsHigh,
			Level: rep.Level, Calibration: rep.Calibration},
		Estimate: res,
		Provenance: map[string]any{
			"adcensus_version": Version,
			"generated_at":     time.Now().UTC().Format(time.RFC3339),
			"seen_report":      abs(repPath), "seen_report_sha256": sum(repBytes),
			"table": abs(tablePath), "table_sha256": sum(tableBytes),
			"method":    "persons seen: adcensus dedup --report (docs/DEDUP.md, the count's interval); total: multiple-systems estimation (docs/MSE.md)",
			"criterion": res.Criterion, "bootstrap": opt.Bootstrap, "replicates": opt.Replicates, "seed": opt.Seed,
		},
	}
}

// writeSeenText prints the persons seen before the estimate's summary.
func writeSeenText(w io.Writer, rep *dedupReport, res *mse.Result) {
	fmt.Fprintf(w, "persons seen (de-duplicated): %d counted, about %.0f, %g%% interval %d – %d\n",
		rep.Persons, rep.PersonsEstimate, rep.Level*100, rep.PersonsLow, rep.PersonsHigh)
	if int64(rep.Persons) != res.Observed {
		fmt.Fprintf(w, "note: the table holds %d persons on at least one list, the dedup report %d\n", res.Observed, rep.Persons)
	}
}
