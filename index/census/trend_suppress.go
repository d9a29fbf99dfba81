package census

// Secondary suppression of a trend's new and gone counts. In a group, from
// one period to the next,
//
//	active(p) − active(p−1) = new(p) − gone(p) + back(p)
//
// where back(p) ≥ 0 counts the persons active in the group before p−1,
// not in p−1, and again in p (not published). Active counts are published
// (here and by export counts), so a small count withheld (1 … minCell−1)
// beside a published partner can be narrowed: new(p) ≤ Δ + gone(p) and
// gone(p) ≥ new(p) − Δ, with Δ = active(p) − active(p−1). When that bound
// falls inside the withheld range, the partner is withheld too (Withheld
// "secondary"). With both withheld the identity still bounds them when the
// active count shrank (Δ < 0: new ≤ Δ + minCell − 1, gone ≥ 1 − Δ); hiding
// that would need withholding the active counts, which export counts
// publishes anyway (docs/CENSUS.md).

// protectNewGone withholds, in rows (every period of every group, primary
// suppression applied: −1 is withheld), the published partner of a
// withheld new or gone count that the active counts would narrow.
// periods are the trend's periods in order.
func protectNewGone(rows []TrendRow, periods []string, minCell int) {
	if minCell <= 1 {
		return
	}
	prev := make(map[string]string, len(periods))
	for i := 1; i < len(periods); i++ {
		prev[periods[i]] = periods[i-1]
	}
	type cell struct{ group, period string }
	active := make(map[cell]int, len(rows))
	for _, r := range rows {
		active[cell{r.Group, r.Period}] = r.Active
	}
	for i := range rows {
		r := &rows[i]
		pp, ok := prev[r.Period]
		if !ok || r.Active < 0 || (r.New >= 0) == (r.Gone >= 0) {
			continue // first period, row withheld, or nothing (or both) withheld
		}
		before := active[cell{r.Group, pp}] // no row: none active, 0
		if before < 0 {
			continue // the change of the active count is not published
		}
		delta := r.Active - before
		switch {
		case r.New < 0 && delta+r.Gone < minCell-1: // new ≤ Δ + gone
			r.Gone, r.Withheld = -1, "secondary"
		case r.Gone < 0 && r.New-delta > 1: // gone ≥ new − Δ
			r.New, r.Withheld = -1, "secondary"
		}
	}
}
