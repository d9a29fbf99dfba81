package crawler_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"adcensus/ad"
	"adcensus/crawler"
)

// reviewSink keeps the reviews a crawl stores.
type reviewSink struct {
	mu      sync.Mutex
	reviews map[string]*ad.Review
	calls   int
}

func (s *reviewSink) PublishReviews(_ context.Context, rs []*ad.Review) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reviews == nil {
		s.reviews = map[string]*ad.Review{}
	}
	s.calls++
	for _, r := range rs {
		if err := ad.CheckReview(r); err != nil {
			return err
		}
		s.reviews[r.ID] = r
	}
	return nil
}

// forumPost is one post of the test forum.
type forumPost struct {
	id, author, when, text, extra string
}

// tradforum serves crawler/testdata/arenas/tradforum.yml's forum and
// records the paths asked for.
func newTradforum(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	threads := map[string][][]forumPost{
		"1": {
			{{"a1", "Kalle", "2026-02-03T10:00:00Z", "Trevligt möte. Ring O7O-174 O6 O5.", `<a class="annons" href="http://ads.example/annons/7?utm_source=forum#top">annonsen</a>`},
				{"a2", "Stina", "2026-02-04T10:00:00Z", "Lugnt och vänligt.", `<span class="aid">42</span>`}},
			{{"a3", "kalle ", "2026-02-05T10:00:00Z", "Punktlig.", `<a class="annons" href="/annons/8">här</a>`},
				{"a4", "Stina", "2026-02-06T10:00:00Z", "Bra kontakt.", `<span class="tel">070-174 06 06</span>`}},
			{{"a5", "Olle", "5 februari 2026 12:00", "Allt gick bra.", `<span class="aid">43</span>`}},
		},
		"2": {
			{{"", "Kalle", "2026-03-01T10:00:00Z", "Vänligt bemötande.", ""},
				{"", "", "2026-03-02T10:00:00Z", "Ingen namnad författare.", ""}},
		},
		"3": {{{"c1", "Stina", "2026-03-05T10:00:00Z", "Trevligt.", ""}}},
	}
	rec := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "User-agent: *\nDisallow: /trad/9\n")
	})
	mux.HandleFunc("/forum", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sida") == "2" {
			fmt.Fprint(w, `<html><body><a class="trad" href="/trad/3">Tre</a><a class="trad" href="/trad/9">Nio</a></body></html>`)
			return
		}
		fmt.Fprint(w, `<html><body><a class="trad" href="/trad/1">Ett</a><a class="trad" href="/trad/2?utm_source=x">Två</a><a rel="next" href="/forum?sida=2">nästa</a></body></html>`)
	})
	mux.HandleFunc("/trad/", func(w http.ResponseWriter, r *http.Request) {
		pages, ok := threads[strings.TrimPrefix(r.URL.Path, "/trad/")]
		n := 1
		fmt.Sscan(r.URL.Query().Get("sida"), &n)
		if !ok || n < 1 || n > len(pages) {
			http.NotFound(w, r)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, `<html><body><h1>Tråd %s</h1>`, r.URL.Path)
		if r.URL.Path == "/trad/2" {
			b.WriteString(`<header><span class="namn">Anna</span> i <span class="stad">Göteborg</span>, <span class="tel">+46 70 174 06 07</span></header>`)
		}
		for _, p := range pages[n-1] {
			attr := ""
			if p.id != "" {
				attr = fmt.Sprintf(` data-id="%s"`, p.id)
			}
			fmt.Fprintf(&b, `<div class="post"%s><span class="av">%s</span><time datetime="%s"></time><p class="brod">%s %s</p></div>`, attr, p.author, p.when, p.text, p.extra)
		}
		if n < len(pages) {
			fmt.Fprintf(&b, `<a class="fler" href="%s?sida=%d">fler</a><a class="fler" href="/trad/3">en annan tråd</a>`, r.URL.Path, n+1)
		}
		b.WriteString(`</body></html>`)
		fmt.Fprint(w, b.String())
	})
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestReviewForumCrawl(t *testing.T) {
	srv, rec := newTradforum(t)
	sink := &reviewSink{}
	warcDir := t.TempDir()
	store := mustStore(t, t.TempDir())
	edit := func(c *crawler.ArenaConfig) { c.Archive = "warc" }
	// The advert arena the forum links: its links resolve to advert ids.
	granne, err := crawler.LoadArena("testdata/arenas/granne.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := granne.Rebase("http://ads.example"); err != nil {
		t.Fatal(err)
	}
	metrics := crawler.NewMetrics()
	run, _ := crawlFile(t, "testdata/arenas/tradforum.yml", srv, edit, crawler.Options{Reviews: sink, WARCDir: warcDir, Store: store,
		Adverts: []*crawler.ArenaConfig{granne}, Metrics: metrics})
	if run.Status != "done" || run.Reviews != 8 || run.Ads != 0 {
		t.Fatalf("run %+v, want done with 8 reviews", run)
	}
	var mbuf strings.Builder
	if _, err := metrics.WriteTo(&mbuf); err != nil {
		t.Fatal(err)
	}
	if want := `adcensus_crawler_reviews_total{arena="tradforum"} 8` + "\n"; !strings.Contains(mbuf.String(), want) {
		t.Errorf("metrics lack %q", want)
	}
	if run.Errors["robots"] != 1 || run.ErrorCount() != 1 {
		t.Errorf("errors %v, want only the thread robots.txt disallows", run.Errors)
	}
	for _, h := range rec.all() {
		if strings.HasPrefix(h.uri, "/trad/9") {
			t.Errorf("fetched %s, which robots.txt disallows", h.uri)
		}
	}
	if got := rec.count("/trad/1?sida=2"); got != 1 {
		t.Errorf("/trad/1?sida=2 fetched %d times, want once", got)
	}
	if got := rec.count("/trad/3"); got != 1 {
		t.Errorf("/trad/3 (linked from a listing and, wrongly, by reviews.next of another thread) fetched %d times", got)
	}

	byPost := map[string]*ad.Review{}
	for _, r := range sink.reviews {
		byPost[r.Thread+"/"+r.Post] = r
		if r.ID != ad.ReviewID("tradforum", r.Thread, r.Post) || r.V != ad.ReviewSchemaVersion || r.Arena != "tradforum" {
			t.Errorf("review %+v: id, version or arena wrong", r)
		}
		b, _ := json.Marshal(r)
		for _, raw := range []string{"174 06", "O6 O5", "Kalle", "Stina"} {
			if strings.Contains(string(b), raw) {
				t.Errorf("stored review holds %q: %s", raw, b)
			}
		}
	}
	want := []string{"1/a1", "1/a2", "1/a3", "1/a4", "1/a5", "2/p/trad/2#1", "2/p/trad/2#2", "3/c1"}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range byPost {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, want) {
		t.Fatalf("posts %v, want %v", got, want)
	}
	kalle, _ := testPseudo.Author("tradforum", "Kalle")
	stina, _ := testPseudo.Author("tradforum", "stina")
	for post, author := range map[string]string{"1/a1": kalle, "1/a3": kalle, "2/p/trad/2#1": kalle, "1/a2": stina, "3/c1": stina, "2/p/trad/2#2": ""} {
		if byPost[post].Author != author {
			t.Errorf("%s: author %q, want %q", post, byPost[post].Author, author)
		}
	}
	tel := func(raw string) string {
		p, _ := testPseudo.Phone(raw)
		return p
	}
	a1 := byPost["1/a1"]
	if !slices.Equal(a1.Refs.AdvertURLs, []string{"http://ads.example/annons/7"}) || !slices.Equal(a1.Refs.AdvertIDs, []string{ad.ContentID("granne", "7")}) || !slices.Equal(a1.Refs.Contacts, []string{tel("+46701740605")}) ||
		!strings.Contains(a1.Text, "[tel]") || a1.Title != "Tråd /trad/1" || a1.PostedAt.Format("2006-01-02") != "2026-02-03" {
		t.Errorf("a1 = %+v", a1)
	}
	if a3 := byPost["1/a3"]; !slices.Equal(a3.Refs.AdvertURLs, []string{srv.URL + "/annons/8"}) || len(a3.Refs.AdvertIDs) != 0 || a3.URL != srv.URL+"/trad/1?sida=2" {
		t.Errorf("a3 = %+v", a3)
	}
	if a2 := byPost["1/a2"]; !slices.Equal(a2.Refs.AdvertIDs, []string{ad.ContentID("annonsen", "42")}) {
		t.Errorf("a2 refs %+v", a2.Refs)
	}
	if a4 := byPost["1/a4"]; !slices.Equal(a4.Refs.Contacts, []string{tel("+46701740606")}) {
		t.Errorf("a4 refs %+v", a4.Refs)
	}
	if a5 := byPost["1/a5"]; a5.PostedAt.IsZero() {
		t.Errorf("a5: Swedish date not read: %+v", a5)
	}
	for _, p := range []string{"2/p/trad/2#1", "2/p/trad/2#2"} {
		r := byPost[p].Refs
		if r.Name != "Anna" || r.City != "Göteborg" || r.Region != "Västra Götalands län" || !slices.Equal(r.Contacts, []string{tel("+46701740607")}) {
			t.Errorf("%s: thread refs not carried: %+v", p, r)
		}
	}
	if r := byPost["1/a1"].Refs; r.Name != "" || len(r.Contacts) != 1 {
		t.Errorf("a post with refs of its own took the thread's: %+v", r)
	}

	// The WARC archive holds every thread page as served.
	var archived strings.Builder
	files, _ := filepath.Glob(filepath.Join(warcDir, "*.warc.gz"))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(zr)
		archived.Write(b)
		fh.Close()
	}
	if !strings.Contains(archived.String(), "/trad/1?sida=3") || !strings.Contains(archived.String(), `data-id="a5"`) {
		t.Errorf("WARC archive lacks the thread's last page (%d files)", len(files))
	}

	// A second crawl stores the same reviews under the same ids.
	before := len(sink.reviews)
	run2, _ := crawlFile(t, "testdata/arenas/tradforum.yml", srv, nil, crawler.Options{Reviews: sink, Store: store})
	if run2.Reviews != 8 || len(sink.reviews) != before {
		t.Errorf("second crawl: %d reviews, %d distinct ids, want 8 and %d", run2.Reviews, len(sink.reviews), before)
	}
}

func TestReviewForumJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/tradar", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"tradar":[{"id":5},{"id":6}]}`)
	})
	mux.HandleFunc("/api/trad/5", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sida") == "2" {
			fmt.Fprint(w, `{"rubrik":"Fem","inlagg":[{"id":"x3","av":"Bo","tid":"2026-02-01T10:00:00Z","text":"Trevligt.","kontakt":{"telefon":["070-174 06 08"]}}],"sida":{"nasta":null}}`)
			return
		}
		fmt.Fprint(w, `{"rubrik":"Fem","inlagg":[{"id":"x1","av":"Bo","tid":"2026-01-30T10:00:00Z","text":"Lugnt.","annons":"http://ads.example/annons/3"},{"id":"x2","av":"Eva","text":"Bra."}],"sida":{"nasta":2}}`)
	})
	mux.HandleFunc("/api/trad/6", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"rubrik":"Sex","inlagg":{"fel":"inte en lista"}}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	sink := &reviewSink{}
	run, _ := crawlFile(t, "testdata/shapes/jsonforum.yml", srv, nil, crawler.Options{Reviews: sink})
	if run.Reviews != 3 || run.Errors["parse"] != 1 {
		t.Fatalf("run %+v: want 3 reviews and thread 6 (no posts) an error of kind parse", run)
	}
	var got []string
	for _, r := range sink.reviews {
		got = append(got, fmt.Sprintf("%s/%s %s %d %d", r.Thread, r.Post, r.Title, len(r.Refs.AdvertURLs), len(r.Refs.Contacts)))
	}
	slices.Sort(got)
	want := []string{"5/x1 Fem 1 0", "5/x2 Fem 0 0", "5/x3 Fem 0 1"}
	if !slices.Equal(got, want) {
		t.Errorf("reviews %v, want %v", got, want)
	}
}

func TestReviewForumNeedsAStore(t *testing.T) {
	cfg, err := crawler.LoadArena("testdata/arenas/tradforum.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: &memSink{}, Pseudo: testPseudo})
	if err == nil || !strings.Contains(err.Error(), "review forum") {
		t.Errorf("New without a review store: %v", err)
	}
}

// TestAdvertIDOf: a link to an advert in any of its forms names the
// advert's id by the advert arena's own rules.
func TestAdvertIDOf(t *testing.T) {
	cfg, err := crawler.LoadArena("testdata/arenas/flyttad.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase("http://ads.example"); err != nil {
		t.Fatal(err)
	}
	want := ad.ContentID("flyttad", "7")
	for link, ok := range map[string]bool{
		"http://ads.example/annons.php?id=7&utm_source=forum": true,
		"https://ADS.example/annons/7-anna-i-goteborg#bilder": true, // scheme and host case do not matter
		"http://ads.example/annons/7-anna-i-goteborg#bilder":  true,
		"http://ads.example/lista":                            false,
		"http://other.example/annons.php?id=7":                false,
		"http://ads.example/r/abc":                            false, // a short link names no key until fetched
		"mailto:x@example.se":                                 false,
	} {
		id, got := cfg.AdvertIDOf(link)
		if got != ok || (ok && id != want) {
			t.Errorf("AdvertIDOf(%q) = %q, %v; want %v", link, id, got, ok)
		}
	}
}

// A review forum's runs are not part of the advert census: with a sink that
// takes sightings and run ends, a forum crawl sends neither (before, every
// forum appeared in 'adcensus changes' as an arena with no adverts).
func TestReviewForumRecordsNoCensus(t *testing.T) {
	srv, _ := newTradforum(t)
	cfg, err := crawler.LoadArena("testdata/arenas/tradforum.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(srv.URL); err != nil {
		t.Fatal(err)
	}
	cs, reviews := &censusSink{}, &reviewSink{}
	c, err := crawler.New(cfg, crawler.Options{Store: mustStore(t, t.TempDir()), Sink: cs, Reviews: reviews, Pseudo: testPseudo})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if run.Reviews != 8 || len(reviews.reviews) != 8 {
		t.Fatalf("run %+v stored %d reviews, want 8", run, len(reviews.reviews))
	}
	ads, sightings, end := cs.take()
	if len(ads) != 0 || len(sightings) != 0 || end.Run != "" {
		t.Errorf("forum crawl sent %d adverts, %d sightings and run end %+v to the census", len(ads), len(sightings), end)
	}
}
