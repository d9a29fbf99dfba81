package bleve_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/overlap"
)

// Facts reads a person's adverts from every monthly shard, and
// ForEachFact lists every advert's count fields without the text.
func TestFactsAcrossShards(t *testing.T) {
	x := MustOpen(t, "")
	fps := []*ad.Fingerprinted{
		fp("m1", "blomstra", "Sällskap", "Hej.", "Göteborg", 30, "2026-01-20"),
		fp("m2", "annonsia", "Sällskap", "Hej.", "Malmö", 30, "2026-02-14"),
		fp("m3", "blomstra", "Sällskap", "Hej.", "Umeå", 30, "2026-03-09"),
		fp("m4", "blomstra", "Sällskap", "Hej.", "Umeå", 30, "2026-03-10"),
		fp("o1", "annonsia", "Sällskap", "Hej.", "Lund", 30, "2026-03-10"),
	}
	fps[0].Contacts = []string{"tel:00112233445566778899"}
	fps[3].Contacts = []string{"tel:00112233445566778899", "tel:99887766554433221100"}
	asg := []ad.Assignment{
		{AdID: "m1", PersonID: "P1", NetworkID: "N1"}, {AdID: "m2", PersonID: "P1", NetworkID: "N1"},
		{AdID: "m3", PersonID: "P1", NetworkID: "N1"}, {AdID: "m4", PersonID: "P1", NetworkID: "N1"},
		{AdID: "o1", PersonID: "P2", NetworkID: "N1"},
	}
	MustApply(t, x, fps, asg)
	if got, want := x.Shards(), []string{"p2026-01", "p2026-02", "p2026-03"}; !slices.Equal(got, want) {
		t.Fatalf("shards=%v, want %v", got, want)
	}
	ctx := context.Background()
	f, err := x.Facts(ctx, index.FieldPersonID, "P1")
	if err != nil {
		t.Fatal(err)
	}
	want := &index.Facts{
		Ads: 4, Persons: 1,
		Arenas:       []index.FacetCount{{Term: "blomstra", Count: 3}, {Term: "annonsia", Count: 1}},
		Cities:       []index.FacetCount{{Term: "Umeå", Count: 2}, {Term: "Göteborg", Count: 1}, {Term: "Malmö", Count: 1}},
		Networks:     []index.FacetCount{{Term: "N1", Count: 4}},
		Contacts:     []index.FacetCount{{Term: "tel:00112233445566778899", Count: 2}, {Term: "tel:99887766554433221100", Count: 1}},
		Months:       []index.FacetCount{{Term: "2026-01", Count: 1}, {Term: "2026-02", Count: 1}, {Term: "2026-03", Count: 2}},
		MonthsActive: 3, FirstSeen: day("2026-01-20"), LastSeen: day("2026-03-10"),
	}
	if !factsEqual(f, want) {
		t.Fatalf("P1 facts=%+v\nwant %+v", f, want)
	}
	n, err := x.Facts(ctx, index.FieldNetworkID, "N1")
	if err != nil {
		t.Fatal(err)
	}
	if n.Ads != 5 || n.Persons != 2 || n.MonthsActive != 3 || len(n.Cities) != 4 {
		t.Fatalf("N1 facts=%+v", n)
	}
	none, err := x.Facts(ctx, index.FieldPersonID, "P9")
	if err != nil || none.Ads != 0 || none.Persons != 0 {
		t.Fatalf("P9 facts=%+v, %v", none, err)
	}
	if _, err := x.Facts(ctx, index.FieldCity, "Umeå"); !errors.Is(err, index.ErrBadQuery) {
		t.Fatalf("facts of a city: err=%v, want ErrBadQuery", err)
	}

	var ids []string
	err = x.ForEachFact(ctx, func(d *index.Doc) error {
		if d.Title != "" || d.Body != "" || len(d.Contacts) > 0 {
			t.Errorf("fact %s carries more than the count fields: %+v", d.ID, d)
		}
		ids = append(ids, d.ID+"/"+d.PersonID+"/"+d.City+"/"+d.Month)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"m1/P1/Göteborg/2026-01", "m2/P1/Malmö/2026-02", "m3/P1/Umeå/2026-03", "m4/P1/Umeå/2026-03", "o1/P2/Lund/2026-03"}; !slices.Equal(ids, want) {
		t.Fatalf("facts=%v, want %v", ids, want)
	}
	stop := errors.New("stop")
	n2 := 0
	if err := x.ForEachFact(ctx, func(*index.Doc) error { n2++; return stop }); !errors.Is(err, stop) || n2 != 1 {
		t.Fatalf("ForEachFact did not stop at the first error: %v after %d", err, n2)
	}
}

func factsEqual(a, b *index.Facts) bool {
	return a.Ads == b.Ads && a.Persons == b.Persons && a.MonthsActive == b.MonthsActive &&
		a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) &&
		slices.Equal(a.Arenas, b.Arenas) && slices.Equal(a.Cities, b.Cities) && slices.Equal(a.Networks, b.Networks) &&
		slices.Equal(a.Contacts, b.Contacts) && slices.Equal(a.Months, b.Months)
}

// A person with more adverts in one shard than the first pass asks for
// gets them all.
func TestFactsManyAdverts(t *testing.T) {
	x := MustOpen(t, "")
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for i := range 310 {
		posted := "2026-03-10"
		if i >= 300 {
			posted = "2026-04-10"
		}
		id := fmt.Sprintf("m%03d", i)
		fps = append(fps, fp(id, "blomstra", "Sällskap", "Hej.", "Umeå", 30, posted))
		asg = append(asg, ad.Assignment{AdID: id, PersonID: "P1", NetworkID: "N1"})
	}
	MustApply(t, x, fps, asg)
	f, err := x.Facts(context.Background(), index.FieldPersonID, "P1")
	if err != nil {
		t.Fatal(err)
	}
	if f.Ads != 310 || f.MonthsActive != 2 || !f.LastSeen.Equal(day("2026-04-10")) {
		t.Fatalf("facts: ads=%d months=%v last=%v, want 310, 2 months, 2026-04-10", f.Ads, f.Months, f.LastSeen)
	}
}

// The overlap export reads arenas and persons from the facts bucket; it
// must equal the overlap of the full documents.
func TestOverlapFromFactsEqualsDocs(t *testing.T) {
	x := MustOpen(t, "")
	fps := []*ad.Fingerprinted{
		fp("a1", "blomstra", "S", "Hej.", "Lund", 30, "2026-01-20"),
		fp("a2", "annonsia", "S", "Hej.", "Lund", 30, "2026-02-14"),
		fp("a3", "nattlinjen", "S", "Hej.", "Umeå", 30, "2026-03-09"),
		fp("a4", "blomstra", "S", "Hej.", "Umeå", 30, "2026-03-10"),
		fp("a5", "annonsia", "S", "Hej.", "Lund", 30, "2026-03-10"), // unassigned: its own person
	}
	MustApply(t, x, fps, []ad.Assignment{
		{AdID: "a1", PersonID: "P1", NetworkID: "N1"}, {AdID: "a2", PersonID: "P1", NetworkID: "N1"},
		{AdID: "a3", PersonID: "P2", NetworkID: "N2"}, {AdID: "a4", PersonID: "P2", NetworkID: "N2"},
	})
	ctx := context.Background()
	var docs overlap.Docs
	if err := x.ForEachDoc(ctx, func(d *index.Doc) error { c := *d; docs = append(docs, &c); return nil }); err != nil {
		t.Fatal(err)
	}
	fromFacts, err := overlap.Compute(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	fromDocs, err := overlap.Compute(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFacts, fromDocs) || fromFacts.Persons != 3 {
		t.Fatalf("overlap from facts %+v\nfrom documents %+v", fromFacts, fromDocs)
	}
}
