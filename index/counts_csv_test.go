package index_test

import (
	"bytes"
	"strings"
	"testing"

	"adcensus/index"
)

// A city scraped from a hostile page must not become a spreadsheet formula.
func TestWriteCountsCSVNeutralisesFormulas(t *testing.T) {
	var buf bytes.Buffer
	rows := []index.CountRow{{Group: []string{"=HYPERLINK(\"http://x\")"}, Ads: 7, Persons: 6}}
	if err := index.WriteCountsCSV(&buf, []string{"city"}, rows); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); !strings.Contains(got, `"'=HYPERLINK(""http://x"")",7,6`) {
		t.Fatalf("formula not neutralised:\n%s", got)
	}
}
