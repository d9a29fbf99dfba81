package mse

import "math"

// Existence of the maximum likelihood estimate, exactly, by linear
// programming (Fienberg & Rinaldo 2012; the check SparseMSE's checkident
// does with lpSolve). For the design A (terms x live cells, A[j][c] = 1 when
// term j is contained in pattern c) and the observed margins b = A n, the
// (extended) MLE exists with every live cell positive if and only if some
// strictly positive x has A x = b. With x = z + t·1, z >= 0, that is
//
//	maximise t  subject to  A z + (A 1) t = b,  z >= 0, t >= 0
//
// and the MLE exists iff the optimum t is positive. The LP has one row per
// term and one column per live cell, solved by a dense two-phase simplex
// with Bland's rule (no cycling). Tables with more than lpMaxLists lists are
// not checked this way (the tableau would be too large); the fit's own
// divergence test is the check there.

const lpMaxLists = 12

// mleExists reports whether the MLE of the model with the given terms exists
// on f's live cells for counts f.n, and whether the question was decided
// (false when the table is too large for the LP).
func (f *fitter) mleExists(terms []uint32) (exists, decided bool) {
	if f.k > lpMaxLists {
		return true, false
	}
	var cells []int
	allPositive := true
	for c := 1; c < len(f.live); c++ {
		if f.live[c] {
			cells = append(cells, c)
			if f.n[c] <= 0 {
				allPositive = false
			}
		}
	}
	if allPositive {
		return true, true // x = n itself is strictly positive
	}
	p, m := len(terms), len(cells)
	// columns: z_0..z_{m-1}, t, artificial a_0..a_{p-1}; last column: rhs
	cols := m + 1 + p
	w := cols + 1
	tab := make([]float64, (p+1)*w) // p constraint rows + objective row
	scale := 0.0
	for j, s := range terms {
		row := tab[j*w : (j+1)*w]
		b, ones := 0.0, 0.0
		for i, c := range cells {
			if uint32(c)&s == s {
				row[i] = 1
				b += f.n[c]
				ones++
			}
		}
		row[m] = ones
		row[m+1+j] = 1
		row[cols] = b
		scale = math.Max(scale, b)
	}
	eps := 1e-9 * math.Max(1, scale)
	basis := make([]int, p)
	for j := range basis {
		basis[j] = m + 1 + j
	}
	obj := tab[p*w : (p+1)*w]
	// Phase 1: minimise the sum of artificials, i.e. maximise -sum a.
	// Reduced costs (for a maximisation, entering when positive):
	// obj[col] = sum over rows of row[col] for non-artificial columns.
	for j := 0; j < p; j++ {
		row := tab[j*w : (j+1)*w]
		for col := 0; col <= m; col++ {
			obj[col] += row[col]
		}
		obj[cols] += row[cols]
	}
	if !simplex(tab, basis, p, w, m+1) {
		return true, false
	}
	if obj[cols] > eps {
		// margins not reproducible by any x >= 0: cannot happen for b = A n
		return true, false
	}
	// Drive artificials out of the basis where possible (degenerate rows).
	for j := 0; j < p; j++ {
		if basis[j] <= m {
			continue
		}
		row := tab[j*w : (j+1)*w]
		for col := 0; col <= m; col++ {
			if math.Abs(row[col]) > 1e-9 {
				pivot(tab, basis, p, w, j, col)
				break
			}
		}
	}
	// Phase 2: maximise t over the non-artificial columns; artificial rows
	// still in the basis are redundant (their entries are all ~0).
	clear(obj)
	obj[m] = 1
	for j := 0; j < p; j++ {
		if basis[j] < m+1 {
			c := obj[basis[j]]
			if c != 0 {
				row := tab[j*w : (j+1)*w]
				for col := range obj {
					obj[col] -= c * row[col]
				}
			}
		}
	}
	if !simplex(tab, basis, p, w, m+1) {
		return true, false
	}
	// obj[cols] holds -(objective value)
	t := -obj[cols]
	return t > eps, true
}

// simplex runs maximisation pivots on the tableau (rows 0..p-1 constraints,
// row p the reduced costs, positive = improving; last column the rhs, and
// for the objective row minus the current value) over columns 0..ncol-1,
// with Bland's rule. It reports false if it fails to terminate.
func simplex(tab []float64, basis []int, p, w, ncol int) bool {
	obj := tab[p*w : (p+1)*w]
	rhs := w - 1
	for it := 0; it < 50000; it++ {
		enter := -1
		for col := 0; col < ncol; col++ {
			if obj[col] > 1e-11 {
				enter = col
				break
			}
		}
		if enter < 0 {
			return true
		}
		leave, best := -1, math.Inf(1)
		for j := 0; j < p; j++ {
			a := tab[j*w+enter]
			if a > 1e-11 {
				r := tab[j*w+rhs] / a
				if r < best-1e-12 || (math.Abs(r-best) <= 1e-12 && basis[j] < basis[leave]) {
					best, leave = r, j
				}
			}
		}
		if leave < 0 {
			return false // unbounded: impossible here
		}
		pivot(tab, basis, p, w, leave, enter)
	}
	return false
}

// pivot makes column col basic in row r.
func pivot(tab []float64, basis []int, p, w, r, col int) {
	row := tab[r*w : (r+1)*w]
	inv := 1 / row[col]
	for i := range row {
		row[i] *= inv
	}
	row[col] = 1
	for j := 0; j <= p; j++ {
		if j == r {
			continue
		}
		o := tab[j*w : (j+1)*w]
		c := o[col]
		if c == 0 {
			continue
		}
		for i := range o {
			o[i] -= c * row[i]
		}
		o[col] = 0
	}
	basis[r] = col
}
