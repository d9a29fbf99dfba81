package cluster

import "slices"

// Multi-name contacts and the contact index. A contact that carries
// MultiNameMin names or more is an agency's or a third party's, on which
// rule (c) ties a blank advert to no one person (rules.go). The state
// keeps, per contact, a contactGroup: the representatives of the adverts
// on it that a new advert is compared with, and the multi-name mark.

// contactGroup is what the contact representatives need to know about the
// adverts on one contact (see candidates).
type contactGroup struct {
	all   []uint32 // every advert on it, in arrival order
	blank int32    // first blank advert, -1 when none
	// named holds the first advert of each name, filed under its nameKey,
	// so the names that agree with a name (NamesAgree) are in one list.
	named    map[string][]namedRef
	names    []uint32 // the first advert of each name, in order
	nameless []uint32 // nameless adverts with images
	// bases are the distinct name bases seen on the contact until it is
	// a multi-name contact (MultiNameMin of them); then multi is set and
	// bases dropped.
	bases []string
	multi bool
}

// namedRef is the first advert on a contact with a name.
type namedRef struct {
	name string
	ref  uint32
}

// add enters an advert in the group and reports whether the contact just
// became a multi-name contact.
func (g *contactGroup) add(ref uint32, p *Profile) (flipped bool) {
	g.all = append(g.all, ref)
	if b := nameBase(p.Name); b != "" && !g.multi && !slices.Contains(g.bases, b) {
		g.bases = append(g.bases, b)
		if len(g.bases) >= MultiNameMin {
			g.multi, g.bases, flipped = true, nil, true
		}
	}
	switch {
	case p.Name != "":
		k := nameKey(p.Name)
		if !slices.ContainsFunc(g.named[k], func(n namedRef) bool { return n.name == p.Name }) {
			g.named[k] = append(g.named[k], namedRef{p.Name, ref})
			g.names = append(g.names, ref)
		}
	case p.Blank():
		if g.blank < 0 {
			g.blank = int32(ref)
		}
	default:
		g.nameless = append(g.nameless, ref)
	}
	return flipped
}

// candidates calls fn with one representative of every group of adverts
// on the contact that the rules could join an advert with profile p with,
// instead of every advert on it (a busy agency phone carries thousands):
//
//   - all adverts on a contact are one network: the first stands for it;
//   - all named adverts on it with the same name are one person (rule b):
//     the first of the name stands for them, and a named advert is
//     compared with the first of every name that agrees with its own
//     (NamesAgree: "anna" with "anna k");
//   - once a blank advert is on it, everything on it is one person (rule
//     c): the first blank stands for it;
//   - a new blank advert joins every person on the contact: when no blank
//     advert is there yet, the first of each name and every nameless
//     advert with images;
//   - on a multi-name contact (multi, the contact's final mark) a blank
//     advert joins only the other blank adverts, which the first blank
//     stands for, and a named one no blank advert;
//   - on a contact that is not multi-name, a nameless advert with images
//     joins every named one (compareNameless): the first of each name
//     stands for them; a named advert joins every nameless one with
//     images, and once a named advert is on the contact they are all one
//     person with it, so the first nameless one stands for them.
//
// The components reached are exactly those the pairwise rules would join
// (TestMatchesPairwiseRules).
func (g *contactGroup) candidates(p *Profile, multi bool, fn func(ref uint32)) {
	if len(g.all) == 0 {
		return
	}
	fn(g.all[0])
	if g.blank >= 0 && (!multi || p.Blank()) {
		fn(uint32(g.blank))
	}
	if p.Name != "" {
		for _, n := range g.named[nameKey(p.Name)] {
			if NamesAgree(n.name, p.Name) {
				fn(n.ref)
			}
		}
	}
	if !multi {
		switch {
		case p.Name != "" && len(g.names) > 0 && len(g.nameless) > 0:
			fn(g.nameless[0])
		case p.Name != "":
			for _, r := range g.nameless {
				fn(r)
			}
		case !p.Blank():
			for _, r := range g.names {
				fn(r)
			}
		}
	}
	if !p.Blank() || g.blank >= 0 || multi {
		return
	}
	for _, r := range g.names {
		fn(r)
	}
	for _, r := range g.nameless {
		fn(r)
	}
}

// MarkMultiName is the definition of multi-name contacts over a whole set
// of adverts (the state keeps the same marks incrementally): a contact is
// one when the adverts on it carry at least MultiNameMin distinct names
// (nameBase, so "anna" and "anna k" count once). It sets Profile.Multi.
func MarkMultiName(profiles []*Profile) {
	bases := map[string]map[string]struct{}{}
	for _, p := range profiles {
		if b := nameBase(p.Name); b != "" {
			for _, c := range p.Contacts {
				if bases[c] == nil {
					bases[c] = map[string]struct{}{}
				}
				bases[c][b] = struct{}{}
			}
		}
	}
	for _, p := range profiles {
		p.Multi = nil
		for _, c := range p.Contacts {
			if len(bases[c]) >= MultiNameMin {
				p.Multi = append(p.Multi, c)
			}
		}
	}
}
