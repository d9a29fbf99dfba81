package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// refusedURL returns an http URL on 127.0.0.1 where nothing listens.
func refusedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

// runMainErr runs a command that must fail and returns its error, stdout
// and stderr.
func runMainErr(t *testing.T, args ...string) (error, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, &out, &errb)
	if err == nil {
		t.Fatalf("adcensus %s succeeded, want an error\nstdout:\n%s", strings.Join(args, " "), out.String())
	}
	return err, out.String(), errb.String()
}

// TestRunAgainstRefusingArenaFails: a run whose only arena refuses
// connections exits non-zero and 'runs' shows it failed.
func TestRunAgainstRefusingArenaFails(t *testing.T) {
	dir := t.TempDir()
	cfg := writeArenaConfigs(t, dir, map[string]string{"blomstra": refusedURL(t)})
	data := filepath.Join(dir, "data")
	err, _, _ := runMainErr(t, "run", "--config", cfg, "--data", data, "--quiet")
	if !strings.Contains(err.Error(), "every arena's crawl failed") || !strings.Contains(err.Error(), "blomstra") {
		t.Errorf("error %q does not say that the arena's crawl failed", err)
	}
	if got := exitCode(err); got == 0 {
		t.Errorf("exit code %d, want non-zero", got)
	}
	runs := runMain(t, "runs", "--data", data)
	if !strings.Contains(runs, "failed") {
		t.Errorf("runs does not show the run failed:\n%s", runs)
	}
	// crawl --out of the same arena fails too.
	err, _, _ = runMainErr(t, "crawl", "--arena", filepath.Join(dir, "blomstra.yaml"), "--out", filepath.Join(dir, "ads.jsonl"), "--data", data, "--quiet")
	if !strings.Contains(err.Error(), "failed") {
		t.Errorf("crawl error %q does not say the run failed", err)
	}
}
