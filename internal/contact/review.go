package contact

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"adcensus/ad"
)

// Author returns the pseudonym of a review author's handle on one forum
// (arena): ad.AuthorPrefix and the first 16 bytes of the keyed HMAC of
// "author:<arena>:<handle>", the handle in lower case, NFC, spaces folded.
// The forum is part of the value, so the same handle on two forums gives
// unrelated pseudonyms: reviewers are counted per forum by handle and never
// linked across forums by it. ok is false for an empty handle.
func (p *Pseudonymiser) Author(arena, handle string) (pseudo string, ok bool) {
	h := strings.Join(strings.FieldsFunc(norm.NFC.String(strings.ToLower(handle)), unicode.IsSpace), " ")
	h = strings.TrimPrefix(h, "@")
	if h == "" {
		return "", false
	}
	return p.sum(ad.AuthorPrefix, "author:"+strings.ToLower(arena)+":"+h), true
}

// ApplyReview pseudonymises a review in place, before it is stored: the
// phone numbers in r.Phones (each entry one number as shown) and the phone
// numbers, e-mail addresses and messaging handles in r.Title and r.Text go
// through the same de-obfuscation and keyed HMAC as an advert's (Apply), so
// a number in a review has the pseudonym it has in the adverts; they land
// in r.Refs.Contacts, the text keeps "[tel]", "[email]", "[handle]", and
// r.Phones is cleared. The author's handle is not touched here: the crawler
// hands only its pseudonym (Author) to the record. ApplyReview returns the
// problems met, never with a raw number, and is idempotent.
func (p *Pseudonymiser) ApplyReview(r *ad.Review) []string {
	a := ad.Ad{Title: r.Title, Body: r.Text, Phones: r.Phones, Contacts: r.Refs.Contacts}
	problems := p.Apply(&a)
	r.Title, r.Text, r.Phones, r.Refs.Contacts = a.Title, a.Body, nil, a.Contacts
	return problems
}
