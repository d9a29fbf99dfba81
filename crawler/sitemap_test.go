package crawler_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"adcensus/crawler"
)

// newKartan serves the Kartan arena (testdata/arenas/kartan.yml): twelve
// adverts; /senaste?offset=N lists three of the five newest (12…8) from N,
// without a next link; robots.txt names a sitemap index of a plain-text
// sitemap (adverts 1–4, a page of another host, an "about" page) and a
// gzipped XML sitemap (adverts 5–7 and 12).
func newKartan(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "User-agent: *\nDisallow: /konto/\n\nSitemap: %s/sitemap-index.xml\n", srv.URL)
	})
	mux.HandleFunc("/sitemap-index.xml", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>%[1]s/sitemap-1.txt</loc></sitemap>
  <sitemap><loc>%[1]s/sitemap-2.xml.gz</loc></sitemap>
</sitemapindex>`, srv.URL)
	})
	mux.HandleFunc("/sitemap-1.txt", func(w http.ResponseWriter, r *http.Request) {
		for id := 1; id <= 4; id++ {
			fmt.Fprintf(w, "%s/annons/%d\n", srv.URL, id)
		}
		fmt.Fprintf(w, "https://partner.example/annons/99\n%s/om\n", srv.URL)
	})
	mux.HandleFunc("/sitemap-2.xml.gz", func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		fmt.Fprint(zw, `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, id := range []int{5, 6, 7, 12} {
			fmt.Fprintf(zw, "<url><loc>%s/annons/%d</loc><lastmod>2026-12-01</lastmod></url>", srv.URL, id)
		}
		fmt.Fprint(zw, `</urlset>`)
		zw.Close()
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(b.Bytes())
	})
	mux.HandleFunc("/senaste", func(w http.ResponseWriter, r *http.Request) {
		var off int
		fmt.Sscan(r.URL.Query().Get("offset"), &off)
		fmt.Fprint(w, `<h1>Senaste</h1><ol class="annonser">`)
		for i := off; i < off+3 && i < 5; i++ {
			fmt.Fprintf(w, `<li><a href="/annons/%d">annons</a></li>`, 12-i)
		}
		fmt.Fprint(w, `</ol>`)
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/annons/%d", &id); err != nil || id < 1 || id > 12 {
			http.NotFound(w, r)
			return
		}
		writeAdvert(w, siteAdByID(id), "", "")
	})
	rec := &recorder{}
	srv = httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestArenaSitemapAndOffsetPaging crawls Kartan: the offset-paged listing
// yields the five newest adverts and ends at its first empty page; the
// sitemaps named in robots.txt yield the rest; each advert once.
func TestArenaSitemapAndOffsetPaging(t *testing.T) {
	srv, rec := newKartan(t)
	run, sink := crawlFile(t, "testdata/arenas/kartan.yml", srv, nil, crawler.Options{})
	want := map[string]siteAd{}
	for _, a := range siteAds {
		want[fmt.Sprintf("/annons/%d", a.id)] = a
	}
	checkAdverts(t, srv, sink.ads, want)
	for _, uri := range []string{"/robots.txt", "/sitemap-index.xml", "/sitemap-1.txt", "/sitemap-2.xml.gz", "/senaste?offset=0", "/senaste?offset=3", "/senaste?offset=5"} {
		if n := rec.count(uri); n != 1 {
			t.Errorf("%s requested %d times, want once", uri, n)
		}
	}
	for _, h := range rec.all() {
		if h.uri == "/om" || strings.HasPrefix(h.uri, "/senaste?offset=8") {
			t.Errorf("%s requested", h.uri)
		}
	}
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v", run.Errors)
	}
}

// newRullen serves the Rullen arena (testdata/arenas/rullen.yml): eight
// adverts, three a page, the next page's cursor in a "Visa fler" button.
func newRullen(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	cursors := map[string]int{"": 0, "k4q": 3, "k7z": 6}
	next := map[int]string{0: "k4q", 3: "k7z"}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\n") })
	mux.HandleFunc("/flode", func(w http.ResponseWriter, r *http.Request) {
		from, ok := cursors[r.URL.Query().Get("efter")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		for i := from; i < from+3 && i < 8; i++ {
			fmt.Fprintf(w, `<div class="kort"><a href="/annons/%d">annons</a></div>`, i+1)
		}
		if c, ok := next[from]; ok {
			fmt.Fprintf(w, `<button class="fler" data-cursor="%s">Visa fler</button>`, c)
		}
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/annons/%d", &id); err != nil || id < 1 || id > 8 {
			http.NotFound(w, r)
			return
		}
		writeAdvert(w, siteAdByID(id), "", "")
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestArenaCursorPaging crawls Rullen: the cursor read from each page
// leads to the next until a page has none.
func TestArenaCursorPaging(t *testing.T) {
	srv, _ := newRullen(t)
	run, sink := crawlFile(t, "testdata/arenas/rullen.yml", srv, nil, crawler.Options{})
	want := map[string]siteAd{}
	for _, a := range siteAds[:8] {
		want[fmt.Sprintf("/annons/%d", a.id)] = a
	}
	checkAdverts(t, srv, sink.ads, want)
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v", run.Errors)
	}
}

func TestParseSitemap(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name         string
		body         []byte
		pages, maps  string
		errSubstring string
	}{
		{"urlset", []byte(`<?xml version="1.0"?><urlset><url><loc> http://a/1 </loc></url><url><loc>http://a/2</loc></url></urlset>`), "http://a/1 http://a/2", "", ""},
		{"index", []byte(`<sitemapindex><sitemap><loc>http://a/s1.xml</loc></sitemap></sitemapindex>`), "", "http://a/s1.xml", ""},
		{"text with BOM", []byte("\xef\xbb\xbfhttp://a/1\n\n  http://a/2  \n"), "http://a/1 http://a/2", "", ""},
		{"gzipped", gz(`<urlset><url><loc>http://a/3</loc></url></urlset>`), "http://a/3", "", ""},
		{"broken XML", []byte(`<urlset><url><loc>http://a/1</loc></url>`), "", "", "sitemap XML"},
		{"gzip over the limit", gz(`<urlset>` + strings.Repeat(" ", 4096) + `</urlset>`), "", "", "larger than limits.max_body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, maps, err := crawler.ParseSitemap(tc.body, 1024)
			if tc.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstring) {
					t.Fatalf("err %v, want one containing %q", err, tc.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pages, " "); got != tc.pages {
				t.Errorf("pages %q, want %q", got, tc.pages)
			}
			if got := strings.Join(maps, " "); got != tc.maps {
				t.Errorf("sitemaps %q, want %q", got, tc.maps)
			}
		})
	}
}

// TestListingPagingOffsetStep: with a fixed step the offset grows by it;
// a page without advert links ends the listing.
func TestListingPagingOffsetStep(t *testing.T) {
	cfg, err := crawler.ParseArena("p.yaml", []byte(`
name: p
start_urls: [http://example.org/list]
listing: {match: '^/list(\?(page=\d+&)?offset=\d+)?$', links: a.ad, paging: {param: offset, step: 20}}
detail: {match: '^/ad/(\d+)$', fields: {title: {selector: h1}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cfg.ExtractListing("http://example.org/list?offset=40", []byte(`<a class="ad" href="/ad/1">1</a>`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(res.Next, " "), "http://example.org/list?offset=60"; got != want {
		t.Errorf("next %q, want %q", got, want)
	}
	res, _ = cfg.ExtractListing("http://example.org/list?offset=60", []byte(`<p>Inga fler annonser</p>`))
	if len(res.Next) != 0 {
		t.Errorf("next %q after an empty page, want none", res.Next)
	}
}

// TestCheckReadsSitemaps: arena check reads the sitemap seeds one level
// deep: Kartan's robots.txt names one sitemap (an index).
func TestCheckReadsSitemaps(t *testing.T) {
	srv, _ := newKartan(t)
	cfg, err := crawler.LoadArena("testdata/arenas/kartan.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rebase(srv.URL)
	cfg.Sitemaps = append(cfg.Sitemaps, srv.URL+"/sitemap-1.txt")
	rep, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []crawler.SitemapCheck{
		{URL: srv.URL + "/robots.txt", Sitemaps: 1},
		{URL: srv.URL + "/sitemap-1.txt", Adverts: 4, Others: 2},
	}
	if fmt.Sprint(rep.Sitemaps) != fmt.Sprint(want) {
		t.Errorf("sitemaps %+v, want %+v", rep.Sitemaps, want)
	}
}
