package bleve

import (
	"context"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
)

// FuzzParseQuery: parsing query-string text (what /api/search and 'adcensus
// search' pass on) never panics, and a query that parses runs on a small
// sharded index without panicking, its hits never more than its total.
func FuzzParseQuery(f *testing.F) {
	for _, q := range []string{"lund", "", "/[/", "%zz", "(a OR b)", "city:(", "+title:sällskap -body:massage", `"sällskap i lund"~2`,
		`+posted_at:>="2026-02-01" +posted_at:<"2026-03-01"`, "age:>17", "a~2 b~2", "*", "title:/s.*/", `\`, "^2", "posted_at:>=\"x\""} {
		f.Add(q)
	}
	x, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { x.Close() })
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for i, p := range []string{"2026-02-03", "2026-03-02", ""} {
		id := string(rune('a'+i)) + "1"
		a := ad.Ad{ID: id, Arena: "blomstra", Title: "Sällskap i Lund", Body: "Trevlig promenad", City: "Lund", Age: 30}
		if p != "" {
			a.PostedAt, _ = time.Parse("2006-01-02", p)
			a.FetchedAt = a.PostedAt
		}
		fps = append(fps, &ad.Fingerprinted{Ad: a})
		asg = append(asg, ad.Assignment{AdID: id, PersonID: "P" + id, NetworkID: "N" + id})
	}
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := parseQuery(text); err != nil {
			return
		}
		res, err := x.Search(context.Background(), index.Query{Text: text, Size: 2, Facets: []string{index.FieldArena}})
		if err != nil {
			return
		}
		if uint64(len(res.Hits)) > res.Total {
			t.Fatalf("%q: %d hits of a total of %d", text, len(res.Hits), res.Total)
		}
	})
}
