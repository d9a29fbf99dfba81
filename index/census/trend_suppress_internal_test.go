package census

import (
	"fmt"
	"testing"
)

// protectNewGone withholds a published new or gone count exactly when,
// with the active counts of the period and the one before, it would
// narrow its withheld partner below the withheld range 1 … minCell−1.
func TestProtectNewGone(t *testing.T) {
	periods := []string{"w1", "w2"}
	row := func(g, p string, active, nw, gone int) TrendRow {
		return TrendRow{Group: g, Period: p, Active: active, New: nw, Gone: gone}
	}
	rows := []TrendRow{
		// new withheld (truly 1), gone 5, active 10 → 6: new ≤ −4 + 5 = 1.
		row("a", "w1", 10, 10, 0), row("a", "w2", 6, -1, 5),
		// new withheld, gone 5, active 10 → 12: new ≤ 7, nothing learnt.
		row("b", "w1", 10, 10, 0), row("b", "w2", 12, -1, 5),
		// gone withheld (truly 4), new 6, active 10 → 12: gone ≥ 4.
		row("c", "w1", 10, 10, 0), row("c", "w2", 12, 6, -1),
		// gone withheld, new 6, active 10 → 15: gone ≥ 1, nothing learnt.
		row("d", "w1", 10, 10, 0), row("d", "w2", 15, 6, -1),
		// the active count before withheld: its change is not published.
		row("e", "w1", -1, -1, -1), row("e", "w2", 6, -1, 5),
		// no row before: none active then (new 5 of 5 is published, gone
		// withheld would be 0 … nothing to narrow); new withheld with
		// gone 0 and 3 active: new ≤ 3.
		row("f", "w2", 3, -1, 0),
		// both withheld: left as they are.
		row("g", "w1", 10, 10, 0), row("g", "w2", 8, -1, -1),
		// first period: no change to narrow by.
		row("h", "w1", 6, -1, 7),
	}
	protectNewGone(rows, periods, 5)
	want := map[string]string{
		"a/w2": "6 -1 -1 secondary", "b/w2": "12 -1 5 ", "c/w2": "12 -1 -1 secondary", "d/w2": "15 6 -1 ",
		"e/w2": "6 -1 5 ", "f/w2": "3 -1 -1 secondary", "g/w2": "8 -1 -1 ", "h/w1": "6 -1 7 ",
	}
	for _, r := range rows {
		w, ok := want[r.Group+"/"+r.Period]
		if !ok {
			continue
		}
		if got := fmt.Sprintf("%d %d %d %s", r.Active, r.New, r.Gone, r.Withheld); got != w {
			t.Errorf("%s/%s: active new gone withheld %q, want %q", r.Group, r.Period, got, w)
		}
	}
	// No suppression asked: nothing withheld.
	rows = []TrendRow{row("a", "w1", 10, 10, 0), row("a", "w2", 6, 1, 5)}
	protectNewGone(rows, periods, 0)
	if rows[1].Gone != 5 || rows[1].Withheld != "" {
		t.Errorf("min cell 0 withheld %+v", rows[1])
	}
}
