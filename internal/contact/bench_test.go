package contact_test

import (
	"testing"

	"adcensus/ad"
	"adcensus/internal/contact"
)

// BenchmarkApply pseudonymises adverts: "corpus" cycles through 500 advert
// texts of 200 to 1,500 characters (corpus_test.go; about 30 % with
// contacts in the text, 20 % with a phones field), "crawlpage" is the
// detail page of crawler.BenchmarkCrawl (a two-sentence body with one
// phone number, and the same number in a phones field). ns/op is per
// advert. Each runs Apply ("apply") and, as the baseline in the same run,
// the code as it was before the fast paths ("reference",
// reference_test.go).
func BenchmarkApply(b *testing.B) {
	p := contact.New(testKey)
	inputs := []struct {
		name string
		ads  []*ad.Ad
	}{
		{"corpus", corpus(1, 500)},
		{"crawlpage", []*ad.Ad{{
			ID:     "x",
			Title:  "Annons 1234",
			Body:   "Hej, jag finns i Malmö. Trevlig och diskret. Ring 070-174 06 34.",
			Phones: []string{"070-174 06 34"},
		}}},
	}
	for _, in := range inputs {
		for _, fn := range []struct {
			name  string
			apply func(*ad.Ad) []string
		}{{"apply", p.Apply}, {"reference", p.ReferenceApply}} {
			b.Run(in.name+"/"+fn.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					a := *in.ads[i%len(in.ads)]
					i++
					fn.apply(&a)
				}
			})
		}
	}
}
