package crawler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/configs"
	"adcensus/crawler"
)

// TestConfigTestdata loads every config in testdata/config: *.good.yml
// must load, *.bad.yml must fail with the error text in the .err file
// beside it (which names file, line and field).
func TestConfigTestdata(t *testing.T) {
	entries, err := os.ReadDir("testdata/config")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".yml") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata/config", name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = crawler.ParseArena(name, data)
			if !strings.HasSuffix(name, ".bad.yml") {
				if err != nil {
					t.Fatalf("good config failed: %v", err)
				}
				return
			}
			want, rerr := os.ReadFile(path + ".err")
			if rerr != nil {
				t.Fatal(rerr)
			}
			if err == nil {
				t.Fatalf("bad config loaded without error, want %q", strings.TrimSpace(string(want)))
			}
			if got := err.Error(); !strings.HasPrefix(got, strings.TrimSpace(string(want))) {
				t.Fatalf("error = %q\nwant prefix %q", got, strings.TrimSpace(string(want)))
			}
		})
	}
}

// TestShippedArenaConfigs loads every arena config in configs/arenas.
func TestShippedArenaConfigs(t *testing.T) {
	entries, err := configs.Arenas.ReadDir("arenas")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) < 2 {
		t.Fatalf("configs/arenas has %d configs, want at least the 2 demo arenas", len(entries))
	}
	for _, e := range entries {
		data, err := configs.Arenas.ReadFile("arenas/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := crawler.ParseArena(e.Name(), data)
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		if got, want := cfg.Name+".yaml", e.Name(); got != want {
			t.Errorf("arena name %q in file %s: file should be named %s", cfg.Name, want, got)
		}
	}
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://Example.org/ad/1?utm_source=x&b=2&a=1#top", "http://example.org/ad/1?a=1&b=2"},
		{"http://example.org/ad/1?fbclid=abc", "http://example.org/ad/1"},
		{"http://example.org", "http://example.org/"},
	} {
		got, ok := crawler.Canonical(nil, tc.in)
		if !ok || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"mailto:a@b.se", "javascript:void(0)", ""} {
		if _, ok := crawler.Canonical(nil, bad); ok {
			t.Errorf("Canonical(%q) accepted", bad)
		}
	}
}

// TestDocumentedExampleLoads: the example config at the top of
// docs/ARENA-CONFIG.md, every key written out, is a valid config.
func TestDocumentedExampleLoads(t *testing.T) {
	doc, err := os.ReadFile("../docs/ARENA-CONFIG.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\nname:")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/ARENA-CONFIG.md has no yaml block starting with name:")
	}
	if _, err := crawler.ParseArena("ARENA-CONFIG.md", []byte("name:"+block)); err != nil {
		t.Fatalf("the documented example does not load: %v", err)
	}
}
