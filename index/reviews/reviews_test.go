package reviews_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	indexbleve "adcensus/index/bleve"
	"adcensus/index/reviews"
	"adcensus/internal/contact"
)

var pseudo = contact.New(bytes.Repeat([]byte{3}, 32))

func tel(t *testing.T, raw string) string {
	t.Helper()
	p, ok := pseudo.Phone(raw)
	if !ok {
		t.Fatalf("not a phone: %s", raw)
	}
	return p
}

// advert is one indexed advert of the tests.
type advert struct {
	id, person, url, name, city, region, phone string
	posted                                     time.Time
}

// mustIndex builds a real bleve index in a temporary folder with the
// adverts and their persons.
func mustIndex(t *testing.T, ads []advert) index.Store {
	t.Helper()
	ix, err := indexbleve.Open(filepath.Join(t.TempDir(), "index"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for _, a := range ads {
		fp := &ad.Fingerprinted{Ad: ad.Ad{ID: a.id, Arena: "blomstra", URL: a.url, Title: "Hej", Body: "Trevlig text", Name: a.name,
			City: a.city, Region: a.region, PostedAt: a.posted, FetchedAt: a.posted}, Name: strings.ToLower(a.name)}
		if a.phone != "" {
			fp.Contacts = []string{tel(t, a.phone)}
		}
		fps = append(fps, fp)
		asg = append(asg, ad.Assignment{AdID: a.id, PersonID: a.person, NetworkID: "n-" + a.person, Version: 1})
	}
	if err := ix.Apply(context.Background(), fps, asg); err != nil {
		t.Fatal(err)
	}
	return ix
}

func mustStore(t *testing.T) *reviews.Store {
	t.Helper()
	st, err := reviews.Open(filepath.Join(t.TempDir(), reviews.File), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var (
	feb = time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)
	mar = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
)

// testAds: P1 (two adverts, a phone), P2 (one advert), P3 shares P4's name
// in another city, P5 advertised long ago under a name a review uses.
var testAds = []advert{
	{id: "blomstra-a1", person: "P1", url: "http://b.example/annons/1", name: "Anna", city: "Göteborg", region: "Västra Götalands län", phone: "070-174 06 05", posted: feb},
	{id: "blomstra-a2", person: "P1", url: "http://b.example/annons/2", name: "Anna", city: "Göteborg", region: "Västra Götalands län", phone: "070-174 06 05", posted: mar},
	{id: "blomstra-a3", person: "P2", url: "http://b.example/annons/3", name: "Bea", city: "Malmö", region: "Skåne län", posted: feb},
	{id: "blomstra-a4", person: "P3", url: "http://b.example/annons/4", name: "Cleo", city: "Umeå", region: "Västerbottens län", posted: mar},
	{id: "blomstra-a5", person: "P4", url: "http://b.example/annons/5", name: "Cleo", city: "Luleå", region: "Norrbottens län", posted: mar},
	{id: "blomstra-a6", person: "P5", url: "http://b.example/annons/6", name: "Dora", city: "Visby", region: "Gotlands län", posted: feb.AddDate(-1, 0, 0)},
}

func review(id, author string, at time.Time, refs ad.ReviewRefs, text string) *ad.Review {
	a := ""
	if author != "" {
		a, _ = pseudo.Author("forum", author)
	}
	return &ad.Review{V: 1, ID: ad.ReviewID("forum", "t1", id), Arena: "forum", Thread: "t1", Post: id, Author: a, PostedAt: at, FetchedAt: at, Text: text, Refs: refs}
}

func TestLinkEvidence(t *testing.T) {
	ix := mustIndex(t, testAds)
	lk, err := reviews.NewLinker(context.Background(), ix)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		refs         ad.ReviewRefs
		persons      []string
		weak         []string
		kinds        []string
		wantRegion   string
		reviewAtTime time.Time
	}{
		{name: "advert url, other scheme and host case", refs: ad.ReviewRefs{AdvertURLs: []string{"https://B.example/annons/1"}},
			persons: []string{"P1"}, kinds: []string{reviews.EvidenceAdvertURL}, wantRegion: "Västra Götalands län"},
		{name: "advert id", refs: ad.ReviewRefs{AdvertIDs: []string{"blomstra-a3"}}, persons: []string{"P2"}, kinds: []string{reviews.EvidenceAdvertID}, wantRegion: "Skåne län"},
		{name: "contact names both adverts of one person", refs: ad.ReviewRefs{Contacts: []string{tel(t, "+46701740605")}},
			persons: []string{"P1"}, kinds: []string{reviews.EvidenceContact, reviews.EvidenceContact}, wantRegion: "Västra Götalands län"},
		{name: "name and city: weak, other city not", refs: ad.ReviewRefs{Name: "CLEO", City: "Umea"}, weak: []string{"P3"}, kinds: []string{reviews.EvidenceNameCity}},
		{name: "name and city outside the window", refs: ad.ReviewRefs{Name: "Dora", City: "Visby"}},
		{name: "strong and weak: the weak person is not repeated", refs: ad.ReviewRefs{AdvertIDs: []string{"blomstra-a1"}, Name: "Anna", City: "Göteborg", Region: "Hallands län"},
			persons: []string{"P1"}, kinds: []string{reviews.EvidenceAdvertID, reviews.EvidenceNameCity, reviews.EvidenceNameCity}, wantRegion: "Hallands län"},
		{name: "unknown references", refs: ad.ReviewRefs{AdvertURLs: []string{"http://b.example/annons/99"}, AdvertIDs: []string{"x"}, Contacts: []string{"tel:00"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ln := lk.Link(review("p", "Kalle", mar, c.refs, ""))
			if !slices.Equal(ln.Persons, c.persons) || !slices.Equal(ln.Weak, c.weak) {
				t.Errorf("persons %v weak %v, want %v and %v", ln.Persons, ln.Weak, c.persons, c.weak)
			}
			var kinds []string
			for _, e := range ln.Evidence {
				kinds = append(kinds, e.Kind)
				if e.Weak != (e.Kind == reviews.EvidenceNameCity) {
					t.Errorf("evidence %+v: weak flag wrong", e)
				}
			}
			if !slices.Equal(kinds, c.kinds) {
				t.Errorf("evidence kinds %v, want %v", kinds, c.kinds)
			}
			if ln.Region != c.wantRegion {
				t.Errorf("region %q, want %q", ln.Region, c.wantRegion)
			}
		})
	}
}

func TestStoreIsIdempotentAndRefusesRawPhones(t *testing.T) {
	st := mustStore(t)
	ctx := context.Background()
	r := review("p1", "Kalle", feb, ad.ReviewRefs{AdvertIDs: []string{"blomstra-a1"}}, "Trevligt.")
	for range 2 {
		if err := st.PublishReviews(ctx, []*ad.Review{r}); err != nil {
			t.Fatal(err)
		}
	}
	raw := review("p2", "Kalle", feb, ad.ReviewRefs{}, "")
	raw.Phones = []string{"070-174 06 05"}
	if err := st.PublishReviews(ctx, []*ad.Review{raw}); !errors.Is(err, ad.ErrBadReview) {
		t.Errorf("raw phones stored: %v", err)
	}
	notPseudo := review("p3", "", feb, ad.ReviewRefs{}, "")
	notPseudo.Author = "Kalle"
	if err := st.PublishReviews(ctx, []*ad.Review{notPseudo}); !errors.Is(err, ad.ErrBadReview) {
		t.Errorf("raw author stored: %v", err)
	}
	all, bad, err := st.All(ctx)
	if err != nil || bad != 0 || len(all) != 1 || all[0].ID != r.ID {
		t.Fatalf("all = %v (bad %d, err %v), want the one review", all, bad, err)
	}
	got, err := st.Review(r.ID)
	if err != nil || got.Text != "Trevligt." {
		t.Fatalf("review %v %v", got, err)
	}
	if _, err := st.Review("nope"); !errors.Is(err, reviews.ErrNotFound) {
		t.Errorf("unknown review: %v", err)
	}
	// Retention: text dropped before the cutoff, the record kept.
	n, err := st.DropText(ctx, mar)
	if err != nil || n != 1 {
		t.Fatalf("drop text: %d %v", n, err)
	}
	got, _ = st.Review(r.ID)
	if got.Text != "" || got.Refs.AdvertIDs[0] != "blomstra-a1" {
		t.Errorf("after drop: %+v", got)
	}
}

func TestExportCountsAndSuppresses(t *testing.T) {
	ctx := context.Background()
	ix := mustIndex(t, testAds)
	st := mustStore(t)
	var rs []*ad.Review
	// February: 6 reviewers of P1 (one writes twice), one review of P2.
	for i := range 6 {
		rs = append(rs, review(fmt.Sprintf("f%d", i), fmt.Sprintf("handle%d", i), feb.Add(time.Duration(i)*time.Hour),
			ad.ReviewRefs{AdvertURLs: []string{"http://b.example/annons/1"}}, "Trevligt."))
	}
	rs = append(rs, review("f6", "handle0", feb, ad.ReviewRefs{AdvertIDs: []string{"blomstra-a3"}}, "Trevligt."))
	// March: one review naming Cleo in Umeå (weak only).
	rs = append(rs, review("m1", "handle9", mar, ad.ReviewRefs{Name: "Cleo", City: "Umeå"}, "Trevligt."))
	if err := st.PublishReviews(ctx, rs); err != nil {
		t.Fatal(err)
	}
	rep, err := reviews.Export(ctx, st, ix, reviews.ExportOptions{By: []string{"month"}, MinCell: 0})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		group                                       string
		reviews, reviewers, reviewed, weak, adverts int
		share                                       float64
	}
	wants := []want{
		// February: 4 persons advertised (P1, P2, P5's old advert is a year
		// earlier, so not; P3, P4 in March): P1, P2 → 2 advertised.
		{"2026-02", 7, 6, 2, 0, 2, 1},
		{"2026-03", 1, 1, 0, 1, 3, 0},
		{index.All, 8, 7, 2, 1, 5, 0.4},
	}
	if len(rep.Rows) != len(wants) {
		t.Fatalf("rows %+v", rep.Rows)
	}
	for i, w := range wants {
		r := rep.Rows[i]
		if r.Group[0] != w.group || r.Reviews != w.reviews || r.Reviewers != w.reviewers || r.ReviewedPersons != w.reviewed ||
			r.WeakPersons != w.weak || r.Advertised != w.adverts || r.Share != w.share {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	// With min cell 5: March (1 reviewer) is withheld, and February too
	// (else March = total − February); small person counts are blanked.
	rep, err = reviews.Export(ctx, st, ix, reviews.ExportOptions{By: []string{"month"}, MinCell: 5})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := rep.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := [][]string{
		{"month", "reviews", "reviewers", "reviewed_persons", "weak_persons", "advertised_persons", "share_reviewed", "suppressed"},
		{"2026-02", "", "", "", "", "", "", "secondary"},
		{"2026-03", "", "", "", "", "", "", "primary"},
		{"*", "8", "7", "", "", "5", "", ""},
	}
	if fmt.Sprint(recs) != fmt.Sprint(wantCSV) {
		t.Errorf("csv\n%v\nwant\n%v", recs, wantCSV)
	}
	if _, err := reviews.Export(ctx, st, ix, reviews.ExportOptions{By: []string{"city"}}); !errors.Is(err, index.ErrBadDimension) {
		t.Errorf("bad dimension: %v", err)
	}
}

func TestPatterns(t *testing.T) {
	ctx := context.Background()
	ix := mustIndex(t, testAds)
	st := mustStore(t)
	var rs []*ad.Review
	url := ad.ReviewRefs{AdvertURLs: []string{"http://b.example/annons/1"}}
	for i := range 5 { // five reviewers of P1 within three days
		rs = append(rs, review(fmt.Sprintf("p%d", i), fmt.Sprintf("h%d", i), feb.Add(time.Duration(i)*15*time.Hour), url, "Trevligt och lugnt."))
	}
	id3 := ad.ReviewRefs{AdvertIDs: []string{"blomstra-a3"}}
	rs = append(rs,
		review("y", "h1", feb, id3, "Hon sa att hon var 17 år."),
		review("x", "h2", feb, id3, "En man svarade i telefonen och väntade utanför."),
		review("n", "h3", feb, ad.ReviewRefs{Name: "Cleo", City: "Umeå"}, "Hon verkade rädd."), // weak only: no flag
	)
	if err := st.PublishReviews(ctx, rs); err != nil {
		t.Fatal(err)
	}
	lk, err := reviews.NewLinker(ctx, ix)
	if err != nil {
		t.Fatal(err)
	}
	flags, err := reviews.Patterns(ctx, st, lk)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range flags {
		got = append(got, fmt.Sprintf("%s %s %d %s", f.PersonID, f.Pattern, len(f.Reviews), strings.Join(f.Signs, "|")))
	}
	want := []string{
		"P1 review-many-reviewers 5 5 reviewers within 7 days",
		"P2 review-signs-of-youth 1 age<18",
		"P2 review-third-party 1 en man svarade|väntade utanför",
	}
	if !slices.Equal(got, want) {
		t.Errorf("flags\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReviewSignsOfYouth(t *testing.T) {
	for text, want := range map[string]string{
		"Trevlig tjej, ung och glad, 24 år.": "",
		"Hon sa att hon var 16 år.":          "age<18",
		"En 17-åring, sa hon.":               "age<18",
		"Skoltjej enligt annonsen.":          "skoltjej",
		"She said she was 17 years old.":     "age<18",
		"Mötet var 2 år sedan, hon var 30.":  "",
	} {
		if got := strings.Join(reviews.SignsOfYouth(text), ","); got != want {
			t.Errorf("SignsOfYouth(%q) = %q, want %q", text, got, want)
		}
	}
}
