package patterns_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/index"
	"adcensus/index/patterns"
)

func TestLoadConfigs(t *testing.T) {
	ps, err := patterns.Load("../../configs/patterns")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		if len(p.Sources) == 0 {
			t.Errorf("%s: no sources", p.File)
		}
		if got := strings.TrimSuffix(filepath.Base(p.File), ".yaml"); got != p.Name {
			t.Errorf("%s: name %q differs from the file name", p.File, p.Name)
		}
	}
	want := []string{"foreign-contact", "many-ads-per-day", "shared-contact", "signs-of-youth", "third-person", "touring"}
	if !slices.Equal(names, want) {
		t.Fatalf("patterns=%v, want %v", names, want)
	}
}

// Every testdata/NAME.bad.yaml fails with an error starting as NAME.err says.
func TestBadPatterns(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".bad.yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = patterns.Parse(filepath.Base(f), data)
			if !errors.Is(err, patterns.ErrInvalid) {
				t.Fatalf("err=%v, want ErrInvalid", err)
			}
			if got, w := err.Error(), strings.TrimSpace(string(want)); !strings.HasPrefix(got, w) {
				t.Fatalf("err=%q, want prefix %q", got, w)
			}
		})
	}
}

// docStore is an index.Store over hand-built documents; Search matches
// every document (patterns in these tests have no query).
type docStore struct {
	index.Store
	docs []*index.Doc
}

func (s docStore) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	for _, d := range s.docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func day(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

// Bland, synthetic, adults-only documents.
func fixture() []*index.Doc {
	return []*index.Doc{
		// p1 tours: four cities in five days.
		{ID: "a1", PersonID: "p1", NetworkID: "n1", City: "Göteborg", PostedAt: day(2, 10), Contacts: []string{"tel:aaaaaaaaaaaaaaaa"}},
		{ID: "a2", PersonID: "p1", NetworkID: "n1", City: "Malmö", PostedAt: day(3, 10), Contacts: []string{"tel:aaaaaaaaaaaaaaaa"}},
		{ID: "a3", PersonID: "p1", NetworkID: "n1", City: "Uppsala", PostedAt: day(5, 10), Contacts: []string{"tel:aaaaaaaaaaaaaaaa"}},
		{ID: "a4", PersonID: "p1", NetworkID: "n1", City: "Örebro", PostedAt: day(6, 10), Contacts: []string{"tel:aaaaaaaaaaaaaaaa"}},
		// p2 and p3 share p1's contact; p3's number is foreign too.
		{ID: "b1", PersonID: "p2", NetworkID: "n1", City: "Göteborg", PostedAt: day(2, 9), Contacts: []string{"tel:aaaaaaaaaaaaaaaa"}, Body: "Hon är här hela veckan."},
		{ID: "c1", PersonID: "p3", NetworkID: "n1", City: "Göteborg", PostedAt: day(2, 9), Contacts: []string{"tel:aaaaaaaaaaaaaaaa", "tel:bbbbbbbbbbbbbbbb"}, ContactCountries: []string{"+46", "+48"}},
		// p4 posts five times in one day, from one city, home number only.
		{ID: "d1", PersonID: "p4", City: "Luleå", PostedAt: day(9, 8), ContactCountries: []string{"+46"}},
		{ID: "d2", PersonID: "p4", City: "Luleå", PostedAt: day(9, 9)},
		{ID: "d3", PersonID: "p4", City: "Luleå", PostedAt: day(9, 10)},
		{ID: "d4", PersonID: "p4", City: "Luleå", PostedAt: day(9, 11)},
		{ID: "d5", PersonID: "p4", City: "Luleå", PostedAt: day(9, 12), Title: "Ny i branschen", PossibleMinor: true},
	}
}

func MustRun(tb testing.TB, name string) *patterns.Report {
	tb.Helper()
	ps, err := patterns.Load("../../configs/patterns")
	if err != nil {
		tb.Fatal(err)
	}
	p, err := patterns.Find(ps, name)
	if err != nil {
		tb.Fatal(err)
	}
	rep, err := patterns.Run(context.Background(), docStore{docs: fixture()}, p)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func TestRunStarterSet(t *testing.T) {
	for _, tc := range []struct {
		pattern   string
		keys      []string
		condition string
		adIDs     []string
	}{
		{"touring", []string{"p1"}, "min_cities", []string{"a1", "a2", "a3", "a4"}},
		{"many-ads-per-day", []string{"p4"}, "min_ads_per_day", []string{"d1", "d2", "d3", "d4", "d5"}},
		{"shared-contact", []string{"n1"}, "min_persons_per_contact", []string{"a1", "a2", "a3", "a4", "b1", "c1"}},
		{"foreign-contact", []string{"p3"}, "foreign_contact", []string{"c1"}},
		{"third-person", []string{"p2"}, "text_any", []string{"b1"}},
		{"signs-of-youth", []string{"p4"}, "possible_minor", []string{"d5"}},
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			rep := MustRun(t, tc.pattern)
			var keys []string
			for _, m := range rep.Matches {
				keys = append(keys, m.Key)
			}
			if !slices.Equal(keys, tc.keys) {
				t.Fatalf("matches=%v, want %v\n%+v", keys, tc.keys, rep)
			}
			i := slices.IndexFunc(rep.Matches[0].Evidence, func(e patterns.Evidence) bool { return e.Condition == tc.condition })
			if i < 0 {
				t.Fatalf("no %s evidence: %+v", tc.condition, rep.Matches[0].Evidence)
			}
			e := rep.Matches[0].Evidence[i]
			if got := slices.Sorted(slices.Values(e.AdIDs)); !slices.Equal(got, tc.adIDs) {
				t.Fatalf("evidence ads=%v, want %v (%s)", got, tc.adIDs, e.Detail)
			}
			if e.Detail == "" {
				t.Fatal("evidence without detail")
			}
		})
	}
	rep := MustRun(t, "shared-contact")
	if rep.Persons != 3 || rep.Networks != 1 || rep.Examined != len(fixture()) {
		t.Fatalf("report=%+v", rep)
	}
	if d := rep.Matches[0].Evidence[0].Detail; !strings.Contains(d, "used by 3 persons") {
		t.Fatalf("detail=%q", d)
	}
}

func TestFindUnknown(t *testing.T) {
	ps, err := patterns.Load("../../configs/patterns")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := patterns.Find(ps, "nope"); !errors.Is(err, patterns.ErrUnknown) || !strings.Contains(err.Error(), "touring") {
		t.Fatalf("err=%v", err)
	}
}
