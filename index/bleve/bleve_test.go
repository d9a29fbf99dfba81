package bleve_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/bleve"
)

// MustOpen opens an index in a fresh temporary directory, closed at cleanup.
func MustOpen(tb testing.TB, dir string) *bleve.Index {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	x, err := bleve.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	return x
}

func MustApply(tb testing.TB, x *bleve.Index, fps []*ad.Fingerprinted, asg []ad.Assignment) {
	tb.Helper()
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		tb.Fatal(err)
	}
}

func MustSearch(tb testing.TB, x *bleve.Index, q index.Query) *index.Result {
	tb.Helper()
	res, err := x.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("search %q: %v", q.Text, err)
	}
	return res
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

func fp(id, arena, title, body, city string, age int, posted string) *ad.Fingerprinted {
	return &ad.Fingerprinted{Ad: ad.Ad{
		ID: id, Arena: arena, Title: title, Body: body, City: city, Age: age,
		Gender: "kvinna", PostedAt: day(posted), FetchedAt: day(posted).Add(time.Hour),
	}}
}

// fixture: synthetic, bland adverts. Weeks: 2026-02-24/25 are W09,
// 2026-03-02..04 are W10. Person p1 has three adverts over two weeks; a6 has
// no assignment yet and counts as its own person.
func fixture() ([]*ad.Fingerprinted, []ad.Assignment) {
	fps := []*ad.Fingerprinted{
		fp("a1", "blomstra", "Trevliga tjejer i Göteborg", "Hej och välkommen, jag finns här för dig.", "Göteborg", 28, "2026-03-02"),
		fp("a2", "blomstra", "Friendly company in Stockholm", "Hello, I am here for you and your evenings. Call me.", "Stockholm", 31, "2026-02-24"),
		fp("a3", "annonsia", "Massage i Göteborg", "Lugn och avslappnande massage för dig som vill vila.", "Göteborg", 24, "2026-02-25"),
		fp("a4", "annonsia", "Sällskap i Malmö", "Jag är en glad och social person.", "Malmö", 35, "2026-03-03"),
		fp("a5", "blomstra", "Trevliga tjejer i Göteborg igen", "Hej och välkommen, jag finns här för dig.", "Göteborg", 28, "2026-03-04"),
		fp("a6", "blomstra", "Ny i stan", "Hej, jag är ny här och vill ha sällskap.", "Stockholm", 0, "2026-02-25"),
	}
	fps[2].Ad.Region = "Västra Götalands län"
	fps[0].Contacts = []string{"tel:00112233445566778899"}
	fps[4].Contacts = []string{"tel:00112233445566778899"}
	asg := []ad.Assignment{
		{AdID: "a1", PersonID: "p1", NetworkID: "n1"},
		{AdID: "a2", PersonID: "p1", NetworkID: "n1"},
		{AdID: "a5", PersonID: "p1", NetworkID: "n1"},
		{AdID: "a3", PersonID: "p2", NetworkID: "n1"},
		{AdID: "a4", PersonID: "p3", NetworkID: "n2"},
	}
	return fps, asg
}

func MustFixture(tb testing.TB) *bleve.Index {
	tb.Helper()
	x := MustOpen(tb, "")
	fps, asg := fixture()
	MustApply(tb, x, fps, asg)
	return x
}

func ids(hits []index.Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.ID)
	}
	slices.Sort(out)
	return out
}

func TestSearch(t *testing.T) {
	x := MustFixture(t)
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"swedish stemming", "tjej", []string{"a1", "a5"}},
		{"english stemming", "evening", []string{"a2"}},
		{"place without field", "malmö", []string{"a4"}},
		{"field filter", "arena:annonsia", []string{"a3", "a4"}},
		{"required clauses", "+göteborg +arena:blomstra +age:>25", []string{"a1", "a5"}},
		{"numeric range", "+age:<30 +age:>0", []string{"a1", "a3", "a5"}},
		{"date range", `+posted_at:>="2026-03-01"`, []string{"a1", "a4", "a5"}},
		{"week keyword", "week:2026-W09", []string{"a2", "a3", "a6"}},
		{"person", "person_id:p1", []string{"a1", "a2", "a5"}},
		{"contact pseudonym", "contacts:tel\\:00112233445566778899", []string{"a1", "a5"}},
		{"phrase", `"avslappnande massage"`, []string{"a3"}},
		{"exclusion", "+city:Göteborg -arena:blomstra", []string{"a3"}},
		{"keyword with spaces", `region:"Västra Götalands län"`, []string{"a3"}},
		{"keyword is exact", "city:göteborg", nil},
		{"wildcard", "tjej*", []string{"a1", "a5"}},
		{"fuzzy", "tjejj~1", []string{"a1", "a5"}},
		{"place from region", "götalands", []string{"a3"}},
		{"match all", "", []string{"a1", "a2", "a3", "a4", "a5", "a6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := MustSearch(t, x, index.Query{Text: tc.text})
			if got := ids(res.Hits); !slices.Equal(got, tc.want) {
				t.Fatalf("hits=%v, want %v", got, tc.want)
			}
			if got, want := res.Total, uint64(len(tc.want)); got != want {
				t.Fatalf("total=%d, want %d", got, want)
			}
		})
	}
}

func TestSearchHitFields(t *testing.T) {
	x := MustFixture(t)
	res := MustSearch(t, x, index.Query{Text: "id:a1"})
	if len(res.Hits) != 1 {
		t.Fatalf("hits=%v", res.Hits)
	}
	h := res.Hits[0]
	want := index.Hit{ID: "a1", Arena: "blomstra", Title: "Trevliga tjejer i Göteborg", City: "Göteborg",
		PersonID: "p1", NetworkID: "n1", PostedAt: day("2026-03-02"), Score: h.Score}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("hit=%+v, want %+v", h, want)
	}
	if h.Score <= 0 {
		t.Fatalf("score=%v", h.Score)
	}
}

func TestSearchPaging(t *testing.T) {
	x := MustFixture(t)
	var all []string
	for from := 0; from < 6; from += 4 {
		res := MustSearch(t, x, index.Query{Size: 4, From: from})
		for _, h := range res.Hits {
			all = append(all, h.ID)
		}
	}
	slices.Sort(all)
	if want := []string{"a1", "a2", "a3", "a4", "a5", "a6"}; !slices.Equal(all, want) {
		t.Fatalf("pages=%v, want %v", all, want)
	}
}

func TestSearchFacets(t *testing.T) {
	x := MustFixture(t)
	res := MustSearch(t, x, index.Query{Facets: []string{"arena", "week", "lang"}})
	want := map[string][]index.FacetCount{
		"arena": {{Term: "blomstra", Count: 4}, {Term: "annonsia", Count: 2}},
		"week":  {{Term: "2026-W09", Count: 3}, {Term: "2026-W10", Count: 3}},
		"lang":  {{Term: "sv", Count: 5}, {Term: "en", Count: 1}},
	}
	if !reflect.DeepEqual(res.Facets, want) {
		t.Fatalf("facets=%v, want %v", res.Facets, want)
	}
	res = MustSearch(t, x, index.Query{Text: "göteborg", Facets: []string{"arena"}})
	if got, want := res.Facets["arena"], []index.FacetCount{{Term: "blomstra", Count: 2}, {Term: "annonsia", Count: 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("facets=%v, want %v", got, want)
	}
}

func TestSearchGroupByPerson(t *testing.T) {
	x := MustFixture(t)
	res := MustSearch(t, x, index.Query{Text: "arena:blomstra", GroupByPerson: true, Facets: []string{"person_id"}})
	if got, want := res.Total, uint64(2); got != want {
		t.Fatalf("total=%d, want %d", got, want)
	}
	got := map[string][]string{}
	for _, h := range res.Hits {
		a := slices.Clone(h.AdIDs)
		slices.Sort(a)
		got[h.PersonID] = a
		if !slices.Contains(h.AdIDs, h.ID) {
			t.Fatalf("hit %s not among its ads %v", h.ID, h.AdIDs)
		}
	}
	want := map[string][]string{"p1": {"a1", "a2", "a5"}, "": {"a6"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("groups=%v, want %v", got, want)
	}
	if got, want := res.Facets["person_id"], []index.FacetCount{{Term: "p1", Count: 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("facets=%v, want %v", got, want)
	}
	// Paging is over persons.
	res = MustSearch(t, x, index.Query{Text: "arena:blomstra", GroupByPerson: true, Size: 1, From: 1})
	if len(res.Hits) != 1 || res.Total != 2 {
		t.Fatalf("page 2: total=%d hits=%v", res.Total, res.Hits)
	}
}

func TestSearchErrors(t *testing.T) {
	x := MustFixture(t)
	for _, q := range []index.Query{
		{Text: `"unterminated`},
		{Text: `age:>`},
		{Text: "tjej", Facets: []string{"body"}},
		{Text: "tjej", From: -1},
	} {
		_, err := x.Search(context.Background(), q)
		if !errors.Is(err, index.ErrBadQuery) {
			t.Errorf("search %+v: err=%v, want ErrBadQuery", q, err)
		}
	}
}

func TestAssignmentBeforeAdvert(t *testing.T) {
	x := MustOpen(t, "")
	fps, _ := fixture()
	MustApply(t, x, nil, []ad.Assignment{{AdID: "a3", PersonID: "p2", NetworkID: "n1"}})
	if _, ok, err := x.Doc(context.Background(), "a3"); err != nil || ok {
		t.Fatalf("doc before advert: ok=%v err=%v", ok, err)
	}
	MustApply(t, x, fps[2:3], nil)
	d, ok, err := x.Doc(context.Background(), "a3")
	if err != nil || !ok {
		t.Fatalf("doc: ok=%v err=%v", ok, err)
	}
	if d.PersonID != "p2" || d.NetworkID != "n1" {
		t.Fatalf("doc person=%q network=%q", d.PersonID, d.NetworkID)
	}
	if got := ids(MustSearch(t, x, index.Query{Text: "person_id:p2"}).Hits); !slices.Equal(got, []string{"a3"}) {
		t.Fatalf("person_id:p2 hits=%v", got)
	}
	// Re-applying the advert keeps its assignment.
	MustApply(t, x, fps[2:3], nil)
	if d, _, _ := x.Doc(context.Background(), "a3"); d.PersonID != "p2" {
		t.Fatalf("person after re-apply=%q", d.PersonID)
	}
}

func TestReassignmentReindexes(t *testing.T) {
	x := MustFixture(t)
	MustApply(t, x, nil, []ad.Assignment{{AdID: "a4", PersonID: "p9", NetworkID: "n9"}})
	if got := MustSearch(t, x, index.Query{Text: "person_id:p3"}).Total; got != 0 {
		t.Fatalf("old person still matches %d", got)
	}
	if got := ids(MustSearch(t, x, index.Query{Text: "+person_id:p9 +network_id:n9"}).Hits); !slices.Equal(got, []string{"a4"}) {
		t.Fatalf("new person hits=%v", got)
	}
}

// state is everything observable about an index, for comparing two of them.
func state(tb testing.TB, x *bleve.Index) map[string]any {
	tb.Helper()
	ctx := context.Background()
	st := map[string]any{}
	ads, persons, networks, err := x.Stats(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	st["stats"] = []int{ads, persons, networks}
	rows, err := x.Counts(ctx, []string{"arena", "week", "city"}, index.CountOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	st["counts"] = rows
	for _, text := range []string{"", "tjej", "person_id:p1", "network_id:n1", "göteborg"} {
		res := MustSearch(tb, x, index.Query{Text: text, Size: 100, Facets: []string{"person_id", "network_id"}})
		st["search "+text] = []any{ids(res.Hits), res.Total, res.Facets}
	}
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		d, ok, err := x.Doc(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		st["doc "+id] = []any{d, ok}
	}
	return st
}

func TestApplyIdempotentAndOrderIndependent(t *testing.T) {
	fps, asg := fixture()
	want := state(t, MustFixture(t))

	again := MustFixture(t)
	MustApply(t, again, fps, asg)
	MustApply(t, again, fps[:2], asg[3:])
	if got := state(t, again); !reflect.DeepEqual(got, want) {
		t.Fatalf("after re-apply:\n got %v\nwant %v", got, want)
	}

	// Assignments first, adverts one call each in reverse order.
	rev := MustOpen(t, "")
	MustApply(t, rev, nil, asg)
	for _, f := range slices.Backward(fps) {
		MustApply(t, rev, []*ad.Fingerprinted{f}, nil)
	}
	if got := state(t, rev); !reflect.DeepEqual(got, want) {
		t.Fatalf("assignments first:\n got %v\nwant %v", got, want)
	}
}

func TestApplyBadRecord(t *testing.T) {
	x := MustOpen(t, "")
	fps, _ := fixture()
	err := x.Apply(context.Background(), append(fps[:1:1], &ad.Fingerprinted{}), nil)
	if !errors.Is(err, index.ErrBadRecord) {
		t.Fatalf("err=%v, want ErrBadRecord", err)
	}
	if ads, _, _, _ := x.Stats(context.Background()); ads != 0 {
		t.Fatalf("ads=%d after rejected call, want 0", ads)
	}
}

func TestNoRawContacts(t *testing.T) {
	x := MustOpen(t, "")
	f := fp("a1", "blomstra", "Hej", "Ring mig.", "Göteborg", 30, "2026-03-02")
	f.Ad.Phones = []string{"070-123 45 67"}
	f.Contacts = []string{"tel:00112233445566778899", "070-1234567"}
	MustApply(t, x, []*ad.Fingerprinted{f}, nil)
	d, _, err := x.Doc(context.Background(), "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Contacts, []string{"tel:00112233445566778899"}; !slices.Equal(got, want) {
		t.Fatalf("contacts=%v, want %v", got, want)
	}
	if got := MustSearch(t, x, index.Query{Text: "1234567"}).Total; got != 0 {
		t.Fatalf("raw number found in %d docs", got)
	}
}

func TestCounts(t *testing.T) {
	x := MustFixture(t)
	ctx := context.Background()
	rows, err := x.Counts(ctx, []string{"arena", "week"}, index.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []index.CountRow{
		{Group: []string{"annonsia", "2026-W09"}, Ads: 1, Persons: 1},
		{Group: []string{"annonsia", "2026-W10"}, Ads: 1, Persons: 1},
		{Group: []string{"blomstra", "2026-W09"}, Ads: 2, Persons: 2}, // p1 and unassigned a6
		{Group: []string{"blomstra", "2026-W10"}, Ads: 2, Persons: 1}, // p1 twice
		{Group: []string{"*", "*"}, Ads: 6, Persons: 4, Total: true},  // p1 once
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows=%+v\nwant %+v", rows, want)
	}

	rows, err = x.Counts(ctx, []string{"arena", "week"}, index.CountOptions{MinCell: 2})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := index.WriteCountsCSV(&b, []string{"arena", "week"}, rows); err != nil {
		t.Fatal(err)
	}
	wantCSV := "arena,week,ads,persons\n" +
		"annonsia,2026-W09,,\n" +
		"annonsia,2026-W10,,\n" +
		"blomstra,2026-W09,,\n" + // secondary: else blomstra's total (export --by arena) minus it gives W10
		"blomstra,2026-W10,,\n" +
		"*,*,6,4\n"
	if got := b.String(); got != wantCSV {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, wantCSV)
	}

	_, err = x.Counts(ctx, []string{"arena", "colour"}, index.CountOptions{})
	if !errors.Is(err, index.ErrBadDimension) || !strings.Contains(err.Error(), `"colour"`) ||
		!strings.Contains(err.Error(), "arena, week, month, region, city, gender") {
		t.Fatalf("err=%v, want ErrBadDimension naming colour and the allowed list", err)
	}
}

func TestStats(t *testing.T) {
	x := MustFixture(t)
	ads, persons, networks, err := x.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ads != 6 || persons != 4 || networks != 2 {
		t.Fatalf("stats=%d,%d,%d, want 6,4,2", ads, persons, networks)
	}
}

func TestRebuildFromDocs(t *testing.T) {
	dir := t.TempDir()
	x, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fps, asg := fixture()
	MustApply(t, x, fps, asg)
	want := state(t, x)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, bleve.IndexFile)); err != nil {
		t.Fatal(err)
	}
	if got := state(t, MustOpen(t, dir)); !reflect.DeepEqual(got, want) {
		t.Fatalf("after rebuild:\n got %v\nwant %v", got, want)
	}
}

func TestCancelled(t *testing.T) {
	x := MustFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Counts(ctx, []string{"arena"}, index.CountOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("counts err=%v", err)
	}
	if _, err := x.Search(ctx, index.Query{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("search err=%v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	x := MustFixture(t)
	ctx := context.Background()
	errc := make(chan error, 8)
	for g := range 4 {
		go func() {
			f := fp(fmt.Sprintf("c%d", g), "blomstra", "Hej", "Jag är ny här.", "Umeå", 30, "2026-03-05")
			errc <- x.Apply(ctx, []*ad.Fingerprinted{f}, []ad.Assignment{{AdID: f.Ad.ID, PersonID: "p1"}})
		}()
		go func() {
			_, err := x.Search(ctx, index.Query{Text: "hej", Facets: []string{"arena"}, GroupByPerson: g%2 == 0})
			errc <- err
		}()
	}
	for range 8 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if got := MustSearch(t, x, index.Query{Text: "city:Umeå"}).Total; got != 4 {
		t.Fatalf("concurrently applied adverts found: %d, want 4", got)
	}
}

func BenchmarkApply(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("ads=%d", n), func(b *testing.B) {
			x := MustOpen(b, "")
			fps := make([]*ad.Fingerprinted, n)
			for i := range fps {
				fps[i] = fp(fmt.Sprintf("b%d", i), "blomstra", "Trevliga tjejer i Göteborg", "Hej och välkommen, jag finns här för dig.", "Göteborg", 28, "2026-03-02")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				// A fresh body each round, so every advert is re-indexed.
				for _, f := range fps {
					f.Ad.Body = fmt.Sprintf("Hej och välkommen %d.", i)
				}
				i++
				if err := x.Apply(context.Background(), fps, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A redelivered older assignment must not undo a newer one, whether the
// advert is indexed yet or not.
func TestOlderAssignmentArrivingLateIsIgnored(t *testing.T) {
	x := MustOpen(t, "")
	fps, _ := fixture()
	newer := ad.Assignment{AdID: "a3", PersonID: "p-new", NetworkID: "n-new", Version: 20}
	older := ad.Assignment{AdID: "a3", PersonID: "p-old", NetworkID: "n-old", Version: 10}
	// Before the advert: the pending assignment keeps the newest.
	MustApply(t, x, nil, []ad.Assignment{newer})
	MustApply(t, x, nil, []ad.Assignment{older})
	MustApply(t, x, fps[2:3], nil)
	if d, _, _ := x.Doc(context.Background(), "a3"); d.PersonID != "p-new" {
		t.Fatalf("pending: person %q, want p-new", d.PersonID)
	}
	// After the advert.
	MustApply(t, x, nil, []ad.Assignment{older})
	if d, _, _ := x.Doc(context.Background(), "a3"); d.PersonID != "p-new" {
		t.Fatalf("indexed: person %q, want p-new", d.PersonID)
	}
	if got := MustSearch(t, x, index.Query{Text: "person_id:p-old"}).Total; got != 0 {
		t.Fatalf("older person searchable: %d hits", got)
	}
}

// TestShardCutShortByAKill: a process killed while creating a month's
// shard left its directory with an empty index_meta.json (seen in CI after
// a SIGKILL), or, since shards are created under a temporary name, a .new-
// directory. Neither may stop the next open: the broken shard is rebuilt
// from docs.db, the unfinished one removed (and skipped by readers).
func TestShardCutShortByAKill(t *testing.T) {
	dir := t.TempDir()
	x, err := bleve.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	fps, asg := fixture()
	MustApply(t, x, fps, asg)
	want := state(t, x)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, bleve.IndexFile)
	shards, err := os.ReadDir(root)
	if err != nil || len(shards) == 0 {
		t.Fatalf("no shards: %v", err)
	}
	unfinished := filepath.Join(root, ".new-p2031-01")
	if err := os.MkdirAll(unfinished, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(unfinished, "index_meta.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	// Readers skip the unfinished shard and change nothing.
	ro, err := bleve.OpenReadOnly(dir)
	if err != nil {
		t.Fatalf("read-only open with an unfinished shard: %v", err)
	}
	if got := state(t, ro); !reflect.DeepEqual(got, want) {
		t.Fatalf("read-only with an unfinished shard:\n got %v\nwant %v", got, want)
	}
	ro.Close()
	if _, err := os.Stat(unfinished); err != nil {
		t.Fatalf("a reader removed the unfinished shard: %v", err)
	}

	// A shard whose metadata was cut short.
	broken := filepath.Join(root, shards[0].Name(), "index_meta.json")
	if err := os.WriteFile(broken, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := bleve.OpenReadOnly(dir); err == nil {
		t.Fatal("read-only open of a broken shard succeeded")
	}
	x = MustOpen(t, dir)
	if got := state(t, x); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a broken shard:\n got %v\nwant %v", got, want)
	}
	if _, err := os.Stat(unfinished); !os.IsNotExist(err) {
		t.Fatalf("unfinished shard still there: %v", err)
	}
	// New shards are whole: a later month's advert after reopening.
	later := *fps[0]
	later.Ad.ID = "later"
	later.Ad.PostedAt = time.Date(2031, 1, 15, 12, 0, 0, 0, time.UTC)
	MustApply(t, x, []*ad.Fingerprinted{&later}, nil)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "p2031-01", "index_meta.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(unfinished); !os.IsNotExist(err) {
		t.Fatalf("creating a shard left its temporary directory: %v", err)
	}
	MustOpen(t, dir)
}
