package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/internal/textsig"
)

func randSig(r *rand.Rand) (m textsig.MinHash) {
	for i := range m {
		m[i] = uint16(r.Uint32())
	}
	return m
}

// nearSig returns base with k distinct positions changed (Jaccard about
// 1 − k/128).
func nearSig(r *rand.Rand, base textsig.MinHash, k int) textsig.MinHash {
	for _, i := range r.Perm(textsig.Size)[:k] {
		base[i] ^= uint16(1 + r.IntN(0xfffe))
	}
	return base
}

// everyBand returns base with one position changed in every band: Jaccard
// 0.875 but no band key shared, so not near (textsig.Near).
func everyBand(r *rand.Rand, base textsig.MinHash) textsig.MinHash {
	for b := range textsig.Bands {
		base[b*textsig.Rows+r.IntN(textsig.Rows)] ^= 1
	}
	return base
}

func withText(f *ad.Fingerprinted, m textsig.MinHash) *ad.Fingerprinted {
	f.TextMinHash = m.String()
	return f
}

// addTexts gives most adverts a copy of one of n texts, at Jaccard
// around the threshold.
func addTexts(r *rand.Rand, fps []*ad.Fingerprinted, n int) {
	var bases []textsig.MinHash
	for range n {
		bases = append(bases, randSig(r))
	}
	for _, f := range fps {
		base := bases[r.IntN(len(bases))]
		switch r.IntN(6) {
		case 0: // no signature
		case 1:
			withText(f, everyBand(r, base))
		case 2:
			f.TextMinHash = "mh128x16:broken" // unreadable: no text
		default:
			withText(f, nearSig(r, base, r.IntN(24)))
		}
	}
}

func TestRuleText(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	own, other, tmpl := randSig(r), randSig(r), randSig(r)
	c := MustOpen(t, "")
	MustAdd(t, c,
		withText(fp("t1", "anna", []string{"tel:1"}), nearSig(r, own, 4)),
		withText(fp("t2", "anna", []string{"tel:2"}), nearSig(r, own, 6)),  // (d): near text, same name
		withText(fp("t3", "bea", []string{"tel:3"}), nearSig(r, own, 2)),   // other name
		fp("t4", "anna", []string{"tel:4"}),                                // no text (old record)
		withText(fp("t5", "anna", []string{"tel:5"}), other),               // other text
		withText(fp("t6", "anna", []string{"tel:6"}), everyBand(r, own)),   // no band key shared
		withText(fp("t7", "anna", []string{"tel:7"}), nearSig(r, own, 60)), // too far
	)
	samePerson(t, c, "t1", "t2", true)
	for _, o := range []string{"t3", "t4", "t5", "t6", "t7"} {
		samePerson(t, c, "t1", o, false)
		sameNetwork(t, c, "t1", o, false)
	}
	ex, err := c.Explain("t2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Evidence) != 1 || ex.Evidence[0].Rule != cluster.RuleTextName || !strings.HasPrefix(ex.Evidence[0].Detail, "text jaccard 0.9") || !strings.HasSuffix(ex.Evidence[0].Detail, " + name anna") {
		t.Fatalf("evidence %+v", ex.Evidence)
	}

	// A template: two annas on their own phones are linked by the text
	// until it is seen with 3 names and 3 contacts.
	MustAdd(t, c,
		withText(fp("u1", "anna", []string{"tel:u1"}), nearSig(r, tmpl, 3)),
		withText(fp("u2", "anna", []string{"tel:u2"}), nearSig(r, tmpl, 3)),
		withText(fp("u3", "bea", []string{"tel:u2"}), nearSig(r, tmpl, 3)),
	)
	samePerson(t, c, "u1", "u2", true)
	msgs := MustAdd(t, c, withText(fp("u4", "cia", []string{"tel:u4"}), nearSig(r, tmpl, 3)))
	samePerson(t, c, "u1", "u2", false)
	if len(msgs) != 1 || len(msgs[0].Changed) < 2 {
		t.Fatalf("split not published: %+v", msgs)
	}
	ex, err = c.Explain("u2")
	if err != nil {
		t.Fatal(err)
	}
	// u2 and u3 share a phone, so they are one network; u1 and u4 are not in it.
	if len(ex.Templates) != 2 || !strings.HasPrefix(ex.Templates[0], "u2 text: text is a template") {
		t.Fatalf("templates %q", ex.Templates)
	}
	t.Log(ex.Templates[0])
}

// textual returns n adverts of about n/5 persons who post their own text
// (edited), often on several phones and without photos, so that only rule
// (d) links their adverts; persons with one of a few common names also
// post two shared web templates, and agency persons the agency's text on
// the agency phone. So templates turn up mid-stream, after links through
// them were made, and persons must split again.
func textual(n int, seed uint64) []*ad.Fingerprinted {
	r := rand.New(rand.NewPCG(seed, 3))
	names := []string{"anna", "bea", "cia", "dora", "eva", "fia"}
	web := []textsig.MinHash{randSig(r), randSig(r)}
	agencyText := []textsig.MinHash{randSig(r), randSig(r)}
	type person struct {
		name   string
		tels   []string
		text   textsig.MinHash
		agency int // -1 none
		photo  uint64
	}
	var persons []person
	for i := range max(1, n/5) {
		p := person{name: names[r.IntN(len(names))], text: randSig(r), agency: -1, photo: r.Uint64()}
		for k := range 1 + r.IntN(3) {
			p.tels = append(p.tels, fmt.Sprintf("tel:x%03d-%d", i, k))
		}
		if i%7 == 0 {
			p.agency = i % 2
		}
		persons = append(persons, p)
	}
	var out []*ad.Fingerprinted
	for i := range n {
		p := persons[r.IntN(len(persons))]
		tel := p.tels[r.IntN(len(p.tels))]
		text := nearSig(r, p.text, r.IntN(16))
		switch x := r.IntN(10); {
		case x < 2:
			text = nearSig(r, web[r.IntN(2)], r.IntN(12))
		case x < 4 && p.agency >= 0:
			tel = fmt.Sprintf("tel:agency%d", p.agency)
			text = nearSig(r, agencyText[p.agency], r.IntN(12))
		}
		var ims []img
		if r.IntN(4) == 0 {
			ims = append(ims, img{p.photo ^ randBits(r, 4), 0})
		}
		name := p.name
		if r.IntN(20) == 0 {
			name = ""
		}
		f := fp(fmt.Sprintf("ad-t%04d", i), name, []string{tel}, ims...)
		if r.IntN(10) != 0 {
			withText(f, text)
		}
		out = append(out, f)
	}
	return out
}

// components returns the number of persons of the pairwise rules, with
// or without the template marks.
func pairwisePersons(fps []*ad.Fingerprinted, templates bool) int {
	profiles := make([]*cluster.Profile, len(fps))
	for i, f := range fps {
		profiles[i] = cluster.ProfileOf(f)
	}
	cluster.MarkStock(profiles)
	cluster.MarkMultiName(profiles)
	if templates {
		cluster.MarkTemplates(profiles)
	}
	parent := make([]int, len(fps))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(x int) int {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	n := len(fps)
	for i := range fps {
		for j := i + 1; j < len(fps); j++ {
			if cluster.Compare(profiles[i], profiles[j]).Scope == cluster.ScopePerson && find(i) != find(j) {
				parent[find(i)] = find(j)
				n--
			}
		}
	}
	return n
}

// TestTemplateOrderIndependence replays adverts with texts and templates
// in several orders: the assignments, the published messages and the
// pairwise definition must agree.
func TestTemplateOrderIndependence(t *testing.T) {
	fps := append(synthetic(200, 42), textual(300, 5)...)
	profiles := make([]*cluster.Profile, len(fps))
	for i, f := range fps {
		profiles[i] = cluster.ProfileOf(f)
	}
	cluster.MarkTemplates(profiles)
	templates, texts := 0, 0
	for _, p := range profiles {
		if p.Text != nil {
			texts++
			if p.Text.Template {
				templates++
			}
		}
	}
	t.Logf("%d texts, %d templates", texts, templates)
	if templates < 40 || templates > texts/2 {
		t.Fatalf("%d template texts of %d, want between 40 and half", templates, texts)
	}
	// The texts must matter both ways: rule (d) links persons that no
	// other rule links, and the templates keep some apart.
	noText := slices.Clone(fps)
	for i, f := range noText {
		g := *f
		g.TextMinHash = ""
		noText[i] = &g
	}
	with, without, raw := pairwisePersons(fps, true), pairwisePersons(noText, true), pairwisePersons(fps, false)
	t.Logf("persons: %d with texts, %d without, %d if templates linked", with, without, raw)
	if with >= without || raw >= with {
		t.Fatalf("persons %d with texts, %d without, %d with templates linking: texts do not matter", with, without, raw)
	}
	checkOrderIndependence(t, fps)
	checkPairwise(t, fps, fps)
	// Templates flip after links through them, in many small batches.
	order := slices.Clone(fps)
	rand.New(rand.NewPCG(3, 3)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	checkPairwise(t, order, fps)
}

// TestTextReopen: a state with texts and templates reopened and fed
// redelivered adverts equals a single run; records without text keep
// their old behaviour.
func TestTextReopen(t *testing.T) {
	fps := textual(200, 8)
	one, c := reopened(t, fps, 100, 120)
	ex1, err := one.Explain(fps[0].Ad.ID)
	if err != nil {
		t.Fatal(err)
	}
	ex2, err := c.Explain(fps[0].Ad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ex1.Templates, ex2.Templates) || !reflect.DeepEqual(ex1.Network, ex2.Network) {
		t.Fatalf("explanations differ: %+v / %+v", ex1, ex2)
	}
}
