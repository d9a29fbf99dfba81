package bleve

import (
	"fmt"
	"slices"
	"testing"

	"github.com/blevesearch/bleve/v2/search/query"
)

// plan skips the shards a required posted_at range cannot match, drops
// the range on the shards whose whole month it covers, and makes it a
// filter on the others ("key:n": n ranges kept as a filter).
func TestPlan(t *testing.T) {
	shards := []shard{{key: "f2026-02"}, {key: "p2026-01"}, {key: "p2026-02"}, {key: "p2026-03"}, {key: "undated"}}
	for _, tc := range []struct {
		text          string
		keys, dropped []string
	}{
		{"massage", []string{"f2026-02", "p2026-01", "p2026-02", "p2026-03", "undated"}, nil},
		// Stockholm's February is [Jan 31 23:00Z, Feb 28 23:00Z).
		{`+massage +posted_at:>="2026-01-31T23:00:00Z" +posted_at:<"2026-02-28T23:00:00Z"`, []string{"p2026-02"}, []string{"p2026-02"}},
		// Exclusive start at the month's first instant: only the end is dropped.
		{`+massage +posted_at:>"2026-01-31T23:00:00Z" +posted_at:<"2026-02-28T23:00:00Z"`, []string{"p2026-02"}, []string{"p2026-02:1"}},
		{`+posted_at:>="2026-02-01"`, []string{"p2026-02", "p2026-03"}, []string{"p2026-02:1", "p2026-03"}},
		{`+posted_at:<="2026-01-31T23:00:00Z"`, []string{"p2026-01", "p2026-02"}, []string{"p2026-01", "p2026-02:1"}},
		{`+massage +posted_at:>="2026-02-03" +posted_at:<"2026-02-20"`, []string{"p2026-02"}, []string{"p2026-02:2"}},
		{`+posted_at:<"2026-01-31T23:00:00Z"`, []string{"p2026-01"}, []string{"p2026-01"}},
		{`massage posted_at:>="2026-02-01"`, []string{"f2026-02", "p2026-01", "p2026-02", "p2026-03", "undated"}, nil}, // optional: no pruning
	} {
		q, err := parseQuery(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		var keys, dropped []string
		for _, p := range plan(q, shards) {
			keys = append(keys, p.key)
			if p.q != q {
				nb := p.q.(*query.BooleanQuery)
				for _, c := range nb.Must.(*query.ConjunctionQuery).Conjuncts {
					if _, ok := c.(*query.DateRangeQuery); ok {
						t.Fatalf("%s: shard %s scores a date range", tc.text, p.key)
					}
				}
				switch f := nb.Filter.(type) {
				case nil:
					dropped = append(dropped, p.key)
				case *query.DateRangeQuery:
					dropped = append(dropped, p.key+":1")
				case *query.ConjunctionQuery:
					dropped = append(dropped, fmt.Sprintf("%s:%d", p.key, len(f.Conjuncts)))
				}
			}
		}
		if !slices.Equal(keys, tc.keys) || !slices.Equal(dropped, tc.dropped) {
			t.Errorf("%s: shards %v (range dropped on %v), want %v (%v)", tc.text, keys, dropped, tc.keys, tc.dropped)
		}
	}
}
