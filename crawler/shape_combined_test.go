package crawler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/crawler"
)

// The tests in this file combine the two halves of issue 17: the shapes of
// sites (JSON APIs, field alternatives, script-rendered pages) with the
// ways adverts are reached (related links, redirects, one advert under
// several URLs).

// jsonRelated is the related advert of a in the Närliggande site: page-1
// adverts link a page-2 advert (reachable no other way) and the next
// page-1 advert; page-2 adverts link back.
func jsonRelated(a shapeAd) []int {
	if a.page == 1 {
		return []int{a.id + 6, a.id + 1}
	}
	return []int{a.id - 6}
}

// newJSONRelatedSite serves the shape adverts from a JSON API whose
// listing names only the page-1 adverts, some by a short link that
// redirects to the advert's endpoint (202 both ways, 203 only so); the
// page-2 adverts are reachable only as related adverts ("liknande").
func newJSONRelatedSite(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	img := testJPEG(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	mux.HandleFunc("/api/annonser", func(w http.ResponseWriter, r *http.Request) {
		type item struct {
			URL string `json:"url"`
		}
		var items []item
		for _, a := range shapeAds {
			switch {
			case a.page != 1:
			case a.id == 202:
				items = append(items, item{"/api/r/x202"}, item{"/api/annons/202"})
			case a.id == 203:
				items = append(items, item{"/api/r/x203"})
			default:
				items = append(items, item{fmt.Sprintf("/api/annons/%d", a.id)})
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"annonser": items})
	})
	mux.HandleFunc("/api/r/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/api/r/x")
		if _, ok := shapeByID(id); !ok {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, "/api/annons/"+id, http.StatusMovedPermanently)
	})
	mux.HandleFunc("/api/annons/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := shapeByID(strings.TrimPrefix(r.URL.Path, "/api/annons/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		kontakt := map[string]any{"telefon": a.phone}
		if a.phoneInArr {
			kontakt = map[string]any{"nummer": []string{a.phone}}
		}
		var bilder []map[string]string
		for i := 1; i <= a.images; i++ {
			bilder = append(bilder, map[string]string{"url": fmt.Sprintf("/bilder/%d-%d.jpg", a.id, i)})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"annons": map[string]any{
			"id": a.id, "rubrik": a.title(), "namn": a.name, "alder": a.age,
			"ort":        map[string]any{"namn": a.city},
			"text":       []string{"Hej! Jag heter " + a.name + ".", "Trevlig och diskret."},
			"publicerad": a.posted.Format(time.RFC3339), "kontakt": kontakt,
			"bilder": bilder, "pris": a.price, "liknande": jsonRelated(a),
		}})
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

// TestJSONAdvertsRelatedAndRedirected crawls a JSON API arena
// (testdata/shapes/jsonnara.yml only) whose adverts link related adverts
// by id (detail.links as a gjson path into detail.link_template) and whose
// listing names adverts by short links that redirect: every advert exactly
// once, under its endpoint URL, with every field right (phones by
// alternatives), each endpoint requested once, the page-2 adverts found
// only through related links.
func TestJSONAdvertsRelatedAndRedirected(t *testing.T) {
	srv, rec := newJSONRelatedSite(t)
	run, sink, pseudo := shapeCrawl(t, "jsonnara.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/api/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for _, a := range shapeAds {
		if n := rec.count(fmt.Sprintf("/api/annons/%d", a.id)); n != 1 {
			t.Errorf("advert %d requested %d times, want once", a.id, n)
		}
	}
	if n := rec.count("/api/r/x203"); n != 1 {
		t.Errorf("short link of 203 requested %d times, want once", n)
	}
	if run.Duplicates < 1 {
		t.Errorf("run counted %d duplicates, want the short link of 202 and the related links back", run.Duplicates)
	}

	// arena check shows the related links of each sample advert.
	cfg, err := crawler.LoadArena("testdata/shapes/jsonnara.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rebase(srv.URL)
	rep, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{Samples: 4}) // 201, x202, 202, x203
	if err != nil {
		t.Fatal(err)
	}
	if rep.Advert == nil || rep.Advert.Key != "201" || len(rep.Advert.Links) != 2 ||
		rep.Advert.Links[0] != (crawler.Link{URL: srv.URL + "/api/annons/207", Kind: crawler.PageDetail}) {
		t.Errorf("first sample %+v, want key 201 and links to 207 and 202", rep.Advert)
	}
	if len(rep.Samples) != 4 {
		t.Fatalf("%d samples, want 4", len(rep.Samples))
	}
	if s := rep.Samples[3]; s.URL != srv.URL+"/api/r/x203" || s.Final != srv.URL+"/api/annons/203" ||
		s.Advert == nil || s.Advert.Key != "203" || s.Advert.KeyFrom != "redirect" || s.Ad.URL != s.Final {
		t.Errorf("fourth sample %s → %s, advert %+v; want the short link of 203 read under its redirect", s.URL, s.Final, s.Advert)
	}
}

// newSkriptMovedSite serves the Skript site (script-rendered listings and
// adverts) behind a front that adds a plain listing /gamla of old advert
// URLs for the page-2 adverts and 201, each redirecting twice: /gammal/N
// 301 → /flyttad/N 302 → /annons/N. The front records every request.
func newSkriptMovedSite(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	inner, _ := newSkriptSite(t, false)
	target, err := url.Parse(inner.URL)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	mux.HandleFunc("/gamla", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><ul>`)
		for _, a := range shapeAds {
			if a.page == 2 || a.id == 201 {
				fmt.Fprintf(w, `<li><a class="annons" href="/gammal/%d">%s</a></li>`, a.id, a.title())
			}
		}
		fmt.Fprint(w, `</ul></body></html>`)
	})
	mux.HandleFunc("/gammal/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/flyttad/"+strings.TrimPrefix(r.URL.Path, "/gammal/"), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/flyttad/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/annons/"+strings.TrimPrefix(r.URL.Path, "/flyttad/"), http.StatusFound)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestBrowserRedirectsThroughGate crawls a script-rendered arena whose
// adverts are also linked by old URLs that redirect twice
// (testdata/shapes/skriptflytt.yml only), with fetch: browser. The browser
// follows each redirect with a request of its own, made through the
// crawl's fetcher: no two requests, redirect hops included, arrive closer
// than limits.delay. Each advert is identified by the URL after redirects:
// rendered and written once, under /annons/N, whichever URL was met first;
// a field's alternatives work on the rendered DOM.
func TestBrowserRedirectsThroughGate(t *testing.T) {
	needChromium(t)
	srv, rec := newSkriptMovedSite(t)
	run, sink, pseudo := shapeCrawl(t, "skriptflytt.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for _, a := range shapeAds {
		for _, u := range []string{fmt.Sprintf("/annons/%d", a.id), fmt.Sprintf("/api/annons/%d", a.id)} {
			if n := rec.count(u); n != 1 {
				t.Errorf("%s requested %d times, want once", u, n)
			}
		}
		if a.page == 2 || a.id == 201 {
			if n := rec.count(fmt.Sprintf("/gammal/%d", a.id)); n != 1 {
				t.Errorf("/gammal/%d requested %d times, want once", a.id, n)
			}
			// The second hop is made only when the advert was not
			// reached under /annons/N first.
			if n := rec.count(fmt.Sprintf("/flyttad/%d", a.id)); n > 1 {
				t.Errorf("/flyttad/%d requested %d times, want at most once", a.id, n)
			}
		}
	}
	hops := 0
	for _, h := range rec.all() {
		if strings.HasPrefix(h.uri, "/flyttad/") {
			hops++
		}
	}
	if hops == 0 {
		t.Error("no second redirect hop was made: the test does not show hops through the gate")
	}
	if g := minGap(rec.all()); g < 40*time.Millisecond {
		t.Errorf("two requests %v apart, want at least limits.delay 40ms between all requests (redirect hops in the browser included)", g)
	}
	if run.Duplicates < 1 {
		t.Errorf("run counted %d duplicates, want the old URLs of adverts already met", run.Duplicates)
	}
}

// newSkriptGateSite serves the Skript site behind an age gate: without the
// cookie alder=ja, pages are a gate form and the API answers 403; POST
// /grind with svar=ja sets the cookie. It returns the server, the recorder
// of every request and the number of gate submissions.
func newSkriptGateSite(t *testing.T) (*httptest.Server, *recorder, *atomic.Int32) {
	t.Helper()
	inner, _ := newSkriptSite(t, false)
	target, err := url.Parse(inner.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var passed atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/grind", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.FormValue("svar") != "ja" {
			http.Error(w, "nej", http.StatusBadRequest)
			return
		}
		passed.Add(1)
		http.SetCookie(w, &http.Cookie{Name: "alder", Value: "ja", Path: "/"})
		fmt.Fprint(w, `<!doctype html><html><body><p>Tack.</p></body></html>`)
	})
	// The site's script runs only when it sees the age cookie, as a
	// single-page site's own gate would.
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("alder"); err != nil || c.Value != "ja" {
			http.Error(w, "ålderskontroll", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, "if (document.cookie.indexOf('alder=ja') < 0) throw new Error('ålderskontroll');\n"+skriptJS)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("alder"); r.URL.Path != "/robots.txt" && (err != nil || c.Value != "ja") {
			if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/bilder/") || r.URL.Path == "/app.js" {
				http.Error(w, "ålderskontroll", http.StatusForbidden)
				return
			}
			fmt.Fprint(w, `<!doctype html><html><body><form id="grind" method="post" action="/grind">
<p>Är du över 18?</p><button name="svar" value="ja">Ja</button><button name="svar" value="nej">Nej</button></form></body></html>`)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec, &passed
}

// TestBrowserBehindAgeGate crawls a script-rendered arena behind an age
// gate (testdata/shapes/skriptgrind.yml only) with fetch: browser: the
// first rendered page is the gate, which the session passes over HTTP
// once; the page is rendered again, its script sees the cookie in
// document.cookie (the browser is given the run's cookies), and every
// later request the browser makes (pages, script, XHRs) carries it: every
// advert exactly once with every field right, no request refused.
func TestBrowserBehindAgeGate(t *testing.T) {
	needChromium(t)
	srv, rec, passed := newSkriptGateSite(t)
	run, sink, pseudo := shapeCrawl(t, "skriptgrind.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	if n := passed.Load(); n != 1 {
		t.Errorf("gate passed %d times, want once", n)
	}
	for _, h := range rec.all() {
		if h.status == http.StatusForbidden {
			t.Errorf("%s refused (403): the browser's request lacked the run's cookie", h.uri)
		}
	}
	for _, a := range shapeAds {
		if n := rec.count(fmt.Sprintf("/api/annons/%d", a.id)); n != 1 {
			t.Errorf("/api/annons/%d requested %d times, want once", a.id, n)
		}
	}
}

// TestBrowserScriptCookieReachesSite: a consent the page's script records
// in document.cookie is sent with the requests the browser makes after it
// (they are made by the crawl's fetcher, whose jar takes the browser's
// cookies): the Skript site's API answers only with that cookie.
func TestBrowserScriptCookieReachesSite(t *testing.T) {
	needChromium(t)
	inner, _ := newSkriptSite(t, false)
	target, err := url.Parse(inner.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, "document.cookie = 'samtycke=ja; path=/';\n"+skriptJS)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("samtycke"); strings.HasPrefix(r.URL.Path, "/api/") && (err != nil || c.Value != "ja") {
			http.Error(w, "samtycke saknas", http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	run, sink, pseudo := shapeCrawl(t, "skript.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for _, h := range rec.all() {
		if h.status == http.StatusForbidden {
			t.Errorf("%s refused (403): the script's cookie was not sent", h.uri)
		}
	}
}
