package crawler_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
)

// newJSONSite serves the shape adverts from a JSON API; the listing's
// last page also links advert 299, whose JSON is cut off.
func newJSONSite(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	img := testJPEG(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	mux.HandleFunc("/api/annonser", func(w http.ResponseWriter, r *http.Request) {
		var page int
		if _, err := fmt.Sscan(r.URL.Query().Get("sida"), &page); err != nil || page < 1 || page > shapePages {
			http.NotFound(w, r)
			return
		}
		type item struct {
			ID     int    `json:"id"`
			Rubrik string `json:"rubrik"`
		}
		var items []item
		for _, a := range shapeAds {
			if a.page == page {
				items = append(items, item{a.id, a.title()})
			}
		}
		var next any
		if page < shapePages {
			next = page + 1
		} else {
			items = append(items, item{299, "Trasig"})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"annonser": items, "sidor": map[string]any{"nasta": next, "antal": shapePages}})
	})
	mux.HandleFunc("/api/annons/", func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/api/annons/")
		w.Header().Set("Content-Type", "application/json")
		if id == "299" {
			fmt.Fprint(w, `{"annons": {"id": 299, "rubrik": "Trasig", "text": ["Hej`)
			return
		}
		a, ok := shapeByID(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"annons": annonsJSON(a)})
	})
	// A search endpoint that holds whole adverts (listing.items).
	mux.HandleFunc("/api/sok", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("sida"))
		items := []any{}
		for _, a := range shapeAds {
			if a.page == page {
				items = append(items, annonsJSON(a))
			}
		}
		var next any
		if page < shapePages {
			next = page + 1
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"traffar": items, "nasta": next})
	})
	// The site's own pages: an HTML listing linking the advert pages,
	// which are shells filled from /api/annons/N by a script.
	mux.HandleFunc("/annonser", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><ul>`)
		for _, a := range shapeAds {
			fmt.Fprintf(w, `<li><a class="annons" href="/annons/%d">%s</a></li>`, a.id, a.title())
		}
		fmt.Fprint(w, `</ul></body></html>`)
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body><div id="app"></div><script src="/app.js"></script></body></html>`)
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

// annonsJSON is advert a as the API gives it.
func annonsJSON(a shapeAd) map[string]any {
	kontakt := map[string]any{"telefon": a.phone}
	if a.phoneInArr {
		kontakt = map[string]any{"nummer": []string{a.phone}}
	}
	var bilder []map[string]string
	for i := 1; i <= a.images; i++ {
		bilder = append(bilder, map[string]string{"url": fmt.Sprintf("/bilder/%d-%d.jpg", a.id, i)})
	}
	return map[string]any{
		"id": a.id, "rubrik": a.title(), "namn": a.name, "alder": a.age,
		"ort":        map[string]any{"namn": a.city, "lat": 59.3},
		"text":       []string{"Hej! Jag heter " + a.name + ".", "Trevlig och diskret."},
		"publicerad": a.posted.Format(time.RFC3339), "kontakt": kontakt,
		"bilder": bilder, "pris": a.price,
	}
}

// TestJSONAPIArena crawls a JSON API, onboarded by testdata/shapes/jsonapi.yml
// only: every advert exactly once with every field right, ids and page
// numbers put into URL templates, and the advert whose JSON is malformed
// counted as a "json" error, the crawl going on.
func TestJSONAPIArena(t *testing.T) {
	srv, rec := newJSONSite(t)
	run, sink, pseudo := shapeCrawl(t, "jsonapi.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/api/annons/%d", srv.URL, id) }, true)
	if run.Errors["json"] != 1 || run.ErrorCount() != 1 {
		t.Errorf("errors %v, want json=1 (advert 299)", run.Errors)
	}
	for _, a := range shapeAds {
		if n := rec.count(fmt.Sprintf("/api/annons/%d", a.id)); n != 1 {
			t.Errorf("advert %d requested %d times, want once", a.id, n)
		}
	}
	for p := 1; p <= shapePages; p++ {
		if n := rec.count(fmt.Sprintf("/api/annonser?sida=%d", p)); n != 1 {
			t.Errorf("listing page %d requested %d times, want once", p, n)
		}
	}
}

// TestJSONExtraction: gjson paths on JSON pages and in HTML elements; a
// malformed page is ErrBadJSON naming where it breaks.
func TestJSONExtraction(t *testing.T) {
	cfg, err := crawler.LoadArena("testdata/shapes/jsonapi.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"annons": {"rubrik": "x", }}`, "malformed JSON at byte 28 of 29"},
		{`<html><body>Not found</body></html>`, "malformed JSON at byte 1"},
		{``, "malformed JSON"},
	} {
		_, _, err := cfg.ExtractAd("http://127.0.0.1:1/api/annons/5", []byte(tc.body), time.Now())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errorsIsBadJSON(err) {
			t.Errorf("%q: err %v, want ErrBadJSON with %q", tc.body, err, tc.want)
		}
	}
	_, err = cfg.ExtractListing("http://127.0.0.1:1/api/annonser?sida=1", []byte(`{"annonser": [`))
	if !errorsIsBadJSON(err) {
		t.Errorf("truncated listing: err %v, want ErrBadJSON", err)
	}
	// Numbers, strings, arrays and nulls; objects are not values.
	a, matches, _, err := cfg.ExtractAdMatches("http://127.0.0.1:1/api/annons/5", []byte(`{"annons": {
		"rubrik": "Rubrik", "text": ["a", null, "b", {"x": 1}], "alder": 30, "ort": {"namn": null},
		"kontakt": {"nummer": ["070-111 22 33", "070-111 22 44"]}, "bilder": [{"url": "/b/1.jpg"}, {"url": "https://cdn.example.org/2.jpg"}]}}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Rubrik" || a.Body != "a\nb" || a.Age != 30 || a.City != "" || len(a.Phones) != 2 || len(a.Images) != 2 || a.Images[0] != "http://127.0.0.1:1/b/1.jpg" {
		t.Errorf("advert %+v", a)
	}
	if matches["phones"] != 2 || matches["city"] != -1 || matches["title"] != 0 {
		t.Errorf("matches %v, want phones 2 (third alternative), city -1, title 0", matches)
	}
	// JSON inside an HTML element: a selector and a path.
	html, err := crawler.ParseArena("ld.yaml", []byte(`
name: ld
start_urls: [http://127.0.0.1:1/list]
listing: {match: '^/list$', links: a}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: 'script#__NEXT_DATA__', path: props.pageProps.ad.title}
    phones: {selector: 'script#__NEXT_DATA__', path: props.pageProps.ad.phones, all: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	a, _, err = html.ExtractAd("http://127.0.0.1:1/ad/1", []byte(`<html><script id="__NEXT_DATA__" type="application/json">
{"props": {"pageProps": {"ad": {"title": "Från skriptet", "phones": ["070-111 22 33", "070-111 22 44"]}}}}</script></html>`), time.Now())
	if err != nil || a.Title != "Från skriptet" || len(a.Phones) != 2 {
		t.Errorf("embedded JSON: %+v, %v", a, err)
	}
}

func errorsIsBadJSON(err error) bool { return errors.Is(err, crawler.ErrBadJSON) }

// TestJSONListingTemplates: ids go into link_template as path segments,
// a cursor into next_template as a query value; duplicates, nulls, false
// and URLs that are not the arena's pages are dropped.
func TestJSONListingTemplates(t *testing.T) {
	cfg, err := crawler.ParseArena("cursor.yaml", []byte(`
name: cursor
start_urls: [http://example.org/api/list]
listing:
  format: json
  match: '^/api/list(\?cursor=.+)?$'
  links: 'data.items.#.slug'
  link_template: '/api/ad/{}'
  next: 'data.paging.cursor'
  next_template: '/api/list?cursor={}'
detail:
  format: json
  match: '^/api/ad/([^/]+)$'
  fields: {title: {path: title}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.ExtractListing("http://example.org/api/list", []byte(`{"data": {
		"items": [{"slug": "anna-27"}, {"slug": "anna-27"}, {"slug": null}, {"slug": "b c"}, {"slug": false}, {}],
		"paging": {"cursor": "eyJpZCI6MTJ9/=="}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http://example.org/api/ad/anna-27", "http://example.org/api/ad/b%20c"}
	if strings.Join(res.Details, " ") != strings.Join(want, " ") {
		t.Errorf("details %q, want %q", res.Details, want)
	}
	if len(res.Next) != 1 || res.Next[0] != "http://example.org/api/list?cursor=eyJpZCI6MTJ9%2F%3D%3D" {
		t.Errorf("next %q, want the cursor query-escaped", res.Next)
	}
	res, err = cfg.ExtractListing("http://example.org/api/list?cursor=x", []byte(`{"data": {"items": [], "paging": {"cursor": null}}}`))
	if err != nil || len(res.Details) != 0 || len(res.Next) != 0 {
		t.Errorf("last page: %+v, %v; want nothing", res, err)
	}
}

// TestJSONAdvertsFromHTMLLinks: an HTML listing links advert pages that
// are script shells; detail.fetch_url reads each advert from its endpoint
// (testdata/shapes/jsonlank.yml): exact recall and fields, the adverts'
// url is the page's, and the shells are never requested.
func TestJSONAdvertsFromHTMLLinks(t *testing.T) {
	srv, rec := newJSONSite(t)
	run, sink, pseudo := shapeCrawl(t, "jsonlank.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v, want none", run.Errors)
	}
	for _, a := range shapeAds {
		if n := rec.count(fmt.Sprintf("/api/annons/%d", a.id)); n != 1 {
			t.Errorf("/api/annons/%d requested %d times, want once", a.id, n)
		}
		if n := rec.count(fmt.Sprintf("/annons/%d", a.id)); n != 0 {
			t.Errorf("the shell /annons/%d was requested: only its endpoint should be", a.id)
		}
	}
}

// TestJSONListingWithWholeAdverts: a search endpoint returns whole
// adverts (listing.items, testdata/shapes/jsonsok.yml): each advert is read
// from its listing item, no advert endpoint is requested, with exact
// recall and fields.
func TestJSONListingWithWholeAdverts(t *testing.T) {
	srv, rec := newJSONSite(t)
	run, sink, pseudo := shapeCrawl(t, "jsonsok.yml", srv.URL, crawler.Options{})
	checkShapeAdverts(t, sink, pseudo, srv.URL, func(id int) string { return fmt.Sprintf("%s/api/annons/%d", srv.URL, id) }, true)
	if run.ErrorCount() != 0 || run.Pages != len(shapeAds)+shapePages {
		t.Errorf("errors %v, %d pages; want none, %d (the adverts count as pages)", run.Errors, run.Pages, len(shapeAds)+shapePages)
	}
	for _, h := range rec.all() {
		if strings.HasPrefix(h.uri, "/api/annons/") {
			t.Errorf("%s requested: the listing holds the whole advert", h.uri)
		}
	}
	for p := 1; p <= shapePages; p++ {
		if n := rec.count(fmt.Sprintf("/api/sok?sida=%d", p)); n != 1 {
			t.Errorf("search page %d requested %d times, want once", p, n)
		}
	}
}

// TestJSONWholeAdvertFallbackShape: when an advert of jsonsok is fetched
// from its URL (the listing's item was not kept: a resumed crawl), the
// wrapped shape is read by each field's second alternative.
func TestJSONWholeAdvertFallbackShape(t *testing.T) {
	cfg, err := crawler.LoadArena("testdata/shapes/jsonsok.yml")
	if err != nil {
		t.Fatal(err)
	}
	a := shapeAds[1]
	body, _ := json.Marshal(map[string]any{"annons": annonsJSON(a)})
	got, matches, problems, err := cfg.ExtractAdMatches("http://127.0.0.1:1/api/annons/202", body, time.Now())
	if err != nil || len(problems) > 0 {
		t.Fatalf("err %v, problems %v", err, problems)
	}
	if got.Title != a.title() || got.City != a.city || got.Age != a.age || len(got.Phones) != 1 || len(got.Images) != a.images {
		t.Errorf("advert %+v", got)
	}
	for f, m := range matches {
		if want := map[bool]int{false: 1, true: 3}[f == "phones"]; m != want {
			t.Errorf("%s matched alternative %d, want %d (the wrapped shape)", f, m, want)
		}
	}
}
