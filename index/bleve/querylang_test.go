package bleve_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"adcensus/index"
)

// Overflowing and deep pages are refused with ErrBadQuery instead of
// panicking in bleve (makeslice: cap out of range) or collecting millions
// of hits.
func TestSearchWindowBounds(t *testing.T) {
	x := MustFixture(t)
	for _, q := range []index.Query{
		{From: math.MaxInt64, Size: 10},
		{From: math.MaxInt64},
		{From: math.MaxInt64 - 5, Size: 10, GroupByPerson: true},
		{From: index.MaxWindow, Size: 1},
		{Size: index.MaxSize + 1},
		{Size: -3},
		{FacetSize: index.MaxFacetSize + 1, Facets: []string{"arena"}},
		{Text: "arena:blomstra", From: math.MaxInt64, Size: 10},
	} {
		_, err := x.Search(context.Background(), q)
		if !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("search %+v: err=%v, want ErrBadQuery", q, err)
		}
	}
	// The last page inside the window is still served.
	if _, err := x.Search(context.Background(), index.Query{From: index.MaxWindow - 10, Size: 10}); err != nil {
		t.Fatal(err)
	}
}

// Queries that bleve accepts but cannot run, or that are too costly, are
// refused with the reason before any shard is searched.
func TestSearchBadAndCostlyQueries(t *testing.T) {
	x := MustFixture(t)
	fuzzy := strings.Repeat("tjej~2 ", 3000)
	for _, tc := range []struct{ text, want string }{
		{`/[/`, "missing closing ]"},
		{`city:(`, "cannot apply to a group"},
		{`(tjej`, "not closed"},
		{`tjej)`, "has no ("},
		{`()`, "empty ()"},
		{`tjej OR`, "nothing after OR"},
		{`AND tjej`, "needs a term before it"},
		{`"unterminated (`, "unterminated quote"},
		{fuzzy, "bytes, at most"},
		{strings.Repeat("ord ", 100), "terms, at most"},
		{strings.Repeat("tj*j ", 10), "at most 8"},
		{`tjej~3`, "fuzziness"},
		{`/(a|b)*c{1000}/`, "too complex"},
	} {
		_, err := x.Search(context.Background(), index.Query{Text: tc.text})
		if !errors.Is(err, index.ErrBadQuery) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("search %.40q: err=%v, want ErrBadQuery with %q", tc.text, err, tc.want)
		}
	}
}

// AND, OR, NOT and parentheses combine query-string runs.
func TestSearchBoolean(t *testing.T) {
	x := MustFixture(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{`(arena:annonsia OR city:Stockholm)`, []string{"a2", "a3", "a4", "a6"}},
		{`arena:annonsia OR city:Stockholm`, []string{"a2", "a3", "a4", "a6"}},
		{`arena:blomstra AND city:Göteborg`, []string{"a1", "a5"}},
		{`arena:blomstra city:Göteborg`, []string{"a1", "a2", "a3", "a5", "a6"}}, // no operator: plain query-string (either)
		{`arena:blomstra NOT city:Göteborg`, []string{"a2", "a6"}},
		{`arena:blomstra AND (city:Stockholm OR massage)`, []string{"a2", "a6"}},
		{`-(arena:blomstra) AND city:Göteborg`, []string{"a3"}},
		{`(massage) (city:Göteborg)`, []string{"a3"}}, // groups side by side: both
		{`tjejer AND NOT igen`, []string{"a1"}},
		{`"Sällskap (Malmö)" OR arena:annonsia`, []string{"a3", "a4"}},
	} {
		res := MustSearch(t, x, index.Query{Text: tc.text, Size: 100})
		if got := ids(res.Hits); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.text, got, tc.want)
		}
	}
}
