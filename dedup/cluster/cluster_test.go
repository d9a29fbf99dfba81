package cluster_test

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
)

func MustOpen(tb testing.TB, path string) *cluster.Cluster {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "cluster.db")
	}
	c, err := cluster.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func MustAdd(tb testing.TB, c *cluster.Cluster, fps ...*ad.Fingerprinted) []ad.Assignments {
	tb.Helper()
	out, err := c.AddBatch(fps)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func MustAll(tb testing.TB, c *cluster.Cluster) []ad.Assignment {
	tb.Helper()
	var out []ad.Assignment
	if err := c.All(func(a ad.Assignment) error { out = append(out, a); return nil }); err != nil {
		tb.Fatal(err)
	}
	return out
}

func MustAssignment(tb testing.TB, c *cluster.Cluster, id string) ad.Assignment {
	tb.Helper()
	a, ok, err := c.Assignment(id)
	if err != nil || !ok {
		tb.Fatalf("Assignment(%s): ok=%v err=%v", id, ok, err)
	}
	return a
}

// img is a synthetic image: a pHash and, if mirror != 0, its mirror pHash.
type img struct{ phash, mirror uint64 }

func fp(id, name string, contacts []string, imgs ...img) *ad.Fingerprinted {
	f := &ad.Fingerprinted{Ad: ad.Ad{ID: id}, Name: name, Contacts: contacts}
	for i, im := range imgs {
		h := map[string]string{"phash": fmt.Sprintf("%016x", im.phash)}
		if im.mirror != 0 {
			h["phash_mirror"] = fmt.Sprintf("%016x", im.mirror)
		}
		f.Images = append(f.Images, ad.ImageFP{Src: fmt.Sprintf("%s/%d.jpg", id, i), Hashes: h})
	}
	return f
}

// flip returns h with n bits flipped, at positions 0, 7, 14, … (spread
// over the bands).
func flip(h uint64, n int) uint64 {
	for i := range n {
		h ^= 1 << (uint(i*7) % 64)
	}
	return h
}

const (
	h1 = 0x8f3a_55c1_0e7d_b249
	h2 = 0x1234_5678_9abc_def0
	h3 = 0xf0e1_d2c3_b4a5_9687
)

func samePerson(t *testing.T, c *cluster.Cluster, a, b string, want bool) {
	t.Helper()
	x, y := MustAssignment(t, c, a), MustAssignment(t, c, b)
	if got := x.PersonID == y.PersonID; got != want {
		t.Fatalf("same person %s,%s = %v, want %v (%v %v)", a, b, got, want, x, y)
	}
}

func sameNetwork(t *testing.T, c *cluster.Cluster, a, b string, want bool) {
	t.Helper()
	x, y := MustAssignment(t, c, a), MustAssignment(t, c, b)
	if got := x.NetworkID == y.NetworkID; got != want {
		t.Fatalf("same network %s,%s = %v, want %v", a, b, got, want)
	}
}

func TestRuleImage(t *testing.T) {
	c := MustOpen(t, "")
	MustAdd(t, c,
		fp("a1", "anna", nil, img{h1, h3}),
		fp("a2", "bea", nil, img{flip(h1, 8), 0}), // distance 8: same photo
		fp("a3", "", nil, img{flip(h1, 9), 0}),    // distance 9 from a1, 1 from a2
		fp("a4", "", nil, img{flip(h3, 2), 0}),    // close to a1's mirror
		fp("a5", "", nil, img{h2, 0}),
	)
	samePerson(t, c, "a1", "a2", true)
	samePerson(t, c, "a1", "a4", true)
	samePerson(t, c, "a1", "a5", false)
	// flip(h1,9) is 1 bit from flip(h1,8): a chain through a2.
	samePerson(t, c, "a1", "a3", true)

	ex, err := c.Explain("a4")
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, e := range ex.Evidence {
		details = append(details, e.A+"-"+e.B+" "+e.Rule+" "+e.Detail)
	}
	want := []string{
		"a1-a2 image phash distance 8",
		"a1-a4 image phash distance 2 (mirrored)",
		"a2-a3 image phash distance 1",
	}
	if !reflect.DeepEqual(details, want) {
		t.Fatalf("evidence=%q, want %q", details, want)
	}
	if got, want := ex.Person, []string{"a1", "a2", "a3", "a4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("person=%q, want %q", got, want)
	}
	if got, want := ex.PersonID, cluster.PersonID("a1"); got != want {
		t.Fatalf("person id=%s, want %s", got, want)
	}
}

func TestRuleContact(t *testing.T) {
	c := MustOpen(t, "")
	tel := []string{"tel:0001"}
	MustAdd(t, c,
		fp("b1", "anna", tel, img{h1, 0}),
		fp("b2", "anna", tel, img{h2, 0}),  // (b) shared contact + same name
		fp("b3", "cia", tel, img{h3, 0}),   // shared contact, other name: network only
		fp("b4", "", []string{"tel:0002"}), // (c) blank advert
		fp("b5", "dora", []string{"tel:0002"}, img{flip(h2, 30), 0}),
		fp("b6", "", []string{"tel:0009"}),
		fp("b7", "eva", []string{"tel:0009"}), // (c) b6 is blank
	)
	samePerson(t, c, "b1", "b2", true)
	samePerson(t, c, "b1", "b3", false)
	sameNetwork(t, c, "b1", "b3", true)
	samePerson(t, c, "b4", "b5", true)
	samePerson(t, c, "b6", "b7", true)
	sameNetwork(t, c, "b1", "b5", false)
	sameNetwork(t, c, "b1", "b6", false)
	ads, persons, networks, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if ads != 7 || persons != 4 || networks != 3 {
		t.Fatalf("stats=%d,%d,%d, want 7,4,3", ads, persons, networks)
	}
}

func TestAgencyPhone(t *testing.T) {
	c := MustOpen(t, "")
	agency := []string{"tel:agency"}
	MustAdd(t, c,
		fp("c1", "anna", agency, img{h1, 0}),
		fp("c2", "bea", agency, img{h2, 0}),
		fp("c3", "cia", agency, img{h3, 0}),
		fp("c4", "anna", []string{"tel:own"}, img{flip(h1, 3), 0}), // anna reposts with her own phone
	)
	ads, persons, networks, err := c.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if ads != 4 || persons != 3 || networks != 1 {
		t.Fatalf("stats=%d,%d,%d, want 4,3,1", ads, persons, networks)
	}
	samePerson(t, c, "c1", "c4", true)
	ex, err := c.Explain("c2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ex.Network, []string{"c1", "c2", "c3", "c4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("network=%q, want %q", got, want)
	}
	var scopes []string
	for _, e := range ex.Evidence {
		scopes = append(scopes, e.Scope+":"+e.Rule)
		if e.Rule == cluster.RuleContact && !strings.Contains(e.Detail, "shared contact tel:agency") {
			t.Fatalf("detail %q lacks the contact", e.Detail)
		}
	}
	slices.Sort(scopes)
	if got, want := scopes, []string{"network:contact", "network:contact", "person:image"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("evidence=%q, want %q", got, want)
	}

	// A blank advert on the agency phone, which carries several names,
	// says nothing of which person posted it: it stays apart from every
	// named person (before v1.6, rule (c) joined them all into one), in
	// the agency's network.
	MustAdd(t, c, fp("c5", "", agency))
	if _, persons, networks, _ := c.Stats(); persons != 4 || networks != 1 {
		t.Fatalf("persons=%d networks=%d after a blank agency advert, want 4 and 1", persons, networks)
	}
}

func TestIdempotentAndChanged(t *testing.T) {
	c := MustOpen(t, "")
	msgs := MustAdd(t, c, fp("d2", "x", nil, img{h1, 0}), fp("d3", "y", nil, img{h2, 0}))
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	// d1 joins d2: d1 is the new smallest id, so d2 changes too.
	msgs = MustAdd(t, c, fp("d1", "z", nil, img{flip(h1, 1), 0}), fp("d1", "z", nil, img{flip(h1, 1), 0}))
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1 (duplicate in batch skipped)", len(msgs))
	}
	p := cluster.PersonID("d1")
	want := ad.Assignments{Cause: "d1", Changed: []ad.Assignment{
		{AdID: "d1", PersonID: p, NetworkID: cluster.NetworkID("d1")},
		{AdID: "d2", PersonID: p, NetworkID: cluster.NetworkID("d1")},
	}}
	if !reflect.DeepEqual(msgs[0], want) {
		t.Fatalf("message=%+v, want %+v", msgs[0], want)
	}
	before := MustAll(t, c)
	if msgs := MustAdd(t, c, fp("d1", "other", []string{"tel:x"}), fp("d3", "y", nil, img{h2, 0})); len(msgs) != 0 {
		t.Fatalf("re-add returned %+v, want nothing", msgs)
	}
	if got := MustAll(t, c); !reflect.DeepEqual(got, before) {
		t.Fatalf("re-add changed assignments: %v, want %v", got, before)
	}
	if ads, _, _, _ := c.Stats(); ads != 3 {
		t.Fatalf("ads=%d, want 3", ads)
	}
}

func TestInvalidAndNotFound(t *testing.T) {
	c := MustOpen(t, "")
	if _, err := c.AddBatch([]*ad.Fingerprinted{fp("ok", "", nil), fp("bad\x00id", "", nil)}); !errors.Is(err, cluster.ErrInvalidID) {
		t.Fatalf("err=%v, want ErrInvalidID", err)
	}
	if ads, _, _, _ := c.Stats(); ads != 0 {
		t.Fatalf("ads=%d after a refused batch, want 0", ads)
	}
	if _, err := c.Explain("nope"); !errors.Is(err, cluster.ErrNotFound) {
		t.Fatalf("err=%v, want ErrNotFound", err)
	}
	if _, ok, err := c.Assignment("nope"); ok || err != nil {
		t.Fatalf("Assignment(nope) ok=%v err=%v", ok, err)
	}
}

// synthetic returns n fingerprints of about n/3 persons: reposts with
// perturbed photos, shared agency phones, blank adverts.
func synthetic(n int, seed uint64) []*ad.Fingerprinted {
	r := rand.New(rand.NewPCG(seed, 1))
	type person struct {
		name  string
		phash uint64
		tel   string
	}
	names := []string{"anna", "bea", "cia", "dora", "eva", "fia"}
	var persons []person
	for i := range n / 3 {
		tel := fmt.Sprintf("tel:p%03d", i)
		if i%5 == 0 {
			tel = fmt.Sprintf("tel:agency%d", i%3)
		}
		persons = append(persons, person{names[r.IntN(len(names))], r.Uint64(), tel})
	}
	var out []*ad.Fingerprinted
	for i := range n {
		p := persons[r.IntN(len(persons))]
		id := fmt.Sprintf("ad-%04d", i)
		kind := r.IntN(5)
		if kind == 0 && strings.HasPrefix(p.tel, "tel:agency") {
			kind = 2 // a blank advert on an agency phone would merge its persons (rule c)
		}
		switch kind {
		case 0: // blank advert with the phone only
			out = append(out, fp(id, "", []string{p.tel}))
		case 1: // no phone, the photo only
			out = append(out, fp(id, "", nil, img{p.phash ^ randBits(r, 6), 0}))
		default:
			out = append(out, fp(id, p.name, []string{p.tel}, img{p.phash ^ randBits(r, 6), ^p.phash}))
		}
	}
	return out
}

func randBits(r *rand.Rand, max int) uint64 {
	var m uint64
	for range r.IntN(max + 1) {
		m |= 1 << r.IntN(64)
	}
	return m
}

func TestOrderIndependence(t *testing.T) {
	checkOrderIndependence(t, synthetic(200, 42))
}

// TestStockOrderIndependence adds stock photos to the synthetic adverts:
// each is posted, perturbed, by persons with their own names and phones,
// and some of them also post it with their own photo, so images become
// stock after links through them were made, and persons must split.
func TestStockOrderIndependence(t *testing.T) {
	fps := synthetic(200, 42)
	r := rand.New(rand.NewPCG(9, 9))
	stock := []uint64{r.Uint64(), r.Uint64()}
	names := []string{"xena", "yola", "zara", "wilma", "vera"}
	for i := range 40 {
		who := r.IntN(len(names))
		ims := []img{{stock[i%2] ^ randBits(r, 4), 0}}
		if r.IntN(2) == 0 {
			ims = append(ims, img{uint64(who+1) * 0x9e3779b97f4a7c15, 0})
		}
		fps = append(fps, fp(fmt.Sprintf("ad-s%03d", i), names[who], []string{fmt.Sprintf("tel:s%d", who)}, ims...))
	}
	var stockImages int
	profiles := make([]*cluster.Profile, len(fps))
	for i, f := range fps {
		profiles[i] = cluster.ProfileOf(f)
	}
	cluster.MarkStock(profiles)
	for _, p := range profiles {
		for _, im := range p.Images {
			if im.Stock != "" {
				stockImages++
			}
		}
	}
	if stockImages < 40 {
		t.Fatalf("%d stock images, want at least 40", stockImages)
	}
	first := checkOrderIndependence(t, fps)
	checkPairwise(t, fps, fps)
	persons := map[string]bool{}
	for _, a := range first {
		if strings.HasPrefix(a.AdID, "ad-s") {
			persons[a.PersonID] = true
		}
	}
	if len(persons) != len(names) {
		t.Fatalf("stock adverts in %d persons, want %d", len(persons), len(names))
	}
	c := MustOpen(t, "")
	MustAdd(t, c, fps...)
	ex, err := c.Explain("ad-s000")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Stock) == 0 || !strings.Contains(ex.Stock[0], "is stock") {
		t.Fatalf("no stock evidence: %+v", ex.Stock)
	}
	t.Log(ex.Stock[0])
}

func checkOrderIndependence(t *testing.T, fps []*ad.Fingerprinted) []ad.Assignment {
	t.Helper()
	var first []ad.Assignment
	for run := range 5 {
		shuffled := slices.Clone(fps)
		r := rand.New(rand.NewPCG(uint64(run), 7))
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		c := MustOpen(t, "")
		// replaying the messages must give the same as All
		fromMsgs := map[string]ad.Assignment{}
		for len(shuffled) > 0 {
			k := min(len(shuffled), 1+r.IntN(40))
			for _, m := range MustAdd(t, c, shuffled[:k]...) {
				for _, a := range m.Changed {
					fromMsgs[a.AdID] = a
				}
			}
			shuffled = shuffled[k:]
		}
		got := MustAll(t, c)
		if len(got) != len(fps) {
			t.Fatalf("run %d: %d assignments, want %d", run, len(got), len(fps))
		}
		for _, a := range got {
			if fromMsgs[a.AdID] != a {
				t.Fatalf("run %d: messages say %v, All says %v", run, fromMsgs[a.AdID], a)
			}
		}
		if run == 0 {
			first = got
			_, persons, networks, _ := c.Stats()
			t.Logf("200 ads: %d persons, %d networks", persons, networks)
			if persons < 10 || persons > 150 || networks >= persons {
				t.Fatalf("implausible clustering: %d persons, %d networks", persons, networks)
			}
			continue
		}
		if !reflect.DeepEqual(got, first) {
			t.Fatalf("run %d differs from run 0", run)
		}
	}
	return first
}

func TestReopen(t *testing.T) {
	one, c := reopened(t, synthetic(120, 9), 60, 70)
	a1, p1, n1, _ := one.Stats()
	a2, p2, n2, _ := c.Stats()
	if a1 != a2 || p1 != p2 || n1 != n2 {
		t.Fatalf("stats %d,%d,%d, want %d,%d,%d", a2, p2, n2, a1, p1, n1)
	}
}

// reopened adds fps to a fresh state in one run (one), and to a state
// file in two: fps[from:], then, after closing and reopening, fps[:upto]
// (from..upto-1 are redelivered). The two must hold the same assignments.
func reopened(t *testing.T, fps []*ad.Fingerprinted, from, upto int) (one, c *cluster.Cluster) {
	t.Helper()
	one = MustOpen(t, "")
	MustAdd(t, one, fps...)
	want := MustAll(t, one)

	path := filepath.Join(t.TempDir(), "state.db")
	c, err := cluster.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	MustAdd(t, c, fps[from:]...)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = MustOpen(t, path)
	MustAdd(t, c, fps[:upto]...)
	if got := MustAll(t, c); !reflect.DeepEqual(got, want) {
		t.Fatal("reopened state differs from a single run")
	}
	return one, c
}

func TestAllManyChunks(t *testing.T) {
	c := MustOpen(t, "")
	var fps []*ad.Fingerprinted
	for i := range 2500 {
		fps = append(fps, fp(fmt.Sprintf("e%05d", i), "", nil))
	}
	MustAdd(t, c, fps...)
	got := MustAll(t, c)
	if len(got) != 2500 || got[0].AdID != "e00000" || got[2499].AdID != "e02499" {
		t.Fatalf("All gave %d rows", len(got))
	}
	if !slices.IsSortedFunc(got, func(a, b ad.Assignment) int { return strings.Compare(a.AdID, b.AdID) }) {
		t.Fatal("All not sorted")
	}
}

func TestCompareSymmetric(t *testing.T) {
	fps := synthetic(60, 3)
	for _, a := range fps {
		for _, b := range fps {
			x, y := cluster.Compare(cluster.ProfileOf(a), cluster.ProfileOf(b)), cluster.Compare(cluster.ProfileOf(b), cluster.ProfileOf(a))
			if x.Scope != y.Scope || x.Rule != y.Rule {
				t.Fatalf("Compare(%s,%s)=%v but reversed %v", a.Ad.ID, b.Ad.ID, x, y)
			}
		}
	}
}

// TestMatchesPairwiseRules checks the indexed, representative-based search
// against the definition: persons and networks must be the connected
// components of Compare over all pairs of adverts, once the stock images
// are marked over the whole set (MarkStock).
func TestMatchesPairwiseRules(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 7))
	names := []string{"", "anna", "anna k", "anna l", "bea", "cia"}
	var contacts []string
	for i := range 40 {
		contacts = append(contacts, fmt.Sprintf("tel:%02d", i))
	}
	photos := []uint64{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()}
	var fps []*ad.Fingerprinted
	for i := range 300 {
		var cs []string
		for range r.IntN(3) {
			cs = append(cs, contacts[r.IntN(len(contacts))])
		}
		var ims []img
		if r.IntN(3) == 0 {
			ims = append(ims, img{photos[r.IntN(len(photos))] ^ randBits(r, 4), 0})
		}
		fps = append(fps, fp(fmt.Sprintf("ad-%03d", i), names[r.IntN(len(names))], cs, ims...))
	}
	// Texts (rule d, templates): copies of a few texts at Jaccard around
	// the threshold, some changed in every band (near but no shared band
	// key), some without a signature (records from before texts).
	addTexts(rand.New(rand.NewPCG(42, 8)), fps, 40)
	// Blank adverts last: they then have to join persons already formed.
	ordered := slices.Clone(fps)
	slices.SortStableFunc(ordered, func(a, b *ad.Fingerprinted) int {
		return cmp.Compare(blankRank(a), blankRank(b))
	})
	for _, order := range [][]*ad.Fingerprinted{fps, ordered} {
		t.Run("", func(t *testing.T) { checkPairwise(t, order, fps) })
		// Again with the image index merging every few hashes, so most
		// lookups go through its merged arrays rather than its pending
		// lists.
		t.Run("merges", func(t *testing.T) {
			defer cluster.SetMergeMin(3)()
			checkPairwise(t, order, fps)
		})
	}
}

// TestMatchesPairwiseRulesOwnedContacts is TestMatchesPairwiseRules on
// contacts that mostly carry one name (a person's own phone), with many
// nameless adverts with and without photos, so rule (c) for blank and
// nameless adverts (compareNameless) joins across them, and a few
// contacts turn multi-name late.
func TestMatchesPairwiseRulesOwnedContacts(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 7))
	names := []string{"anna", "anna k", "anna k", "bea", "cia", "dora"}
	var contacts []string
	owner := map[string]string{}
	for i := range 30 {
		c := fmt.Sprintf("tel:%02d", i)
		contacts = append(contacts, c)
		owner[c] = names[r.IntN(len(names))]
	}
	var photos []uint64
	for range 60 {
		photos = append(photos, r.Uint64())
	}
	var fps []*ad.Fingerprinted
	for i := range 240 {
		var cs []string
		switch x := r.IntN(20); {
		case x < 17:
			cs = []string{contacts[r.IntN(len(contacts))]}
		case x < 19:
			cs = []string{contacts[r.IntN(len(contacts))], contacts[r.IntN(len(contacts))]}
		}
		name := ""
		switch x := r.IntN(20); {
		case x < 14 && len(cs) > 0:
			name = owner[cs[0]]
			if name == "anna k" && r.IntN(3) == 0 {
				name = "anna l" // one name base, but not agreeing names
			}
		case x < 15:
			name = names[r.IntN(len(names))]
		}
		var ims []img
		if r.IntN(10) < 7 {
			ims = append(ims, img{photos[r.IntN(len(photos))] ^ randBits(r, 4), 0})
		}
		fps = append(fps, fp(fmt.Sprintf("ad-%03d", i), name, cs, ims...))
	}
	addTexts(rand.New(rand.NewPCG(43, 8)), fps, 30)
	ordered := slices.Clone(fps)
	slices.SortStableFunc(ordered, func(a, b *ad.Fingerprinted) int {
		return cmp.Compare(blankRank(b), blankRank(a)) // blank adverts first
	})
	reversed := slices.Clone(fps)
	slices.Reverse(reversed)
	for _, order := range [][]*ad.Fingerprinted{fps, ordered, reversed} {
		t.Run("", func(t *testing.T) { checkPairwise(t, order, fps) })
		t.Run("merges", func(t *testing.T) {
			defer cluster.SetMergeMin(3)()
			checkPairwise(t, order, fps)
		})
	}
}

// checkPairwise adds the adverts in order, in batches of 37, once in
// chunks of the usual size and once in chunks of 5 (so a chunk's images
// are looked up while the chunk before is added), and checks both states
// against the components of Compare over all pairs of fps.
func checkPairwise(t *testing.T, order, fps []*ad.Fingerprinted) {
	c := MustOpen(t, "")
	for i := 0; i < len(order); i += 37 {
		MustAdd(t, c, order[i:min(i+37, len(order))]...)
	}
	small := MustOpen(t, "")
	restore := cluster.SetChunkSize(5)
	for i := 0; i < len(order); i += 37 {
		MustAdd(t, small, order[i:min(i+37, len(order))]...)
	}
	restore()
	if !reflect.DeepEqual(MustAll(t, small), MustAll(t, c)) {
		t.Fatal("chunks of 5 give other assignments")
	}

	// Union-find over all pairs.
	n := len(fps)
	find := func(parent []int, x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	person, network := make([]int, n), make([]int, n)
	for i := range n {
		person[i], network[i] = i, i
	}
	profiles := make([]*cluster.Profile, n)
	for i, f := range fps {
		profiles[i] = cluster.ProfileOf(f)
	}
	// Stock images are defined over the whole set (stock.go), not by a pair.
	cluster.MarkStock(profiles)
	// Template texts likewise (template.go), and multi-name contacts
	// (rule c).
	cluster.MarkTemplates(profiles)
	cluster.MarkMultiName(profiles)
	templates := 0
	for _, p := range profiles {
		if p.Text != nil && p.Text.Template {
			templates++
		}
	}
	stock := 0
	for _, p := range profiles {
		for _, im := range p.Images {
			if im.Stock != "" {
				stock++
			}
		}
	}
	t.Logf("%d stock images, %d template texts", stock, templates)
	rules := map[string]int{}
	for i := range n {
		for j := i + 1; j < n; j++ {
			l := cluster.Compare(profiles[i], profiles[j])
			rules[l.Rule]++
			if l.Scope == cluster.ScopePerson {
				person[find(person, i)] = find(person, j)
			}
			if l.Scope != "" {
				network[find(network, i)] = find(network, j)
			}
		}
	}
	delete(rules, "")
	t.Logf("links by rule: %v", rules)
	got := map[string]ad.Assignment{}
	c.All(func(a ad.Assignment) error { got[a.AdID] = a; return nil })
	for i := range n {
		for j := i + 1; j < n; j++ {
			a, b := got[fps[i].Ad.ID], got[fps[j].Ad.ID]
			if (find(person, i) == find(person, j)) != (a.PersonID == b.PersonID) {
				t.Fatalf("%s and %s: same person by the rules %v, in the state %v", fps[i].Ad.ID, fps[j].Ad.ID, find(person, i) == find(person, j), a.PersonID == b.PersonID)
			}
			if (find(network, i) == find(network, j)) != (a.NetworkID == b.NetworkID) {
				t.Fatalf("%s and %s: same network by the rules %v, in the state %v", fps[i].Ad.ID, fps[j].Ad.ID, find(network, i) == find(network, j), a.NetworkID == b.NetworkID)
			}
		}
	}
}

func blankRank(f *ad.Fingerprinted) int {
	if cluster.ProfileOf(f).Blank() {
		return 1
	}
	return 0
}

// TestMatchesPairwiseRulesRobust is TestMatchesPairwiseRules with the
// robust image hashes: copies of a few photos that are close in only one
// hash pair, at distances around MaxRobustDistance (8, 10, 12), in every
// combination the rules compare (centred regions at the same,
// neighbouring and farther scales; centre against shifted window, both
// ways), mixed with v1 images (pHash only) close to a photo's pHash or
// mirror. The state's multi-index lookup must find exactly the links of
// the pairwise definition.
func TestMatchesPairwiseRulesRobust(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 11))
	// near returns h with k set bits moved (distance 2k).
	near := func(h uint64, k int) uint64 { return movedBits(r, h, k) }
	type photo = robustPhoto // p, m, scales, grid
	random := func() photo { return randomPhoto(r) }
	var bases []photo
	for range 6 {
		bases = append(bases, random())
	}
	scale := func(i int) int { return 2 + i }                      // index of Scales[i]
	grid := func(i int) int { return 2 + 2*cluster.NumScales + i } // index of Grid[i]
	hexs := func(hs []uint64) string {
		var sb strings.Builder
		for _, h := range hs {
			fmt.Fprintf(&sb, "%016x", h)
		}
		return sb.String()
	}
	names := []string{"", "anna", "anna k", "anna karlsson", "bea", "cia", "dora"}
	var fps []*ad.Fingerprinted
	for n := range 160 {
		base := bases[r.IntN(len(bases))]
		c := random()
		k := 4 + r.IntN(3) // distance 8, 10 or 12
		switch mode := r.IntN(5); mode {
		case 0: // a whole copy, slightly changed
			for i := range c {
				c[i] = near(base[i], r.IntN(2))
			}
		case 1: // one centred region close to one of the photo's, scales 0–2 apart
			si := r.IntN(cluster.NumScales)
			sj := min(cluster.NumScales-1, max(0, si+r.IntN(5)-2))
			c[scale(2*si+r.IntN(2))] = near(base[scale(2*sj+r.IntN(2))], k)
		case 2: // a shifted window close to a centred region (any scale)
			c[grid(r.IntN(2*cluster.NumTiles))] = near(base[scale(2*r.IntN(cluster.NumScales)+r.IntN(2))], k)
		case 3: // a centred region close to a shifted window
			c[scale(2*r.IntN(cluster.NumScales)+r.IntN(2))] = near(base[grid(r.IntN(2*cluster.NumTiles))], k)
		case 4: // v1 only: pHash near the photo's pHash or mirror
			c[0] = near(base[r.IntN(2)], 2+r.IntN(4))
		}
		im := map[string]string{"phash": hexs(c[:1]), "phash_mirror": hexs(c[1:2])}
		if r.IntN(6) != 0 { // most images carry the robust hashes
			im["phash_centres"] = hexs(c[2 : 2+2*cluster.NumScales])
			im["phash_shifts"] = hexs(c[2+2*cluster.NumScales:])
		}
		var cs []string
		if r.IntN(3) == 0 {
			cs = []string{fmt.Sprintf("tel:%02d", r.IntN(30))}
		}
		fps = append(fps, &ad.Fingerprinted{
			Ad:       ad.Ad{ID: fmt.Sprintf("ad-%03d", n)},
			Name:     names[r.IntN(len(names))],
			Contacts: cs,
			Images:   []ad.ImageFP{{Src: "x.jpg", Hashes: im}},
		})
	}
	// The corpus must exercise each way of matching.
	kinds := map[string]int{}
	for i, a := range fps {
		for _, b := range fps[i+1:] {
			if l := cluster.Compare(cluster.ProfileOf(a), cluster.ProfileOf(b)); l.Rule == cluster.RuleImage {
				kinds[strings.Fields(l.Detail)[1]]++
			}
		}
	}
	t.Logf("image links by kind: %v", kinds)
	for _, k := range []string{"centre", "shifted-window", "distance"} {
		if kinds[k] < 10 {
			t.Fatalf("only %d %q image links in the corpus", kinds[k], k)
		}
	}
	shuffled := slices.Clone(fps)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, order := range [][]*ad.Fingerprinted{fps, shuffled} {
		t.Run("", func(t *testing.T) { checkPairwise(t, order, fps) })
		t.Run("merges", func(t *testing.T) {
			defer cluster.SetMergeMin(3)()
			checkPairwise(t, order, fps)
		})
	}
}

// TestReloadEqualsMemory: after every batch of a corpus with stock photos,
// templates, agencies and rebuilds (batches of 500 in chunks of 128), the
// state loaded from the file equals the state in memory, profiles (marks,
// seen sets) and components included; and the assignments equal those of
// the whole corpus added as one chunk.
func TestReloadEqualsMemory(t *testing.T) {
	const n = 6000
	g := newCorpus(n, 3, false)
	g.texts = true
	c := MustOpen(t, "")
	one := MustOpen(t, "") // the same in chunks of 128
	defer cluster.SetChunkSize(128)()
	var all []*ad.Fingerprinted
	for done := 0; done < n; done += 500 {
		fps := g.next(500)
		all = append(all, fps...)
		MustAdd(t, c, fps...)
		if err := cluster.CheckReload(c); err != nil {
			t.Fatalf("after %d adverts: %v", done+500, err)
		}
	}
	// A batch of redelivered adverts changes nothing and still reloads.
	MustAdd(t, c, all[:700]...)
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
	// One batch, one chunk of 6,000: the same assignments.
	restore := cluster.SetChunkSize(n)
	MustAdd(t, one, all...)
	restore()
	if !reflect.DeepEqual(MustAll(t, one), MustAll(t, c)) {
		t.Fatal("chunks of 128 and one chunk give other assignments")
	}
	_, persons, networks, _ := c.Stats()
	t.Logf("%d adverts, %d persons, %d networks, %d with stock photos", n, persons, networks, g.stockAds)
}

// TestPersonsWithoutContactOrPhoto: a person counts as without contact or
// photo only when none of its adverts has either, whichever advert
// joined it (here through near-duplicate texts with the same name), and
// the figure is the same after the state reopens.
func TestPersonsWithoutContactOrPhoto(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	dir := t.TempDir()
	c := MustOpen(t, filepath.Join(dir, "c.db"))
	txt1, txt2 := randSig(r), randSig(r)
	MustAdd(t, c,
		// One person: two bare adverts joined by their text and name.
		withText(fp("a1", "vera", nil), txt1), withText(fp("a2", "vera", nil), txt1),
		// One person: a bare advert joined by text to one with a phone.
		withText(fp("b1", "lina", nil), txt2), withText(fp("b2", "lina", []string{"tel:b"}), txt2),
		// Bare and alone; with a photo only; with a contact only.
		fp("c1", "", nil), fp("d1", "", nil, img{0x0f0f_0f0f_0f0f_0f0f, 0}), fp("e1", "", []string{"tel:e"}),
	)
	samePerson(t, c, "a1", "a2", true)
	samePerson(t, c, "b1", "b2", true)
	check := func(c *cluster.Cluster) {
		t.Helper()
		_, persons, _, err := c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.PersonsWithoutContactOrPhoto()
		if err != nil {
			t.Fatal(err)
		}
		if persons != 5 || n != 2 { // {a1,a2} and {c1}
			t.Fatalf("%d persons, %d without contact or photo; want 5 and 2", persons, n)
		}
	}
	check(c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	check(MustOpen(t, filepath.Join(dir, "c.db")))
}
