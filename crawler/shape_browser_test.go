package crawler_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
)

// needChromium skips a browser test where no Chromium is installed, unless
// ADCENSUS_REQUIRE_CHROMIUM is set (.ci/run sets it after installing
// chromium): then a missing browser fails the test.
func needChromium(tb testing.TB) {
	tb.Helper()
	if _, err := crawler.ChromiumPath(); err != nil {
		if os.Getenv("ADCENSUS_REQUIRE_CHROMIUM") != "" {
			tb.Fatalf("ADCENSUS_REQUIRE_CHROMIUM is set but: %v", err)
		}
		tb.Skipf("skipping the fetch: browser test: %v (.ci/run installs it)", err)
	}
}

// skriptJS builds the pages of the Skript and Flöde arenas: listings and
// adverts come from the /api endpoints, after a short delay, as on a
// single-page site. It also calls a robots.txt-disallowed beacon and adds
// a banner image.
const skriptJS = `(function () {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  };
  const json = async u => (await fetch(u)).json();
  function items(ul, d, style) {
    for (const a of d.annonser) {
      const li = el('li', style ? {style: style} : {});
      li.appendChild(el('a', {class: 'annons', href: '/annons/' + a.id}, a.rubrik));
      ul.appendChild(li);
    }
  }
  async function lista() {
    const sida = new URLSearchParams(location.search).get('sida') || '1';
    await sleep(40);
    const d = await json('/api/lista?sida=' + sida);
    items(document.getElementById('lista'), d);
    if (d.nasta) document.body.appendChild(el('a', {class: 'nasta', href: '/annonser?sida=' + d.nasta}, 'Nästa'));
  }
  async function annons() {
    const id = location.pathname.split('/').pop();
    await sleep(40);
    const a = (await json('/api/annons/' + id)).annons;
    const div = el('div', {class: 'annons'});
    div.appendChild(el('h1', {}, a.rubrik));
    div.appendChild(el('span', {class: 'namn'}, a.namn));
    div.appendChild(el('p', {class: 'ort'}, 'Ort: ' + a.ort));
    div.appendChild(el('span', {class: 'alder'}, 'Ålder: ' + a.alder));
    div.appendChild(el('time', {datetime: a.publicerad}, a.publicerad.slice(0, 10)));
    div.appendChild(el('div', {class: 'text'}, a.text));
    for (const b of a.bilder) div.appendChild(el('img', {class: 'foto', src: b}));
    div.appendChild(el('p', {class: 'kontakt'}, 'Ring ' + a.telefon));
    document.body.appendChild(div);
    fetch('/spara/visning?id=' + id).catch(() => {});
    await sleep(30);
    div.appendChild(el('span', {class: 'pris'}, a.pris));
  }
  function flod() {
    let sida = 1, laddar = false;
    const ul = document.getElementById('lista');
    async function mer() {
      if (laddar || !sida) return;
      laddar = true;
      const d = await json('/api/lista?per=4&sida=' + sida);
      items(ul, d, 'height: 400px');
      sida = d.nasta;
      laddar = false;
    }
    window.addEventListener('scroll', () => {
      if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 50) mer();
    });
    mer();
  }
  document.body.appendChild(el('img', {src: '/bilder/banner.jpg'}));
  if (location.pathname === '/annonser') lista();
  else if (location.pathname === '/flod') flod();
  else annons();
})();
`

// newSkriptSite serves the shape adverts as script-rendered pages: HTML
// shells and /app.js, data from /api. Advert pages under /annons/ are
// shells too, unless plainAdverts: then they are plain HTML (Flöde).
func newSkriptSite(t *testing.T, plainAdverts bool) (*httptest.Server, *recorder) {
	t.Helper()
	return serveSkript(t, testJPEG(t), plainAdverts, shapeAds, len(shapeAds)/shapePages)
}

// serveSkript serves ads over listing pages of per adverts.
func serveSkript(t testing.TB, img []byte, plainAdverts bool, ads []shapeAd, per int) (*httptest.Server, *recorder) {
	byID := map[string]shapeAd{}
	for _, a := range ads {
		byID[strconv.Itoa(a.id)] = a
	}
	shapeByID := func(id string) (shapeAd, bool) {
		a, ok := byID[id]
		return a, ok
	}
	perPage := per
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /spara/\n") })
	shell := func(w http.ResponseWriter, list bool) {
		fmt.Fprint(w, `<!doctype html><html><head><title>Skript</title><script src="/app.js" defer></script></head><body>`)
		if list {
			fmt.Fprint(w, `<ul id="lista"></ul>`)
		}
		fmt.Fprint(w, `<noscript>Aktivera JavaScript.</noscript></body></html>`)
	}
	mux.HandleFunc("/annonser", func(w http.ResponseWriter, r *http.Request) { shell(w, true) })
	mux.HandleFunc("/flod", func(w http.ResponseWriter, r *http.Request) { shell(w, true) })
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := shapeByID(strings.TrimPrefix(r.URL.Path, "/annons/"))
		switch {
		case !ok:
			http.NotFound(w, r)
		case plainAdverts:
			fmt.Fprint(w, `<!doctype html><html><body>`)
			writeLayoutA(w, a)
			fmt.Fprint(w, `</body></html>`)
		default:
			shell(w, false)
		}
	})
	mux.HandleFunc("/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		fmt.Fprint(w, skriptJS)
	})
	mux.HandleFunc("/api/lista", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("sida"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per"))
		if per == 0 {
			per = perPage
		}
		type item struct {
			ID     int    `json:"id"`
			Rubrik string `json:"rubrik"`
		}
		items := []item{}
		for i := (page - 1) * per; i >= 0 && i < page*per && i < len(ads); i++ {
			items = append(items, item{ads[i].id, ads[i].title()})
		}
		var next any
		if page*per < len(ads) {
			next = page + 1
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"annonser": items, "nasta": next})
	})
	mux.HandleFunc("/api/annons/", func(w http.ResponseWriter, r *http.Request) {
		a, ok := shapeByID(strings.TrimPrefix(r.URL.Path, "/api/annons/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		bilder := []string{}
		for i := 1; i <= a.images; i++ {
			bilder = append(bilder, fmt.Sprintf("/bilder/%d-%d.jpg", a.id, i))
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"annons": map[string]any{
			"rubrik": a.title(), "namn": a.name, "alder": a.age, "ort": a.city,
			"publicerad": a.posted.Format(time.RFC3339), "text": "Hej! Jag heter " + a.name + ". Trevlig och diskret.",
			"bilder": bilder, "telefon": a.phone, "pris": a.price,
		}})
	})
	mux.HandleFunc("/spara/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/bilder/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(img)
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestScriptRenderedArena crawls Skript, whose adverts exist only after its
// script ran, with fetch: browser (testdata/shapes/skript.yml only): every
// advert exactly once with every field right, and the browser's requests
// as polite as the crawler's own: the robots.txt-disallowed beacon and the
// blocked banner image never reach the server, the script is fetched once
// for the whole run, and no two requests arrive closer than limits.delay.
func TestScriptRenderedArena(t *testing.T) {
	needChromium(t)
	srv, rec := newSkriptSite(t, false)
	run, sink, pseudo := shapeCrawl(t, "skript.yml", srv.URL, crawler.Options{})
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
	}
	if n := rec.count("/app.js"); n != 1 {
		t.Errorf("/app.js requested %d times, want once (cached for the run)", n)
	}
	hits := rec.all()
	for _, h := range hits {
		if strings.HasPrefix(h.uri, "/spara/") || h.uri == "/bilder/banner.jpg" || h.uri == "/favicon.ico" {
			t.Errorf("%s reached the server: robots.txt disallows it / images are blocked in the browser", h.uri)
		}
	}
	if g := minGap(hits); g < 15*time.Millisecond {
		t.Errorf("two requests %v apart, want at least limits.delay 15ms between all requests (browser ones included)", g)
	}
	// arena check lists the requests each rendered page made: the XHR the
	// data came from, the cached script, the beacon refused by robots.txt.
	cfg0, err := crawler.LoadArena("testdata/shapes/skript.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg0.Rebase(srv.URL)
	rep, err := crawler.Check(context.Background(), cfg0, crawler.CheckOptions{Samples: 1})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := func(reqs []crawler.BrowserRequest) map[string]string {
		m := map[string]string{}
		for _, r := range reqs {
			m[strings.TrimPrefix(r.URL, srv.URL)] = r.Type + " " + r.Outcome
		}
		return m
	}
	if got := outcomes(rep.ListingRequests); got["/api/lista?sida=1"] != "XHR fetched" || got["/annonser?sida=1"] != "Document fetched" || got["/app.js"] != "Script fetched" {
		t.Errorf("listing requests %v", got)
	}
	got := outcomes(rep.Samples[0].Requests)
	if got["/api/annons/201"] != "XHR fetched" || got["/app.js"] != "Script cached" {
		t.Errorf("advert requests %v", got)
	}
	// The beacon goes out 30 ms before the page is read: when it was
	// recorded in time, it failed on robots.txt.
	if b, ok := got["/spara/visning?id=201"]; ok && !strings.HasSuffix(b, " failed: robots") {
		t.Errorf("beacon %q, want failed: robots", b)
	}
	// Served as is, the listing has no advert links: the adverts only
	// appear after the script ran.
	cfg, err := crawler.LoadArena("testdata/shapes/skript.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rebase(srv.URL)
	cfg.Fetch = "http"
	if _, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{}); !errors.Is(err, crawler.ErrNoDetailLinks) {
		t.Errorf("fetch: http check: err %v, want ErrNoDetailLinks (no links without the script)", err)
	}
}

// TestInfiniteScrollListing crawls Flöde, a listing that loads more adverts
// each time it is scrolled to the bottom, with browser.scroll: every advert
// is found, and the advert pages (plain HTML, browser.pages: [listing])
// are fetched without the browser (no script requested for them).
func TestInfiniteScrollListing(t *testing.T) {
	needChromium(t)
	srv, rec := newSkriptSite(t, true)
	run, sink, pseudo := shapeCrawl(t, "flod.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for p := 1; p <= 3; p++ {
		if n := rec.count(fmt.Sprintf("/api/lista?per=4&sida=%d", p)); n != 1 {
			t.Errorf("scroll page %d loaded %d times, want once", p, n)
		}
	}
	if n := rec.count("/app.js"); n != 1 {
		t.Errorf("/app.js requested %d times, want once (by the listing only)", n)
	}
}

// TestBrowserLimits: on a rendered arena the politeness and limits of
// plain fetches hold: robots.txt's Crawl-delay spaces every request, the
// browser's included; a page whose script builds a DOM over
// limits.max_body is a too_large error; a page that never settles is a
// timeout at browser.timeout; a removed advert (404) is a status_4xx error;
// the other adverts are read.
func TestBrowserLimits(t *testing.T) {
	needChromium(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nCrawl-delay: 0.05\n")
	})
	page := func(w http.ResponseWriter, script string) {
		fmt.Fprintf(w, `<!doctype html><html><body><script>%s</script></body></html>`, script)
	}
	mux.HandleFunc("/lista", func(w http.ResponseWriter, r *http.Request) {
		page(w, `for (const id of ["1", "2", "3", "4"]) {
  const a = document.createElement("a"); a.className = "ad"; a.href = "/ad/" + id; a.textContent = id;
  document.body.appendChild(a);
}`)
	})
	mux.HandleFunc("/ad/1", func(w http.ResponseWriter, r *http.Request) {
		page(w, `setTimeout(() => { const h = document.createElement("h1"); h.textContent = "Annons ett"; document.body.appendChild(h) }, 30)`)
	})
	mux.HandleFunc("/ad/2", func(w http.ResponseWriter, r *http.Request) { // 300 KB of text
		page(w, `const p = document.createElement("p"); p.textContent = "x".repeat(300000); document.body.appendChild(p);
const h = document.createElement("h1"); h.textContent = "Stor"; document.body.appendChild(h);`)
	})
	mux.HandleFunc("/ad/3", func(w http.ResponseWriter, r *http.Request) { // keeps loading
		page(w, `setInterval(() => fetch("/slow?" + Math.random()).catch(() => {}), 100)`)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-r.Context().Done():
		}
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	run, sink := crawlOnce(t, fmt.Sprintf(`
name: limits
start_urls: [%s/lista]
allow_private: true
limits: {concurrency: 2, delay: 0s, timeout: 2s, max_body: 256KiB}
fetch: browser
browser: {tabs: 2, idle: 200ms, timeout: 3s, block: [image]}
listing: {match: '^/lista$', links: a.ad}
detail: {match: '^/ad/(\d+)$', fields: {title: {selector: h1}}}
`, srv.URL), crawler.Options{Retries: 1, RetryBase: 10 * time.Millisecond})
	if len(sink.ads) != 1 || sink.ads[0].Title != "Annons ett" {
		t.Errorf("adverts %v, want only advert 1", sink.ids())
	}
	if run.Errors["too_large"] != 1 || run.Errors["timeout"] != 1 || run.Errors["status_4xx"] != 1 || run.ErrorCount() != 3 {
		t.Errorf("errors %v, want too_large=1 (ad 2), timeout=1 (ad 3), status_4xx=1 (ad 4)", run.Errors)
	}
	if g := minGap(rec.all()); g < 50*time.Millisecond {
		t.Errorf("two requests %v apart, want at least the Crawl-delay 50ms between all requests", g)
	}
}

// TestBrowserHosts: a rendered page may load from hosts outside the arena
// only when browser.hosts names them; such a host gets its own robots.txt
// and gate like any other.
func TestBrowserHosts(t *testing.T) {
	needChromium(t)
	cdnRec := &recorder{}
	cdn := httptest.NewServer(cdnRec.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /privat/\n")
		case "/bygg.js":
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `const h = document.createElement("h1"); h.textContent = "Från CDN"; document.body.appendChild(h);`)
		default:
			http.NotFound(w, r)
		}
	})))
	t.Cleanup(cdn.Close)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/lista":
			fmt.Fprint(w, `<a class="ad" href="/ad/1">1</a>`)
		case "/ad/1":
			fmt.Fprintf(w, `<html><body><script src="%s/bygg.js"></script><script src="%s/privat/spion.js"></script></body></html>`, cdn.URL, cdn.URL)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	cdnHost := strings.TrimPrefix(cdn.URL, "http://")
	for _, hosts := range []string{"[]", "[" + cdnHost + "]"} {
		t.Run("hosts="+hosts, func(t *testing.T) {
			run, sink := crawlOnce(t, fmt.Sprintf(`
name: hosts
start_urls: [%s/lista]
allow_private: true
limits: {concurrency: 2, delay: 0s, timeout: 2s}
fetch: browser
browser: {pages: [detail], idle: 200ms, timeout: 5s, hosts: %s}
listing: {match: '^/lista$', links: a.ad}
detail: {match: '^/ad/(\d+)$', fields: {title: {selector: h1}}}
`, site.URL, hosts), crawler.Options{})
			allowed := hosts != "[]"
			if got := len(sink.ads) == 1 && sink.ads[0].Title == "Från CDN"; got != allowed {
				t.Errorf("advert rendered from the CDN script: %v, want %v (errors %v)", got, allowed, run.Errors)
			}
		})
	}
	// The CDN was asked for its script only when allowed, after its own
	// robots.txt, and never for the path that robots.txt disallows.
	if n := cdnRec.count("/bygg.js"); n != 1 {
		t.Errorf("/bygg.js requested %d times, want once (only with browser.hosts)", n)
	}
	if n := cdnRec.count("/robots.txt"); n != 1 {
		t.Errorf("the CDN's robots.txt read %d times, want once", n)
	}
	if n := cdnRec.count("/privat/spion.js"); n != 0 {
		t.Errorf("/privat/spion.js requested %d times: the CDN's robots.txt disallows it", n)
	}
}
