package contact_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/internal/contact"
)

func TestAuthorPseudonym(t *testing.T) {
	p := contact.New(bytes.Repeat([]byte{1}, contact.KeySize))
	a, ok := p.Author("forum", " Kalle  Anka ")
	if !ok || !strings.HasPrefix(a, ad.AuthorPrefix) || len(a) != len(ad.AuthorPrefix)+32 {
		t.Fatalf("Author = %q, %v", a, ok)
	}
	for _, same := range []string{"kalle anka", "@KALLE ANKA", "Kalle\tAnka"} {
		if b, _ := p.Author("FORUM", same); b != a {
			t.Errorf("Author(%q) = %q, want %q (same handle on the same forum)", same, b, a)
		}
	}
	if b, _ := p.Author("other", "Kalle Anka"); b == a {
		t.Error("the same handle on another forum gives the same pseudonym: reviewers would be linked across forums")
	}
	if b, _ := contact.New(bytes.Repeat([]byte{2}, contact.KeySize)).Author("forum", "Kalle Anka"); b == a {
		t.Error("another key gives the same pseudonym")
	}
	if _, ok := p.Author("forum", "  @ "); ok {
		t.Error("an empty handle has a pseudonym")
	}
}

// TestApplyReviewMatchesAdverts: a phone in a review gets the pseudonym it
// has in an advert, however it is written, and no raw number is left.
func TestApplyReviewMatchesAdverts(t *testing.T) {
	p := contact.New(bytes.Repeat([]byte{1}, contact.KeySize))
	a := &ad.Ad{Phones: []string{"070-174 06 05"}}
	p.Apply(a)
	r := &ad.Review{Title: "Tråd", Text: "Ring O7O 174 O6 O5 eller mejla anna@example.se.", Phones: []string{"+46 70 174 06 05", "999 888 777 666 555 44"}}
	problems := p.ApplyReview(r)
	if len(problems) != 1 || strings.Contains(problems[0], "999") {
		t.Errorf("problems %q: want one, without the value", problems)
	}
	if len(r.Phones) != 0 || !strings.Contains(r.Text, "[tel]") || !strings.Contains(r.Text, "[email]") {
		t.Errorf("review after ApplyReview: %+v", r)
	}
	if len(r.Refs.Contacts) != 2 || !contains(r.Refs.Contacts, a.Contacts[0]) {
		t.Errorf("contacts %v, want the advert's %v and an e-mail", r.Refs.Contacts, a.Contacts)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "174") || strings.Contains(string(b), "anna@") {
		t.Errorf("raw contact left: %s", b)
	}
	again := *r
	p.ApplyReview(&again)
	if again.Text != r.Text || len(again.Refs.Contacts) != 2 {
		t.Errorf("not idempotent: %+v", again)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
