package cluster

// Re-adding networks: linking two adverts under the rules (link) and
// rebuilding the persons and networks whose links through a stock image,
// a template text or a new multi-name contact no longer hold (rebuild).
// The union-find itself is in state.go.

// moved records that ref got a new root (state.union).
func (b *batch) moved(_ int, ref uint32) { b.dirtyComp[ref] = struct{}{} }

// link applies the rules to adverts x and y and joins their components.
func (b *batch) link(x, y uint32, changed map[uint32]struct{}) {
	s := b.s
	l := Compare(s.profs[x], s.profs[y])
	if l.Scope == "" {
		return
	}
	joinedP := l.Scope == ScopePerson && s.union(0, x, y, changed, b.moved)
	joinedN := s.union(1, x, y, changed, b.moved)
	if joinedP || joinedN {
		lo, hi := x, y
		if s.ids[hi] < s.ids[lo] {
			lo, hi = hi, lo
		}
		b.edges[edgeKey{lo, hi, l.Scope}] = l
	}
}

// rebuild recomputes the persons and networks of the networks holding the
// adverts in flipped, whose images just became stock or whose text just
// became a template: links made through them no longer hold, so components may split. A network is
// closed under every link, so re-adding its adverts one by one in ad id
// order, as if new (exact image matches among them, contact
// representatives among them, text near-duplicates among them), gives the components of the rules over
// all adverts. Every advert whose assignment changes is added to changed.
// The work is proportional to the networks rebuilt, not to the state.
func (b *batch) rebuild(flipped []uint32, changed map[uint32]struct{}) {
	s := b.s
	set := map[uint32]struct{}{}
	for _, a := range flipped {
		if _, ok := set[a]; ok {
			continue
		}
		for _, m := range s.members[1][s.comp[1][a]] {
			set[m] = struct{}{}
		}
	}
	ids := b.sorted(set)
	type pub [2]uint32 // smallest members: the public ids
	before := make(map[uint32]pub, len(ids))
	for sc := range 2 {
		roots := map[uint32]struct{}{}
		for _, a := range ids {
			roots[s.comp[sc][a]] = struct{}{}
		}
		s.count[sc] += len(ids) - len(roots)
	}
	for _, a := range ids {
		before[a] = pub{s.minOf[0][s.comp[0][a]], s.minOf[1][s.comp[1][a]]}
	}
	for _, a := range ids {
		s.reset(a)
		b.moved(0, a)
		b.wiped[a] = struct{}{}
	}
	for k := range b.edges {
		if _, ok := set[k.lo]; ok {
			delete(b.edges, k)
		}
	}

	groups := map[string]*contactGroup{}
	done := map[uint32]struct{}{}
	keep := func(r uint32) bool { _, ok := done[r]; return ok }
	scratch := map[uint32]struct{}{}
	for _, a := range ids {
		pa := s.profs[a]
		cands := map[uint32]struct{}{}
		if b.indexed != nil {
			<-b.indexed // the index is being filed beside the adding
		}
		for _, m := range b.lookup(s.view(), pa, keep, true) {
			r := s.imgs[m.img]
			if pa.Images[m.i].Stock == "" && s.profs[r.ad].Images[r.i].Stock == "" {
				cands[r.ad] = struct{}{}
			}
		}
		if t := pa.Text; t != nil && !t.Template && pa.Name != "" {
			k := t.Sig.BandKeys()
			b.textCands(a, &k, keep, cands)
		}
		for _, c := range pa.Contacts {
			g := groups[c]
			if g == nil {
				g = &contactGroup{blank: -1, named: map[string][]namedRef{}}
				groups[c] = g
			}
			g.candidates(pa, s.contacts[c].multi, func(r uint32) { cands[r] = struct{}{} })
			g.add(a, pa)
		}
		done[a] = struct{}{}
		for _, o := range b.sorted(cands) {
			b.link(a, o, scratch)
		}
	}
	for _, a := range ids {
		if (pub{s.minOf[0][s.comp[0][a]], s.minOf[1][s.comp[1][a]]}) != before[a] {
			changed[a] = struct{}{}
		}
	}
}
