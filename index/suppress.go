package index

import (
	"fmt"
	"slices"
	"strings"
)

// Secondary suppression.
//
// The leaf cells of a count are the unknowns. Every total a reader can see
// is a linear equation over their advert counts: the total rows of this
// export, and the totals another export with fewer dimensions would show
// (one per subset of the dimensions, the table of a split count included),
// taken as visible unless their own persons count is suppressed. Advert
// counts add up over cells (an advert is in exactly one cell); persons do
// not, so the equations are over adverts. A suppressed row is recoverable
// when its value lies in the span of the visible equations, or when the
// equation bounds it exactly (k suppressed cells that must share k adverts
// hold one each). suppressor adds secondary suppressions, smallest cells
// first, until no suppressed row is recoverable.

// supItem is a leaf cell or a total over leaf cells.
type supItem struct {
	mask      int // dimensions fixed; the full mask is a leaf
	key       string
	leaves    []int
	ads       int
	persons   int
	published bool   // a row of this export
	state     string // "", SuppressPrimary, SuppressSecondary, or hidden
}

// hidden marks a total of another export that is itself suppressed.
const hidden = "hidden"

type suppressor struct {
	// external says whether the totals of other exports count as visible.
	external bool
	full     int
	leaves   []*supItem
	totals   []*supItem // every non-leaf total, any mask
	byMask   map[int]map[string]*supItem
	vals     [][]string // the group values of each leaf
	// fellBack is set when runHypercube used the exact method, partial
	// when it used a box over fewer dimensions for some cell.
	fellBack, partial bool
}

// newSuppressor builds the leaves and every total. The persons of a total
// (a union of its leaves' persons, the costliest part on large tables) are
// counted only for the masks personsOf accepts (nil: all); others get -1.
func newSuppressor(vals [][]string, dims int, leaf func(i int) (ads int, persons map[string]struct{}), personsOf func(mask int) bool) *suppressor {
	s := &suppressor{full: 1<<dims - 1, byMask: map[int]map[string]*supItem{}, vals: vals}
	keyOf := func(v []string, mask int) string {
		var parts []string
		for d := range dims {
			if mask&(1<<d) != 0 {
				parts = append(parts, v[d])
			}
		}
		return strings.Join(parts, "\x00")
	}
	for mask := 0; mask <= s.full; mask++ {
		s.byMask[mask] = map[string]*supItem{}
		union := map[string]map[string]struct{}{}
		count := mask != s.full && (personsOf == nil || personsOf(mask))
		for i, v := range vals {
			ads, persons := leaf(i)
			k := keyOf(v, mask)
			it := s.byMask[mask][k]
			if it == nil {
				it = &supItem{mask: mask, key: k, persons: -1}
				s.byMask[mask][k] = it
				if count {
					union[k] = map[string]struct{}{}
				}
				if mask == s.full {
					it.published = true
					s.leaves = append(s.leaves, it)
				} else {
					s.totals = append(s.totals, it)
				}
			}
			it.leaves = append(it.leaves, i)
			it.ads += ads
			if mask == s.full { // a leaf: its own persons
				it.persons = len(persons)
			} else if count {
				for p := range persons {
					union[k][p] = struct{}{}
				}
			}
		}
		for k, u := range union {
			s.byMask[mask][k].persons = len(u)
		}
	}
	return s
}

// publish marks the totals of mask as rows of this export.
func (s *suppressor) publish(mask int) {
	for _, it := range s.byMask[mask] {
		it.published = true
	}
}

// margin returns the item of mask and key, nil if there is none.
func (s *suppressor) margin(mask int, key string) *supItem { return s.byMask[mask][key] }

// kind returns the suppression of leaf i.
func (s *suppressor) kind(i int) string { return s.leaves[i].state }

func (s *suppressor) run(minCell int) {
	if minCell <= 1 {
		return
	}
	for _, it := range slices.Concat(s.leaves, s.totals) {
		if it.persons > 0 && it.persons < minCell {
			if it.published {
				it.state = SuppressPrimary
			} else {
				it.state = hidden
			}
		}
	}
	// First against this export's own total rows: that protection is
	// always possible (at worst every row is withheld). Then, best effort,
	// against the totals of other exports as well: a row those give away
	// whatever this export withholds is left as it is.
	for _, s.external = range []bool{false, true} {
		given := map[*supItem]bool{}
		for range 2 * (len(s.leaves) + len(s.totals)) {
			v := s.firstRecoverable(given)
			if v == nil {
				break
			}
			if !s.protect(v) {
				given[v] = true
			}
		}
	}
}

// firstRecoverable returns the first suppressed row whose value follows
// from the visible ones, or nil.
func (s *suppressor) firstRecoverable(skip map[*supItem]bool) *supItem {
	sys := s.system()
	for _, it := range slices.Concat(s.leaves, s.totals) {
		if !skip[it] && it.published && (it.state == SuppressPrimary || it.state == SuppressSecondary) && sys.determined(it.leaves) {
			return it
		}
	}
	return nil
}

// visible reports whether a total's value is known to a reader.
func (s *suppressor) visible(it *supItem) bool {
	return it.state == "" && (it.published || s.external)
}

// exposed reports whether leaf i is the only cell of a visible total (of
// another export): it is known whatever this export shows.
func (s *suppressor) exposed(i int) bool {
	for _, it := range s.totals {
		if len(it.leaves) == 1 && it.leaves[0] == i && s.visible(it) {
			return true
		}
	}
	return false
}

// protect suppresses one more visible row so that v is no longer
// recoverable, preferring the smallest cells that share a total with v; it
// reports false when no suppression in this export can protect v.
func (s *suppressor) protect(v *supItem) bool {
	in := map[int]bool{}
	for _, i := range v.leaves {
		in[i] = true
	}
	var cands []*supItem
	seen := map[int]bool{}
	for _, it := range s.totals {
		if !s.visible(it) || !slices.ContainsFunc(it.leaves, func(i int) bool { return in[i] }) {
			continue
		}
		for _, j := range it.leaves {
			if l := s.leaves[j]; !seen[j] && l.state == "" && !s.exposed(j) {
				seen[j] = true
				cands = append(cands, l)
			}
		}
	}
	smallest := func(a, b *supItem) int {
		if a.persons != b.persons {
			return a.persons - b.persons
		}
		if a.ads != b.ads {
			return a.ads - b.ads
		}
		return strings.Compare(a.key, b.key)
	}
	slices.SortStableFunc(cands, smallest)
	var tots []*supItem
	for _, it := range s.totals {
		if it.published && it.state == "" && len(it.leaves) > 0 { // an empty sum is 0 whatever is shown
			tots = append(tots, it)
		}
	}
	slices.SortStableFunc(tots, smallest)
	cands = append(cands, tots...)
	if len(cands) == 0 {
		return false
	}
	for _, c := range cands[:min(len(cands), 32)] {
		c.state = SuppressSecondary
		if !s.system().determined(v.leaves) {
			return true
		}
		c.state = ""
	}
	// No single row protects v. If suppressing them all would, take the
	// smallest and try again; if not, v is known from other exports alone
	// (a total of another export over cells that must hold one advert
	// each), and nothing this export withholds changes that.
	for _, c := range cands {
		c.state = SuppressSecondary
	}
	fixable := !s.system().determined(v.leaves)
	for _, c := range cands {
		c.state = ""
	}
	if !fixable {
		return false
	}
	cands[0].state = SuppressSecondary
	return true
}

// SuppressAdditive applies primary and secondary suppression to a table
// whose every published number is a sum of leaf cells, such as the arena
// overlap (leaves: the capture histories; sums: persons per arena, per
// pair, per number of arenas, the total). values are the leaves' counts;
// each of sums lists the leaves (indexes into values) it adds up. A leaf
// or sum from 1 to minCell-1 is suppressed "primary"; further ones
// "secondary", smallest first, until no suppressed number follows from the
// visible ones, by linear algebra or with the bounds every leaf obeys
// (each holds at least one; see suppress_bounds.go). Leaves must be at
// least 1. The returned slices hold "",
// SuppressPrimary or SuppressSecondary per leaf and per sum. minCell 0 or
// 1 suppresses nothing.
func SuppressAdditive(values []int, sums [][]int, minCell int) (leaves, totals []string) {
	s := &suppressor{}
	for i, v := range values {
		s.leaves = append(s.leaves, &supItem{key: fmt.Sprintf("%08d", i), leaves: []int{i}, ads: v, persons: v, published: true})
	}
	for j, sum := range sums {
		it := &supItem{key: fmt.Sprintf("t%08d", j), leaves: slices.Clone(sum), published: true}
		for _, i := range sum {
			it.ads += values[i]
		}
		it.persons = it.ads
		s.totals = append(s.totals, it)
	}
	s.run(minCell)
	// Then against the bounds attack (every leaf holds at least one): the
	// tables this is for are small enough for linear programming.
	if minCell > 1 {
		given := map[*supItem]bool{}
		for range len(s.leaves) + len(s.totals) {
			v := s.boundsPinned(given)
			if v == nil {
				break
			}
			if !s.protect(v) {
				given[v] = true
			}
		}
	}
	leaves, totals = make([]string, len(values)), make([]string, len(sums))
	for i, l := range s.leaves {
		leaves[i] = l.state
	}
	for j, t := range s.totals {
		totals[j] = t.state
	}
	return leaves, totals
}
