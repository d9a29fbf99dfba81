package index_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/index"
)

// cellSpec is one hand-built cell: its dimension values and counts.
type cellSpec struct {
	city, week    string
	ads, persons  int
	possibleMinor bool
}

// MustDocs builds documents for cells: persons distinct per cell, adverts
// spread over them.
func MustDocs(tb testing.TB, cells []cellSpec) []*index.Doc {
	tb.Helper()
	var out []*index.Doc
	for ci, c := range cells {
		if c.persons < 1 || c.persons > c.ads {
			tb.Fatalf("cell %d: persons %d, ads %d", ci, c.persons, c.ads)
		}
		for i := range c.ads {
			out = append(out, &index.Doc{
				ID: fmt.Sprintf("c%d-a%d", ci, i), City: c.city, Week: c.week,
				PersonID: fmt.Sprintf("c%d-p%d", ci, i%c.persons), PossibleMinor: c.possibleMinor,
			})
		}
	}
	return out
}

func MustRows(tb testing.TB, docs []*index.Doc, by []string, opt index.CountOptions) []index.CountRow {
	tb.Helper()
	c, err := index.NewCounter(by)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range docs {
		c.Add(d)
	}
	return c.Rows(opt)
}

// equation says the leaves in it hold sum adverts together.
type equation struct {
	leaves []int
	sum    int
}

// attack returns, for each suppressed leaf row, one advert count consistent
// with the visible rows and the equations, and a second one if there is
// one: a row with a single value is recovered by subtracting visible cells
// from visible totals.
func attack(tb testing.TB, leaves []index.CountRow, eqs []equation) map[int][]int {
	tb.Helper()
	var vars []int
	known := map[int]int{}
	for i, r := range leaves {
		if r.Suppressed {
			vars = append(vars, i)
		} else {
			known[i] = r.Ads
		}
	}
	// Reduce each equation to its suppressed leaves.
	type req struct {
		vars []int
		rhs  int
	}
	var reqs []req
	for _, e := range eqs {
		r := req{rhs: e.sum}
		for _, l := range e.leaves {
			if v, ok := known[l]; ok {
				r.rhs -= v
			} else {
				r.vars = append(r.vars, l)
			}
		}
		if len(r.vars) > 0 {
			reqs = append(reqs, r)
		}
	}
	// A cell is at most the smallest remainder of a total it is in; a cell
	// in none is unbounded (a little slack stands for that).
	upper := map[int]int{}
	for _, v := range vars {
		upper[v] = 50
		for _, r := range reqs {
			if slices.Contains(r.vars, v) {
				upper[v] = min(upper[v], r.rhs)
			}
		}
	}
	// solve returns the first assignment meeting every equation with
	// vars[skipVar] != skipVal (skipVar -1: no restriction), or nil.
	solve := func(skipVar, skipVal int) map[int]int {
		val := map[int]int{}
		ok := func() bool {
			for _, r := range reqs {
				s, all := 0, true
				for _, v := range r.vars {
					if x, set := val[v]; set {
						s += x
					} else {
						all = false
					}
				}
				if s > r.rhs || all && s != r.rhs {
					return false
				}
			}
			return true
		}
		var dfs func(k int) bool
		dfs = func(k int) bool {
			if k == len(vars) {
				return true
			}
			for x := 1; x <= upper[vars[k]]; x++ {
				if k == skipVar && x == skipVal {
					continue
				}
				val[vars[k]] = x
				if ok() && dfs(k+1) {
					return true
				}
				delete(val, vars[k])
			}
			return false
		}
		if !dfs(0) {
			return nil
		}
		return val
	}
	out := map[int][]int{}
	first := solve(-1, 0)
	if first == nil {
		tb.Fatalf("no assignment meets the totals: the test's equations are wrong")
	}
	for k, v := range vars {
		out[v] = []int{first[v]}
		if other := solve(k, first[v]); other != nil {
			out[v] = append(out[v], other[v])
		}
	}
	return out
}

// margins returns the equations of the totals another export with fewer
// dimensions (of dims, given as value functions) would show: those whose
// persons count is not itself suppressed.
func margins(docs []*index.Doc, rows []index.CountRow, dims []func(*index.Doc) string, minCell int) []equation {
	leafOf := func(d *index.Doc) int {
		for i, r := range rows {
			if r.Total {
				continue
			}
			match := true
			for j, f := range dims {
				if r.Group != nil && j < len(r.Group) && f(d) != r.Group[j] {
					match = false
				}
			}
			if match {
				return i
			}
		}
		return -1
	}
	var eqs []equation
	for mask := 0; mask < 1<<len(dims)-1; mask++ {
		type acc struct {
			leaves  map[int]bool
			ads     int
			persons map[string]bool
		}
		groups := map[string]*acc{}
		for _, d := range docs {
			var key []string
			for j, f := range dims {
				if mask&(1<<j) != 0 {
					key = append(key, f(d))
				}
			}
			k := strings.Join(key, "\x00")
			a := groups[k]
			if a == nil {
				a = &acc{leaves: map[int]bool{}, persons: map[string]bool{}}
				groups[k] = a
			}
			a.leaves[leafOf(d)] = true
			a.ads++
			a.persons[d.Person()] = true
		}
		for _, a := range groups {
			if len(a.persons) < minCell {
				continue
			}
			var ls []int
			for l := range a.leaves {
				ls = append(ls, l)
			}
			slices.Sort(ls)
			eqs = append(eqs, equation{leaves: ls, sum: a.ads})
		}
	}
	return eqs
}

func TestSecondarySuppression(t *testing.T) {
	city := func(d *index.Doc) string { return d.City }
	week := func(d *index.Doc) string { return d.Week }
	for _, tc := range []struct {
		name  string
		by    []string
		cells []cellSpec
		// secondary lists the groups (joined by ",") that must get
		// secondary suppression, when the choice is fixed.
		secondary []string
	}{
		{"one dimension, one small cell", []string{"city"}, []cellSpec{
			{city: "A", ads: 12, persons: 10}, {city: "B", ads: 2, persons: 1},
			{city: "C", ads: 9, persons: 8}, {city: "D", ads: 7, persons: 6},
		}, []string{"D"}},
		{"one dimension, two small cells of one advert each", []string{"city"}, []cellSpec{
			{city: "A", ads: 12, persons: 10}, {city: "B", ads: 1, persons: 1},
			{city: "C", ads: 1, persons: 1}, {city: "D", ads: 7, persons: 6},
		}, []string{"D"}},
		{"two dimensions", []string{"city", "week"}, []cellSpec{
			{city: "A", week: "W1", ads: 9, persons: 8}, {city: "A", week: "W2", ads: 3, persons: 2},
			{city: "A", week: "W3", ads: 10, persons: 9},
			{city: "B", week: "W1", ads: 7, persons: 6}, {city: "B", week: "W2", ads: 8, persons: 7},
			{city: "B", week: "W3", ads: 9, persons: 6},
			{city: "C", week: "W1", ads: 6, persons: 5}, {city: "C", week: "W2", ads: 12, persons: 11},
			{city: "C", week: "W3", ads: 5, persons: 5},
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := MustDocs(t, tc.cells)
			rows := MustRows(t, docs, tc.by, index.CountOptions{MinCell: 5})
			leaves, total := rows[:len(rows)-1], rows[len(rows)-1]
			if total.Suppressed {
				t.Fatalf("total suppressed: %+v", total)
			}
			var all []int
			for i := range leaves {
				all = append(all, i)
			}
			dims := []func(*index.Doc) string{city, week}[:len(tc.by)]
			for _, set := range []struct {
				name string
				eqs  []equation
			}{
				{"this export's total", []equation{{leaves: all, sum: total.Ads}}},
				{"totals of exports with fewer dimensions", margins(docs, leaves, dims, 5)},
			} {
				for i, vals := range attack(t, leaves, set.eqs) {
					if len(vals) < 2 {
						t.Errorf("%s: row %v recoverable as %v from %s\nrows=%+v", tc.name, leaves[i].Group, vals, set.name, rows)
					}
				}
			}
			// Without the secondary rows the same attack recovers a cell:
			// the check can fail.
			plain := MustRows(t, docs, tc.by, index.CountOptions{})
			primaryOnly := slices.Clone(leaves)
			for i, r := range primaryOnly {
				if r.Suppression == index.SuppressSecondary {
					primaryOnly[i] = plain[i]
				}
			}
			recovered := false
			for _, vals := range attack(t, primaryOnly, []equation{{leaves: all, sum: total.Ads}}) {
				recovered = recovered || len(vals) < 2
			}
			if !recovered {
				t.Errorf("primary suppression alone: no row recovered from the total; the attack is too weak")
			}
			var primary, secondary []string
			for i, r := range leaves {
				switch r.Suppression {
				case index.SuppressPrimary:
					primary = append(primary, strings.Join(r.Group, ","))
					if c := tc.cells[i]; c.persons >= 5 {
						t.Errorf("primary on %v with %d persons", r.Group, c.persons)
					}
				case index.SuppressSecondary:
					secondary = append(secondary, strings.Join(r.Group, ","))
				}
			}
			if len(primary) == 0 {
				t.Fatal("no primary suppression: the table tests nothing")
			}
			if tc.secondary != nil && !slices.Equal(secondary, tc.secondary) {
				t.Fatalf("secondary=%v, want %v", secondary, tc.secondary)
			}
			if len(secondary) == 0 {
				t.Fatalf("no secondary suppression; rows=%+v", rows)
			}
		})
	}
}

func TestSplitMinors(t *testing.T) {
	cells := []cellSpec{
		{city: "A", ads: 12, persons: 10}, {city: "B", ads: 9, persons: 8},
		{city: "A", ads: 2, persons: 2, possibleMinor: true}, {city: "B", ads: 7, persons: 6, possibleMinor: true},
	}
	docs := MustDocs(t, cells)
	// One flagged advert flags the person: all their adverts move.
	docs = append(docs, &index.Doc{ID: "x1", City: "B", PersonID: "c0-p0"}, &index.Doc{ID: "x2", City: "B", PersonID: "c0-p0", PossibleMinor: true})
	opt := index.CountOptions{Split: index.SplitMinors}
	rows := MustRows(t, docs, []string{"city"}, opt)
	want := []index.CountRow{
		{Table: "possible_minors", Group: []string{"A"}, Ads: 2 + 2, Persons: 2 + 1}, // c0-p0's two A adverts moved
		{Table: "possible_minors", Group: []string{"B"}, Ads: 7 + 2, Persons: 6 + 1},
		{Table: "possible_minors", Group: []string{"*"}, Ads: 13, Persons: 9, Total: true},
		{Table: "others", Group: []string{"A"}, Ads: 10, Persons: 9},
		{Table: "others", Group: []string{"B"}, Ads: 9, Persons: 8},
		{Table: "others", Group: []string{"*"}, Ads: 19, Persons: 17, Total: true},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows=%+v\nwant %+v", rows, want)
	}
	var b strings.Builder
	if err := index.WriteCountsCSV(&b, []string{"city"}, rows); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "table,city,ads,persons\npossible_minors,A,4,3\npossible_minors,B,9,7\npossible_minors,*,13,9\nothers,A,10,9\nothers,B,9,8\nothers,*,19,17\n"; got != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	if err := index.WriteCountsJSON(&b, []string{"city"}, rows, opt, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"split": "minors"`, `"possible_minors": [`, `"others": [`} {
		if !strings.Contains(b.String(), s) {
			t.Fatalf("json lacks %s:\n%s", s, b.String())
		}
	}
	if strings.Contains(b.String(), `"rows"`) {
		t.Fatalf("split json has rows:\n%s", b.String())
	}

	// A small possible-minors table must not be derivable from the others
	// total and the grand total of an export without --split.
	small := MustDocs(t, []cellSpec{{city: "A", ads: 12, persons: 10}, {city: "B", ads: 9, persons: 8}, {city: "A", ads: 2, persons: 2, possibleMinor: true}})
	rows = MustRows(t, small, []string{"city"}, index.CountOptions{MinCell: 5, Split: index.SplitMinors})
	var minorsTotal, othersTotal index.CountRow
	for _, r := range rows {
		if r.Total && r.Table == index.TablePossibleMinors {
			minorsTotal = r
		}
		if r.Total && r.Table == index.TableOthers {
			othersTotal = r
		}
	}
	if minorsTotal.Suppression != index.SuppressPrimary || othersTotal.Suppression != index.SuppressSecondary {
		t.Fatalf("minors total %+v, others total %+v: want primary and secondary\nrows=%+v", minorsTotal, othersTotal, rows)
	}
	var visibleOthers int
	for _, r := range rows {
		if r.Table == index.TableOthers && !r.Total && !r.Suppressed {
			visibleOthers++
		}
	}
	if visibleOthers == 2 {
		t.Fatalf("both others cells visible: their sum gives the others total\nrows=%+v", rows)
	}
}

func TestCountOptionsValidate(t *testing.T) {
	for _, o := range []index.CountOptions{{MinCell: -1}, {Split: "gender"}} {
		if err := o.Validate(); err == nil {
			t.Errorf("Validate(%+v)=nil, want error", o)
		}
	}
	if err := (index.CountOptions{MinCell: 5, Split: index.SplitMinors}).Validate(); err != nil {
		t.Fatal(err)
	}
}
