package index

import (
	"cmp"
	"slices"
)

// exactLimit is the most leaf cells a count is suppressed for by the exact
// method (suppressor.run: Gaussian elimination after every candidate,
// seconds on a few thousand cells); larger tables use the hypercube
// method. A variable so tests can move it.
var exactLimit = 1000

// Hypercube method (Repsilber; Giessing, "Survey on methods for tabular
// data protection in ARGUS"). For each primary cell p of a k-dimensional
// table, pick one other value per dimension; the 2^k cells at the corners
// of that box (p and its partners) are withheld. Give the corners signs
// +1/−1 by the parity of how many partner values they use: adding t × sign
// to every corner changes no sum over any dimension — no total of this or
// of any export with fewer dimensions — so no visible total pins p, and
// with t = ±1 the table stays valid as long as the corners that would lose
// a unit keep at least one advert. Every corner must be a cell that exists
// (an absent cell is known to be empty). Partners are chosen to withhold
// as few persons as possible, preferring cells already withheld.

// hypercubeApplies reports whether no published total is itself small:
// the hypercube method keeps every total visible, so it cannot withhold
// one.
func (s *suppressor) hypercubeApplies(minCell int) bool {
	for _, it := range s.totals {
		if it.published && it.persons > 0 && it.persons < minCell {
			return false
		}
	}
	return true
}

// runHypercube suppresses by the hypercube method; it falls back to the
// exact method (run) when a published total is itself primary.
func (s *suppressor) runHypercube(minCell int) {
	if minCell <= 1 {
		return
	}
	if !s.hypercubeApplies(minCell) {
		s.fellBack = true
		s.run(minCell)
		return
	}
	g := newGrid(s.vals)
	var primaries []int
	for i, l := range s.leaves {
		if l.persons > 0 && l.persons < minCell {
			l.state = SuppressPrimary
			primaries = append(primaries, i)
		}
	}
	// Smallest first, as the exact method; ties by value, so the choice is
	// deterministic.
	slices.SortFunc(primaries, func(a, b int) int {
		return cmp.Or(cmp.Compare(s.leaves[a].persons, s.leaves[b].persons), slices.Compare(s.vals[a], s.vals[b]))
	})
	every := make([]int, g.dims)
	for d := range every {
		every[d] = d
	}
	for _, p := range primaries {
		box, ok := s.bestBox(g, p, every, 4)
		if !ok {
			box, ok = s.bestBox(g, p, every, 12)
		}
		if !ok {
			// No full box of existing cells (p is alone on some line, or
			// corners are missing): vary fewer dimensions. The box then
			// keeps every total that sums over a varied dimension — the
			// total rows of this export always — and the others only as
			// best effort, as the exact method does.
			s.partial = true
			box, ok = s.partialBox(g, p)
		}
		if !ok { // a table of one cell: nothing can protect it
			continue
		}
		for _, i := range box {
			if s.leaves[i].state == "" {
				s.leaves[i].state = SuppressSecondary
			}
		}
	}
}

// grid finds leaves by their coordinates (value indexes per dimension).
type grid struct {
	dims  int
	size  []int   // values per dimension
	coord [][]int // per leaf
	cells map[uint64]int
}

func newGrid(vals [][]string) *grid {
	g := &grid{cells: make(map[uint64]int, len(vals))}
	if len(vals) == 0 {
		return g
	}
	g.dims = len(vals[0])
	index := make([]map[string]int, g.dims)
	for d := range g.dims {
		var vs []string
		seen := map[string]bool{}
		for _, v := range vals {
			if !seen[v[d]] {
				seen[v[d]] = true
				vs = append(vs, v[d])
			}
		}
		slices.Sort(vs)
		index[d] = make(map[string]int, len(vs))
		for i, v := range vs {
			index[d][v] = i
		}
		g.size = append(g.size, len(vs))
	}
	for i, v := range vals {
		c := make([]int, g.dims)
		for d := range g.dims {
			c[d] = index[d][v[d]]
		}
		g.coord = append(g.coord, c)
		g.cells[g.key(c)] = i
	}
	return g
}

func (g *grid) key(c []int) uint64 {
	var k uint64
	for d, x := range c {
		k = k*uint64(g.size[d]) + uint64(x)
	}
	return k
}

func (g *grid) find(c []int) (int, bool) {
	i, ok := g.cells[g.key(c)]
	return i, ok
}

// partialBox returns the cheapest box around p over the dimensions in which
// p has a partner, or failing that along one of them, or failing all that
// (p alone on every line) p and the cheapest other cell.
func (s *suppressor) partialBox(g *grid, p int) ([]int, bool) {
	var vary []int
	q := make([]int, g.dims)
	for d := range g.dims {
		copy(q, g.coord[p])
		for v := range g.size[d] {
			if v == g.coord[p][d] {
				continue
			}
			q[d] = v
			if _, ok := g.find(q); ok {
				vary = append(vary, d)
				break
			}
		}
	}
	if len(vary) > 0 {
		if box, ok := s.bestBox(g, p, vary, 12); ok {
			return box, true
		}
		for _, d := range vary {
			if box, ok := s.bestBox(g, p, []int{d}, 0); ok {
				return box, true
			}
		}
	}
	best := -1
	for i, l := range s.leaves {
		if i == p || (l.ads < 2 && s.leaves[p].ads < 2) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		if a, b := l.state != "", s.leaves[best].state != ""; a != b { // already withheld first
			if a {
				best = i
			}
		} else if l.persons < s.leaves[best].persons {
			best = i
		}
	}
	if best < 0 {
		return nil, false
	}
	return []int{p, best}, true
}

// bestBox returns the corners (leaf indexes) of the cheapest valid box
// around leaf p varying the dimensions in vary, trying the best `limit`
// partner values per dimension (0: all of them).
func (s *suppressor) bestBox(g *grid, p int, vary []int, limit int) ([]int, bool) {
	pc := g.coord[p]
	dims := len(vary)
	cost := func(i int) int { // what withholding leaf i adds
		if s.leaves[i].state != "" {
			return 0
		}
		return 1 + s.leaves[i].persons
	}
	// Partner candidates per dimension: values whose cell on p's line exists.
	type cand struct{ v, cost int }
	cands := make([][]int, dims)
	q := make([]int, g.dims)
	for x, d := range vary {
		var cs []cand
		copy(q, pc)
		for v := range g.size[d] {
			if v == pc[d] {
				continue
			}
			q[d] = v
			if i, ok := g.find(q); ok {
				cs = append(cs, cand{v, cost(i)})
			}
		}
		if len(cs) == 0 {
			return nil, false
		}
		slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.cost, b.cost) })
		if limit > 0 && len(cs) > limit {
			cs = cs[:limit]
		}
		for _, c := range cs {
			cands[x] = append(cands[x], c.v)
		}
	}
	var best []int
	bestCost := -1
	choice := make([]int, dims)
	corners := make([]int, 1<<dims)
	key := make([]int, g.dims)
	var walk func(x int)
	walk = func(x int) {
		if x < dims {
			for c := range cands[x] {
				choice[x] = c
				walk(x + 1)
			}
			return
		}
		total := 0
		minus, plus := true, true // can the −1 corners (resp. +1) lose a unit?
		for m := range 1 << dims {
			odd := false
			copy(key, pc)
			for e, d := range vary {
				if m&(1<<e) != 0 {
					key[d] = cands[e][choice[e]]
					odd = !odd
				}
			}
			i, ok := g.find(key)
			if !ok {
				return
			}
			corners[m] = i
			total += cost(i)
			if bestCost >= 0 && total >= bestCost {
				return
			}
			if s.leaves[i].ads < 2 {
				if odd {
					minus = false
				} else {
					plus = false
				}
			}
		}
		if !minus && !plus {
			return
		}
		bestCost, best = total, slices.Clone(corners)
	}
	walk(0)
	return best, bestCost >= 0
}
