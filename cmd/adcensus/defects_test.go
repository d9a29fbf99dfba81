package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	indexbleve "adcensus/index/bleve"
)

func indexbleveOpen(data string) (*indexbleve.Index, error) {
	return indexbleve.Open(filepath.Join(data, indexDir))
}

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

// TestPatternsBuiltIn: the shipped patterns are in the binary, so 'patterns
// list' and 'patterns run' work from any folder; --patterns DIR adds more.
func TestPatternsBuiltIn(t *testing.T) {
	t.Chdir(t.TempDir())
	out := runMain(t, "patterns", "list")
	for _, name := range []string{"shared-contact", "touring", "many-ads-per-day", "foreign-contact", "third-person", "signs-of-youth"} {
		if !strings.Contains(out, name) {
			t.Errorf("patterns list outside the repository lacks %s:\n%s", name, out)
		}
	}
	extra := t.TempDir()
	if err := os.WriteFile(filepath.Join(extra, "weekend.yaml"), []byte("name: weekend\nversion: 1\ndescription: adverts that mention the weekend\nlevel: advert\nsources: [local]\nquery: helg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = runMain(t, "patterns", "list", "--patterns", extra)
	if !strings.Contains(out, "weekend") || !strings.Contains(out, "touring") {
		t.Errorf("patterns list --patterns DIR does not add to the built-in ones:\n%s", out)
	}
	err, _, _ := runMainErr(t, "patterns", "list", "--patterns", filepath.Join(extra, "nosuch"))
	if !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("a missing --patterns folder: error %q does not name it", err)
	}
	err, _, _ = runMainErr(t, "patterns", "run", "nosuch", "--data", t.TempDir())
	if !strings.Contains(err.Error(), "known are") || !strings.Contains(err.Error(), "touring") {
		t.Errorf("unknown pattern: error %q does not list the known ones", err)
	}
}

// TestGroupCommandsHelp: every group command answers -h/--help with its
// usage on stdout and exit status 0, and without a subcommand with a usage
// error.
func TestGroupCommandsHelp(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, group := range []string{"patterns", "schedule", "export", "arena", "index"} {
		for _, h := range []string{"-h", "--help", "help"} {
			var out, errb bytes.Buffer
			err := Main(context.Background(), []string{group, h}, &out, &errb)
			if code := exitCodeOf(err); code != 0 {
				t.Errorf("adcensus %s %s: exit %d (%v), want 0", group, h, code, err)
			}
			if !strings.Contains(out.String(), "usage: adcensus "+group) {
				t.Errorf("adcensus %s %s printed no usage on stdout: %q", group, h, out.String())
			}
		}
		err := Main(context.Background(), []string{group}, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCodeOf(err); code != 2 {
			t.Errorf("adcensus %s: exit %d, want 2 (usage)", group, code)
		}
	}
	for _, args := range [][]string{{"demo", "-h"}, {"search", "--help"}, {"patterns", "run", "-h"}, {"schedule", "list", "-h"}} {
		err := Main(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCodeOf(err); code != 0 {
			t.Errorf("adcensus %s: exit %d (%v), want 0", strings.Join(args, " "), code, err)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("help created files: %v", entries)
	}
}

func exitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

// TestSearchErrorOnce: a query every shard refuses shows its message once
// (it was joined once per shard).
func TestSearchErrorOnce(t *testing.T) {
	data := MustServeData(t)
	ix, err := indexbleveOpen(data)
	if err != nil {
		t.Fatal(err)
	}
	// A second month, so the index has two shards.
	if err := ix.Apply(context.Background(), []*ad.Fingerprinted{{Ad: ad.Ad{ID: "c1", Arena: "blomstra", Title: "Promenad", City: "Lund",
		PostedAt: time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)}}}, []ad.Assignment{{AdID: "c1", PersonID: "P4", NetworkID: "NP4"}}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	err, _, _ = runMainErr(t, "search", "--data", data, "/[/")
	msg := err.Error()
	if n := strings.Count(msg, "missing closing ]"); n != 1 {
		t.Errorf("the parser's message appears %d times, want once: %q", n, msg)
	}
}

// TestNoSilentDataDir: commands run without --data in an empty folder
// create neither ./data nor a key there (schedule -h, schedule list,
// schedule add/remove), or say so when they do (dedup).
func TestNoSilentDataDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, args := range [][]string{{"schedule", "-h"}, {"schedule", "list"}, {"schedule", "list", "-h"}} {
		var out, errb bytes.Buffer
		if err := Main(context.Background(), args, &out, &errb); exitCodeOf(err) != 0 {
			t.Errorf("adcensus %s: %v", strings.Join(args, " "), err)
		}
	}
	for _, args := range [][]string{{"schedule", "add", "blomstra", "0 6 * * 1"}, {"schedule", "remove", "blomstra"}} {
		err, _, _ := runMainErr(t, args...)
		if !strings.Contains(err.Error(), "no data directory") {
			t.Errorf("adcensus %s: error %q does not say there is no data directory", strings.Join(args, " "), err)
		}
	}
	if _, err := os.Stat("data"); err == nil {
		t.Fatal("./data created")
	}
	// dedup without --data: refused unless --new-key says a new key is meant.
	in := filepath.Join(dir, "ads.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"a1","arena":"blomstra","title":"Promenad","city":"Lund"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err, _, _ := runMainErr(t, "dedup", "--in", in, "--out", filepath.Join(dir, "out.csv"))
	if !strings.Contains(err.Error(), "no pseudonymisation key") || !strings.Contains(err.Error(), "--new-key") {
		t.Errorf("dedup without a key: error %q does not name the missing key and --new-key", err)
	}
	if _, err := os.Stat("data"); err == nil {
		t.Fatal("./data created by a refused dedup")
	}
	var out, errb bytes.Buffer
	if err := Main(context.Background(), []string{"dedup", "--in", in, "--out", filepath.Join(dir, "out.csv"), "--new-key"}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(errb.String(), "created a new pseudonymisation key") {
		t.Errorf("dedup --new-key does not say it created a key: %q", errb.String())
	}
	if _, err := os.Stat(filepath.Join("data", "secret.key")); err != nil {
		t.Errorf("dedup --new-key: %v", err)
	}
}

// TestMainConfigErrors: main-config errors name the file, the line and the
// field like arena-config errors: testdata/mainconfig/NAME.bad.yaml fails
// with the text of NAME.err (the path made relative).
func TestMainConfigErrors(t *testing.T) {
	dir := filepath.Join("testdata", "mainconfig")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".bad.yaml")
		if !ok {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(dir, name+".err"))
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = loadConfig(filepath.Join(dir, e.Name()))
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			if got != strings.TrimSpace(string(want)) {
				t.Errorf("error\n %s\nwant\n %s", got, want)
			}
		})
	}
	if n == 0 {
		t.Fatal("no bad configs")
	}
}

// TestExportProvenance: an export's provenance has what docs/EXPORTS.md
// promises — version, generated_at, data directory, the index's totals and
// stream position — and lists only the runs whose adverts reached the
// index, not 'crawl --out' runs.
func TestExportProvenance(t *testing.T) {
	_, demo := startDemo(t)
	dir := t.TempDir()
	writeDemoConfigs(t, dir, demo)
	data := filepath.Join(dir, "data")
	runMain(t, "run", "--config", filepath.Join(dir, "adcensus.yaml"), "--data", data, "--quiet")
	runMain(t, "crawl", "--arena", filepath.Join(dir, "nattlinjen.yaml"), "--out", filepath.Join(dir, "ads.jsonl"), "--data", data, "--quiet")
	var out struct {
		Provenance struct {
			Version        string `json:"adcensus_version"`
			GeneratedAt    string `json:"generated_at"`
			DataDir        string `json:"data_dir"`
			StreamPosition uint64 `json:"stream_position"`
			Index          struct {
				Adverts, Persons, Networks int
			} `json:"index"`
			Runs []struct {
				ID, Arena string
			} `json:"runs"`
			NotIndexed int `json:"runs_not_indexed"`
		} `json:"provenance"`
	}
	js := runMain(t, "export", "counts", "--data", data, "--format", "json")
	if err := json.Unmarshal([]byte(js), &out); err != nil {
		t.Fatal(err, js)
	}
	p := out.Provenance
	if p.Version != Version || p.GeneratedAt == "" || p.DataDir != data || p.StreamPosition == 0 {
		t.Errorf("provenance lacks version, generated_at, data_dir or stream_position: %+v", p)
	}
	total := totalRow(t, indexCounts(t, data, "arena"))
	if p.Index.Adverts != total.Ads || p.Index.Persons != total.Persons || p.Index.Networks == 0 {
		t.Errorf("provenance totals %+v, want %d adverts, %d persons", p.Index, total.Ads, total.Persons)
	}
	if len(p.Runs) != 2 || p.NotIndexed != 1 {
		t.Errorf("provenance lists %d runs (%d not indexed), want the 2 of run and the crawl --out one left out: %+v", len(p.Runs), p.NotIndexed, p.Runs)
	}
}

// TestSearchCommandFlags: --json has the API's lower-case keys, --size is
// checked, --from pages and the text says which hits it shows.
func TestSearchCommandFlags(t *testing.T) {
	data := MustServeData(t)
	var m map[string]any
	js := runMain(t, "search", "--data", data, "--json", "lund")
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"unit", "total", "hits"} {
		if _, ok := m[k]; !ok {
			t.Errorf("search --json lacks %q: %s", k, js)
		}
	}
	if js2 := runMain(t, "search", "--data", data, "--format", "json", "lund"); js2 != js {
		t.Errorf("--format json differs from --json")
	}
	for _, size := range []string{"-3", "0", "1001"} {
		err, _, _ := runMainErr(t, "search", "--data", data, "--size", size, "lund")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "--size") {
			t.Errorf("--size %s: %v (exit %d), want a usage error", size, err, exitCode(err))
		}
	}
	if err, _, _ := runMainErr(t, "search", "--data", data, "--from", "-1", "lund"); exitCode(err) != 2 {
		t.Errorf("--from -1: %v", err)
	}
	for _, off := range []string{"-3", "99999999999"} {
		if err, _, _ := runMainErr(t, "search", "--data", data, "--offset", off, "lund"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--offset") {
			t.Errorf("--offset %s: %v, want a usage error naming --offset", off, err)
		}
	}
	out := runMain(t, "search", "--data", data, "--size", "3", "lund")
	if !strings.Contains(out, "4 adverts match; showing 1–3 (next: --from 3)") {
		t.Errorf("first page:\n%s", out)
	}
	out = runMain(t, "search", "--data", data, "--size", "3", "--from", "3", "lund")
	if !strings.Contains(out, "showing 4–4") || strings.Count(out, "Sällskap") != 1 {
		t.Errorf("second page:\n%s", out)
	}
}

// TestMSECommand: --format json and --json give the same; --replicates 0
// runs no bootstrap; a 20-digit count is "too large"; a ;-separated file
// gets a hint.
func TestMSECommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(in, []byte("A,B,C,count\n1,0,0,40\n0,1,0,35\n0,0,1,30\n1,1,0,12\n1,0,1,10\n0,1,1,9\n1,1,1,4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := runMain(t, "mse", "--in", in, "--json", "--replicates", "0")
	b := runMain(t, "mse", "--in", in, "--format", "json", "--replicates", "0")
	if a != b {
		t.Errorf("--json and --format json differ")
	}
	var res struct {
		Replicates int `json:"replicates"`
	}
	if err := json.Unmarshal([]byte(a), &res); err != nil {
		t.Fatal(err)
	}
	if res.Replicates != 0 {
		t.Errorf("--replicates 0 ran %d replicates", res.Replicates)
	}
	if err := os.WriteFile(in, []byte("A,B,count\n1,0,12345678901234567890\n0,1,3\n1,1,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err, _, _ := runMainErr(t, "mse", "--in", in); !strings.Contains(err.Error(), "too large") {
		t.Errorf("20-digit count: %v", err)
	}
	if err := os.WriteFile(in, []byte("A;B;count\n1;0;3\n0;1;3\n1;1;2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err, _, _ := runMainErr(t, "mse", "--in", in); !strings.Contains(err.Error(), "semicolons") {
		t.Errorf(";-separated: %v", err)
	}
}

// TestDedupOneBlankAdvert: one advert with neither contact nor photo is one
// person, not "between 0 and 1".
func TestDedupOneBlankAdvert(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "ads.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"a1","arena":"blomstra","title":"Promenad","city":"Lund"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runMain(t, "dedup", "--in", in, "--out", filepath.Join(dir, "a.csv"), "--data", filepath.Join(dir, "data"), "--new-key")
	if !strings.Contains(out, "so the count is 1)") {
		t.Errorf("summary: %s", out)
	}
}

// TestDemoServeBusyPort: 'demo serve' on a port in use fails without first
// claiming to serve.
func TestDemoServeBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	err, out, _ := runMainErr(t, "demo", "serve", "--blomstra", busy.Addr().String(), "--nattlinjen", "127.0.0.1:0")
	if !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error %v", err)
	}
	if strings.Contains(out, "serving") {
		t.Errorf("printed %q before failing", out)
	}
	// A free port: announced once bound, with the port it got.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sout syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Main(ctx, []string{"demo", "serve", "--blomstra", "127.0.0.1:0", "--nattlinjen", "127.0.0.1:0", "--omdomen", "127.0.0.1:0"}, &sout, &bytes.Buffer{})
	}()
	checkFor(t, 10*time.Second, "serving line", func() bool { return strings.Contains(sout.String(), "serving demo arenas: blomstra http://127.0.0.1:") })
	if strings.Contains(sout.String(), ":0 ") {
		t.Errorf("announced port 0: %s", sout.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCrawlProgressWithoutStages: crawl's progress line has no stage
// counts (no stage runs in crawl --out).
func TestCrawlProgressWithoutStages(t *testing.T) {
	_, demo := startDemo(t)
	dir := t.TempDir()
	writeDemoConfigs(t, dir, demo)
	var out, errb bytes.Buffer
	if err := Main(context.Background(), []string{"crawl", "--arena", filepath.Join(dir, "nattlinjen.yaml"), "--out", filepath.Join(dir, "ads.jsonl"), "--data", filepath.Join(dir, "data")}, &out, &errb); err != nil {
		t.Fatal(err, errb.String())
	}
	if !strings.Contains(errb.String(), "progress: pages") {
		t.Fatalf("no progress line: %q", errb.String())
	}
	if strings.Contains(errb.String(), "fingerprinted") {
		t.Errorf("crawl's progress shows stage counts: %q", errb.String())
	}
}

// TestDedupPrivateImageURLs: offline dedup does not fetch image URLs on
// loopback unless --allow-private.
func TestDedupPrivateImageURLs(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "ads.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"a1","arena":"blomstra","title":"Promenad","images":["`+srv.URL+`/p.jpg"]}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	out := runMain(t, "dedup", "--in", in, "--out", filepath.Join(dir, "a.csv"), "--data", data, "--new-key")
	if hits.Load() != 0 || !strings.Contains(out, "1 images failed") {
		t.Errorf("%d requests reached the loopback server; summary %s", hits.Load(), out)
	}
	runMain(t, "dedup", "--in", in, "--out", filepath.Join(dir, "a.csv"), "--data", data, "--allow-private")
	if hits.Load() != 1 {
		t.Errorf("--allow-private: %d requests, want 1", hits.Load())
	}
}
