package cluster

import "slices"

// Re-adding persons: linking two adverts under the rules (link) and
// rebuilding the persons whose links through a stock image, a template
// text or a new multi-name contact no longer hold (rebuild), then their
// networks if a person split. The union-find itself is in state.go.

// moved records that ref got a new root (state.union).
func (b *batch) moved(_ int, ref uint32) { b.dirtyComp[ref] = struct{}{} }

// link applies the rules to adverts x and y and joins their components.
func (b *batch) link(x, y uint32, changed map[uint32]struct{}) {
	s := b.s
	if s.comp[0][x] == s.comp[0][y] {
		return // one person, so one network, already: nothing to join
	}
	l := Compare(s.profs[x], s.profs[y])
	if l.Scope == "" {
		return
	}
	joinedP := l.Scope == ScopePerson && s.union(0, x, y, changed, b.moved)
	joinedN := s.union(1, x, y, changed, b.moved)
	if joinedP || joinedN {
		b.edge(x, y, l)
	}
}

// edge records the evidence of a link that joined x's and y's components.
func (b *batch) edge(x, y uint32, l Link) {
	lo, hi := x, y
	if b.s.ids[hi] < b.s.ids[lo] {
		lo, hi = hi, lo
	}
	b.edges[edgeKey{lo, hi, l.Scope}] = l
}

// linkPerson applies the rules to adverts x and y and joins their persons
// only (rebuild): networks are recomputed apart.
func (b *batch) linkPerson(x, y uint32, changed map[uint32]struct{}) {
	s := b.s
	if s.comp[0][x] == s.comp[0][y] {
		return // one person already: no union, no evidence
	}
	l := Compare(s.profs[x], s.profs[y])
	if l.Scope == ScopePerson && s.union(0, x, y, changed, b.moved) {
		b.edge(x, y, l)
	}
}

// imageFlip is image i of advert ad, which just became stock.
type imageFlip struct {
	ad uint32
	i  uint16
}

// rebuild recomputes the persons whose links may no longer hold after
// advert ref was added: those of the adverts whose images (flips) just
// became stock or whose texts (texts) just became templates, and those
// holding a blank or a nameless advert on a contact in multi, which just
// became a multi-name contact.
//
// Marks only ever turn on, and every rule only links less under more
// marks, so a flip can only remove links, and only links with an end at
// the flipped advert (an image or text mark is read by the pairs of its
// own advert) or, for a multi-name mark, at a blank or nameless advert on
// the contact (rule (c)). Each such link lies inside one person. First,
// for an image or text flip, the pairs it can change are found (lost):
// the advert's adverts of the same person with a matching image or a
// near text, compared under the marks before and after. Only when one of
// them no longer links is the person rebuilt (a pair that links for
// another reason gets its new evidence); most flips change no link.
//
// The new persons are the components of the rules among the adverts of
// the persons to rebuild (the region) alone: re-adding the region's
// adverts one by one in ad id order, as if new, linking contact
// representatives and text near-duplicates among them, then the images
// of the adverts outside the largest component (a link between two
// components has an end outside it) against the region's images in an
// index of their own, gives them. The work is proportional to the
// persons rebuilt, not to their networks or the state.
//
// A network is the components of person links and shared contacts; it
// can split only when a person did. Only then are the networks of the
// region recomputed, from the persons and the contacts on them, without
// any image or text lookup (rebuildNetworks).
//
// Every advert whose assignment changes is added to changed.
func (b *batch) rebuild(ref uint32, flips []imageFlip, texts []uint32, multi []string, changed map[uint32]struct{}) {
	s := b.s
	region := map[uint32]struct{}{}
	oldRoots := map[uint32]struct{}{}
	addPerson := func(a uint32) {
		r := s.comp[0][a]
		if _, ok := oldRoots[r]; ok {
			return
		}
		oldRoots[r] = struct{}{}
		for _, m := range s.members[0][r] {
			region[m] = struct{}{}
		}
	}
	for _, a := range b.lost(ref, flips, texts) {
		addPerson(a)
	}
	for _, c := range multi {
		g := s.contacts[c]
		if g.blank >= 0 {
			addPerson(uint32(g.blank))
		}
		for _, r := range g.nameless {
			addPerson(r)
		}
	}
	if len(region) == 0 {
		return
	}
	ids := b.sorted(region)
	type pub [2]uint32 // smallest members: the public ids
	before := make(map[uint32]pub, len(ids))
	for _, a := range ids {
		before[a] = pub{s.minOf[0][s.comp[0][a]], s.minOf[1][s.comp[1][a]]}
	}
	s.count[0] += len(ids) - len(oldRoots)
	for _, a := range ids {
		s.resetScope(0, a)
		b.moved(0, a)
		b.wiped[0][a] = struct{}{}
	}
	for k := range b.edges {
		if _, ok := region[k.lo]; ok && k.scope == ScopePerson {
			delete(b.edges, k)
		}
	}

	groups := map[string]*contactGroup{}
	s.rgen++
	if s.rgen == 0 { // wrapped: clear the stamps
		clear(s.rmark)
		s.rgen = 1
	}
	gen := s.rgen
	keep := func(r uint32) bool { return s.rmark[r] == gen }
	scratch := map[uint32]struct{}{}
	// First the links of contacts and texts, re-adding the adverts one by
	// one in ad id order.
	for _, a := range ids {
		pa := s.profs[a]
		cands := map[uint32]struct{}{}
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
		for _, o := range b.sorted(cands) {
			b.linkPerson(a, o, scratch)
		}
		s.rmark[a] = gen
	}
	// Then the images. A link between two components has an end outside
	// the largest one, so only the adverts outside it look their images
	// up: against all the region's images, in an index of their own (the
	// state's index would return every copy of them in the state, and
	// its lookups grow with the state). Most rebuilds keep the person
	// whole, and most of it is joined by contacts and texts already.
	largest := s.comp[0][ids[0]]
	for _, a := range ids {
		if r := s.comp[0][a]; len(s.members[0][r]) > len(s.members[0][largest]) {
			largest = r
		}
	}
	if len(s.members[0][largest]) < len(ids) {
		local := &localImages{}
		var look []uint32
		for _, a := range ids {
			local.put(a, s.profs[a])
			if s.comp[0][a] != largest {
				look = append(look, a)
			}
		}
		for _, a := range look {
			local.match(s, s.profs[a], func(r uint32) bool { return s.comp[0][r] != s.comp[0][a] }, func(r uint32) { b.linkPerson(a, r, scratch) })
		}
	}
	newRoots := map[uint32]struct{}{}
	for _, a := range ids {
		newRoots[s.comp[0][a]] = struct{}{}
	}
	var net []uint32
	if len(newRoots) != len(oldRoots) {
		// A person split (persons only ever split here): its network may.
		net = b.rebuildNetworks(ids)
	}
	for _, a := range ids {
		if (pub{s.minOf[0][s.comp[0][a]], s.minOf[1][s.comp[1][a]]}) != before[a] {
			changed[a] = struct{}{}
		}
	}
	for _, a := range net {
		changed[a] = struct{}{}
	}
}

// rebuildNetworks recomputes the networks holding the adverts of region
// (whose persons were just rebuilt) from their persons and the contacts
// on their adverts: a network is the components of persons joined by a
// shared contact. It returns the adverts outside region whose network id
// changed. The work is proportional to the adverts of those networks and
// their contacts, with no lookup.
func (b *batch) rebuildNetworks(region []uint32) []uint32 {
	s := b.s
	roots := map[uint32]struct{}{}
	var all []uint32
	for _, a := range region {
		r := s.comp[1][a]
		if _, ok := roots[r]; ok {
			continue
		}
		roots[r] = struct{}{}
		all = append(all, s.members[1][r]...)
	}
	slices.Sort(all)
	old := make([]uint32, len(all)) // network minimum before
	for i, a := range all {
		old[i] = s.minOf[1][s.comp[1][a]]
	}
	for r := range roots {
		s.members[1][r] = nil
	}
	for k := range b.edges {
		if k.scope != ScopeNetwork {
			continue
		}
		if _, ok := slices.BinarySearch(all, k.lo); ok {
			delete(b.edges, k)
		}
	}
	// Each person is a network of its own…
	s.count[1] -= len(roots)
	for _, a := range all {
		p := s.comp[0][a]
		if s.members[1][p] == nil {
			s.count[1]++
			s.minOf[1][p] = s.minOf[0][p]
		}
		s.comp[1][a] = p
		s.members[1][p] = append(s.members[1][p], a)
		b.moved(1, a)
		b.wiped[1][a] = struct{}{}
	}
	// … joined by the contacts on its adverts (each contact's adverts all
	// lie in these networks).
	seen := map[string]struct{}{}
	scratch := map[uint32]struct{}{}
	for _, a := range all {
		for _, c := range s.profs[a].Contacts {
			if _, ok := seen[c]; ok {
				continue
			}
			seen[c] = struct{}{}
			g := s.contacts[c]
			l := Link{Scope: ScopeNetwork, Rule: RuleContact, Detail: "shared contact " + ShortContact(c)}
			for _, x := range g.all[1:] {
				if s.union(1, g.all[0], x, scratch, b.moved) {
					b.edge(g.all[0], x, l)
				}
			}
		}
	}
	var out []uint32
	for i, a := range all {
		if s.minOf[1][s.comp[1][a]] != old[i] {
			out = append(out, a)
		}
	}
	return out
}

// lost returns the flipped adverts (images flips, texts texts) of which a
// link with another advert of its person no longer holds. A pair that
// still links, for another reason, gets its new evidence (b.edges: a
// stored link of the pair is rewritten, else the person has one more
// true link in its evidence). The pairs are those of the flipped image's matches and the
// flipped text's near texts in the person, other than ref (the advert
// being added, linked under the new marks): each is compared with every
// mark of this advert's flips undone, then as it is.
func (b *batch) lost(ref uint32, flips []imageFlip, texts []uint32) []uint32 {
	s := b.s
	if len(flips) == 0 && len(texts) == 0 {
		return nil
	}
	pairs := map[[2]uint32]struct{}{}
	for _, f := range flips {
		a := f.ad
		p := s.profs[a]
		one := &Profile{Images: p.Images[f.i : f.i+1 : f.i+1]}
		person := s.comp[0][a]
		if b.indexed != nil {
			<-b.indexed // the index is being filed beside the adding
		}
		// The flipped image is stock now: look it up as if it were not.
		for _, m := range b.lookup(s.view(), one, func(r uint32) bool { return r != a && r != ref && s.comp[0][r] == person }, true, false) {
			pairs[[2]uint32{a, s.imgs[m.img].ad}] = struct{}{}
		}
	}
	for _, a := range texts {
		person := s.comp[0][a]
		t := s.profs[a].Text
		k := t.Sig.BandKeys()
		s.textScan(&t.Sig, &k, func(r uint32) bool { return r != a && r != ref && s.comp[0][r] == person },
			func() bool { return false }, func(r uint32, _ float64) { pairs[[2]uint32{a, r}] = struct{}{} })
	}
	if len(pairs) == 0 {
		return nil
	}
	// The links before: every flip of this advert undone.
	undo := func(on bool) {
		for _, f := range flips {
			h := &s.profs[f.ad].Images[f.i]
			h.Stock = ""
			if on {
				h.Stock = stockEvidence
			}
		}
		for _, a := range texts {
			s.profs[a].Text.Template = on
		}
	}
	before := make(map[[2]uint32]Link, len(pairs))
	undo(false)
	for pr := range pairs {
		before[pr] = Compare(s.profs[pr[0]], s.profs[pr[1]])
	}
	undo(true)
	var out []uint32
	seen := map[uint32]struct{}{}
	for pr, l := range before {
		if l.Scope != ScopePerson {
			continue
		}
		now := Compare(s.profs[pr[0]], s.profs[pr[1]])
		if now == l {
			continue
		}
		if now.Scope == ScopePerson {
			// Still one person, for another reason: the pair's evidence,
			// if it is stored, is rewritten (else it is one more true link
			// of the person).
			b.edge(pr[0], pr[1], now)
			continue
		}
		if _, ok := seen[pr[0]]; !ok {
			seen[pr[0]] = struct{}{}
			out = append(out, pr[0])
		}
	}
	slices.Sort(out)
	return out
}

// localImages is an image index over the images of a region being
// rebuilt, numbered in the order they are put; refs holds each image's
// advert and index in its profile. A region of few distinct photos is
// scanned instead (localScanMax): its images are grouped by equal hashes
// (a prolific poster's adverts repeat a few photos) and each group is
// compared once; a lookup in an index costs hundreds of probes per hash
// whatever its size, more than comparing a few hundred photos.
type localImages struct {
	x      *imageIndex // nil until a lookup needs it
	refs   []imgRef
	groups []localGroup // nil until a lookup needs them
	ps     []probe
	cand   []uint32
	hit    []uint32
}

// localGroup is the images of a region with equal hashes h (numbers
// into refs, ascending).
type localGroup struct {
	h   *ImageHash
	img []uint32
}

// localScanMax is the most distinct photos of a region that a lookup
// compares one by one rather than through an index.
const localScanMax = 256

// put enters the advert's images that are not stock (a stock image links
// no one).
func (l *localImages) put(ref uint32, p *Profile) {
	for i := range p.Images {
		if p.Images[i].Stock == "" {
			l.refs = append(l.refs, imgRef{ad: ref, i: uint16(i)})
		}
	}
}

// group sorts the images put into groups of equal hashes.
func (l *localImages) group(s *state) {
	byKey := map[uint64][]int{} // hashKey → groups
	for n, r := range l.refs {
		h := &s.profs[r.ad].Images[r.i]
		k := hashKey(h)
		at := -1
		for _, g := range byKey[k] {
			if sameHashes(l.groups[g].h, h) {
				at = g
				break
			}
		}
		if at < 0 {
			at = len(l.groups)
			l.groups = append(l.groups, localGroup{h: h})
			byKey[k] = append(byKey[k], at)
		}
		l.groups[at].img = append(l.groups[at].img, uint32(n))
	}
}

// match calls fn with the advert of every image put that matches an
// image of p that is not stock (ImagesMatch), once per image pair, in the
// order they were put, among the adverts for which want returns true (the
// others are not compared).
func (l *localImages) match(s *state, p *Profile, want func(ref uint32) bool, fn func(ref uint32)) {
	if l.groups == nil && l.x == nil {
		l.group(s)
	}
	if len(l.groups) <= localScanMax {
		for i := range p.Images {
			h := &p.Images[i]
			if h.Stock != "" {
				continue
			}
			l.hit = l.hit[:0]
			for _, g := range l.groups {
				if slices.ContainsFunc(g.img, func(n uint32) bool { return want(l.refs[n].ad) }) && ImagesMatch(h, g.h) {
					l.hit = append(l.hit, g.img...)
				}
			}
			l.callHits(want, fn)
		}
		return
	}
	if l.x == nil {
		// Merged at the production size even when a test merges the
		// state's index every few hashes: a small region is scanned.
		l.x = &imageIndex{least: 512}
		for n, r := range l.refs {
			l.x.put(&s.profs[r.ad].Images[r.i], uint32(n))
		}
	}
	for i := range p.Images {
		h := &p.Images[i]
		if h.Stock != "" {
			continue
		}
		l.cand = l.cand[:0]
		l.x.lookupReps(h, &l.ps, func(img uint32) { l.cand = append(l.cand, img) })
		slices.Sort(l.cand)
		// A representative is decided once for its copies too.
		l.hit = l.hit[:0]
		for _, img := range slices.Compact(l.cand) {
			r := l.refs[img]
			copies := l.x.copiesOf(img)
			if !want(r.ad) && !slices.ContainsFunc(copies, func(c uint32) bool { return want(l.refs[c].ad) }) {
				continue
			}
			if !ImagesMatch(h, &s.profs[r.ad].Images[r.i]) {
				continue
			}
			l.hit = append(l.hit, img)
			l.hit = append(l.hit, copies...)
		}
		l.callHits(want, fn)
	}
}

// callHits calls fn, in the order the images were put, with the advert
// of each image in l.hit that want still accepts.
func (l *localImages) callHits(want func(ref uint32) bool, fn func(ref uint32)) {
	slices.Sort(l.hit)
	for _, img := range l.hit {
		if r := l.refs[img]; want(r.ad) {
			fn(r.ad)
		}
	}
}
