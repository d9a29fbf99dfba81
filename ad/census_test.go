package ad_test

import (
	"testing"

	"adcensus/ad"
)

func TestContentHashIgnoresFetchAndBump(t *testing.T) {
	a := &ad.Ad{ID: "x", Arena: "a", Title: "Hej", Body: "Text", Contacts: []string{"tel:b", "tel:a"},
		ImageFPs: []ad.ImageFP{{Src: "http://h/1.jpg", Hashes: map[string]string{"phash": "00ff"}}}}
	h := ad.ContentHash(a)
	b := *a
	b.URL, b.Contacts = "http://other/", []string{"tel:a", "tel:b"}
	b.ImageFPs = []ad.ImageFP{{Src: "http://cdn/1.jpg?t=2", Hashes: map[string]string{"phash": "00ff"}}}
	b.FetchedAt = b.FetchedAt.AddDate(0, 0, 7)
	b.PostedAt = b.PostedAt.AddDate(0, 0, 7)
	if got := ad.ContentHash(&b); got != h {
		t.Errorf("same content, other fetch, URL, image URL, order and bump: hash %s, want %s", got, h)
	}
	for name, change := range map[string]func(*ad.Ad){
		"body":    func(c *ad.Ad) { c.Body = "Annan text" },
		"contact": func(c *ad.Ad) { c.Contacts = []string{"tel:c"} },
		"photo":   func(c *ad.Ad) { c.ImageFPs = []ad.ImageFP{{Hashes: map[string]string{"phash": "ff00"}}} },
		"city":    func(c *ad.Ad) { c.City = "Lund" },
	} {
		c := *a
		change(&c)
		if ad.ContentHash(&c) == h {
			t.Errorf("%s changed: same hash", name)
		}
	}
}

func TestVersionedID(t *testing.T) {
	id := ad.VersionedID("blomstra-1", "0123456789ab")
	if base, v := ad.SplitVersion(id); base != "blomstra-1" || v != "0123456789ab" {
		t.Errorf("SplitVersion(%q) = %q, %q", id, base, v)
	}
	for _, v := range []string{"", "xyz", "0123456789AB", "0123456789abc"} {
		if got := ad.VersionedID("a", v); got != "a" {
			t.Errorf("VersionedID(a, %q) = %q, want a (not a version)", v, got)
		}
	}
	if base, v := ad.SplitVersion("name@vacation"); base != "name@vacation" || v != "" {
		t.Errorf("an id with @v that is no version split: %q %q", base, v)
	}
}
