package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// The test arenas of this file are each onboarded by a YAML file only
// (testdata/arenas/*.yml) and crawled with exact recall and fields: every
// advert the site has is published once, under the URL the site calls it
// by, with the fields on its page.

// siteAd is one advert of the test arenas below.
type siteAd struct {
	id         int
	name, city string
	age        int
}

var siteAds = func() []siteAd {
	names := []string{"Anna", "Bea", "Cleo", "Dana", "Elin", "Fia", "Gun", "Hedda", "Ida", "Jo", "Kim", "Lo"}
	cities := []string{"Göteborg", "Malmö", "Umeå", "Visby", "Lund", "Luleå", "Uppsala", "Örebro", "Gävle", "Kiruna", "Borås", "Ystad"}
	var out []siteAd
	for i := range names {
		out = append(out, siteAd{id: i + 1, name: names[i], city: cities[i], age: 24 + i})
	}
	return out
}()

func siteAdByID(id int) siteAd { return siteAds[id-1] }

// phone is the advert's number as shown; e164 its E.164 form.
func (a siteAd) phone() string { return fmt.Sprintf("070-123 4%03d", a.id) }
func (a siteAd) e164() string  { return fmt.Sprintf("+46701234%03d", a.id) }

// slug is the advert's path in the slug form.
func (a siteAd) slug() string {
	r := strings.NewReplacer("ö", "o", "ä", "a", "å", "a", "Ö", "o", "Å", "a", "Ä", "a")
	return fmt.Sprintf("/annons/%d-%s-%s", a.id, strings.ToLower(a.name), r.Replace(strings.ToLower(a.city)))
}

// writeAdvert writes the advert's page; head goes into <head>, extra at
// the end of <body>.
func writeAdvert(w io.Writer, a siteAd, head, extra string) {
	fmt.Fprintf(w, `<!doctype html><html><head><title>%s</title>%s</head><body>
<h1>%s, %d år</h1><p class="text">Hej, jag heter %s och finns i %s.</p>
<span class="namn">%s</span><span class="alder">%d år</span><span class="stad">%s</span>
<button class="telefon" data-phone="%s">Visa nummer</button>
%s</body></html>`, html.EscapeString(a.name), head, html.EscapeString(a.name), a.age, html.EscapeString(a.name), html.EscapeString(a.city),
		html.EscapeString(a.name), a.age, html.EscapeString(a.city), a.phone(), extra)
}

// crawlFile crawls the test server srv with the arena file (rebased onto
// srv), after edit when not nil.
func crawlFile(t *testing.T, file string, srv *httptest.Server, edit func(*crawler.ArenaConfig), opts crawler.Options) (*crawler.Run, *memSink) {
	t.Helper()
	cfg, err := crawler.LoadArena(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(srv.URL); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	sink := &memSink{}
	if opts.Store == nil {
		opts.Store = mustStore(t, t.TempDir())
	}
	opts.Sink, opts.Pseudo = sink, testPseudo
	c, err := crawler.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return run, sink
}

var testPseudo = contact.New(bytes.Repeat([]byte{7}, 32))

// checkAdverts checks exact recall and fields: the sink holds the adverts
// of want, by URL (path on srv), each once, with their fields.
func checkAdverts(t *testing.T, srv *httptest.Server, ads []*ad.Ad, want map[string]siteAd) {
	t.Helper()
	got := map[string]int{}
	for _, a := range ads {
		path := strings.TrimPrefix(a.URL, srv.URL)
		got[path]++
		w, ok := want[path]
		if !ok {
			t.Errorf("unexpected advert %s", a.URL)
			continue
		}
		if a.Title != fmt.Sprintf("%s, %d år", w.name, w.age) || a.Name != w.name || a.Age != w.age || a.City != w.city {
			t.Errorf("%s: title %q name %q age %d city %q; want %s, %d, %s", path, a.Title, a.Name, a.Age, a.City, w.name, w.age, w.city)
		}
		if a.ID != ad.ContentID(a.Arena, fmt.Sprint(w.id)) {
			t.Errorf("%s: id %s, want the id of key %d", path, a.ID, w.id)
		}
		tel, _ := testPseudo.Phone(w.e164())
		if len(a.Contacts) != 1 || a.Contacts[0] != tel {
			t.Errorf("%s: contacts %v, want the pseudonym of %s", path, a.Contacts, w.e164())
		}
	}
	var missing []string
	for p := range want {
		if got[p] == 0 {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("adverts not found: %v", missing)
	}
	for p, n := range got {
		if n > 1 {
			t.Errorf("advert %s published %d times", p, n)
		}
	}
}

// newGranne serves the Granne arena (testdata/arenas/granne.yml): the
// listing links adverts 1–3; advert N links the similar advert N+3
// ("Liknande annonser"); advert 9 links its agency's page /byra/1, which
// lists adverts 10 and 11; advert 11 links back to advert 1. Every page
// has links that are not followed: "Om oss" and a partner site.
func newGranne(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	mux.HandleFunc("/lista", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<ul class="annonser"><li><a href="/annons/1">1</a><li><a href="/annons/2">2</a><li><a href="/annons/3">3</a></ul><a href="/om">Om oss</a>`)
	})
	mux.HandleFunc("/byra/1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<h1>Byrå Ett</h1><ul class="annonser"><li><a href="/annons/10">10</a><li><a href="/annons/11">11</a></ul>`)
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/annons/%d", &id); err != nil || id < 1 || id > 11 {
			http.NotFound(w, r)
			return
		}
		var extra strings.Builder
		extra.WriteString(`<section class="liknande"><h2>Liknande annonser</h2>`)
		if id+3 <= 9 {
			fmt.Fprintf(&extra, `<a href="/annons/%d?utm_source=liknande">Liknande</a>`, id+3)
		}
		if id == 11 {
			extra.WriteString(`<a href="/annons/1">Liknande</a>`)
		}
		extra.WriteString(`</section>`)
		if id == 9 {
			extra.WriteString(`<a class="byra" href="/byra/1">Mer från samma byrå</a>`)
		}
		extra.WriteString(`<footer><a href="/om">Om oss</a> <a href="https://partner.example/annons/5">Partner</a></footer>`)
		writeAdvert(w, siteAdByID(id), "", extra.String())
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestArenaRelatedLinks crawls Granne: adverts reachable only from other
// adverts and from an agency page linked from an advert are fetched, each
// once; limits.max_depth stops the chain.
func TestArenaRelatedLinks(t *testing.T) {
	srv, rec := newGranne(t)
	_, sink := crawlFile(t, "testdata/arenas/granne.yml", srv, nil, crawler.Options{})
	want := map[string]siteAd{}
	for id := 1; id <= 11; id++ {
		want[fmt.Sprintf("/annons/%d", id)] = siteAdByID(id)
	}
	checkAdverts(t, srv, sink.ads, want)
	for p := range want {
		if n := rec.count(p); n != 1 {
			t.Errorf("%s requested %d times, want once", p, n)
		}
	}
	if n := rec.count("/om"); n != 0 {
		t.Errorf("/om requested %d times: it matches neither pattern", n)
	}

	t.Run("max_depth", func(t *testing.T) {
		// The listing is depth 0, adverts 1–3 depth 1, 4–6 depth 2, 7–9
		// depth 3, the agency page depth 4.
		srv, rec := newGranne(t)
		_, sink := crawlFile(t, "testdata/arenas/granne.yml", srv, func(c *crawler.ArenaConfig) { c.Limits.MaxDepth = 3 }, crawler.Options{})
		want := map[string]siteAd{}
		for id := 1; id <= 9; id++ {
			want[fmt.Sprintf("/annons/%d", id)] = siteAdByID(id)
		}
		checkAdverts(t, srv, sink.ads, want)
		if n := rec.count("/byra/1"); n != 0 {
			t.Errorf("/byra/1 (depth 4) requested with max_depth 3")
		}
	})
}

// newFlyttad serves the Flyttad arena (testdata/arenas/flyttad.yml):
// adverts live at /annons/N-slug (with a self-canonical link); the old
// form /annons.php?id=N answers 301 to it, short links /r/xN 302, and the
// print view /utskrift/SLUG answers 200 with a canonical link to it.
func newFlyttad(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	mux.HandleFunc("/lista", func(w http.ResponseWriter, r *http.Request) {
		for _, l := range []string{
			"/annons.php?id=1",                       // old form only
			siteAdByID(2).slug(), "/annons.php?id=2", // both forms
			"/r/x3", siteAdByID(3).slug(), // a short link and the slug
			"/utskrift/" + strings.TrimPrefix(siteAdByID(4).slug(), "/annons/4-"), // print view only
			"/annons.php?id=5", // old form only
			"/r/x6",            // short link only
		} {
			fmt.Fprintf(w, `<a class="annons" href="%s">annons</a>`+"\n", html.EscapeString(l))
		}
	})
	mux.HandleFunc("/annons.php", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscan(r.URL.Query().Get("id"), &id); err != nil || id < 1 || id > 6 {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, siteAdByID(id).slug(), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/r/", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/r/x%d", &id); err != nil || id < 1 || id > 6 {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, siteAdByID(id).slug(), http.StatusFound)
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		for _, a := range siteAds[:6] {
			if r.URL.Path == a.slug() {
				writeAdvert(w, a, `<link rel="canonical" href="`+a.slug()+`">`, "")
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("/utskrift/", func(w http.ResponseWriter, r *http.Request) {
		for _, a := range siteAds[:6] {
			if "/utskrift/"+strings.TrimPrefix(a.slug(), fmt.Sprintf("/annons/%d-", a.id)) == r.URL.Path {
				writeAdvert(w, a, `<link rel="canonical" href="`+a.slug()+`">`, "")
				return
			}
		}
		http.NotFound(w, r)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestArenaRedirectedOldURLs crawls Flyttad: each advert is published
// once, under its slug URL, whichever of its URLs were linked; a URL whose
// key is known is not fetched when the advert is queued already, and a
// short link to a queued advert stops at its redirect.
func TestArenaRedirectedOldURLs(t *testing.T) {
	srv, rec := newFlyttad(t)
	metrics := crawler.NewMetrics()
	run, sink := crawlFile(t, "testdata/arenas/flyttad.yml", srv, nil, crawler.Options{Metrics: metrics})
	want := map[string]siteAd{}
	for _, a := range siteAds[:6] {
		want[a.slug()] = a
	}
	checkAdverts(t, srv, sink.ads, want)
	for _, a := range siteAds[:6] {
		if a.id == 4 {
			continue // read from its print view
		}
		if n := rec.count(a.slug()); n != 1 {
			t.Errorf("%s requested %d times, want once", a.slug(), n)
		}
	}
	if n := rec.count("/annons.php?id=2"); n != 0 {
		t.Errorf("/annons.php?id=2 requested: advert 2 was queued under its slug already")
	}
	// /annons.php?id=2 left out when queued, /r/x3 stopped at its redirect.
	if run.Duplicates != 2 {
		t.Errorf("run counted %d duplicates, want 2", run.Duplicates)
	}
	var buf bytes.Buffer
	metrics.WriteTo(&buf)
	if want := `adcensus_crawler_duplicates_total{arena="flyttad"} 2` + "\n"; !strings.Contains(buf.String(), want) {
		t.Errorf("metrics lack %q:\n%s", want, buf.String())
	}
}

// TestCheckListsDroppedLinks: arena check on Granne shows the links of the
// advert page to follow and those dropped, with the reason.
func TestCheckListsDroppedLinks(t *testing.T) {
	srv, _ := newGranne(t)
	cfg, err := crawler.LoadArena("testdata/arenas/granne.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(srv.URL); err != nil {
		t.Fatal(err)
	}
	rep, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Advert == nil || len(rep.Advert.Links) != 1 || rep.Advert.Links[0].URL != srv.URL+"/annons/4" || rep.Advert.Links[0].Kind != crawler.PageDetail {
		t.Fatalf("advert links %+v, want /annons/4 (tracking parameter dropped)", rep.Advert)
	}
	reasons := map[string]string{}
	for _, d := range rep.Advert.Dropped {
		reasons[d.URL] = d.Field + ": " + d.Reason
	}
	if got, want := reasons[srv.URL+"/om"], "detail.links: "+crawler.DropNoMatch; got != want {
		t.Errorf("/om dropped as %q, want %q", got, want)
	}
	if got, want := reasons["https://partner.example/annons/5"], "detail.links: "+crawler.DropOtherHost; got != want {
		t.Errorf("partner link dropped as %q, want %q", got, want)
	}
	if rep.Advert.Key != "1" || rep.Advert.KeyFrom != "url" {
		t.Errorf("advert key %q from %q, want 1 from url", rep.Advert.Key, rep.Advert.KeyFrom)
	}
}

// TestArenaRedirectedOldURLsResume interrupts a crawl of Flyttad and
// resumes it: the advert keys in the crawl state keep every advert to one
// URL, the slug form, across both runs.
func TestArenaRedirectedOldURLsResume(t *testing.T) {
	srv, rec := newFlyttad(t)
	cfg, err := crawler.LoadArena("testdata/arenas/flyttad.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rebase(srv.URL)
	store := mustStore(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	first := &cancelSink{after: 2, cancel: cancel}
	c, _ := crawler.New(cfg, crawler.Options{Store: store, Sink: first, Pseudo: testPseudo, AutoResume: true})
	if _, err := c.Run(ctx); err == nil {
		t.Fatal("interrupted run returned no error")
	}
	second := &memSink{}
	c, _ = crawler.New(cfg, crawler.Options{Store: store, Sink: second, Pseudo: testPseudo, AutoResume: true})
	if _, err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	urls := map[string]map[string]bool{}
	for _, a := range append(first.all(), second.ads...) {
		if urls[a.ID] == nil {
			urls[a.ID] = map[string]bool{}
		}
		urls[a.ID][strings.TrimPrefix(a.URL, srv.URL)] = true
	}
	if len(urls) != 6 {
		t.Errorf("%d adverts over both runs, want 6", len(urls))
	}
	for _, a := range siteAds[:6] {
		got := urls[ad.ContentID("flyttad", fmt.Sprint(a.id))]
		if len(got) != 1 || !got[a.slug()] {
			t.Errorf("advert %d written under %v, want only %s", a.id, got, a.slug())
		}
	}
	if n := rec.count("/annons.php?id=2"); n != 0 {
		t.Errorf("/annons.php?id=2 requested %d times", n)
	}
}
