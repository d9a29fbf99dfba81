package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/bleve"
	"adcensus/web/api"
)

// Contact pseudonyms of the facts fixture (keyed-HMAC shaped: kind:hex).
const (
	c1 = "tel:00000000000000c1"
	c2 = "tel:00000000000000c2"
	c3 = "email:00000000000000c3"
	c4 = "tel:00000000000000c4"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// factsFixture: touring person P1 (five adverts over four monthly shards:
// p2026-01, p2026-02, p2026-04 — posted 23:30 UTC on 31 March is April in
// Swedish time — and f2026-04, an advert with no posted_at), P2 sharing
// contact c1 with P1 (network N1), and P3 alone in N2. Every advert also
// carries rawPhone in its raw phones and contacts, which must never come
// out.
func factsFixture() ([]*ad.Fingerprinted, []ad.Assignment) {
	type row struct {
		id, arena, city, person, network string
		posted, fetched                  string
		contacts                         []string
	}
	rows := []row{
		{"t1", "a", "Göteborg", "P1", "N1", "2026-01-15T12:00:00Z", "2026-01-16T08:00:00Z", []string{c1}},
		{"t2", "a", "Malmö", "P1", "N1", "2026-02-03T12:00:00Z", "2026-02-04T08:00:00Z", []string{c1}},
		{"t3", "b", "Malmö", "P1", "N1", "2026-02-20T12:00:00Z", "2026-02-21T08:00:00Z", []string{c1, c1}},
		{"t4", "c", "Umeå", "P1", "N1", "2026-03-31T23:30:00Z", "2026-04-01T08:00:00Z", []string{c2}},
		{"t5", "b", "", "P1", "N1", "", "2026-04-10T12:00:00Z", nil},
		{"u1", "a", "Lund", "P2", "N1", "2026-02-10T12:00:00Z", "2026-02-10T13:00:00Z", []string{c1, c3}},
		{"u2", "a", "Lund", "P2", "N1", "2026-02-11T12:00:00Z", "2026-02-11T13:00:00Z", []string{c1}},
		{"v1", "c", "Kiruna", "P3", "N2", "2026-05-05T12:00:00Z", "2026-05-05T13:00:00Z", []string{c4}},
	}
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for _, r := range rows {
		a := ad.Ad{
			ID: r.id, Arena: r.arena, City: r.city, Title: "Sällskap", Body: "Hej, trevligt sällskap.",
			Phones: []string{rawPhone}, Contacts: append(slices.Clone(r.contacts), rawPhone), FetchedAt: at(r.fetched),
		}
		if r.posted != "" {
			a.PostedAt = at(r.posted)
		}
		fps = append(fps, &ad.Fingerprinted{Ad: a})
		asg = append(asg, ad.Assignment{AdID: r.id, PersonID: r.person, NetworkID: r.network})
	}
	return fps, asg
}

func MustFactsIndex(tb testing.TB) *bleve.Index {
	tb.Helper()
	x, err := bleve.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	fps, asg := factsFixture()
	// Adverts and assignments in two calls, assignments first for half.
	if err := x.Apply(context.Background(), fps[:4], asg); err != nil {
		tb.Fatal(err)
	}
	if err := x.Apply(context.Background(), fps[4:], nil); err != nil {
		tb.Fatal(err)
	}
	return x
}

func fc(pairs ...any) []index.FacetCount {
	out := []index.FacetCount{}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, index.FacetCount{Term: pairs[i].(string), Count: pairs[i+1].(int)})
	}
	return out
}

func TestPersonFacts(t *testing.T) {
	x := MustFactsIndex(t)
	srv := MustServer(t, x, x, api.Options{})
	var seen []string
	for _, page := range []string{"size=2", "size=2&from=2", "size=2&from=4"} {
		path := "/api/persons/P1?" + page
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusOK)
		got := decode[api.PersonResponse](t, r)
		// Facts are over all five adverts whatever the page.
		if got.Ads != 5 || got.MonthsActive != 3 {
			t.Fatalf("%s: ads=%d months_active=%d, want 5 3", page, got.Ads, got.MonthsActive)
		}
		if !got.FirstSeen.Equal(at("2026-01-15T12:00:00Z")) || !got.LastSeen.Equal(at("2026-04-10T12:00:00Z")) {
			t.Fatalf("%s: first/last seen %v %v", page, got.FirstSeen, got.LastSeen)
		}
		for field, c := range map[string][2][]index.FacetCount{
			"arenas":   {got.Arenas, fc("a", 2, "b", 2, "c", 1)},
			"cities":   {got.Cities, fc("Malmö", 2, "Göteborg", 1, "Umeå", 1)},
			"networks": {got.Networks, fc("N1", 5)},
			"months":   {got.Months, fc("2026-01", 1, "2026-02", 2, "2026-04", 2)},
			"contacts": {got.Contacts, fc(c1, 3, c2, 1)},
		} {
			if !slices.Equal(c[0], c[1]) {
				t.Errorf("%s: %s=%v, want %v", page, field, c[0], c[1])
			}
		}
		for _, h := range got.Adverts {
			seen = append(seen, h.ID)
		}
	}
	slices.Sort(seen)
	if want := []string{"t1", "t2", "t3", "t4", "t5"}; !slices.Equal(seen, want) {
		t.Fatalf("pages gave adverts %v, want %v", seen, want)
	}

	r := MustGet(t, srv, "/api/persons/P3")
	wantStatus(t, r, "P3", http.StatusOK)
	p3 := decode[api.PersonResponse](t, r)
	if p3.Ads != 1 || !p3.FirstSeen.Equal(p3.LastSeen) || !slices.Equal(p3.Contacts, fc(c4, 1)) || !slices.Equal(p3.Months, fc("2026-05", 1)) {
		t.Fatalf("P3=%+v", p3)
	}
	// The JSON names of the new fields.
	for _, key := range []string{`"first_seen":"2026-05-05T12:00:00Z"`, `"last_seen":`, `"months_active":1`, `"months":[`, `"contacts":[{"term":"tel:00000000000000c4","count":1}]`} {
		if !strings.Contains(string(r.body), key) {
			t.Errorf("P3 body has no %s: %s", key, r.body)
		}
	}
}

func TestUnassignedPersonFacts(t *testing.T) {
	x := MustIndex(t)
	fp := &ad.Fingerprinted{Ad: ad.Ad{ID: "y", Arena: "b", City: "Visby", FetchedAt: at("2026-06-01T10:00:00Z"), Contacts: []string{c2, rawPhone}}}
	if err := x.Apply(context.Background(), []*ad.Fingerprinted{fp}, nil); err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, x, api.Options{})
	r := MustGet(t, srv, "/api/persons/ad:y")
	wantStatus(t, r, "ad:y", http.StatusOK)
	got := decode[api.PersonResponse](t, r)
	if got.Ads != 1 || len(got.Adverts) != 1 || !got.FirstSeen.Equal(at("2026-06-01T10:00:00Z")) || got.MonthsActive != 1 ||
		!slices.Equal(got.Contacts, fc(c2, 1)) || !slices.Equal(got.Cities, fc("Visby", 1)) || !slices.Equal(got.Networks, fc()) {
		t.Fatalf("ad:y=%+v", got)
	}
}

func TestNetworkFacts(t *testing.T) {
	x := MustFactsIndex(t)
	srv := MustServer(t, x, x, api.Options{})
	r := MustGet(t, srv, "/api/networks/N1?size=1")
	wantStatus(t, r, "N1", http.StatusOK)
	got := decode[api.NetworkResponse](t, r)
	if got.Persons != 2 || got.Ads != 7 || len(got.Members) != 1 || got.MonthsActive != 3 {
		t.Fatalf("N1: persons=%d ads=%d members=%d months_active=%d, want 2 7 1 3", got.Persons, got.Ads, len(got.Members), got.MonthsActive)
	}
	if !got.FirstSeen.Equal(at("2026-01-15T12:00:00Z")) || !got.LastSeen.Equal(at("2026-04-10T12:00:00Z")) {
		t.Fatalf("N1: first/last seen %v %v", got.FirstSeen, got.LastSeen)
	}
	for field, c := range map[string][2][]index.FacetCount{
		"arenas":   {got.Arenas, fc("a", 4, "b", 2, "c", 1)},
		"cities":   {got.Cities, fc("Lund", 2, "Malmö", 2, "Göteborg", 1, "Umeå", 1)},
		"months":   {got.Months, fc("2026-01", 1, "2026-02", 4, "2026-04", 2)},
		"contacts": {got.Contacts, fc(c1, 5, c3, 1, c2, 1)}, // ties by pseudonym: "email:" < "tel:"
	} {
		if !slices.Equal(c[0], c[1]) {
			t.Errorf("N1: %s=%v, want %v", field, c[0], c[1])
		}
	}
	wantStatus(t, MustGet(t, srv, "/api/networks/N3"), "N3", http.StatusNotFound)
}

// A reassignment moves an advert's facts from one person to the other.
func TestPersonFactsFollowReassignment(t *testing.T) {
	x := MustFactsIndex(t)
	if err := x.Apply(context.Background(), nil, []ad.Assignment{{AdID: "t5", PersonID: "P3", NetworkID: "N2", Version: 2}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p1, err := x.Facts(ctx, index.FieldPersonID, "P1")
	if err != nil {
		t.Fatal(err)
	}
	if p1.Ads != 4 || !p1.LastSeen.Equal(at("2026-03-31T23:30:00Z")) {
		t.Fatalf("P1 after moving t5: ads=%d last=%v", p1.Ads, p1.LastSeen)
	}
	n2, err := x.Facts(ctx, index.FieldNetworkID, "N2")
	if err != nil {
		t.Fatal(err)
	}
	if n2.Ads != 2 || n2.Persons != 1 || !n2.FirstSeen.Equal(at("2026-04-10T12:00:00Z")) {
		t.Fatalf("N2 after moving t5: %+v", n2)
	}
	for _, bad := range []struct{ field, id string }{{index.FieldArena, "a"}, {index.FieldPersonID, ""}} {
		if _, err := x.Facts(ctx, bad.field, bad.id); err == nil {
			t.Errorf("Facts(%q, %q) accepted", bad.field, bad.id)
		}
	}
}

func TestExportFacts(t *testing.T) {
	x := MustFactsIndex(t)
	srv := MustServer(t, x, x, api.Options{})
	// Persons: P1 5 adverts, 3 arenas, 3 cities; P2 2, 1, 1; P3 1, 1, 1.
	// Networks: N1 2 persons, 4 cities; N2 1 person, 1 city.
	r := MustGet(t, srv, "/api/export/facts?format=csv&min_cell=0")
	wantStatus(t, r, "facts csv", http.StatusOK)
	want := map[string][]string{
		index.TablePersonsByAds:     {"1=1", "2-4=1", "5-9=1", "10+=0", "*=3"},
		index.TablePersonsByArenas:  {"1=2", "2=0", "3+=1", "*=3"},
		index.TablePersonsByCities:  {"0=0", "1=2", "2=0", "3-5=1", "6+=0", "*=3"},
		index.TableNetworksByPerson: {"1=1", "2=1", "3-5=0", "6-10=0", "11+=0", "*=2"},
		index.TableNetworksByCities: {"0=0", "1=1", "2=0", "3-5=1", "6+=0", "*=2"},
	}
	if got := csvTables(t, string(r.body)); !mapsEqualSlices(got, want) {
		t.Fatalf("facts csv:\n%s\nwant %v", r.body, want)
	}
	// The same bytes as the CLI's writer.
	rep, err := index.ReportFacts(context.Background(), x, index.FactsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if b.String() != string(r.body) {
		t.Fatalf("API csv differs from the writer:\n%s\n%s", r.body, b.String())
	}

	// min_cell=2: every non-empty band of 1 is withheld. persons_by_ads
	// has three such bands and 3 persons: each would hold one, so the
	// total is withheld too, and with it the persons total of every
	// persons table (the same number).
	r = MustGet(t, srv, "/api/export/facts?min_cell=2")
	wantStatus(t, r, "facts json", http.StatusOK)
	got := decode[index.FactsReport](t, r)
	if got.MinCell != 2 || got.Provenance["software"] != "adcensus test" || len(got.Tables) != 5 {
		t.Fatalf("report header %+v", got)
	}
	rows := got.Tables[0].Rows
	for _, r := range rows[:3] {
		if r.Count != nil || r.Suppression != index.SuppressPrimary {
			t.Errorf("persons_by_ads band %s=%+v, want primary suppression", r.Band, r)
		}
	}
	if rows[3].Count == nil || *rows[3].Count != 0 || rows[4].Count != nil || rows[4].Suppression != index.SuppressSecondary {
		t.Errorf("persons_by_ads 10+ and total: %+v %+v", rows[3], rows[4])
	}
	// persons_by_arenas: 1=2, 3+=1 withheld; the total (visible while
	// this table is suppressed) would give it away, so 1 is withheld too.
	if rows := got.Tables[1].Rows; rows[0].Suppression != index.SuppressSecondary || rows[2].Suppression != index.SuppressPrimary || rows[3].Count != nil {
		t.Errorf("persons_by_arenas=%+v", rows)
	}
	// networks_by_persons: 1=1 and 2=1 withheld; total 2 would pin them.
	if rows := got.Tables[3].Rows; rows[0].Count != nil || rows[1].Count != nil || rows[5].Suppression != index.SuppressSecondary {
		t.Errorf("networks_by_persons=%+v", rows)
	}

	for _, path := range []string{"/api/export/facts?format=xml", "/api/export/facts?min_cell=-1"} {
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}
	floor := MustServer(t, x, x, api.Options{MinCellFloor: 5})
	wantStatus(t, MustGet(t, floor, "/api/export/facts?min_cell=0"), "below floor", http.StatusBadRequest)
}

// csvTables reads a facts CSV into table → "band=count" ("band=" when
// withheld).
func csvTables(tb testing.TB, s string) map[string][]string {
	tb.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "table,unit,band,count" {
		tb.Fatalf("header %q", got)
	}
	out := map[string][]string{}
	for _, r := range recs[1:] {
		out[r[0]] = append(out[r[0]], fmt.Sprintf("%s=%s", r[2], r[3]))
	}
	return out
}

func mapsEqualSlices(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
