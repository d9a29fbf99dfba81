package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// The "shape" test arenas serve the same twelve adverts in different site
// shapes, each onboarded by a YAML file in testdata/shapes only: two page
// layouts on one site (shape_layouts_test.go), a JSON API
// (shape_json_test.go) and script-rendered pages (shape_browser_test.go).
// Each crawl must find every advert exactly once with every field right.

// shapeAd is one advert of the shape arenas.
type shapeAd struct {
	id         int
	name       string
	age        int
	city, lan  string
	phone      string // as written
	e164       string
	price      string // as written; extracted as its digits
	wantPrice  string
	posted     time.Time
	images     int
	page       int // listing page that links it
	layoutB    bool
	phoneInArr bool // JSON arena: phone in kontakt.nummer[] instead of kontakt.telefon
}

func shapeDate(d, h int) time.Time { return time.Date(2026, 3, d, h, 15, 0, 0, time.UTC) }

var shapeAds = []shapeAd{
	{201, "Anna", 27, "Göteborg", "Västra Götalands län", "070-234 56 01", "+46702345601", "1 500 kr", "1500", shapeDate(1, 9), 2, 1, false, false},
	{202, "Bella", 31, "Malmö", "Skåne län", "0702345602", "+46702345602", "1 200 kr", "1200", shapeDate(2, 10), 1, 1, true, true},
	{203, "Cleo", 24, "Umeå", "Västerbottens län", "+46 70 234 56 03", "+46702345603", "2 000 kr", "2000", shapeDate(3, 11), 1, 1, false, false},
	{204, "Dana", 45, "Visby", "Gotlands län", "070-2345604", "+46702345604", "800 kr", "800", shapeDate(4, 12), 0, 1, true, false},
	{205, "Elin", 29, "Lund", "Skåne län", "070 234 56 05", "+46702345605", "1 000 kr", "1000", shapeDate(5, 13), 3, 1, false, true},
	{206, "Fia", 38, "Luleå", "Norrbottens län", "070-234 56 06", "+46702345606", "1 800 kr", "1800", shapeDate(6, 14), 1, 1, true, false},
	{207, "Gun", 52, "Uppsala", "Uppsala län", "070-234 56 07", "+46702345607", "900 kr", "900", shapeDate(7, 15), 1, 2, false, false},
	{208, "Hedda", 22, "Örebro", "Örebro län", "0702345608", "+46702345608", "1 100 kr", "1100", shapeDate(8, 16), 2, 2, true, true},
	{209, "Ida", 33, "Jönköping", "Jönköpings län", "070-234 56 09", "+46702345609", "1 300 kr", "1300", shapeDate(9, 17), 1, 2, false, false},
	{210, "Jo", 41, "Gävle", "Gävleborgs län", "070-234 56 10", "+46702345610", "1 000 kr", "1000", shapeDate(10, 18), 1, 2, true, false},
	{211, "Kim", 26, "Kiruna", "Norrbottens län", "070-234 56 11", "+46702345611", "1 400 kr", "1400", shapeDate(11, 19), 0, 2, false, true},
	{212, "Lo", 30, "Sundsvall", "Västernorrlands län", "070-234 56 12", "+46702345612", "1 600 kr", "1600", shapeDate(12, 20), 1, 2, true, false},
}

// shapePages is the number of listing pages the shape arenas have.
const shapePages = 2

func shapeByID(id string) (shapeAd, bool) {
	for _, a := range shapeAds {
		if fmt.Sprint(a.id) == id {
			return a, true
		}
	}
	return shapeAd{}, false
}

func (a shapeAd) title() string { return fmt.Sprintf("%s, %d år", a.name, a.age) }

// shapeCrawl crawls the arena of testdata/shapes/file rebased on base and
// returns the run and the adverts published.
func shapeCrawl(t *testing.T, file, base string, opts crawler.Options) (*crawler.Run, *memSink, *contact.Pseudonymiser) {
	t.Helper()
	cfg, err := crawler.LoadArena("testdata/shapes/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Rebase(base); err != nil {
		t.Fatal(err)
	}
	pseudo := contact.New(bytes.Repeat([]byte{7}, 32))
	sink := &memSink{}
	opts.Store, opts.Sink, opts.Pseudo = mustStore(t, t.TempDir()), sink, pseudo
	c, err := crawler.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := c.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return run, sink, pseudo
}

// checkShapeAdverts checks that the adverts published are exactly the
// shape adverts, each once under urlOf(id), with every field right:
// title, name, age, city and its län, body, posted_at (when withPosted),
// the price attr, the phone only as the pseudonym of its E.164 form, and
// every image fetched and hashed.
func checkShapeAdverts(t *testing.T, sink *memSink, pseudo *contact.Pseudonymiser, base string, urlOf func(id int) string, withPosted bool) {
	t.Helper()
	want := map[string]shapeAd{}
	for _, a := range shapeAds {
		want[urlOf(a.id)] = a
	}
	sink.mu.Lock()
	ads := append([]*ad.Ad(nil), sink.ads...)
	sink.mu.Unlock()
	if got := len(ads); got != len(want) {
		t.Errorf("%d adverts published, want %d, each once", got, len(want))
	}
	seen := map[string]bool{}
	for _, got := range ads {
		w, ok := want[got.URL]
		if !ok {
			t.Errorf("unexpected advert %s", got.URL)
			continue
		}
		if seen[got.URL] {
			t.Errorf("advert %s published twice", got.URL)
		}
		seen[got.URL] = true
		id := w.id
		if got.Title != w.title() || got.Name != w.name || got.Age != w.age {
			t.Errorf("%d: title %q name %q age %d; want %q %q %d", id, got.Title, got.Name, got.Age, w.title(), w.name, w.age)
		}
		if got.City != w.city || got.Region != w.lan {
			t.Errorf("%d: city %q region %q; want %q, %q", id, got.City, got.Region, w.city, w.lan)
		}
		if !strings.Contains(got.Body, "Jag heter "+w.name+".") || !strings.Contains(got.Body, "Trevlig och diskret.") {
			t.Errorf("%d: body %q", id, got.Body)
		}
		if withPosted && !got.PostedAt.Equal(w.posted) {
			t.Errorf("%d: posted_at %s, want %s", id, got.PostedAt, w.posted)
		}
		if got.Attrs["price"] != w.wantPrice {
			t.Errorf("%d: price %q from %q, want %q", id, got.Attrs["price"], w.price, w.wantPrice)
		}
		tel, ok := pseudo.Phone(w.e164)
		if !ok {
			t.Fatalf("%d: test number %s invalid", id, w.e164)
		}
		if len(got.Phones) != 0 || len(got.Contacts) != 1 || got.Contacts[0] != tel {
			t.Errorf("%d: phones %d, contacts %v; want only the pseudonym of %s", id, len(got.Phones), got.Contacts, w.phone)
		}
		if len(got.ImageFPs) != w.images {
			t.Errorf("%d: %d image fingerprints, want %d", id, len(got.ImageFPs), w.images)
		}
		for i, fp := range got.ImageFPs {
			if u := fmt.Sprintf("%s/bilder/%d-%d.jpg", base, id, i+1); fp.Src != u || fp.Hashes["phash"] == "" {
				t.Errorf("%d: image %d %s hashed %v, want %s hashed", id, i, fp.Src, fp.Hashes, u)
			}
		}
	}
}
