package contact

import (
	"bytes"
	"testing"
)

// TestPhoneParsedOncePerAdvert checks the parse memo of Apply: a number
// given in the phones field and written in the text (with separators, or
// again elsewhere) is parsed once and gives one pseudonym, while a
// different number gets its own entry.
func TestPhoneParsedOncePerAdvert(t *testing.T) {
	p := New(bytes.Repeat([]byte{3}, 32))
	found := &collected{}
	e164, _, ok := normalisePhoneIn("070-174 06 12", found)
	if !ok {
		t.Fatal("070-174 06 12 not accepted as a phones entry")
	}
	out, n := p.findPhones("Ring 070-174 06 12 eller 0701740612.", found)
	if n != 2 {
		t.Fatalf("found %d numbers in the text, want 2 (%q)", n, out)
	}
	if len(found.parsed) != 1 {
		t.Errorf("%d numbers parsed, want 1 (the field's number, once)", len(found.parsed))
	}
	if got := found.parsed["0701740612"]; got == nil || got.e164() != e164 {
		t.Error("the text's number was not the field's parsed number")
	}
	if out, n := p.findPhones("Eller +46 8 123 456 78.", found); n != 1 || len(found.parsed) != 2 {
		t.Errorf("another number: found %d (%q), %d parsed; want 1 and 2", n, out, len(found.parsed))
	}
	if c := found.contacts; len(c) != 3 || c[0] != c[1] || c[0] != p.sum(TelPrefix, e164) || c[2] == c[0] {
		t.Errorf("pseudonyms %v: want the field's number's twice, then another", c)
	}
}
