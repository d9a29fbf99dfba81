package crawler_test

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"adcensus/ad"
	"adcensus/configs"
	"adcensus/crawler"
)

// Fuzz targets: run one with go test -fuzz FuzzParseArena ./crawler/ (see
// docs/FUZZING.md); the seeds below and testdata/fuzz/ run as ordinary
// tests.

// FuzzParseArena: the arena-config loader never panics, and every error is
// a *configs.Error naming the file.
func FuzzParseArena(f *testing.F) {
	for _, name := range []string{"arenas/blomstra.yaml", "arenas/nattlinjen.yaml"} {
		data, err := configs.Arenas.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name: a\nstart_urls: [http://x/]\nlisting: {match: '^/$', links: a}\ndetail: {match: '^/a/', fields: {title: {selector: h1}}}\n"))
	f.Add([]byte("name: a\nlimits:\n  max_body: 2MiB\n  delay: 1s\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := crawler.ParseArena("f.yaml", data)
		if err != nil {
			var ce *configs.Error
			if !errors.As(err, &ce) || ce.File != "f.yaml" {
				t.Fatalf("error %v (%T) is not a *configs.Error naming the file", err, err)
			}
			return
		}
		if cfg.Name == "" || cfg.Hash == "" {
			t.Fatalf("accepted a config without name or hash: %+v", cfg)
		}
	})
}

// fuzzArena is the shipped blomstra config, rebased on example.org.
func fuzzArena(f *testing.F) *crawler.ArenaConfig {
	data, err := configs.Arenas.ReadFile("arenas/blomstra.yaml")
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := crawler.ParseArena("blomstra.yaml", data)
	if err != nil {
		f.Fatal(err)
	}
	if err := cfg.Rebase("http://example.org"); err != nil {
		f.Fatal(err)
	}
	return cfg
}

// FuzzExtract: field extraction and its transforms never panic on any page,
// and an extracted advert has a valid id and valid UTF-8 text.
func FuzzExtract(f *testing.F) {
	cfg := fuzzArena(f)
	f.Add("http://example.org/annons/123", []byte(`<html><h1 class="rubrik">Sällskap</h1><div class="text">Hej</div><span class="alder">28 år</span><time datetime="2026-03-02T12:00:00Z">igår 14:05</time><img src="/b/1.jpg"></html>`))
	f.Add("http://example.org/annonser?sida=2", []byte(`<a class="annons-lank" href="/annons/9">x</a><a rel="next" href="?sida=3">Nästa</a>`))
	f.Add("http://example.org/annons/1", []byte("\xff\xfe<html"))
	f.Add("http://example.org/annons/x%zz", []byte(""))
	fetched := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, pageURL string, body []byte) {
		if _, err := cfg.ExtractListing(pageURL, body); err != nil {
			_ = err
		}
		a, _, err := cfg.ExtractAd(pageURL, body, fetched)
		if err != nil || a == nil {
			return
		}
		if !ad.ValidID(a.ID) {
			t.Fatalf("extracted advert with invalid id %q", a.ID)
		}
		for _, s := range []string{a.Title, a.Body, a.City, a.Name} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in an extracted field: %q", s)
			}
		}
	})
}

// FuzzTransforms: every field transform (trim, fold, lower, swedish_date,
// int, price) never panics on any value and keeps valid UTF-8 valid; int
// gives an integer.
func FuzzTransforms(f *testing.F) {
	for _, s := range []string{" : Anna • ", "Göteborg", "28 år", "1 500 kr/h", "igår 14:05", "-0", "99999999999999999999", "\xff"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range crawler.Transforms {
			out, err := crawler.Transform(name, v, now)
			if err != nil {
				continue
			}
			if utf8.ValidString(v) && !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", name, v, out)
			}
			if name == "int" {
				if _, err := strconv.ParseInt(out, 10, 64); err != nil {
					t.Fatalf("int(%q) = %q", v, out)
				}
			}
		}
	})
}

// FuzzSwedishDate: the swedish_date transform never panics and returns a
// time within a century of the fetch.
func FuzzSwedishDate(f *testing.F) {
	for _, s := range []string{"igår 14:05", "idag", "2 mars 2026", "3 timmar sedan", "måndag 12:00", "2026-03-02", "31 februari", "99999999 dagar sedan", "-5 minuter sedan"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := crawler.ParseSwedishDate(s, now)
		if err != nil {
			return
		}
		if d.Year() < now.Year()-100 || d.Year() > now.Year()+100 {
			t.Fatalf("%q parsed as %s", s, d)
		}
	})
}

// FuzzCanonical: canonicalising a link never panics, and an accepted one is
// an absolute http(s) URL.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"/annons/1?utm_source=x#top", "https://example.org/a", "javascript:alert(1)", "//other.example/x", "%zz", "http://[::1]:80/"} {
		f.Add(s)
	}
	base, _ := url.Parse("http://example.org/annonser?sida=1")
	f.Fuzz(func(t *testing.T, ref string) {
		out, ok := crawler.Canonical(base, ref)
		if !ok {
			return
		}
		u, err := url.Parse(out)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("Canonical(%q) = %q, not an absolute http(s) URL", ref, out)
		}
		if strings.Contains(out, "#") {
			t.Fatalf("Canonical(%q) = %q keeps a fragment", ref, out)
		}
		if again, ok := crawler.Canonical(nil, out); !ok || again != out {
			t.Fatalf("Canonical(%q) = %q, but that canonicalises to %q, %v", ref, out, again, ok)
		}
	})
}
