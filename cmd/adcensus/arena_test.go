package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/configs"
	"adcensus/crawler"
	"adcensus/internal/contact"
	"adcensus/internal/synthetic/demoarena"
)

// mustArenaCheckConfig writes the shipped config of arena pointed at base
// into dir (as writeArenaConfigs does) after applying edit, and returns its path.
func mustArenaCheckConfig(t *testing.T, dir, arena, base string, edit func(string) string) string {
	t.Helper()
	data, err := configs.Arenas.ReadFile("arenas/" + arena + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`http://127\.0\.0\.1:\d+`).ReplaceAll(data, []byte(base))
	if edit != nil {
		data = []byte(edit(string(data)))
	}
	path := filepath.Join(dir, arena+".yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startArenaCheckDemo(t *testing.T) (*demoarena.Corpus, *demoarena.Demo) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	corpus := demoarena.Generate(demoarena.DefaultSeed)
	d, err := demoarena.Start(ctx, corpus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return corpus, d
}

// phoneDigitsIn reports a corpus phone whose national digits appear in out
// (URLs removed, all digits run together).
func phoneDigitsIn(c *demoarena.Corpus, out string) string {
	out = regexp.MustCompile(`https?://\S+`).ReplaceAllString(out, "")
	digits := regexp.MustCompile(`\D`).ReplaceAllString(out, "")
	for _, arena := range c.Arenas() {
		for _, a := range c.Listing(arena) {
			for _, p := range a.Phones {
				d := regexp.MustCompile(`\D`).ReplaceAllString(p, "")
				if len(d) > 8 && strings.Contains(digits, d[len(d)-8:]) {
					return p
				}
			}
		}
	}
	return ""
}

func TestArenaCheckDemoArenas(t *testing.T) {
	corpus, d := startArenaCheckDemo(t)
	keyDir := t.TempDir()
	if _, err := contact.LoadOrCreateKey(keyDir); err != nil {
		t.Fatal(err)
	}
	for _, arena := range d.Arenas() {
		for _, keyed := range []bool{false, true} {
			name := arena
			if keyed {
				name += "/keyed"
			}
			t.Run(name, func(t *testing.T) {
				path := mustArenaCheckConfig(t, t.TempDir(), arena, d.URL(arena), nil)
				args := []string{"check", path}
				if keyed {
					args = append(args, "--data", keyDir)
				}
				var stdout, stderr bytes.Buffer
				if err := cmdArena(context.Background(), args, &stdout, &stderr); err != nil {
					t.Fatalf("arena check: %v\n%s\n%s", err, stdout.String(), stderr.String())
				}
				out := stdout.String()
				for _, want := range []string{"detail links", "next (", "title:", "body:", "city:", "region:", "phones:", "images (", "attrs.price:", "\nok\n"} {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
				if regexp.MustCompile(`(?m)^\s+(title|city|region):\s+\(\S+.*\)\s+\(none\)`).MatchString(out) {
					t.Errorf("a field extracted nothing:\n%s", out)
				}
				if !strings.Contains(out, " län") {
					t.Errorf("no region (län) shown:\n%s", out)
				}
				if keyed != strings.Contains(out, contact.TelPrefix) {
					t.Errorf("keyed=%v but pseudonyms shown=%v:\n%s", keyed, !keyed, out)
				}
				if !keyed && !regexp.MustCompile(`<\d+ digits>`).MatchString(out) {
					t.Errorf("phones not shown as digit counts:\n%s", out)
				}
				if p := phoneDigitsIn(corpus, out+stderr.String()); p != "" {
					t.Fatalf("raw phone number in output:\n%s", out)
				}
			})
		}
	}
}

func TestArenaCheckFailsClearly(t *testing.T) {
	_, d := startArenaCheckDemo(t)
	dir := t.TempDir()

	// A links selector that matches nothing.
	path := mustArenaCheckConfig(t, dir, "blomstra", d.URL("blomstra"), func(s string) string {
		return strings.Replace(s, "links: 'a.annons-lank'", "links: 'a.no-such-class'", 1)
	})
	var stdout, stderr bytes.Buffer
	err := cmdArena(context.Background(), []string{"check", path}, &stdout, &stderr)
	if !errors.Is(err, crawler.ErrNoDetailLinks) || exitCode(err) == 0 {
		t.Fatalf("err = %v, want ErrNoDetailLinks (non-zero exit)", err)
	}

	// Title and body selectors that match nothing.
	path = mustArenaCheckConfig(t, dir, "nattlinjen", d.URL("nattlinjen"), func(s string) string {
		s = strings.Replace(s, "{selector: 'h1.headline'}", "{selector: 'h1.nothing'}", 1)
		return strings.Replace(s, "{selector: '.ad-text p', all: true}", "{selector: '.nothing p', all: true}", 1)
	})
	stdout.Reset()
	err = cmdArena(context.Background(), []string{"check", path}, &stdout, &stderr)
	if !errors.Is(err, crawler.ErrNoAdvert) {
		t.Fatalf("err = %v, want ErrNoAdvert\n%s", err, stdout.String())
	}

	// A config error names file, line and field.
	path = mustArenaCheckConfig(t, dir, "blomstra", d.URL("blomstra"), func(s string) string {
		return strings.Replace(s, "age:       {selector: '.alder', regex: '(\\d+)'}", "age:       {selector: '.alder', transform: [years]}", 1)
	})
	err = cmdArena(context.Background(), []string{"check", path}, &stdout, &stderr)
	var ce *crawler.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "blomstra.yaml:") || !strings.Contains(err.Error(), "detail.fields.age.transform[0]: unknown transform") {
		t.Fatalf("err = %v, want a config error with file:line: detail.fields.age.transform[0]", err)
	}

	// Usage.
	if err := cmdArena(context.Background(), []string{"frobnicate"}, &stdout, &stderr); exitCode(err) != 2 {
		t.Fatalf("unknown subcommand: err %v, exit %d; want usage error", err, exitCode(err))
	}
}

// TestArenaCheckPrintsAsWritten: durations print as the config writes them
// (not as nanoseconds) and dropped links with their reason.
func TestArenaCheckPrintsAsWritten(t *testing.T) {
	cfg, err := crawler.ParseArena("x.yaml", []byte(`
name: x
start_urls: [http://example.org/list]
limits: {delay: 1s}
listing: {match: '^/list$', links: a}
detail: {match: '^/ad/(\d+)$', links: a.liknande, fields: {title: {selector: h1}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	rep := &crawler.CheckReport{ListingURL: "http://example.org/list", Delay: 2 * time.Second, CrawlDelay: 2 * time.Second,
		Listing: &crawler.ListingResult{Dropped: []crawler.DroppedLink{{URL: "http://example.org/om", Field: "listing.links", Reason: crawler.DropNoMatch}}}}
	// Each sample shows its redirect, its key and the links it would follow.
	for _, id := range []string{"1", "2"} {
		rep.Samples = append(rep.Samples, crawler.CheckSample{
			URL: "http://example.org/gammal?id=" + id, Final: "http://example.org/ad/" + id,
			Ad: &ad.Ad{URL: "http://example.org/ad/" + id, Title: "Annons " + id},
			Advert: &crawler.AdvertPage{Key: id, KeyFrom: "redirect", Links: []crawler.Link{{URL: "http://example.org/ad/9" + id, Kind: crawler.PageDetail}},
				Dropped: []crawler.DroppedLink{{URL: "http://example.org/om" + id, Field: "detail.links", Reason: crawler.DropNoMatch}}},
		})
	}
	var out bytes.Buffer
	printCheck(&out, cfg, rep, false)
	for _, want := range []string{"limits.delay 1s", "Crawl-delay 2s", "http://example.org/om (listing.links): " + crawler.DropNoMatch,
		"redirected to http://example.org/ad/2", `advert key "2" (from the URL after redirects; detail.id.from: redirect), written as http://example.org/ad/2`,
		"links (a.liknande): 1 to follow", "detail  http://example.org/ad/92", "http://example.org/om2 (detail.links): " + crawler.DropNoMatch} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestArenaCheckShowsAlternatives: a field written as alternatives shows,
// for every sample advert, which alternative gave its value; --samples
// sets how many adverts are read and must be at least 1.
func TestArenaCheckShowsAlternatives(t *testing.T) {
	_, d := startArenaCheckDemo(t)
	path := mustArenaCheckConfig(t, t.TempDir(), "blomstra", d.URL("blomstra"), func(s string) string {
		s = strings.Replace(s, "title:     {selector: 'article.annons h1'}",
			"title:\n      - {selector: 'article.no-such-layout h1'}\n      - {selector: 'article.annons h1'}", 1)
		return strings.Replace(s, "name:      {selector: '.namn'}",
			"name:\n      - {selector: '.namn', attr: data-missing}\n      - {selector: '.no-such-name'}", 1)
	})
	var stdout, stderr bytes.Buffer
	if err := cmdArena(context.Background(), []string{"check", "--samples", "2", path}, &stdout, &stderr); err != nil {
		t.Fatalf("arena check: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	if n := strings.Count(out, "\ndetail "); n != 2 {
		t.Errorf("%d sample adverts shown, want 2:\n%s", n, out)
	}
	if n := strings.Count(out, "(alt 2/2: article.annons h1)"); n != 2 {
		t.Errorf("title's matching alternative shown %d times, want on both samples:\n%s", n, out)
	}
	if n := strings.Count(out, "(none of 2 alternatives)"); n != 2 {
		t.Errorf("name's unmatched alternatives shown %d times, want on both samples:\n%s", n, out)
	}
	err := cmdArena(context.Background(), []string{"check", "--samples", "0", path}, &stdout, &stderr)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--samples") {
		t.Errorf("--samples 0: err %v, want a usage error naming --samples", err)
	}
}
