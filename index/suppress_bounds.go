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

// lpMax maximises c·y subject to A y = b, y ≥ 0, by the two-phase simplex
// method with Bland's rule (dense; the tables it is used on are small). It
// returns false when the problem is infeasible or unbounded.
func lpMax(a [][]float64, b, c []float64) (float64, bool) {
	const eps = 1e-9
	m, n := len(a), len(c)
	// Tableau: n variables, m artificials, then the right-hand side.
	w := n + m + 1
	t := make([][]float64, m+1)
	basis := make([]int, m)
	for i := range m {
		t[i] = make([]float64, w)
		sign := 1.0
		if b[i] < 0 {
			sign = -1
		}
		for j := range n {
			t[i][j] = sign * a[i][j]
		}
		t[i][n+i] = 1
		t[i][w-1] = sign * b[i]
		basis[i] = n + i
	}
	t[m] = make([]float64, w)
	pivot := func(r, col int) {
		p := t[r][col]
		for j := range w {
			t[r][j] /= p
		}
		for i := range t {
			if i != r {
				if f := t[i][col]; f > eps || f < -eps {
					for j := range w {
						t[i][j] -= f * t[r][j]
					}
				}
			}
		}
		basis[r] = col
	}
	// run minimises the objective row t[m] (reduced costs) over columns
	// < limit; false when unbounded.
	run := func(limit int) bool {
		for range 50 * (m + n + 1) {
			col := -1
			for j := range limit {
				if t[m][j] < -eps {
					col = j
					break
				}
			}
			if col < 0 {
				return true
			}
			r := -1
			best := math.Inf(1)
			for i := range m {
				if t[i][col] > eps {
					ratio := t[i][w-1] / t[i][col]
					if ratio < best-eps || (ratio < best+eps && r >= 0 && basis[i] < basis[r]) {
						best, r = ratio, i
					}
				}
			}
			if r < 0 {
				return false
			}
			pivot(r, col)
		}
		return false
	}
	// Phase 1: minimise the sum of the artificials.
	for i := range m {
		for j := range w {
			if j < n || j == w-1 {
				t[m][j] -= t[i][j]
			}
		}
	}
	if !run(n + m) {
		return 0, false
	}
	if -t[m][w-1] > 1e-6 {
		return 0, false // infeasible
	}
	// Drive artificials out of the basis where possible.
	for i := range m {
		if basis[i] >= n {
			for j := range n {
				if t[i][j] > eps || t[i][j] < -eps {
					pivot(i, j)
					break
				}
			}
		}
	}
	// Phase 2: minimise −c·y over the real variables.
	for j := range w {
		t[m][j] = 0
	}
	for j := range n {
		t[m][j] = -c[j]
	}
	for i := range m {
		if bj := basis[i]; bj < n {
			if f := t[m][bj]; f != 0 {
				for j := range w {
					t[m][j] -= f * t[i][j]
				}
			}
		}
	}
	// Artificials left in the basis sit on redundant rows (value 0); keep
	// them out of the entering columns.
	if !run(n) {
		return 0, false
	}
	return t[m][w-1], true
}
