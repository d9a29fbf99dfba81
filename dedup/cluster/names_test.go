package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
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
		if got := cluster.NamesAgree(tc.a, tc.b); got != tc.want {
			t.Errorf("NamesAgree(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := cluster.NamesAgree(tc.b, tc.a); got != tc.want {
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
		found = found || e.Rule == cluster.RuleContactName && strings.Contains(e.Detail, "names anna / anna k")
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
	addInOrders(t, fps, 3, func(c *cluster.Cluster) {
		samePerson(t, c, "m7", "m8", true)
		samePerson(t, c, "m6", "m8", true)
		samePerson(t, c, "m5", "m1", false)
	})
}

// TestNamelessAdvertOnContact: on a contact that carries one name, an
// advert without a name but with photos is that person's (rule c,
// compareNameless); once a second name shows on the contact it is tied
// to no one by the contact, and two nameless adverts with different
// photos are never joined by a contact alone. Any arrival order gives
// the same persons.
func TestNamelessAdvertOnContact(t *testing.T) {
	x, y, z := img{0x0123456789abcdef, 0}, img{0xfedcba9876543210, 0}, img{0x0f0f0f0f0f0f0f0f, 0}
	path := filepath.Join(t.TempDir(), "c.db")
	c := MustOpen(t, path)
	MustAdd(t, c,
		fp("n1", "", []string{"tel:1"}, x),
		fp("n2", "", []string{"tel:1"}, y),
	)
	samePerson(t, c, "n1", "n2", false) // no name on the contact yet
	sameNetwork(t, c, "n1", "n2", true)
	MustAdd(t, c, fp("n3", "anna", []string{"tel:1"}))
	samePerson(t, c, "n1", "n3", true)
	samePerson(t, c, "n2", "n3", true)
	MustAdd(t, c, fp("n4", "", []string{"tel:1", "tel:7"}, z), fp("n5", "anna k", []string{"tel:1"}))
	samePerson(t, c, "n4", "n3", true)
	samePerson(t, c, "n5", "n1", true)
	if ex, err := c.Explain("n4"); err != nil || !strings.Contains(fmt.Sprint(ex.Evidence), cluster.RuleContactNameless) {
		t.Fatalf("explain n4: %v %+v, want a %s link", err, ex.Evidence, cluster.RuleContactNameless)
	}
	msgs := MustAdd(t, c, fp("n6", "bea", []string{"tel:1"}))
	samePerson(t, c, "n1", "n3", false) // the phone is an agency's now
	samePerson(t, c, "n1", "n2", false)
	samePerson(t, c, "n3", "n5", true) // anna and anna k stay one (rule b)
	sameNetwork(t, c, "n1", "n6", true)
	moved := map[string]bool{}
	for _, m := range msgs {
		for _, a := range m.Changed {
			moved[a.AdID] = true
		}
	}
	if !moved["n2"] || !moved["n3"] || !moved["n4"] {
		t.Fatalf("changed %v, want n2, n3 and n4 among them (n1 keeps its id)", moved)
	}
	want := MustAll(t, c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = MustOpen(t, path)
	if got := MustAll(t, c); !slices.Equal(got, want) {
		t.Fatalf("after reopening %v, before %v", got, want)
	}
	// A nameless advert on the agency phone joins no one by it.
	MustAdd(t, c, fp("n7", "", []string{"tel:1"}, x))
	samePerson(t, c, "n7", "n1", true) // the same photo (rule a)
	samePerson(t, c, "n7", "n3", false)
	// On a contact with one name base, a name that does not agree with
	// the first ("anna l" after "anna k") still joins its nameless
	// adverts, and through them the first name.
	MustAdd(t, c, fp("n14", "anna k", []string{"tel:4"}), fp("n15", "", []string{"tel:4"}, y))
	MustAdd(t, c, fp("n16", "anna l", []string{"tel:4"}))
	samePerson(t, c, "n16", "n15", true)
	samePerson(t, c, "n16", "n14", true)

	fps := []*ad.Fingerprinted{
		fp("n1", "", []string{"tel:1"}, x), fp("n2", "", []string{"tel:1"}, y), fp("n3", "anna", []string{"tel:1"}),
		fp("n4", "", []string{"tel:1", "tel:7"}, z), fp("n5", "anna k", []string{"tel:1"}), fp("n6", "bea", []string{"tel:1"}),
		fp("n8", "cleo", []string{"tel:2"}), fp("n9", "", []string{"tel:2"}, y), fp("n10", "", []string{"tel:2", "tel:7"}, x),
		fp("n11", "cleo", []string{"tel:2"}), fp("n12", "", []string{"tel:3"}, z), fp("n13", "", []string{"tel:3"}, x),
	}
	addInOrders(t, fps, 5, func(c *cluster.Cluster) {
		samePerson(t, c, "n8", "n9", true)    // cleo's phone
		samePerson(t, c, "n9", "n10", true)   // through cleo
		samePerson(t, c, "n12", "n4", true)   // photo z
		samePerson(t, c, "n13", "n10", true)  // photo x
		samePerson(t, c, "n12", "n13", false) // tel:3 carries no name
		samePerson(t, c, "n3", "n1", false)   // tel:1 is multi-name
	})
}

// addInOrders adds fps to fresh states in 8 shuffled orders, in chunks of
// random sizes (the shuffles drawn from stream), calls check on the first
// state, and fails unless every order gives the same assignments.
func addInOrders(t *testing.T, fps []*ad.Fingerprinted, stream uint64, check func(c *cluster.Cluster)) {
	t.Helper()
	var first []ad.Assignment
	for run := range 8 {
		r := rand.New(rand.NewPCG(uint64(run), stream))
		order := slices.Clone(fps)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		c := MustOpen(t, "")
		for len(order) > 0 {
			k := 1 + r.IntN(len(order))
			MustAdd(t, c, order[:k]...)
			order = order[k:]
		}
		if run == 0 {
			check(c)
			first = MustAll(t, c)
			continue
		}
		if got := MustAll(t, c); !slices.Equal(got, first) {
			t.Fatalf("order %d: %v, want %v", run, got, first)
		}
	}
}
