package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/internal/contact"
)

// tavlanAd is one advert of the Tavlan test arena and what the crawl must
// extract from it.
type tavlanAd struct {
	id           int
	name, gender string
	age          int
	city, lan    string // as written; its län
	price, want  string // as written; as extracted
	posted       string // as written in "publicerad …"
	// postedAt is the expected time given the fetch time.
	postedAt func(now time.Time) time.Time
	phone    string // as written
	e164     string
	images   int
	pages    []int // listing pages that link it
}

var stockholmTZ = func() *time.Location {
	l, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err)
	}
	return l
}()

func fixed(y int, m time.Month, d, h, mi int) func(time.Time) time.Time {
	return func(time.Time) time.Time { return time.Date(y, m, d, h, mi, 0, 0, stockholmTZ) }
}

func daysAgo(days, h, mi int) func(time.Time) time.Time {
	return func(now time.Time) time.Time {
		n := now.In(stockholmTZ).AddDate(0, 0, -days)
		return time.Date(n.Year(), n.Month(), n.Day(), h, mi, 0, 0, stockholmTZ)
	}
}

// tavlanAds: 101–112 reachable on pages 1–3; 113–114 only on page 4,
// which robots.txt disallows; 199 is linked but disallowed itself.
var tavlanAds = []tavlanAd{
	{101, "Anna", "Kvinna", 27, "Göteborg", "Västra Götalands län", "1 500 kr/tim", "1500", "igår 14:05", daysAgo(1, 14, 5), "070-123 45 67", "+46701234567", 2, []int{1, 2}},
	{102, "Bella", "Kvinna", 31, "Malmö", "Skåne län", "från 1.200 kr", "1200", "3 mars 2026", fixed(2026, 3, 3, 0, 0), "0701-23 45 68", "+46701234568", 1, []int{1}},
	{103, "Cleo", "Trans", 24, "Umeå kommun", "Västerbottens län", "2000:-", "2000", "idag 09:12", daysAgo(0, 9, 12), "+46 70-123 45 69", "+46701234569", 1, []int{1}},
	{104, "Dana", "Kvinna", 45, "Visby", "Gotlands län", "800 SEK", "800", "14 feb. 2026 kl. 21:30", fixed(2026, 2, 14, 21, 30), "070 123 45 70", "+46701234570", 0, []int{1, 3}},
	{105, "Elin", "Kvinna", 29, "Tumba", "Stockholms län", "1 000 kr", "1000", "2026-01-20 18:45", fixed(2026, 1, 20, 18, 45), "070-1234571", "+46701234571", 2, []int{2}},
	{106, "Fia", "Kvinna", 38, "Lund", "Skåne län", "1 800 kr/h", "1800", "igår 23:59", daysAgo(1, 23, 59), "070 - 123 45 72", "+46701234572", 1, []int{2}},
	{107, "Gun", "Kvinna", 52, "Luleå", "Norrbottens län", "900 kr", "900", "1 december 2025", fixed(2025, 12, 1, 0, 0), "0701234573", "+46701234573", 1, []int{2}},
	{108, "Hedda", "Kvinna", 22, "Gbg", "Västra Götalands län", "1 100 kr", "1100", "5 jan 2026 07:00", fixed(2026, 1, 5, 7, 0), "070-123 45 74", "+46701234574", 1, []int{2, 3}},
	{109, "Ida", "Kvinna", 33, "Uppsala", "Uppsala län", "1 300 kr", "1300", "28 feb 2026", fixed(2026, 2, 28, 0, 0), "070-123 45 75", "+46701234575", 1, []int{3}},
	{110, "Jo", "Man", 41, "Örebro", "Örebro län", "1 000 kr", "1000", "igår 00:15", daysAgo(1, 0, 15), "070-123 45 76", "+46701234576", 1, []int{3}},
	{111, "Kim", "Kvinna", 26, "Jönköping", "Jönköpings län", "1 400 kr", "1400", "10 mars 2026 kl. 12.30", fixed(2026, 3, 10, 12, 30), "070-123 45 77", "+46701234577", 1, []int{3}},
	{112, "Lo", "Kvinna", 30, "GÄVLE", "Gävleborgs län", "1 600 kr", "1600", "2 mars 2026", fixed(2026, 3, 2, 0, 0), "070-123 45 78", "+46701234578", 1, []int{3}},
	{113, "Mia", "Kvinna", 28, "Kiruna", "Norrbottens län", "1 000 kr", "1000", "idag 10:00", daysAgo(0, 10, 0), "070-123 45 79", "+46701234579", 1, []int{4}},
	{114, "Nea", "Kvinna", 35, "Sundsvall", "Västernorrlands län", "1 000 kr", "1000", "idag 11:00", daysAgo(0, 11, 0), "070-123 45 80", "+46701234580", 1, []int{4}},
	{199, "Ola", "Man", 40, "Borås", "Västra Götalands län", "1 000 kr", "1000", "idag 12:00", daysAgo(0, 12, 0), "070-123 45 81", "+46701234581", 1, []int{2}},
}

const tavlanRobots = "User-agent: *\nDisallow: /konto/\nDisallow: /annonser?page=4\nDisallow: /visa?annons=199$\n"

// newTavlan serves the Tavlan arena: tables of adverts over four numbered
// pages, adverts at /visa?annons=N, facts in <dl>, images in srcset.
func newTavlan(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	img := testJPEG(t)
	byID := map[string]tavlanAd{}
	for _, a := range tavlanAds {
		byID[fmt.Sprint(a.id)] = a
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tavlanRobots) })
	mux.HandleFunc("/annonser", func(w http.ResponseWriter, r *http.Request) {
		var page int
		if _, err := fmt.Sscan(r.URL.Query().Get("page"), &page); err != nil || page < 1 || page > 4 {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<!doctype html><html><head><title>Tavlan – sida %d</title></head><body>
<header><h1>Tavlan</h1><a href="/konto/logga-in">Logga in</a></header>
<table class="annonser"><thead><tr><th></th><th>Rubrik</th><th>Ort</th><th>Pris</th></tr></thead><tbody>`, page)
		for _, a := range tavlanAds {
			for _, p := range a.pages {
				if p != page {
					continue
				}
				// Thumbnail and title link the same advert with different
				// tracking parameters, in different order, one relative.
				fmt.Fprintf(w, `<tr><td><a href="visa?annons=%d&amp;ref=bild&amp;sid=s%d"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""></a></td>`, a.id, page)
				fmt.Fprintf(w, `<td><a href="/visa?utm_source=lista&amp;annons=%d&amp;utm_medium=tabell&amp;sid=x%d">%s, %d</a></td><td>%s</td><td>%s</td></tr>`+"\n",
					a.id, page, html.EscapeString(a.name), a.age, html.EscapeString(a.city), html.EscapeString(a.price))
			}
		}
		if page == 3 {
			fmt.Fprint(w, `<tr><td></td><td><a href="/visa?annons=150">Borttagen annons</a></td><td></td><td></td></tr>`)
		}
		fmt.Fprint(w, `</tbody></table>
<aside class="senaste"><h3>Senast visade</h3><a href="https://127.0.0.1/visa?annons=101">other host</a><a href="/visa?fbclid=IwAR0x&amp;annons=101">Anna</a></aside>
<div class="sidor">Sida: `)
		for p := 1; p <= 4; p++ {
			if p == page {
				fmt.Fprintf(w, `<b>%d</b> `, p)
			} else {
				fmt.Fprintf(w, `<a href="?page=%d">%d</a> `, p, p)
			}
		}
		fmt.Fprint(w, "</div></body></html>")
	})
	mux.HandleFunc("/visa", func(w http.ResponseWriter, r *http.Request) {
		a, ok := byID[r.URL.Query().Get("annons")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title></head><body>
<header><h1>Tavlan</h1></header>
<article class="annons">
  <h2 class="rubrik"> – %s, %d år – </h2>
  <p class="meta">publicerad %s · %d visningar</p>
  <dl class="fakta">
    <dt>Namn</dt><dd>%s</dd>
    <dt>Ålder</dt><dd>%d år</dd>
    <dt>Kön</dt><dd>%s</dd>
    <dt>Ort</dt><dd>%s</dd>
    <dt>Pris</dt><dd>%s</dd>
  </dl>
  <div class="text"><p>Hej! Jag heter %s.</p><p>Diskret och trevlig.</p></div>
  <p class="kontakt">Ring eller sms:a %s (ej dolt nummer)</p>
`, html.EscapeString(a.name), html.EscapeString(a.name), a.age, html.EscapeString(a.posted), 100+a.id,
			html.EscapeString(a.name), a.age, a.gender, html.EscapeString(a.city), html.EscapeString(a.price), html.EscapeString(a.name), html.EscapeString(a.phone))
		for i := 1; i <= a.images; i++ {
			fmt.Fprintf(w, `  <picture><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" srcset="/bilder/%d-%d-480.jpg 480w, /bilder/%d-%d-960.jpg 960w" sizes="50vw" alt=""></picture>`+"\n", a.id, i, a.id, i)
		}
		fmt.Fprint(w, "</article></body></html>")
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

// TestOnboardSecondArenaByConfigOnly crawls Tavlan, an arena built unlike
// the demo arenas, with nothing but testdata/onboard/tavlan.yml: every
// reachable advert is captured exactly once with the right fields, the
// tracking and session duplicates collapse, and robots.txt-disallowed
// paths are never requested (counted at the server).
func TestOnboardSecondArenaByConfigOnly(t *testing.T) {
	srv, rec := newTavlan(t)
	cfg, err := crawler.LoadArena("testdata/onboard/tavlan.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(srv.URL); err != nil {
		t.Fatal(err)
	}
	pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
	sink := &memSink{}
	c, err := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: sink, Pseudo: pseudo})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()

	reachable := map[string]tavlanAd{}
	for _, a := range tavlanAds {
		if a.id <= 112 {
			reachable[fmt.Sprintf("%s/visa?annons=%d", srv.URL, a.id)] = a
		}
	}
	if got, want := len(sink.ads), len(reachable); got != want {
		t.Errorf("%d adverts published, want %d, each once", got, want)
	}
	seen := map[string]bool{}
	for _, got := range sink.ads {
		want, ok := reachable[got.URL]
		if !ok {
			t.Errorf("unexpected advert %s", got.URL)
			continue
		}
		if seen[got.URL] {
			t.Errorf("advert %s published twice", got.URL)
		}
		seen[got.URL] = true
		id := want.id
		if got.Title != fmt.Sprintf("%s, %d år", want.name, want.age) {
			t.Errorf("%d: title %q", id, got.Title)
		}
		if got.Name != want.name || got.Age != want.age || got.Gender != strings.ToLower(want.gender) {
			t.Errorf("%d: name %q age %d gender %q; want %q %d %q", id, got.Name, got.Age, got.Gender, want.name, want.age, strings.ToLower(want.gender))
		}
		if got.City != want.city || got.Region != want.lan {
			t.Errorf("%d: city %q region %q; want %q → %q", id, got.City, got.Region, want.city, want.lan)
		}
		if got.Attrs["price"] != want.want {
			t.Errorf("%d: price %q from %q, want %q", id, got.Attrs["price"], want.price, want.want)
		}
		// Relative dates count from the fetch time: accept the day of the
		// start or the end of the crawl (a crawl across midnight).
		if w1, w2 := want.postedAt(before), want.postedAt(after); !got.PostedAt.Equal(w1) && !got.PostedAt.Equal(w2) {
			t.Errorf("%d: posted_at %s from %q, want %s", id, got.PostedAt, want.posted, w1)
		}
		if !strings.Contains(got.Body, "Diskret och trevlig.") {
			t.Errorf("%d: body %q", id, got.Body)
		}
		// The phone, written with spaces and dashes, is pseudonymised:
		// the pseudonym of its E.164 form, no raw number anywhere.
		tel, ok := pseudo.Phone(want.e164)
		if !ok {
			t.Fatalf("%d: test number %s invalid", id, want.e164)
		}
		if len(got.Phones) != 0 || len(got.Contacts) != 1 || got.Contacts[0] != tel {
			t.Errorf("%d: phones %d, contacts %v; want only the pseudonym of the number", id, len(got.Phones), got.Contacts)
		}
		if len(got.Images) != want.images || len(got.ImageFPs) != want.images {
			t.Errorf("%d: %d images, %d fingerprints; want %d", id, len(got.Images), len(got.ImageFPs), want.images)
		}
		for i, fp := range got.ImageFPs {
			if w := fmt.Sprintf("%s/bilder/%d-%d-480.jpg", srv.URL, id, i+1); fp.Src != w || fp.Hashes["phash"] == "" {
				t.Errorf("%d: image %d %s hashed %v, want %s (first srcset candidate) hashed", id, i, fp.Src, fp.Hashes, w)
			}
		}
	}

	// At the server: every reachable advert requested once, by its
	// canonical URL; the disallowed paths, and what only they link to,
	// never.
	for u, a := range reachable {
		if n := rec.count(strings.TrimPrefix(u, srv.URL)); n != 1 {
			t.Errorf("advert %d requested %d times, want once", a.id, n)
		}
	}
	for _, uri := range []string{"/annonser?page=1", "/annonser?page=2", "/annonser?page=3", "/robots.txt", "/visa?annons=150"} {
		if n := rec.count(uri); n != 1 {
			t.Errorf("%s requested %d times, want once", uri, n)
		}
	}
	for _, h := range rec.all() {
		switch {
		case h.uri == "/annonser?page=4", h.uri == "/visa?annons=199", strings.HasPrefix(h.uri, "/konto/"):
			t.Errorf("robots.txt-disallowed %s requested", h.uri)
		case h.uri == "/visa?annons=113", h.uri == "/visa?annons=114":
			t.Errorf("%s requested: only a disallowed page links it", h.uri)
		case strings.Contains(h.uri, "utm_") || strings.Contains(h.uri, "sid=") || strings.Contains(h.uri, "ref=") || strings.Contains(h.uri, "fbclid"):
			t.Errorf("non-canonical URL requested: %s", h.uri)
		case strings.HasSuffix(h.uri, "-960.jpg"):
			t.Errorf("%s requested: only the first srcset candidate should be", h.uri)
		}
	}
	// The two disallowed URLs are counted as skipped, not fetched.
	if run.Errors["status_4xx"] != 1 || run.Errors["robots"] != 2 || run.ErrorCount() != 3 {
		t.Errorf("errors %v, want status_4xx=1 (the removed advert 150) and robots=2 (page 4, advert 199)", run.Errors)
	}
	if run.Ads != len(reachable) {
		t.Errorf("run counted %d adverts, want %d", run.Ads, len(reachable))
	}
}

// TestCanonicalDropParams: canonical.drop_params drops the arena's own
// non-identifying parameters from links, exactly or by prefix ("pos_*"),
// on top of the built-in tracking parameters; others are kept.
func TestCanonicalDropParams(t *testing.T) {
	cfg, err := crawler.ParseArena("drop.yaml", []byte(`
name: drop
start_urls: [http://example.org/list]
canonical: {drop_params: [SID, pos_*]}
listing: {match: '^/list', links: a}
detail: {match: '^/ad\?(?:.*&)?id=(\d+)', fields: {title: {selector: h1}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.ExtractListing("http://example.org/list", []byte(`
<a href="/ad?id=1&sid=abc&pos_row=3&pos_col=2&utm_source=x">1</a>
<a href="/ad?sid=def&id=1">1 again</a>
<a href="/ad?id=2&lang=sv&position=9">2 keeps lang and position</a>`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://example.org/ad?id=1", "http://example.org/ad?id=2&lang=sv&position=9"}
	if strings.Join(res.Details, " ") != strings.Join(want, " ") {
		t.Errorf("details %q, want %q", res.Details, want)
	}
}
