package index

import "math"

// lpMax maximises c·y subject to A y = b, y ≥ 0, by the two-phase simplex
// method with Bland's rule (dense; the tables it is used on are small). It
// returns false when the problem is infeasible or unbounded.
func lpMax(a [][]float64, b, c []float64) (float64, bool) {
	t := newTableau(a, b, len(c))
	if !t.phase1() {
		return 0, false
	}
	return t.phase2(c)
}

// tableau is a simplex tableau: m constraint rows over n variables and m
// artificials, then the right-hand side (width w), and the objective row
// t[m] (reduced costs); basis[i] is the basic column of row i.
type tableau struct {
	m, n, w int
	t       [][]float64
	basis   []int
}

// newTableau returns the tableau of A y = b over n variables with one
// artificial per row (rows with b < 0 negated), each artificial basic in
// its row.
func newTableau(a [][]float64, b []float64, n int) *tableau {
	m := len(a)
	w := n + m + 1
	tb := &tableau{m: m, n: n, w: w, t: make([][]float64, m+1), basis: make([]int, m)}
	t := tb.t
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
		tb.basis[i] = n + i
	}
	t[m] = make([]float64, w)
	return tb
}

// pivot makes column col basic in row r.
func (tb *tableau) pivot(r, col int) {
	t, w := tb.t, tb.w
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
	tb.basis[r] = col
}

// run minimises the objective row t[m] (reduced costs) over columns
// < limit; false when unbounded.
func (tb *tableau) run(limit int) bool {
	t, m, n, w, basis := tb.t, tb.m, tb.n, tb.w, tb.basis
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
		tb.pivot(r, col)
	}
	return false
}

// phase1 minimises the sum of the artificials, then drives them out of
// the basis where possible; false when the problem is infeasible.
func (tb *tableau) phase1() bool {
	t, m, n, w := tb.t, tb.m, tb.n, tb.w
	for i := range m {
		for j := range w {
			if j < n || j == w-1 {
				t[m][j] -= t[i][j]
			}
		}
	}
	if !tb.run(n + m) {
		return false
	}
	if -t[m][w-1] > 1e-6 {
		return false // infeasible
	}
	for i := range m {
		if tb.basis[i] >= n {
			for j := range n {
				if t[i][j] > eps || t[i][j] < -eps {
					tb.pivot(i, j)
					break
				}
			}
		}
	}
	return true
}

// phase2 minimises −c·y over the real variables from the feasible basis
// phase1 left, and returns the maximum of c·y; false when unbounded.
func (tb *tableau) phase2(c []float64) (float64, bool) {
	t, m, n, w := tb.t, tb.m, tb.n, tb.w
	for j := range w {
		t[m][j] = 0
	}
	for j := range n {
		t[m][j] = -c[j]
	}
	for i := range m {
		if bj := tb.basis[i]; bj < n {
			if f := t[m][bj]; f != 0 {
				for j := range w {
					t[m][j] -= f * t[i][j]
				}
			}
		}
	}
	// Artificials left in the basis sit on redundant rows (value 0); keep
	// them out of the entering columns.
	if !tb.run(n) {
		return 0, false
	}
	return t[m][w-1], true
}
