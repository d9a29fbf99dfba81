package demoarena_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"adcensus/internal/synthetic/demoarena"
)

func startDemo(t *testing.T) (*demoarena.Corpus, *demoarena.Demo) {
	t.Helper()
	c := demoarena.Generate(demoarena.DefaultSeed)
	d, err := demoarena.Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	return c, d
}

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches a URL and fails the test unless the status is want.
func get(t *testing.T, u string, want int) ([]byte, http.Header) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %s, want %d", u, resp.Status, want)
	}
	return body, resp.Header
}

// links returns the href of every <a> whose class list contains class (or,
// with rel set, whose rel is rel), in document order.
func links(t *testing.T, page []byte, class, rel string) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		var href, cls, r string
		for _, a := range n.Attr {
			switch a.Key {
			case "href":
				href = a.Val
			case "class":
				cls = a.Val
			case "rel":
				r = a.Val
			}
		}
		if (class != "" && slices.Contains(strings.Fields(cls), class)) || (rel != "" && r == rel) {
			out = append(out, href)
		}
	}
	return out
}

// walk follows the listing's next links from start and returns the advert
// links of every page, in order.
func walk(t *testing.T, base, start, adClass, nextClass, nextRel string) (ads []string, pages int) {
	t.Helper()
	seen := map[string]bool{}
	for u := start; u != ""; {
		if seen[u] || pages > 50 {
			t.Fatalf("pagination loops at %s", u)
		}
		seen[u] = true
		pages++
		body, h := get(t, base+u, http.StatusOK)
		if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", u, ct)
		}
		ads = append(ads, links(t, body, adClass, "")...)
		next := links(t, body, nextClass, nextRel)
		if len(next) > 1 {
			t.Fatalf("%s: %d next links", u, len(next))
		}
		u = ""
		if len(next) == 1 {
			u = next[0]
		}
	}
	return ads, pages
}

func TestArenasServeEveryAdvertOnce(t *testing.T) {
	c, d := startDemo(t)
	if got := d.Arenas(); !slices.Equal(got, []string{"blomstra", "nattlinjen"}) {
		t.Fatalf("Arenas() = %v", got)
	}
	for _, tc := range []struct {
		arena, start, adClass, nextClass, nextRel, detail, robots string
		perPage                                                   int
	}{
		{"blomstra", "/annonser", "annons-lank", "", "next", "/annons/", "Disallow: /admin/", 20},
		{"nattlinjen", "/list/page/1", "ad-link", "next", "", "/ad/", "Disallow: /admin/", 15},
	} {
		t.Run(tc.arena, func(t *testing.T) {
			base := d.URL(tc.arena)
			if !strings.HasPrefix(base, "http://127.0.0.1:") {
				t.Fatalf("URL(%s) = %q", tc.arena, base)
			}
			robots, h := get(t, base+"/robots.txt", http.StatusOK)
			if !strings.Contains(string(robots), tc.robots) || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
				t.Errorf("robots.txt: %q (%s)", robots, h.Get("Content-Type"))
			}
			get(t, base+"/", http.StatusOK)

			hrefs, pages := walk(t, base, tc.start, tc.adClass, tc.nextClass, tc.nextRel)
			want := map[string]bool{}
			for _, a := range c.Listing(tc.arena) {
				want[a.Path] = true
			}
			if wantPages := (len(want) + tc.perPage - 1) / tc.perPage; pages != wantPages {
				t.Errorf("walked %d listing pages, want %d", pages, wantPages)
			}
			got := map[string]int{}
			for _, h := range hrefs {
				got[h]++
				if got[h] == 2 {
					t.Errorf("%s listed twice", h)
				}
				if !want[h] {
					t.Errorf("%s listed but not in the corpus", h)
				}
			}
			if len(got) != len(want) || len(want) != c.ArenaAds(tc.arena) {
				t.Errorf("walk found %d adverts, corpus has %d (ArenaAds %d)", len(got), len(want), c.ArenaAds(tc.arena))
			}

			// Every detail page, and every image of a sample of them.
			for i, a := range c.Listing(tc.arena) {
				if !strings.HasPrefix(a.Path, tc.detail) {
					t.Fatalf("detail path %s", a.Path)
				}
				page, _ := get(t, base+a.Path, http.StatusOK)
				s := string(page)
				for _, want := range []string{html.EscapeString(a.Name), html.EscapeString(a.City), a.Posted.Format(time.RFC3339)} {
					if !strings.Contains(s, want) {
						t.Errorf("%s: page lacks %q", a.Path, want)
					}
				}
				for _, ph := range a.Shown {
					if !strings.Contains(s, html.EscapeString(ph)) {
						t.Errorf("%s: page lacks phone %q", a.Path, ph)
					}
				}
				imgs := imageURLs(t, page)
				if len(imgs) != len(a.Photos) {
					t.Errorf("%s: %d images, want %d", a.Path, len(imgs), len(a.Photos))
				}
				if i%10 != 0 {
					continue
				}
				for _, src := range imgs {
					data, h := get(t, base+src, http.StatusOK)
					if h.Get("Content-Type") != "image/jpeg" {
						t.Errorf("%s: Content-Type %q", src, h.Get("Content-Type"))
					}
					if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
						t.Errorf("%s: %v", src, err)
					}
				}
			}
			get(t, base+tc.detail+"999999999", http.StatusNotFound)
			get(t, base+"/admin/", http.StatusForbidden)
		})
	}
	if d.Requests() < int64(c.Ads()) {
		t.Errorf("Requests() = %d, want ≥ %d", d.Requests(), c.Ads())
	}
}

// imageURLs returns the photo URLs of a detail page: src of the blomstra
// gallery, data-src of nattlinjen's lazy images.
func imageURLs(t *testing.T, page []byte) []string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "img" {
			continue
		}
		p := n.Parent
		var pclass string
		for _, a := range p.Attr {
			if a.Key == "class" {
				pclass = a.Val
			}
		}
		if pclass != "galleri" && pclass != "photos" {
			continue
		}
		for _, a := range n.Attr {
			if (pclass == "galleri" && a.Key == "src") || (pclass == "photos" && a.Key == "data-src") {
				out = append(out, a.Val)
			}
		}
	}
	return out
}

func TestNattlinjenRedirectsOldSlugs(t *testing.T) {
	c, d := startDemo(t)
	a := c.Listing("nattlinjen")[0]
	resp, err := client.Get(d.URL("nattlinjen") + "/ad/old-name-" + a.Key + ".html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != a.Path {
		t.Errorf("old slug: %s at %s, want 200 at %s", resp.Status, resp.Request.URL.Path, a.Path)
	}
}

func TestCloseAndContext(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	ctx, cancel := context.WithCancel(context.Background())
	d, err := demoarena.Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	u := d.URL("blomstra") + "/robots.txt"
	get(t, u, http.StatusOK)
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Get(u)
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still answers after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestServeOn(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	if err := demoarena.ServeOn(context.Background(), c, map[string]string{"nowhere": "127.0.0.1:0"}); err == nil {
		t.Error("ServeOn accepted an unknown arena")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := demoarena.ServeOn(context.Background(), c, map[string]string{"blomstra": busy.Addr().String()}); err == nil {
		t.Error("ServeOn listened on a busy address")
	}

	addrs := map[string]string{"blomstra": freeAddr(t), "nattlinjen": freeAddr(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- demoarena.ServeOn(ctx, c, addrs) }()
	for arena, addr := range addrs {
		var lastErr error
		for try := 0; try < 100; try++ {
			resp, err := client.Get("http://" + addr + "/robots.txt")
			if err == nil {
				resp.Body.Close()
				lastErr = nil
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s robots.txt: %s", arena, resp.Status)
				}
				break
			}
			lastErr = err
			time.Sleep(20 * time.Millisecond)
		}
		if lastErr != nil {
			t.Fatalf("%s on %s: %v", arena, addr, lastErr)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("ServeOn returned %v after its context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeOn did not return after its context ended")
	}
}
