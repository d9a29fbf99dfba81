package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// stdout runs adcensus and returns its standard output, failing the test
// on an error.
func stdoutOf(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Main(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("adcensus %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// The read commands give through an API (--api URL: an index being written
// by its stage process is read through that process) what they give on
// the data directory itself.
func TestReadsThroughTheAPI(t *testing.T) {
	data := MustServeData(t)
	token := MustAccessToken(t, data, "analyst,researcher")
	base, stop := startServe(t, data, "--min-cell-floor", "0")
	defer stop()
	t.Setenv("ADCENSUS_TOKEN", token)
	for _, args := range [][]string{
		{"search", "sällskap"},
		{"search", "--by-person", "--facets", "arena,city", "--size", "1", "--from", "1", "lund"},
		{"search", "--format", "json", "sällskap"},
		{"export", "facts", "--min-cell", "0"},
		{"export", "facts", "--min-cell", "0", "--format", "csv-excel", "--basis", "posted"},
		{"patterns", "run", "touring"},
	} {
		local := stdoutOf(t, append(args, "--data", data)...)
		remote := stdoutOf(t, append(args, "--api", base)...)
		if remote != local {
			t.Errorf("%s through the API:\n%s\nwant, as on the data directory:\n%s", strings.Join(args, " "), remote, local)
		}
	}
	// The overlap's estimate is the server's own; the tables are the same.
	local := stdoutOf(t, "export", "overlap", "--min-cell", "0", "--no-estimate", "--data", data)
	remote := stdoutOf(t, "export", "overlap", "--min-cell", "0", "--api", base)
	compared := 0
	for _, line := range strings.Split(local, "\n") {
		if strings.Contains(line, "annonsia") || strings.Contains(line, "blomstra") {
			compared++
			if !strings.Contains(remote, line) {
				t.Errorf("overlap through the API lacks %q:\n%s", line, remote)
			}
		}
	}
	if compared == 0 {
		t.Errorf("no arena in the local overlap:\n%s", local)
	}
	// An arena subset naming an arena without adverts is refused, with the
	// arenas that have some.
	if arenaErr, _, _ := runMainErr(t, "export", "overlap", "--data", data, "--arena", "nosuch"); !strings.Contains(arenaErr.Error(), `"nosuch"`) || !strings.Contains(arenaErr.Error(), "blomstra") {
		t.Errorf("export overlap --arena nosuch: %v, want the arenas with adverts named", arenaErr)
	}
	// Refused: what only the local computation has, and a bad URL.
	for _, args := range [][]string{
		{"export", "overlap", "--replicates", "10", "--api", base},
		{"patterns", "run", "touring", "--patterns", t.TempDir(), "--api", base},
		{"search", "--api", "ftp://x", "a"},
	} {
		if _, err := run(t, args...); err == nil {
			t.Errorf("%s: no error", strings.Join(args, " "))
		}
	}
}
