package bleve_test

import (
	"slices"
	"testing"

	"adcensus/ad"
	"adcensus/index"
)

// TestSearchFolded: search is case- and diacritic-insensitive, and a city's
// other names find its adverts, in Swedish and English adverts alike.
func TestSearchFolded(t *testing.T) {
	x := MustFixture(t)
	MustApply(t, x, []*ad.Fingerprinted{
		fp("b1", "annonsia", "Kan träffas i centrum", "Vi kan träffas på kvällen för en fika.", "Göteborg", 30, "2026-03-05"),
		fp("b2", "annonsia", "Café in Malmö", "Meet me at a café near the station, every evening.", "Malmö", 33, "2026-03-05"),
	}, nil)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"goteborg", []string{"a1", "a3", "a5", "b1"}},
		{"GÖTEBORG", []string{"a1", "a3", "a5", "b1"}},
		{"Gothenburg", []string{"a1", "a3", "a5", "b1"}},
		{"gbg", []string{"a1", "a3", "a5", "b1"}},
		{"traffas", []string{"b1"}},
		{"TRÄFFAS", []string{"b1"}},
		{"träffas", []string{"b1"}},
		{"malmo", []string{"a4", "b2"}},
		{"cafe", []string{"b2"}},
		{`"kan traffas"`, []string{"b1"}},
		{"gote*", []string{"a1", "a3", "a5", "b1"}},
		{"GÖTE*", []string{"a1", "a3", "a5", "b1"}},
		{"sallskap", []string{"a4", "a6"}},
		{"city:Göteborg", []string{"a1", "a3", "a5", "b1"}},
		{"city:goteborg", nil}, // keyword fields stay exact: facets name them
	} {
		t.Run(tc.text, func(t *testing.T) {
			res := MustSearch(t, x, index.Query{Text: tc.text})
			if got := ids(res.Hits); !slices.Equal(got, tc.want) {
				t.Fatalf("%q: hits=%v, want %v", tc.text, got, tc.want)
			}
		})
	}
}
