package crawler_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
)

// newLayoutsSite serves the shape adverts on one site in two layouts: the
// old one (phone as text) and the new one (phone only in the data-phone
// attribute of a "visa nummer" button), over shapePages listing pages.
func newLayoutsSite(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	img := testJPEG(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /nummer/\n") })
	mux.HandleFunc("/annonser", func(w http.ResponseWriter, r *http.Request) {
		var page int
		if _, err := fmt.Sscan(r.URL.Query().Get("sida"), &page); err != nil || page < 1 || page > shapePages {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, `<!doctype html><html><body><h1>Annonser</h1><ul>`)
		for _, a := range shapeAds {
			if a.page == page {
				fmt.Fprintf(w, `<li><a class="annons" href="/annons/%d">%s</a></li>`, a.id, html.EscapeString(a.title()))
			}
		}
		fmt.Fprint(w, `</ul>`)
		if page < shapePages {
			fmt.Fprintf(w, `<a class="nasta" href="/annonser?sida=%d">Nästa</a>`, page+1)
		}
		fmt.Fprint(w, `</body></html>`)
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := shapeByID(strings.TrimPrefix(r.URL.Path, "/annons/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		e := html.EscapeString
		fmt.Fprint(w, `<!doctype html><html><head><title>Annons</title>`)
		if !a.layoutB {
			fmt.Fprint(w, `</head><body>`)
			writeLayoutA(w, a)
			fmt.Fprint(w, `</body></html>`)
			return
		}
		fmt.Fprintf(w, `<script type="application/ld+json">{"@type": "Offer", "name": %q, "datePosted": %q}</script>
</head><body><main class="ad-v2" data-age="%d">
<header><h2 class="title">%s</h2><span class="namn">%s</span></header>
<dl><dt>Stad</dt><dd>%s</dd><dt>Pris</dt><dd>%s</dd></dl>
<section class="description"><p>Hej! Jag heter %s.</p><p>Trevlig och diskret.</p></section>
<div class="kontakt">Klicka för att visa numret</div>
<button class="visa-nummer" data-phone="%s">Visa nummer</button>
`, a.title(), a.posted.Format(time.RFC3339), a.age, e(a.title()), e(a.name), e(a.city), e(a.price), e(a.name), e(a.phone))
		for i := 1; i <= a.images; i++ {
			fmt.Fprintf(w, `<figure><img src="/laddar.gif" data-src="/bilder/%d-%d.jpg" alt=""></figure>`, a.id, i)
		}
		fmt.Fprint(w, `</main></body></html>`)
	})
	mux.HandleFunc("/bilder/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// writeLayoutA writes advert a in the old layout: the phone as text, a
// "visa nummer" button without the number.
func writeLayoutA(w io.Writer, a shapeAd) {
	e := html.EscapeString
	fmt.Fprintf(w, `<div class="annons">
<h1>%s</h1><span class="namn">%s</span>
<p class="ort">Ort: %s</p><span class="alder">Ålder: %d</span>
<time datetime="%s">%s</time>
<div class="text">Hej! Jag heter %s. Trevlig och diskret.</div>
<p class="kontakt">Ring %s</p>
<button class="visa-nummer" data-href="/nummer/%d">Visa nummer</button>
<span class="pris">%s</span>
`, e(a.title()), e(a.name), e(a.city), a.age, a.posted.Format(time.RFC3339), a.posted.Format("2 Jan"), e(a.name), e(a.phone), a.id, e(a.price))
	for i := 1; i <= a.images; i++ {
		fmt.Fprintf(w, `<img class="foto" src="/bilder/%d-%d.jpg" alt="">`, a.id, i)
	}
	fmt.Fprint(w, `</div>`)
}

// TestTwoLayoutsByAlternatives crawls a site with two advert layouts,
// onboarded by testdata/shapes/tvalayouter.yml only: every advert exactly
// once with every field right on both layouts, the phone included where it
// is only in a button's attribute.
func TestTwoLayoutsByAlternatives(t *testing.T) {
	srv, rec := newLayoutsSite(t)
	run, sink, pseudo := shapeCrawl(t, "tvalayouter.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for _, a := range shapeAds {
		if n := rec.count(fmt.Sprintf("/annons/%d", a.id)); n != 1 {
			t.Errorf("advert %d requested %d times, want once", a.id, n)
		}
	}
}

// TestCheckShowsMatchingAlternative: arena check reads several sample
// adverts and says, for each, which alternative of each field matched.
func TestCheckShowsMatchingAlternative(t *testing.T) {
	srv, _ := newLayoutsSite(t)
	cfg, err := crawler.LoadArena("testdata/shapes/tvalayouter.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(srv.URL); err != nil {
		t.Fatal(err)
	}
	rep, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{Samples: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Samples) != 4 {
		t.Fatalf("%d samples, want 4", len(rep.Samples))
	}
	for i, s := range rep.Samples {
		a := shapeAds[i]
		if want := fmt.Sprintf("%s/annons/%d", srv.URL, a.id); s.URL != want || s.Ad == nil || s.Err != nil {
			t.Fatalf("sample %d: %s, advert %v, err %v; want %s read", i, s.URL, s.Ad != nil, s.Err, want)
		}
		alt := 0
		if a.layoutB {
			alt = 1
		}
		for _, f := range []string{"title", "body", "age", "city", "posted_at", "images", "attrs.price"} {
			if a.images == 0 && f == "images" {
				alt = -1
			}
			if got := s.Matches[f]; got != alt {
				t.Errorf("sample %d (%d): %s matched alternative %d, want %d", i, a.id, f, got, alt)
			}
			if a.images == 0 && f == "images" {
				alt = map[bool]int{false: 0, true: 1}[a.layoutB]
			}
		}
		// The phone: the button's attribute on the new layout (first
		// alternative); on the old layout the button has no data-phone,
		// so the text (second alternative).
		if got, want := s.Matches["phones"], map[bool]int{false: 1, true: 0}[a.layoutB]; got != want {
			t.Errorf("sample %d (%d): phones matched alternative %d, want %d", i, a.id, got, want)
		}
		if got := s.Matches["name"]; got != 0 {
			t.Errorf("sample %d: name (one map) matched %d, want 0", i, got)
		}
		if len(s.Phones) != 1 || !strings.HasPrefix(s.Phones[0], "<") {
			t.Errorf("sample %d: phones shown as %q, want one digit count", i, s.Phones)
		}
	}
}
