package main

import (
	"strings"
	"testing"
)

// export counts and export facts write the Swedish-Excel CSV too: BOM,
// ";" and the same cells as the standard CSV.
func TestExportSwedishExcel(t *testing.T) {
	dataDir := MustServeData(t)
	for _, cmd := range [][]string{
		{"export", "counts", "--by", "arena,city", "--min-cell", "0"},
		{"export", "facts", "--min-cell", "0"},
	} {
		std := runMain(t, append(cmd, "--data", dataDir, "--format", "csv")...)
		xl := runMain(t, append(cmd, "--data", dataDir, "--format", "csv-excel")...)
		body, ok := strings.CutPrefix(xl, "\uFEFF")
		if !ok {
			t.Fatalf("%s: no byte-order mark: %.40q", cmd[1], xl)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(std), ",", ";"), "\n", "\r\n")
		if got := strings.TrimSpace(body); got != want {
			t.Errorf("%s csv-excel:\n%s\nwant\n%s", cmd[1], got, want)
		}
	}
	if err, _, stderr := runMainErr(t, "export", "counts", "--data", dataDir, "--format", "xlsx"); err == nil || !strings.Contains(err.Error()+stderr, "csv-excel") {
		t.Errorf("--format xlsx: %v %s", err, stderr)
	}
}
