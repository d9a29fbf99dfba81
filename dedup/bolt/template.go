package bolt

import (
	"fmt"
	"slices"

	"adcensus/dedup/textsig"
)

// Text templates and rule (d) (docs/DEDUP.md, "Text rule"). An advert's
// text is a near-duplicate of another's when they share an LSH band key
// and their estimated Jaccard is at least TextJaccard (textsig.Near). A
// text is a template when the adverts with a near-duplicate text, the
// advert itself included, carry at least TemplateMinNames distinct
// non-empty names and TemplateMinContacts distinct contacts: an agency's
// or a web site's text that many people post. As for stock photos both
// counts only grow, so a text once a template stays one, and whether it
// is depends only on the set of adverts, not on their order. A template
// links no one; the other rules still apply.
const (
	TextJaccard         = textsig.DefaultJaccard
	TemplateMinNames    = textsig.TemplateMinNames
	TemplateMinContacts = textsig.TemplateMinContacts
)

// templateEvidence is shown by Explain for a template text.
var templateEvidence = fmt.Sprintf("text is a template: near-duplicates seen with %d or more names and %d or more contacts", TemplateMinNames, TemplateMinContacts)

// TextSig is an advert's text signature and its template mark.
type TextSig struct {
	Sig textsig.MinHash
	// Template is set when the text is a template (above). SeenNames and
	// SeenContacts are the distinct names and contacts of the adverts with
	// a near-duplicate text so far, capped at the thresholds; nil once a
	// template.
	Template     bool
	SeenNames    []string `json:",omitempty"`
	SeenContacts []string `json:",omitempty"`
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

// addSeen adds p's non-empty name and its contacts to the capped sets of
// distinct names and contacts, and reports whether they changed.
func addSeen(names, contacts *[]string, p *Profile, maxNames, maxContacts int) (changed bool) {
	if p.Name != "" && len(*names) < maxNames && !slices.Contains(*names, p.Name) {
		*names = append(*names, p.Name)
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

// compareTexts is rule (d): near-duplicate texts, neither a template, and
// the same non-empty name.
func compareTexts(a, b *Profile) (Link, bool) {
	if a.Name == "" || a.Name != b.Name || a.Text == nil || b.Text == nil || a.Text.Template || b.Text.Template {
		return Link{}, false
	}
	j, ok := nearTexts(a, b)
	if !ok {
		return Link{}, false
	}
	return Link{Scope: ScopePerson, Rule: RuleTextName, Detail: fmt.Sprintf("text jaccard %.2f + name %s", j, a.Name)}, true
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
// memory only (rebuilt when the state opens). Most keys belong to one
// advert, so a key maps to that advert directly, or, with listBit set, to
// a list.
type textIndex struct {
	keys  map[uint64]uint32
	lists [][]uint32
}

const listBit = 1 << 31

func newTextIndex() *textIndex { return &textIndex{keys: map[uint64]uint32{}} }

func (x *textIndex) put(keys *[textsig.Bands]uint64, ref uint32) {
	for _, k := range keys {
		v, ok := x.keys[k]
		switch {
		case !ok:
			x.keys[k] = ref
		case v&listBit != 0:
			x.lists[v&^listBit] = append(x.lists[v&^listBit], ref)
		default:
			x.keys[k] = uint32(len(x.lists)) | listBit
			x.lists = append(x.lists, []uint32{v, ref})
		}
	}
}

// get returns the adverts filed under key k (one may be put in buf).
func (x *textIndex) get(k uint64, buf *[1]uint32) []uint32 {
	v, ok := x.keys[k]
	switch {
	case !ok:
		return nil
	case v&listBit != 0:
		return x.lists[v&^listBit]
	}
	buf[0] = v
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
// Adverts for which keep returns false are skipped; when skipTemplates
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
	for _, k := range keys {
		for _, r := range s.text.get(k, &buf) {
			if s.tvisit[r] == s.tgen {
				continue
			}
			if s.tflag[r]&tTemplate != 0 && skipTemplates() {
				continue
			}
			if keep != nil && !keep(r) {
				continue
			}
			// Found under a shared key: near when the Jaccard is high enough.
			s.tvisit[r] = s.tgen
			if j := sig.Jaccard(&s.profs[r].Text.Sig); j >= TextJaccard {
				fn(r, j)
			}
		}
	}
}
