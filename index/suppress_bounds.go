package index

import "math"

// Bounds attack. A reader knows more than the visible equations: every
// leaf (a row that exists) holds at least one unit. With that, a withheld
// number can follow from visible ones even when linear algebra alone says
// it does not: arena a's total minus the persons on a alone leaves two
// histories that must share two persons, so each holds one. boundsPinned
// finds such numbers by linear programming: the least and the greatest
// value the withheld number can take given the visible equations and
// x ≥ 1 for every withheld leaf; when no two integers fit between them, it
// is pinned.

// pinned returns the first published suppressed item whose value the
// visible numbers and the bounds leave no freedom, or nil.
func (s *suppressor) boundsPinned(skip map[*supItem]bool) *supItem {
	col := map[int]int{}
	for i, l := range s.leaves {
		if l.state != "" {
			col[i] = len(col)
		}
	}
	if len(col) == 0 {
		return nil
	}
	// Equations over y = x − 1 ≥ 0 of the withheld leaves.
	var rows [][]float64
	var rhs []float64
	for _, it := range s.totals {
		if !s.visible(it) {
			continue
		}
		row := make([]float64, len(col))
		b, k := float64(it.ads), 0
		for _, i := range it.leaves {
			if c, ok := col[i]; ok {
				row[c] = 1
				b--
				k++
			} else {
				b -= float64(s.leaves[i].ads)
			}
		}
		if k > 0 {
			rows, rhs = append(rows, row), append(rhs, b)
		}
	}
	for _, it := range append(append([]*supItem{}, s.leaves...), s.totals...) {
		if skip[it] || !it.published || (it.state != SuppressPrimary && it.state != SuppressSecondary) {
			continue
		}
		obj := make([]float64, len(col))
		for _, i := range it.leaves {
			if c, ok := col[i]; ok {
				obj[c] = 1
			}
		}
		hi, ok := lpMax(rows, rhs, obj)
		if !ok {
			continue // unbounded (or no solution: nothing to learn)
		}
		neg := make([]float64, len(obj))
		for j, v := range obj {
			neg[j] = -v
		}
		lo, ok := lpMax(rows, rhs, neg)
		if !ok {
			continue
		}
		lo = -lo
		if math.Floor(hi+1e-6) <= math.Ceil(lo-1e-6) {
			return it
		}
	}
	return nil
}
