package contact

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"adcensus/ad"
)

var fuzzSeeds = []string{
	"Ring 070-174 06 12 eller 0701740612.",
	"noll sju noll ett två tre fyra fem sex sju",
	"O7O-I23 45 67",
	"0️⃣7️⃣0️⃣ 1️⃣2️⃣3️⃣ 4️⃣5️⃣ 6️⃣7️⃣",
	"０７０－１２３ ４５ ６７",
	"+46 (0)8 123 456 78 / +48 512 345 678",
	"mejla anna (at) exempel punkt se eller anna@exempel.se",
	"snap: anna_92, kik anna.s, telegram @anna",
	"1two3 4five6 7eight9",
	strings.Repeat("07", 400),
}

// FuzzDeobfuscate: de-obfuscation never panics, and maps every byte of its
// output to an ordered range of the input.
func FuzzDeobfuscate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, aggressive bool) {
		d := deobfuscate(s, aggressive)
		if len(d.src) != len(d.text) && len(d.src) != 0 {
			t.Fatalf("%d source spans for %d bytes", len(d.src), len(d.text))
		}
		prev := 0
		for i, sp := range d.src {
			if sp.start < 0 || sp.end > len(s) || sp.start > sp.end {
				t.Fatalf("byte %d maps to [%d,%d) of %d bytes", i, sp.start, sp.end, len(s))
			}
			if sp.start < prev {
				t.Fatalf("byte %d maps back before byte %d's source", i, i-1)
			}
			prev = sp.start
		}
		if len(d.text) > 0 {
			a, b := d.origSpan(0, len(d.text))
			if a < 0 || b > len(s) || a > b {
				t.Fatalf("origSpan of the whole text [%d,%d) outside %d bytes", a, b, len(s))
			}
		}
	})
}

// FuzzApply: pseudonymising an advert never panics, is idempotent, agrees
// with the reference implementation (before the fast paths), leaves valid
// UTF-8, and its problems never quote a number of the input.
func FuzzApply(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, s, "070-123 45 67")
	}
	f.Add("", "", "not a number")
	f.Add("Hej", "Ring mig", "+46701234567 / 08-123 456 78")
	p := New(bytes.Repeat([]byte{7}, 32))
	f.Fuzz(func(t *testing.T, title, body, phone string) {
		a := &ad.Ad{ID: "a1", Title: title, Body: body, Phones: []string{phone}}
		ref := *a
		ref.Phones = slices.Clone(a.Phones)
		problems := p.Apply(a)
		refProblems := p.refApply(&ref)
		if a.Title != ref.Title || a.Body != ref.Body || !slices.Equal(a.Contacts, ref.Contacts) || !slices.Equal(problems, refProblems) {
			t.Fatalf("Apply and the reference differ:\n%q %q %v %v\n%q %q %v %v", a.Title, a.Body, a.Contacts, problems, ref.Title, ref.Body, ref.Contacts, refProblems)
		}
		if a.Phones != nil {
			t.Fatal("phones kept")
		}
		if utf8.ValidString(title) && !utf8.ValidString(a.Title) || utf8.ValidString(body) && !utf8.ValidString(a.Body) {
			t.Fatalf("Apply made invalid UTF-8: %q %q", a.Title, a.Body)
		}
		if e164, ok := NormalisePhone(phone); ok {
			national := strings.TrimPrefix(e164, "+46")
			for _, pr := range problems {
				if len(national) >= 7 && strings.Contains(pr, national) {
					t.Fatalf("problem %q quotes the number", pr)
				}
			}
		}
		again := *a
		again.Contacts = slices.Clone(a.Contacts)
		p.Apply(&again)
		if again.Title != a.Title || again.Body != a.Body || !slices.Equal(again.Contacts, a.Contacts) {
			t.Fatalf("Apply is not idempotent:\n%q %q %v\n%q %q %v", a.Title, a.Body, a.Contacts, again.Title, again.Body, again.Contacts)
		}
	})
}
