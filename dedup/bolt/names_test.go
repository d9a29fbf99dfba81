package bolt_test

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
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

// A blank advert joins the one person of a phone, until the phone shows a
// second name: then the links through it no longer hold, in whatever
// order the adverts come, and reopening the state keeps it so.
func TestBlankAdvertOnMultiNameContact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	c := MustOpen(t, path)
	MustAdd(t, c,
		fp("m1", "anna", []string{"tel:1"}),
		fp("m2", "", []string{"tel:1"}), // blank: anna's, as far as we know
		fp("m3", "", []string{"tel:1", "tel:9"}),
	)
	samePerson(t, c, "m1", "m2", true)
	samePerson(t, c, "m2", "m3", true)
	msgs := MustAdd(t, c, fp("m4", "bea", []string{"tel:1"}))
	samePerson(t, c, "m1", "m2", false) // the phone is an agency's now
	samePerson(t, c, "m2", "m3", true)  // its blank adverts stay one
	samePerson(t, c, "m4", "m2", false)
	sameNetwork(t, c, "m1", "m4", true)
	sameNetwork(t, c, "m2", "m4", true)
	// The split is published: m2 and m3 leave anna's person.
	moved := map[string]bool{}
	for _, m := range msgs {
		for _, a := range m.Changed {
			moved[a.AdID] = true
		}
	}
	if !moved["m2"] || !moved["m3"] {
		t.Fatalf("changed %v, want m2 and m3 among them", moved)
	}
	ex, err := c.Explain("m2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Shared) != 1 || !strings.Contains(ex.Shared[0], "tel:1") {
		t.Fatalf("explain lists multi-name contacts %q, want tel:1", ex.Shared)
	}
	want := MustAll(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = MustOpen(t, path)
	// After reopening, a new blank advert on the agency phone joins the
	// blank ones only.
	MustAdd(t, c, fp("m5", "", []string{"tel:1"}))
	samePerson(t, c, "m5", "m2", true)
	samePerson(t, c, "m5", "m1", false)
	// and a named advert arriving after it is not tied to it either.
	MustAdd(t, c, fp("m9", "cleo", []string{"tel:1"}))
	samePerson(t, c, "m9", "m5", false)
	got := MustAll(t, c)
	for i := range want {
		if got[i].AdID != want[i].AdID || got[i].PersonID != want[i].PersonID {
			t.Fatalf("after reopening %v, before %v", got[i], want[i])
		}
	}
	// Any arrival order, in any batches, gives the same persons: anna's
	// blank adverts on tel:1 are tied to no one once bea shows there, and
	// on tel:2 (one person's names) the blank advert is hers.
	fps := []*ad.Fingerprinted{
		fp("m1", "anna", []string{"tel:1"}), fp("m2", "", []string{"tel:1"}), fp("m3", "", []string{"tel:1", "tel:9"}),
		fp("m4", "bea", []string{"tel:1"}), fp("m5", "", []string{"tel:1"}), fp("m6", "anna k", []string{"tel:2"}),
		fp("m7", "", []string{"tel:2"}), fp("m8", "anna", []string{"tel:2"}),
	}
	var first []ad.Assignment
	for run := range 8 {
		r := rand.New(rand.NewPCG(uint64(run), 3))
		order := slices.Clone(fps)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		c := MustOpen(t, "")
		for len(order) > 0 {
			k := 1 + r.IntN(len(order))
			MustAdd(t, c, order[:k]...)
			order = order[k:]
		}
		if run == 0 {
			samePerson(t, c, "m7", "m8", true)
			samePerson(t, c, "m6", "m8", true)
			samePerson(t, c, "m5", "m1", false)
			first = MustAll(t, c)
			continue
		}
		if got := MustAll(t, c); !slices.Equal(got, first) {
			t.Fatalf("order %d: %v, want %v", run, got, first)
		}
	}
}
