package demoarena_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"adcensus/configs"
	"adcensus/crawler"
)

// digits reduces a phone as written to +<country><number>, the way a phone
// normaliser would: keep digits, 00 → +, a leading 0 → +46.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(strings.TrimSpace(s), "+"):
		return "+" + d
	case strings.HasPrefix(d, "00"):
		return "+" + d[2:]
	case strings.HasPrefix(d, "0"):
		return "+46" + d[1:]
	}
	return d
}

// TestShippedConfigsReadTheDemo reads both demo arenas with the shipped
// arena configs and the crawler's own extraction: every listing page yields
// its adverts, every advert page yields the corpus's fields.
func TestShippedConfigsReadTheDemo(t *testing.T) {
	c, d := startDemo(t)
	for _, arena := range d.Arenas() {
		t.Run(arena, func(t *testing.T) {
			data, err := configs.Arenas.ReadFile("arenas/" + arena + ".yaml")
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := crawler.ParseArena(arena+".yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.AllowPrivate || cfg.Robots != "obey" || cfg.Limits.Concurrency != 4 || cfg.Limits.Delay != 0 {
				t.Errorf("config: allow_private %v, robots %s, concurrency %d, delay %v", cfg.AllowPrivate, cfg.Robots, cfg.Limits.Concurrency, cfg.Limits.Delay)
			}
			if err := cfg.Rebase(d.URL(arena)); err != nil {
				t.Fatal(err)
			}
			fetch := func(u string) []byte {
				t.Helper()
				resp, err := client.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %s", u, resp.Status)
				}
				return b
			}

			// Listing pages, breadth first from the start URL.
			queue, seen := slices.Clone(cfg.StartURLs), map[string]bool{}
			var details []string
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				if seen[u] {
					continue
				}
				seen[u] = true
				if kind, _ := cfg.Classify(u); kind != crawler.PageListing {
					t.Fatalf("%s is a %v page, want listing", u, kind)
				}
				res, err := cfg.ExtractListing(u, fetch(u))
				if err != nil {
					t.Fatal(err)
				}
				details = append(details, res.Details...)
				queue = append(queue, res.Next...)
			}
			if len(details) != c.ArenaAds(arena) {
				t.Fatalf("listings link %d adverts, arena has %d", len(details), c.ArenaAds(arena))
			}

			for _, u := range details {
				kind, key := cfg.Classify(u)
				want, ok := c.Advert(arena, key)
				if kind != crawler.PageDetail || !ok {
					t.Fatalf("%s: %v page, key %q unknown", u, kind, key)
				}
				got, problems, err := cfg.ExtractAd(u, fetch(u), time.Now())
				if err != nil || len(problems) > 0 {
					t.Fatalf("%s: %v %v", u, err, problems)
				}
				var phones []string
				for _, p := range got.Phones {
					phones = append(phones, digits(p))
				}
				switch {
				case got.Title != want.Title, got.Name != want.Name, got.Age != want.Age, got.City != want.City:
					t.Errorf("%s: title/name/age/city %q/%q/%d/%q, want %q/%q/%d/%q", u, got.Title, got.Name, got.Age, got.City, want.Title, want.Name, want.Age, want.City)
				case !got.PostedAt.Equal(want.Posted):
					t.Errorf("%s: posted %v, want %v", u, got.PostedAt, want.Posted)
				case !slices.Equal(phones, want.Phones):
					t.Errorf("%s: phones %q → %q, want %q", u, got.Phones, phones, want.Phones)
				case len(got.Images) != len(want.Photos):
					t.Errorf("%s: %d images, want %d", u, len(got.Images), len(want.Photos))
				case got.Gender == "" || got.Attrs["region"] != want.Region || got.Attrs["price"] == "":
					t.Errorf("%s: gender %q, attrs %v", u, got.Gender, got.Attrs)
				case !strings.Contains(got.Body, strings.Split(want.Body, "\n")[0]):
					t.Errorf("%s: body %q", u, got.Body)
				}
			}
		})
	}
}
