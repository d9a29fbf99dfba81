package index_test

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"adcensus/index"
)

func docs() []*index.Doc {
	return []*index.Doc{
		{ID: "a1", Arena: "blomstra", Week: "2026-W10", City: "Göteborg", PersonID: "p1"},
		{ID: "a2", Arena: "blomstra", Week: "2026-W09", City: "Stockholm", PersonID: "p1"},
		{ID: "a3", Arena: "annonsia", Week: "2026-W09", City: "Göteborg", PersonID: "p2"},
		{ID: "a4", Arena: "annonsia", Week: "2026-W09", PersonID: "p3"},
		{ID: "a5", Arena: "blomstra", Week: "2026-W10", City: "Göteborg", PersonID: "p1"},
		{ID: "a6", Arena: "blomstra", Week: "2026-W09", City: "Stockholm"},
	}
}

func MustCount(tb testing.TB, by []string, opt index.CountOptions) []index.CountRow {
	tb.Helper()
	c, err := index.NewCounter(by)
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range docs() {
		c.Add(d)
	}
	c.Add(docs()[0]) // the same advert twice counts once
	return c.Rows(opt)
}

func TestCounter(t *testing.T) {
	for _, tc := range []struct {
		name string
		by   []string
		opt  index.CountOptions
		want []index.CountRow
	}{
		{"total only", nil, index.CountOptions{}, []index.CountRow{
			{Group: []string{}, Ads: 6, Persons: 4, Total: true},
		}},
		{"by city, unknown value", []string{"city"}, index.CountOptions{}, []index.CountRow{
			{Group: []string{"Göteborg"}, Ads: 3, Persons: 2},
			{Group: []string{"Stockholm"}, Ads: 2, Persons: 2},
			{Group: []string{"unknown"}, Ads: 1, Persons: 1},
			{Group: []string{"*"}, Ads: 6, Persons: 4, Total: true},
		}},
		{"week then arena", []string{"week", "arena"}, index.CountOptions{MinCell: 2}, []index.CountRow{
			// secondary: else the total minus the other cells gives W10
			{Group: []string{"2026-W09", "annonsia"}, Ads: -1, Persons: -1, Suppressed: true, Suppression: "secondary"},
			{Group: []string{"2026-W09", "blomstra"}, Ads: 2, Persons: 2},
			{Group: []string{"2026-W10", "blomstra"}, Ads: -1, Persons: -1, Suppressed: true, Suppression: "primary"},
			{Group: []string{"*", "*"}, Ads: 6, Persons: 4, Total: true},
		}},
		{"total suppressed too", nil, index.CountOptions{MinCell: 5}, []index.CountRow{
			{Group: []string{}, Ads: -1, Persons: -1, Suppressed: true, Suppression: "primary", Total: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MustCount(t, tc.by, tc.opt); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rows=%+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestValidateDimensions(t *testing.T) {
	for _, by := range [][]string{{"colour"}, {"arena", "arena"}, {"Arena"}} {
		if err := index.ValidateDimensions(by); !errors.Is(err, index.ErrBadDimension) {
			t.Errorf("ValidateDimensions(%v)=%v, want ErrBadDimension", by, err)
		}
	}
	if err := index.ValidateDimensions(index.Dimensions()); err != nil {
		t.Fatal(err)
	}
	err := index.ValidateDimensions([]string{"colour"})
	if got, want := err.Error(), `bad dimension "colour": allowed are arena, week, month, region, city, gender`; got != want {
		t.Fatalf("err=%q, want %q", got, want)
	}
}

func TestWriteCountsCSV(t *testing.T) {
	by := []string{"week", "arena"}
	var b strings.Builder
	if err := index.WriteCountsCSV(&b, by, MustCount(t, by, index.CountOptions{MinCell: 2})); err != nil {
		t.Fatal(err)
	}
	want := "week,arena,ads,persons\n" +
		"2026-W09,annonsia,,\n" +
		"2026-W09,blomstra,2,2\n" +
		"2026-W10,blomstra,,\n" +
		"*,*,6,4\n"
	if got := b.String(); got != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
}

func TestWriteCountsJSON(t *testing.T) {
	by := []string{"week", "arena"}
	opt := index.CountOptions{MinCell: 2}
	var b strings.Builder
	prov := map[string]any{"generated_at": "2026-03-09T10:00:00Z", "adcensus_version": "test"}
	if err := index.WriteCountsJSON(&b, by, MustCount(t, by, opt), opt, prov); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/counts.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Fatalf("json:\n%s\nwant:\n%s", got, want)
	}
}

func ExampleWriteCountsCSV() {
	rows := []index.CountRow{
		{Group: []string{"blomstra"}, Ads: 12, Persons: 7},
		{Group: []string{"annonsia"}, Ads: -1, Persons: -1, Suppressed: true},
		{Group: []string{"*"}, Ads: 15, Persons: 9, Total: true},
	}
	_ = index.WriteCountsCSV(os.Stdout, []string{"arena"}, rows)
	// Output:
	// arena,ads,persons
	// blomstra,12,7
	// annonsia,,
	// *,15,9
}
