package overlap

import (
	"fmt"
	"io"
	"math"
	"slices"

	"adcensus/internal/stats/mse"
)

// Combined is the multiple-systems estimate with the de-duplication's
// uncertainty carried into it (docs/OVERLAP.md, "Seen and estimated").
//
// The de-duplication's errors do not scale the capture-history table:
// a person split in two on two arenas moves one person from the cell
// "both arenas" to the two cells "one arena only", which raises the
// estimate of the persons on no arena more than the count. So the table
// itself is drawn again: in each replicate of the count's interval
// (dedup/countci) the persons joined by the kept candidate links are
// merged (their arenas united), the residual share is taken from every
// cell in proportion, and the estimate is made again on that table (the
// model selected again, no bootstrap). Those totals are the
// de-duplication's spread of the estimate (Dedup*). The estimate's own
// sampling interval (the bootstrap on the table as counted) is then
// widened by it, each side on the log scale, as two independent errors
// add: low = Total·exp(−√(a² + b²)), with a the log distance of the
// bootstrap bound from the estimate and b that of the de-duplication's
// bound (its 90 % spread rescaled to the estimate's level by the normal
// quantiles), and likewise high. Total is the median of the
// de-duplication's totals: the estimate for the persons as they are
// estimated to be, not as the rules counted them.
type Combined struct {
	Total float64 `json:"total"`
	Low   float64 `json:"ci_low"`
	High  float64 `json:"ci_high"`
	Level float64 `json:"level"`
	// DedupLow and DedupHigh are the 5 % and 95 % quantiles of the
	// totals over the de-duplication's replicates (DedupLevel 0.9).
	DedupLow   float64 `json:"dedup_low"`
	DedupHigh  float64 `json:"dedup_high"`
	DedupLevel float64 `json:"dedup_level"`
	Replicates int     `json:"replicates"` // that gave an estimate
	Failed     int     `json:"failed_replicates,omitempty"`
	Method     string  `json:"method"`
}

// CombineMethod describes Combined in one sentence.
const CombineMethod = "the capture-history table drawn again in each replicate of the persons count's interval (persons joined by kept candidate links merged, residual taken in proportion) and the estimate selected and fitted on it; its 5-95 % spread added to the bootstrap interval on the log scale as an independent error, each side (docs/OVERLAP.md)"

// DrawTable is the capture-history table of one replicate of the count's
// interval: person i (0 … len(masks)−1) was seen on the arenas of bit
// mask masks[i] (bit j: arenas[j]); find maps a person to the one it was
// joined into; removed persons are taken from the cells in proportion to
// their counts (negative: added), each cell rounded to whole persons.
func DrawTable(arenas []string, masks []uint32, find func(int) int, removed float64) (*mse.Table, error) {
	joined := make([]uint32, len(masks))
	for i, m := range masks {
		joined[find(i)] |= m
	}
	counts := map[uint32]int64{}
	total := 0
	for _, m := range joined {
		if m != 0 {
			counts[m]++
			total++
		}
	}
	if total > 0 && removed != 0 {
		scale := math.Max(0, (float64(total)-removed)/float64(total))
		for p, c := range counts {
			counts[p] = int64(math.Round(float64(c) * scale))
		}
	}
	return mse.NewTable(arenas, counts)
}

// Combine widens res's interval by the de-duplication's spread of the
// estimate, totals (the estimates on the tables of DrawTable, one per
// replicate that gave one; failed is the number that did not). It
// returns nil when fewer than 20 replicates gave an estimate or res has
// no interval.
func Combine(res *mse.Result, totals []float64, failed int) *Combined {
	if res == nil || len(totals) < 20 || res.Replicates <= 0 || res.Total <= 0 || res.CILow <= 0 {
		return nil
	}
	t := slices.Sorted(slices.Values(totals))
	c := &Combined{
		Level: res.Level, DedupLevel: 0.9, Replicates: len(t), Failed: failed, Method: CombineMethod,
		Total: quantile7(t, 0.5), DedupLow: quantile7(t, 0.05), DedupHigh: quantile7(t, 0.95),
	}
	if c.Total <= 0 || c.DedupLow <= 0 {
		return nil
	}
	zr := normalQuantile((1+res.Level)/2) / normalQuantile(0.95)
	a1, a2 := math.Log(res.Total/res.CILow), math.Log(res.CIHigh/res.Total)
	b1, b2 := zr*math.Log(c.Total/c.DedupLow), zr*math.Log(c.DedupHigh/c.Total)
	c.Low = c.Total * math.Exp(-math.Hypot(math.Max(0, a1), math.Max(0, b1)))
	c.High = c.Total * math.Exp(math.Hypot(math.Max(0, a2), math.Max(0, b2)))
	return c
}

// quantile7 is the type-7 quantile of sorted x.
func quantile7(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	i := int(math.Floor(h))
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// normalQuantile is the standard normal quantile function.
func normalQuantile(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

// writeText writes the combined estimate's lines (nothing when c is nil).
func (c *Combined) writeText(w io.Writer) error {
	if c == nil {
		return nil
	}
	_, err := fmt.Fprintf(w, "with the de-duplication's uncertainty: estimated total %.0f, %g%% interval %.0f – %.0f\n"+
		"  (the estimate over %d draws of the persons: %.0f – %.0f at 90%%; docs/OVERLAP.md)\n",
		c.Total, c.Level*100, c.Low, c.High, c.Replicates, c.DedupLow, c.DedupHigh)
	return err
}
