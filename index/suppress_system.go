package index

import "slices"

// system is the visible equations restricted to the suppressed leaves.
type system struct {
	col   map[int]int // leaf → column
	basis [][]float64 // reduced rows, pivot 1 at pivots[i]
	piv   []int
	exact map[int]bool // leaves pinned by a bound (k cells, k adverts)
}

const eps = 1e-9

func (s *suppressor) system() *system {
	sys := &system{col: map[int]int{}, exact: map[int]bool{}}
	for i, l := range s.leaves {
		if l.state != "" {
			sys.col[i] = len(sys.col)
		}
	}
	for _, it := range s.totals {
		if !s.visible(it) {
			continue
		}
		row := make([]float64, len(sys.col))
		rhs, k := it.ads, 0
		for _, i := range it.leaves {
			if c, ok := sys.col[i]; ok {
				row[c] = 1
				k++
			} else {
				rhs -= s.leaves[i].ads
			}
		}
		if k == 0 {
			continue
		}
		if rhs == k { // every suppressed cell in it holds one advert
			for _, i := range it.leaves {
				if _, ok := sys.col[i]; ok {
					sys.exact[i] = true
				}
			}
		}
		sys.add(row)
	}
	return sys
}

func (sys *system) reduce(row []float64) []float64 {
	r := slices.Clone(row)
	for bi, b := range sys.basis {
		if f := r[sys.piv[bi]]; f > eps || f < -eps {
			for j := range r {
				r[j] -= f * b[j]
			}
		}
	}
	return r
}

func (sys *system) add(row []float64) {
	r := sys.reduce(row)
	p := slices.IndexFunc(r, func(x float64) bool { return x > eps || x < -eps })
	if p < 0 {
		return
	}
	f := r[p]
	for j := range r {
		r[j] /= f
	}
	for _, b := range sys.basis {
		if g := b[p]; g > eps || g < -eps {
			for j := range b {
				b[j] -= g * r[j]
			}
		}
	}
	sys.basis = append(sys.basis, r)
	sys.piv = append(sys.piv, p)
}

// determined reports whether the sum of the suppressed leaves among leaves
// follows from the visible equations.
func (sys *system) determined(leaves []int) bool {
	v := make([]float64, len(sys.col))
	n := 0
	for _, i := range leaves {
		if c, ok := sys.col[i]; ok {
			v[c] = 1
			n++
		}
	}
	if n == 1 {
		for _, i := range leaves {
			if sys.exact[i] {
				return true
			}
		}
	}
	return !slices.ContainsFunc(sys.reduce(v), func(x float64) bool { return x > eps || x < -eps })
}
