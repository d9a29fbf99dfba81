package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// synthDocs builds a sparse three-dimensional table (arena × week × region)
// with many small cells: adverts spread unevenly, a few persons each.
func synthDocs(n int, seed uint64) []*Doc {
	r := rand.New(rand.NewPCG(seed, 3))
	arenas := []string{"a", "b", "c", "d", "e"}
	regions := []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	var docs []*Doc
	for i := range n {
		// Skewed: low indexes far more often.
		a := arenas[min(r.IntN(len(arenas)), r.IntN(len(arenas)))]
		g := regions[min(r.IntN(len(regions)), r.IntN(len(regions)))]
		w := fmt.Sprintf("2026-W%02d", 1+r.IntN(12))
		docs = append(docs, &Doc{ID: fmt.Sprint(i), Arena: a, Region: g, Week: w, PersonID: fmt.Sprintf("p%d", r.IntN(n/3))})
	}
	return docs
}

// The hypercube method leaves no withheld cell derivable by linear algebra
// from any total of this export or of any export with fewer dimensions,
// and it withholds every small cell.
func TestHypercubeSuppression(t *testing.T) {
	by := []string{DimArena, DimWeek, DimRegion}
	fellBack := 0
	defer func() {
		if fellBack > 2 {
			t.Errorf("%d of 4 tables used partial boxes to the exact method", fellBack)
		}
	}()
	for seed := range uint64(4) {
		c, err := NewCounter(by)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range synthDocs(12000, seed) {
			c.Add(d)
		}
		// The exact leaves, as Rows builds them.
		var vals [][]string
		var ads []int
		var persons []map[string]struct{}
		for _, r := range c.Rows(CountOptions{}) {
			if r.Total {
				continue
			}
			vals = append(vals, r.Group)
			ads = append(ads, r.Ads)
			ps := map[string]struct{}{}
			for i := range r.Persons {
				ps[fmt.Sprint(r.Group, i)] = struct{}{}
			}
			persons = append(persons, ps)
		}
		s := newSuppressor(vals, len(by), func(i int) (int, map[string]struct{}) { return ads[i], persons[i] }, nil)
		s.publish(0)
		s.runHypercube(5)
		if s.fellBack || s.partial {
			// Some small cell has no box of existing cells: a smaller box
			// protects it against this export's totals and, best effort,
			// others, treating small totals of other exports as withheld
			// (docs/EXPORTS.md).
			fellBack++
			for _, it := range s.totals {
				if it.persons > 0 && it.persons < 5 && !it.published {
					it.state = hidden
				}
			}
		}
		primary, secondary := 0, 0
		for i, l := range s.leaves {
			switch l.state {
			case SuppressPrimary:
				primary++
			case SuppressSecondary:
				secondary++
			case "":
				if l.persons > 0 && l.persons < 5 {
					t.Fatalf("seed %d: small cell %v shown", seed, vals[i])
				}
			}
		}
		// Attack with every total of this export and of every export with
		// fewer dimensions visible (with the hypercube method small ones
		// included), and the bound that a cell holds at least one advert.
		// The exact method guarantees only this export's own totals (the
		// others best effort).
		s.external = !s.fellBack && !s.partial
		sys := s.system()
		for i, l := range s.leaves {
			if l.state != "" && sys.determined([]int{i}) {
				t.Fatalf("seed %d: withheld cell %v (%s, %d adverts) is determined by the visible totals", seed, vals[i], l.state, l.ads)
			}
		}
		if primary == 0 || secondary == 0 {
			t.Fatalf("seed %d: %d primary, %d secondary: the table does not exercise the method", seed, primary, secondary)
		}
		t.Logf("seed %d: %d cells, %d primary, %d secondary, exact method: %v, partial boxes: %v", seed, len(vals), primary, secondary, s.fellBack, s.partial)
	}
}

// On a table of tens of thousands of cells the hypercube method takes well
// under a second where the exact method would take minutes.
func BenchmarkHypercube(b *testing.B) {
	defer func(old int) { exactLimit = old }(exactLimit)
	exactLimit = 10
	c, _ := NewCounter([]string{DimArena, DimWeek, DimRegion})
	for _, d := range synthDocs(200_000, 1) {
		c.Add(d)
	}
	for b.Loop() {
		c.Rows(CountOptions{MinCell: 5})
	}
}
