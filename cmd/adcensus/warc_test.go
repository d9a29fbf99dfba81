package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

func readAds(t *testing.T, path string) map[string]*ad.Ad {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := ad.NewReader(f)
	out := map[string]*ad.Ad{}
	for {
		a, err := r.Next()
		if err != nil {
			break
		}
		a.FetchedAt = time.Time{} // the live crawl stamps after the fetch, the archive at the request
		out[a.ID] = a
	}
	return out
}

// TestCrawlWARCThenReextract crawls a demo arena with the archive on, then
// rebuilds its adverts from the archive alone with 'adcensus reextract':
// the same adverts, fields, contacts and image hashes as the live crawl.
func TestCrawlWARCThenReextract(t *testing.T) {
	corpus, demo := startDemo(t)
	dir := t.TempDir()
	writeDemoConfigs(t, dir, demo)
	arenaPath := filepath.Join(dir, "blomstra.yaml")
	cfg, err := crawler.LoadArena(arenaPath)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	key, err := contact.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	store, err := crawler.OpenStore(filepath.Join(data, crawlStateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	livePath := filepath.Join(dir, "live.jsonl")
	f, err := os.Create(livePath)
	if err != nil {
		t.Fatal(err)
	}
	warcDir := filepath.Join(dir, "warc")
	if got := warcDirFor(cfg, data, warcDir); got != warcDir {
		t.Fatalf("warcDirFor with a flag = %s", got)
	}
	metrics := crawler.NewMetrics()
	c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: &fileSink{f: f, w: ad.NewWriter(f)}, Pseudo: contact.New(key),
		Version: Version, WARCDir: warcDir, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()

	outPath := filepath.Join(dir, "re.jsonl")
	var stdout, stderr bytes.Buffer
	if err := cmdReextract(context.Background(), []string{"--warc", warcDir, "--arena", arenaPath, "--out", outPath, "--data", data, "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("reextract: %v\n%s", err, stderr.String())
	}
	live, re := readAds(t, livePath), readAds(t, outPath)
	if got, want := len(live), corpus.ArenaAds("blomstra"); got != want {
		t.Fatalf("live crawl: %d adverts, want %d", got, want)
	}
	if len(re) != len(live) {
		t.Fatalf("reextract: %d adverts, live %d\n%s", len(re), len(live), stdout.String())
	}
	images := 0
	for id, l := range live {
		r, ok := re[id]
		if !ok {
			t.Fatalf("advert %s not reextracted", id)
		}
		lj, _ := json.Marshal(l)
		rj, _ := json.Marshal(r)
		if !reflect.DeepEqual(l, r) {
			t.Fatalf("advert %s differs:\nlive %s\nre   %s", id, lj, rj)
		}
		images += len(r.ImageFPs)
	}
	if images == 0 {
		t.Fatal("no images in the demo arena's adverts: the test proves nothing about image hashes")
	}
	if !strings.Contains(stdout.String(), " 0 not in the archive") {
		t.Errorf("reextract summary: %s", stdout.String())
	}

	var m bytes.Buffer
	metrics.WriteTo(&m)
	if !strings.Contains(m.String(), `adcensus_crawler_ads_total{arena="blomstra"} `) {
		t.Errorf("metrics: %s", m.String())
	}

	// An arena with archive: warc and no --warc archives under DATA/warc.
	cfg.Archive = "warc"
	if got, want := warcDirFor(cfg, data, ""), filepath.Join(data, "warc"); got != want {
		t.Errorf("warcDirFor = %s, want %s", got, want)
	}
	cfg.Archive = "none"
	if got := warcDirFor(cfg, data, ""); got != "" {
		t.Errorf("warcDirFor without archive = %q", got)
	}
	if err := cmdReextract(context.Background(), []string{"--arena", arenaPath, "--out", outPath}, &stdout, &stderr); err == nil {
		t.Error("reextract without --warc did not fail")
	}
}

func TestScheduleCommand(t *testing.T) {
	data := t.TempDir()
	cfg := writeArenaConfigs(t, t.TempDir(), map[string]string{"blomstra": "http://127.0.0.1:1", "nattlinjen": "http://127.0.0.1:2"})
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdSchedule(context.Background(), append(args, "--data", data, "--config", cfg), &out, &errb)
		return out.String(), err
	}
	out, err := run("add", "blomstra", "0 6 * * 1")
	if err != nil {
		t.Fatal(err)
	}
	// The next start in UTC and in Stockholm time.
	if !strings.Contains(out, "Z (") || !strings.Contains(out, "Europe/Stockholm") {
		t.Errorf("add does not show the next start in UTC and Stockholm time:\n%s", out)
	}
	if _, err := run("add", "nosuch", "0 6 * * 1"); err == nil || !strings.Contains(err.Error(), "unknown arena") || !strings.Contains(err.Error(), "blomstra") {
		t.Errorf("a schedule of an unknown arena: err %v, want unknown arena listing the known ones", err)
	}
	if _, err := run("add", "nattlinjen", "every monday"); err == nil {
		t.Fatal("bad cron expression accepted")
	}
	out, err = run("list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "blomstra") || !strings.Contains(out, "0 6 * * 1") || !strings.Contains(out, "store") || !strings.Contains(out, "CET") {
		t.Fatalf("list:\n%s", out)
	}
	if _, err := run("remove", "blomstra"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("remove", "blomstra"); err == nil {
		t.Fatal("second remove did not fail")
	}
	if out, _ := run("list"); strings.Contains(out, "blomstra") {
		t.Fatalf("removed schedule still listed:\n%s", out)
	}
	if _, err := run("frobnicate"); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}
