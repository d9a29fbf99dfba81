package index_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"adcensus/index"
)

// The Swedish-Excel variant: BOM, ";" and CRLF, the same cells as the
// standard CSV, Göteborg intact, suppressed cells empty.
func TestWriteCountsCSVSwedishExcel(t *testing.T) {
	rows := []index.CountRow{
		{Group: []string{"Göteborg", "Västra Götalands län"}, Ads: 12, Persons: 9},
		{Group: []string{"Lund", "Skåne län"}, Suppressed: true},
		{Group: []string{"*", "*"}, Ads: 15, Persons: 11},
	}
	by := []string{"city", "region"}
	var std, xl bytes.Buffer
	if err := index.WriteCountsCSV(&std, by, rows); err != nil {
		t.Fatal(err)
	}
	d, ok := index.CSVDialectOf(index.FormatCSVExcel)
	if !ok {
		t.Fatal("no dialect csv-excel")
	}
	if err := index.WriteCountsCSVDialect(&xl, by, rows, d); err != nil {
		t.Fatal(err)
	}
	got := xl.String()
	body, ok := strings.CutPrefix(got, "\uFEFF")
	if !ok {
		t.Fatalf("no byte-order mark: %q", got[:min(10, len(got))])
	}
	if want := "city;region;ads;persons\r\nGöteborg;Västra Götalands län;12;9\r\n"; !strings.HasPrefix(body, want) {
		t.Fatalf("excel csv starts %q, want %q", body, want)
	}
	r := csv.NewReader(strings.NewReader(body))
	r.Comma = ';'
	xlRecs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	stdRecs, err := csv.NewReader(&std).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(xlRecs) != len(stdRecs) || len(xlRecs) != 4 {
		t.Fatalf("excel has %d records, standard %d, want 4", len(xlRecs), len(stdRecs))
	}
	for i := range xlRecs {
		if strings.Join(xlRecs[i], "|") != strings.Join(stdRecs[i], "|") {
			t.Errorf("record %d: excel %q, standard %q", i, xlRecs[i], stdRecs[i])
		}
	}
	if got := xlRecs[2]; got[2] != "" || got[3] != "" {
		t.Errorf("suppressed row written %q", got)
	}
}

func TestCSVDialectFloat(t *testing.T) {
	for _, tc := range []struct {
		d    index.CSVDialect
		f    float64
		prec int
		want string
	}{
		{index.StandardCSV(), 1234.5, 1, "1234.5"},
		{index.SwedishExcelCSV(), 1234.5, 1, "1234,5"},
		{index.SwedishExcelCSV(), 0.25, -1, "0,25"},
		{index.SwedishExcelCSV(), 7, 0, "7"},
	} {
		if got := tc.d.Float(tc.f, tc.prec); got != tc.want {
			t.Errorf("Float(%v, %d)=%q, want %q", tc.f, tc.prec, got, tc.want)
		}
	}
	if _, ok := index.CSVDialectOf("xlsx"); ok {
		t.Error("xlsx accepted as a CSV dialect")
	}
}
