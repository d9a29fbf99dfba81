package patterns_test

import (
	"context"
	"testing"

	"adcensus/ad"
	"adcensus/index/bleve"
	"adcensus/index/patterns"
)

// A pattern's query selects adverts through the real index.
func TestRunQuery(t *testing.T) {
	x, err := bleve.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	ctx := context.Background()
	fps := []*ad.Fingerprinted{
		{Ad: ad.Ad{ID: "a1", Arena: "blomstra", Body: "Boka henne i Göteborg."}},
		{Ad: ad.Ad{ID: "a2", Arena: "blomstra", Body: "Trädgårdshjälp i Malmö."}},
		{Ad: ad.Ad{ID: "a3", Arena: "annonsia", Body: "Boka henne i Uppsala."}},
	}
	asg := []ad.Assignment{{AdID: "a1", PersonID: "p1"}, {AdID: "a2", PersonID: "p1"}, {AdID: "a3", PersonID: "p2"}}
	if err := x.Apply(ctx, fps, asg); err != nil {
		t.Fatal(err)
	}
	p, err := patterns.Parse("q.yaml", []byte("name: q\nversion: 1\nlevel: advert\ndescription: test\nquery: \"+arena:blomstra\"\ntext_any: [boka henne]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := patterns.Run(ctx, x, p)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Examined != 2 || len(rep.Matches) != 1 || rep.Matches[0].Key != "p1" || len(rep.Matches[0].AdIDs) != 1 || rep.Matches[0].AdIDs[0] != "a1" {
		t.Fatalf("report=%+v", rep)
	}
}
