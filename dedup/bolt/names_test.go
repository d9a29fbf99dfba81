package bolt_test

import (
	"strings"
	"testing"

	"adcensus/dedup/bolt"
)

func TestNamesAgree(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"anna", "anna", true},
		{"anna", "anna k", true},          // a surname initial added
		{"anna k", "anna", true},          // symmetric
		{"anna k", "anna karlsson", true}, // the initial starts the surname
		{"anna maria k", "anna maria", true},
		{"åsa", "åsa ö", true}, // an initial outside ASCII
		{"", "", false},        // no name agrees with nothing
		{"", "anna", false},
		{"anna", "bea", false},
		{"anna k", "anna l", false},         // two initials: an agency's two Annas
		{"anna k", "anna lindqvist", false}, // initial of another surname
		{"anna", "anna maria", false},       // a second given name is not an initial
		{"anna", "annak", false},
		{"anna k", "bea k", false},
		{"anna 2", "anna", false}, // a digit is no initial
		{"anna karlsson", "anna karlberg", false},
	} {
		if got := bolt.NamesAgree(tc.a, tc.b); got != tc.want {
			t.Errorf("NamesAgree(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := bolt.NamesAgree(tc.b, tc.a); got != tc.want {
			t.Errorf("NamesAgree(%q, %q) = %v, want %v (not symmetric)", tc.b, tc.a, got, tc.want)
		}
	}
}

// One person writes her name with and without a surname initial; an
// agency tells two persons of one given name apart by their initials.
func TestNameVariantsOnOnePhone(t *testing.T) {
	c := MustOpen(t, "")
	MustAdd(t, c,
		fp("a1", "anna", []string{"tel:1"}),
		fp("a2", "anna k", []string{"tel:1"}),
		fp("a3", "anna karlsson", []string{"tel:1"}),
		fp("b1", "bea k", []string{"tel:2"}),
		fp("b2", "bea l", []string{"tel:2"}),
		fp("b3", "bea", []string{"tel:3"}), // another phone: no link by name alone
	)
	samePerson(t, c, "a1", "a2", true)
	samePerson(t, c, "a2", "a3", true)
	samePerson(t, c, "b1", "b2", false)
	sameNetwork(t, c, "b1", "b2", true)
	samePerson(t, c, "b1", "b3", false)
	ex, err := c.Explain("a2")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range ex.Evidence {
		found = found || e.Rule == bolt.RuleContactName && strings.Contains(e.Detail, "names anna / anna k")
	}
	if !found {
		t.Fatalf("no evidence naming both spellings: %+v", ex.Evidence)
	}
}

// The stock marks count a name written with and without an initial once:
// one person who changes phone and adds her initial does not make her own
// photo stock.
func TestStockCountsNameVariantsOnce(t *testing.T) {
	c := MustOpen(t, "")
	MustAdd(t, c,
		fp("s1", "anna", []string{"tel:1"}, img{h1, 0}),
		fp("s2", "anna k", []string{"tel:2"}, img{flip(h1, 2), 0}),
		fp("s3", "bea", []string{"tel:3"}, img{flip(h1, 4), 0}),
	)
	// Names anna and bea, contacts 1–3: not stock, so the photo links.
	samePerson(t, c, "s1", "s3", true)
	MustAdd(t, c, fp("s4", "cia", []string{"tel:4"}, img{flip(h1, 6), 0}))
	// A third name: the photo is stock and links no one.
	samePerson(t, c, "s1", "s3", false)
	samePerson(t, c, "s1", "s2", false)
}
