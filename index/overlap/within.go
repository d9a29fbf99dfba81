package overlap

import (
	"errors"
	"fmt"
	"slices"

	"adcensus/index"
)

// ErrDisclosive is returned by NewReport with ReportOptions.Within when
// the report of a subset of the arenas cannot be published beside the
// report of all arenas without disclosing a small cell of one of them.
var ErrDisclosive = errors.New("overlap: this set of arenas would disclose a small cell of the overlap of all arenas")

// cellSums lists, for every count a report of o shows (per arena, per
// spread, per pair, the total; with histories also each history), the
// leaves (indexes into leaves) it adds up, a leaf's arenas taken through
// on (its arenas among o's).
func cellSums(o *Overlap, leaves []History, on func(h History) []string, histories bool) [][]int {
	proj := make([][]string, len(leaves))
	for i, h := range leaves {
		proj[i] = on(h)
	}
	var sums [][]int
	add := func(keep func(arenas []string) bool) {
		sum := []int{}
		for i, p := range proj {
			if len(p) > 0 && keep(p) {
				sum = append(sum, i)
			}
		}
		sums = append(sums, sum)
	}
	has := func(as []string, a string) bool { _, ok := slices.BinarySearch(as, a); return ok }
	for _, a := range o.PerArena {
		add(func(as []string) bool { return has(as, a.Arena) })
	}
	for _, sp := range o.Spread {
		add(func(as []string) bool { return len(as) == sp.Arenas })
	}
	for _, p := range o.Pairs {
		add(func(as []string) bool { return has(as, p.A) && has(as, p.B) })
	}
	add(func([]string) bool { return true })
	if histories {
		for _, h := range o.Histories {
			add(func(as []string) bool { return slices.Equal(as, h.Arenas) })
		}
	}
	return sums
}

// jointSuppression decides which counts of o, the overlap of a subset of
// full's arenas, to withhold so that o's report and full's own report
// (as NewReport suppresses it) together disclose no small cell: every
// count of both is a sum of full's capture histories, so both reports'
// counts go into one index.SuppressAdditive. When that would have to hide
// a count full's own report shows, it returns ErrDisclosive.
func jointSuppression(o, full *Overlap, minCell int) (histories, arenas, spread, pairs []string, total string, err error) {
	for _, a := range o.Arenas {
		if _, ok := slices.BinarySearch(full.Arenas, a); !ok {
			return nil, nil, nil, nil, "", fmt.Errorf("overlap: arena %q is not among the arenas of the whole overlap", a)
		}
	}
	values := make([]int, len(full.Histories))
	for i, h := range full.Histories {
		values[i] = h.Persons
	}
	fullSums := cellSums(full, full.Histories, func(h History) []string { return h.Arenas }, false)
	subSums := cellSums(o, full.Histories, func(h History) []string {
		var in []string
		for _, a := range h.Arenas {
			if _, ok := slices.BinarySearch(o.Arenas, a); ok {
				in = append(in, a)
			}
		}
		return in
	}, true)
	// A count of the subset that adds up the same histories as a count of
	// the whole (an arena's persons, a pair's) is that count: one sum.
	sums := slices.Clone(fullSums)
	at := map[string]int{}
	key := func(sum []int) string { return fmt.Sprint(sum) }
	for i, sum := range sums {
		at[key(sum)] = i
	}
	subAt := make([]int, len(subSums))
	for i, sum := range subSums {
		j, ok := at[key(sum)]
		if !ok {
			j = len(sums)
			sums = append(sums, sum)
			at[key(sum)] = j
		}
		subAt[i] = j
	}
	leaves, st := index.SuppressAdditive(values, sums, minCell)
	// full's own report, as published on its own
	fh, fa, fs, fp, ft := suppression(full, minCell)
	own := append(append(append(slices.Clone(fa), fs...), fp...), ft)
	for i, s := range leaves {
		if s != "" && fh[i] == "" {
			return nil, nil, nil, nil, "", ErrDisclosive
		}
	}
	for i, s := range st[:len(fullSums)] {
		if s != "" && own[i] == "" {
			return nil, nil, nil, nil, "", ErrDisclosive
		}
	}
	sub := make([]string, len(subSums))
	for i, j := range subAt {
		sub[i] = st[j]
	}
	na, ns, np := len(o.PerArena), len(o.Spread), len(o.Pairs)
	return sub[na+ns+np+1:], sub[:na], sub[na : na+ns], sub[na+ns : na+ns+np], sub[na+ns+np], nil
}
