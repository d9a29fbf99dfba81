package crawler_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"adcensus/ad"
	"adcensus/configs"
	"adcensus/crawler"
)

// FuzzExtractThread: reading any page as a thread of the shipped demo
// forum's config never panics, and every review it yields is storable
// (ad.CheckReview: valid id, no raw phones, an author pseudonym), in valid
// UTF-8, without the digits of a phone number it was given.
func FuzzExtractThread(f *testing.F) {
	data, err := configs.Arenas.ReadFile("arenas/omdomen.yaml")
	if err != nil {
		f.Fatal(err)
	}
	cfg, err := crawler.ParseArena("omdomen.yaml", data)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("http://127.0.0.1:8083/trad/101", []byte(`<h1 class="rubrik">Omdöme</h1><article class="inlagg" id="i1"><div class="forfattare">Kalle</div><time datetime="2026-02-01T10:00:00Z"></time><div class="text">Trevligt. Nås på <span class="nummer">070-174 06 05</span>. <a class="annonslank" href="http://127.0.0.1:8081/annons/7">här</a> <span class="annonsid">7</span></div></article><a class="nasta" href="/trad/101?sida=2">Nästa</a>`))
	f.Add("http://127.0.0.1:8083/trad/5?sida=2", []byte(`<p class="trad-person"><span class="namn">Anna</span>, <span class="stad">Malmö</span></p><article class="inlagg"><div class="text">O7O 174 O6 O6</div></article>`))
	f.Add("http://127.0.0.1:8083/trad/1", []byte("\xff<article class=inlagg>"))
	fetched := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, pageURL string, body []byte) {
		tp, err := cfg.ExtractThreadPage(pageURL, body, fetched, testPseudo)
		if tp == nil {
			return
		}
		_ = err
		for _, r := range tp.Reviews {
			if err := ad.CheckReview(r); err != nil {
				t.Fatalf("unstorable review: %v", err)
			}
			b, _ := json.Marshal(r)
			if !utf8.Valid(b) || strings.Contains(string(b), "174 06") {
				t.Fatalf("review %s", b)
			}
		}
	})
}
