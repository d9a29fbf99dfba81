package cluster

import (
	"fmt"
	"math/bits"
	"slices"

	"adcensus/internal/textsig"
)

// Text templates and the text index: the marks on texts that link no
// one, and the LSH index that finds near-duplicate texts. Rule (d), what
// makes a text a template, and TextJaccard, TemplateMinNames and
// TemplateMinContacts are in rules.go.

// templateEvidence is shown by Explain for a template text.
var templateEvidence = fmt.Sprintf("text is a template: near-duplicates seen with %d or more names and %d or more contacts", TemplateMinNames, TemplateMinContacts)

// TextSig is an advert's text signature and its template mark.
//
// The signature comes last so that the pointers come first: the garbage
// collector scans an object only up to its last pointer, and a million
// profiles' signatures are 256 MB it need not walk.
type TextSig struct {
	// Template is set when the text is a template (rules.go). SeenNames and
	// SeenContacts are the distinct names and contacts of the adverts with
	// a near-duplicate text so far, capped at the thresholds; nil once a
	// template.
	SeenNames    []string `json:",omitempty"`
	SeenContacts []string `json:",omitempty"`
	Template     bool
	Sig          textsig.MinHash
}

// seen adds an advert's name and contacts to the text's capped sets. It
// reports whether they changed and whether the text just became a
// template.
func (t *TextSig) seen(p *Profile) (changed, template bool) {
	if t.Template {
		return false, false
	}
	changed = addSeen(&t.SeenNames, &t.SeenContacts, p, TemplateMinNames, TemplateMinContacts)
	if len(t.SeenNames) >= TemplateMinNames && len(t.SeenContacts) >= TemplateMinContacts {
		t.Template, t.SeenNames, t.SeenContacts = true, nil, nil
		return true, true
	}
	return changed, false
}

// addSeen adds p's non-empty name (its nameBase, so "anna" and "anna k"
// count once) and its contacts to the capped sets of distinct names and
// contacts, and reports whether they changed.
func addSeen(names, contacts *[]string, p *Profile, maxNames, maxContacts int) (changed bool) {
	if n := nameBase(p.Name); n != "" && len(*names) < maxNames && !slices.Contains(*names, n) {
		*names = append(*names, n)
		changed = true
	}
	for _, c := range p.Contacts {
		if len(*contacts) >= maxContacts {
			break
		}
		if !slices.Contains(*contacts, c) {
			*contacts = append(*contacts, c)
			changed = true
		}
	}
	return changed
}

// nearTexts says whether two adverts' texts are near-duplicates, with the
// estimated Jaccard. It ignores templates. It is symmetric.
func nearTexts(a, b *Profile) (float64, bool) {
	if a.Text == nil || b.Text == nil {
		return 0, false
	}
	// Near is "share a band key and Jaccard ≥ t"; the Jaccard is cheaper,
	// so it goes first.
	j := a.Text.Sig.Jaccard(&b.Text.Sig)
	if j < TextJaccard {
		return j, false
	}
	return textsig.Near(&a.Text.Sig, &b.Text.Sig, TextJaccard)
}

// MarkTemplates is the definition of template texts over a whole set of
// adverts, by comparing every pair (the state computes the same
// incrementally). It sets the template marks of the profiles' texts.
func MarkTemplates(profiles []*Profile) {
	for i, p := range profiles {
		t := p.Text
		if t == nil {
			continue
		}
		t.Template, t.SeenNames, t.SeenContacts = false, nil, nil
		t.seen(p)
		for j, q := range profiles {
			if j != i {
				if _, ok := nearTexts(p, q); ok {
					t.seen(q)
				}
			}
		}
	}
}

// textIndex files every advert with a text under its LSH band keys, in
// memory only (rebuilt when the state opens). Each band has an
// open-addressing table (linear probing) of 64-bit slots: the key's high
// 32 bits beside a value, the advert itself (ref+1) when the key has one
// advert, which most have, or, with listBit set, a list of them. The
// slot of a key is given by its high bits, so the table grows without
// the full keys. Equal high bits are confirmed on the text of an advert
// under the slot: the same band rows, or, when the rows differ (a rare
// collision), the same full key, so the index finds exactly the adverts
// that share a band key. A slot is 8 bytes with no pointers where a Go
// map held 16 bytes and more per key, and the GC has nothing to scan.
type textIndex struct {
	bands [textsig.Bands]textTable
	lists [][]uint32
	sig   func(ref uint32) *textsig.MinHash // an indexed advert's signature
}

type textTable struct {
	slots []uint64
	n     int // occupied
	shift uint
}

const listBit = 1 << 31

func newTextIndex(sig func(ref uint32) *textsig.MinHash) *textIndex {
	return &textIndex{sig: sig}
}

// first is an advert filed under slot value v.
func (x *textIndex) first(v uint32) uint32 {
	if v&listBit != 0 {
		return x.lists[v&^listBit][0]
	}
	return v - 1
}

// sameKey says whether the adverts under slot value v have band key k in
// band b (sig: the signature k belongs to).
func (x *textIndex) sameKey(b int, k uint64, sig *textsig.MinHash, v uint32) bool {
	o := x.sig(x.first(v))
	if [textsig.Rows]uint16(sig[b*textsig.Rows:]) == [textsig.Rows]uint16(o[b*textsig.Rows:]) {
		return true
	}
	return o.BandKeys()[b] == k
}

// find returns the slot of key k in band b's table, or the empty slot
// where it goes.
func (x *textIndex) find(b int, k uint64, sig *textsig.MinHash) (int, bool) {
	t := &x.bands[b]
	hi := k >> 32
	mask := len(t.slots) - 1
	for i := int(hi >> t.shift); ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			return i, false
		}
		if e>>32 == hi && x.sameKey(b, k, sig, uint32(e)) {
			return i, true
		}
	}
}

// grow doubles band b's table (or makes it).
func (t *textTable) grow() {
	old := t.slots
	size := max(2*len(old), 1024)
	t.slots = make([]uint64, size)
	t.shift = uint(32 - bits.TrailingZeros(uint(size)))
	mask := size - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := int(e >> 32 >> t.shift)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = e
	}
}

// put files advert ref (signature sig, band keys keys).
func (x *textIndex) put(sig *textsig.MinHash, keys *[textsig.Bands]uint64, ref uint32) {
	for b, k := range keys {
		t := &x.bands[b]
		if 4*(t.n+1) > 3*len(t.slots) {
			t.grow()
		}
		i, ok := x.find(b, k, sig)
		x.fileAt(b, i, ok, k, ref)
	}
}

// fileAt files advert ref under key k of band b at slot i, which holds
// the key when ok and is the empty slot for it otherwise: a key's first
// advert sits in the slot itself, later ones in a list.
func (x *textIndex) fileAt(b, i int, ok bool, k uint64, ref uint32) {
	t := &x.bands[b]
	if !ok {
		t.slots[i] = k>>32<<32 | uint64(ref+1)
		t.n++
		return
	}
	v := uint32(t.slots[i])
	if v&listBit != 0 {
		x.lists[v&^listBit] = append(x.lists[v&^listBit], ref)
		return
	}
	t.slots[i] = k>>32<<32 | uint64(uint32(len(x.lists))|listBit)
	x.lists = append(x.lists, []uint32{v - 1, ref})
}

// get returns the adverts filed under key k of band b (sig: the signature
// k belongs to), in the order they were filed (one may be put in buf).
func (x *textIndex) get(b int, k uint64, sig *textsig.MinHash, buf *[1]uint32) []uint32 {
	if len(x.bands[b].slots) == 0 {
		return nil
	}
	i, ok := x.find(b, k, sig)
	if !ok {
		return nil
	}
	v := uint32(x.bands[b].slots[i])
	if v&listBit != 0 {
		return x.lists[v&^listBit]
	}
	buf[0] = v - 1
	return buf[:]
}

// Text flags of an advert (state.tflag), so a scan of a busy band key
// can skip templates without reading their profiles.
const (
	tHasText  = 1
	tTemplate = 2
)

// textScan calls fn, once each, with every advert in the index whose text
// is a near-duplicate of sig's (keys its band keys), with the Jaccard.
// Adverts for which keep returns false are skipped (keep must not turn
// an advert it declined into one it accepts during the scan: each advert
// is offered once); when skipTemplates
// returns true, adverts whose text is a template are skipped without
// being compared, so a template posted thousands of times costs a pass
// over flags, not thousands of comparisons.
func (s *state) textScan(sig *textsig.MinHash, keys *[textsig.Bands]uint64, keep func(uint32) bool, skipTemplates func() bool, fn func(ref uint32, j float64)) {
	s.tgen++
	if s.tgen == 0 { // wrapped: clear the stamps
		clear(s.tvisit)
		s.tgen = 1
	}
	var buf [1]uint32
	for b, k := range keys {
		for _, r := range s.text.get(b, k, sig, &buf) {
			if s.tvisit[r] == s.tgen {
				continue
			}
			// Visited once per scan, whatever the outcome: what keep and
			// skipTemplates turn down they turn down for the rest of it.
			s.tvisit[r] = s.tgen
			if s.tflag[r]&tTemplate != 0 && skipTemplates() {
				continue
			}
			if keep != nil && !keep(r) {
				continue
			}
			// Found under a shared key: near when the Jaccard is high enough.
			if j := sig.Jaccard(&s.profs[r].Text.Sig); j >= TextJaccard {
				fn(r, j)
			}
		}
	}
}
