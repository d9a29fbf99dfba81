package cluster

import (
	"cmp"
	"slices"
	"sync"

	"adcensus/internal/textsig"
)

// The text lookup of a chunk's adverts (rule (d) and the template
// marks): the lists of the text index each advert will scan, prepared in
// parallel before the chunk is added, and the scan, the marks and the
// filing that use them when it is added one by one.

// chunkKey is the band key of the text of a chunk's advert k.
type chunkKey struct {
	key uint64
	k   int
}

// chunkTexts returns, per band, the band keys of the chunk's texts
// sorted by key and advert.
func chunkTexts(profs []*Profile, keys [][textsig.Bands]uint64) *[textsig.Bands][]chunkKey {
	var out [textsig.Bands][]chunkKey
	var wg sync.WaitGroup
	for h := range 2 {
		wg.Go(func() {
			for b := h; b < textsig.Bands; b += 2 {
				for k, p := range profs {
					if p.Text != nil {
						out[b] = append(out[b], chunkKey{keys[k][b], k})
					}
				}
				slices.SortFunc(out[b], func(x, y chunkKey) int { return cmp.Or(cmp.Compare(x.key, y.key), cmp.Compare(x.k, y.k)) })
			}
		})
	}
	wg.Wait()
	return &out
}

// textPrep is what a chunk's advert k finds under its text's band keys
// before the chunk is added: per band the adverts in the text index and
// the chunk's earlier adverts with the same key (inner, band<<16 | k,
// in order), which add files before it. Together they are the lists
// textScan would read when the advert is added, in the same order. It
// also keeps which of them are near (their Jaccard does not change)
// when there are few, and where each key is in the index's tables, so
// add need not look them up again.
type textPrep struct {
	lists [textsig.Bands][]uint32
	one   [textsig.Bands]uint32
	inner []uint32
	// near holds, when known, the Jaccard test of the entries of lists,
	// band after band, one bit each; innerNear flags inner entries.
	near  uint64
	known bool
	slot  [textsig.Bands]int32 // -1: table empty
	size  [textsig.Bands]int32 // of the table when slot was found
	found [textsig.Bands]bool
	// interned: the name and contacts are the state's interned strings.
	interned bool
}

// innerNear flags an inner entry whose text is near.
const innerNear = 1 << 15

func (tp *textPrep) prepare(s *state, p *Profile, keys *[textsig.Bands]uint64, k int, profs []*Profile, keysOf [][textsig.Bands]uint64, texts *[textsig.Bands][]chunkKey) {
	tp.inner = tp.inner[:0]
	tp.known = false
	// Interned strings (the map is only read while the chunk prepares).
	tp.interned = true
	if v, ok := s.strs[p.Name]; ok {
		p.Name = v
	} else {
		tp.interned = false
	}
	for i, c := range p.Contacts {
		if v, ok := s.strs[c]; ok {
			p.Contacts[i] = v
		} else {
			tp.interned = false
		}
	}
	if p.Text == nil {
		return
	}
	sig := &p.Text.Sig
	x := s.text
	total := 0
	for b, key := range keys {
		tp.lists[b], tp.slot[b], tp.size[b] = nil, -1, int32(len(x.bands[b].slots))
		if len(x.bands[b].slots) > 0 {
			i, ok := x.find(b, key, sig)
			tp.slot[b], tp.found[b] = int32(i), ok
			if ok {
				if v := uint32(x.bands[b].slots[i]); v&listBit != 0 {
					tp.lists[b] = x.lists[v&^listBit]
				} else {
					tp.one[b] = v - 1
					tp.lists[b] = tp.one[b : b+1]
				}
			}
		}
		total += len(tp.lists[b])
		ks := texts[b]
		i, _ := slices.BinarySearchFunc(ks, key, func(x chunkKey, key uint64) int { return cmp.Compare(x.key, key) })
		for ; i < len(ks) && ks[i].key == key && ks[i].k < k; i++ {
			e := uint32(b)<<16 | uint32(ks[i].k)
			if sig.Jaccard(&profs[ks[i].k].Text.Sig) >= TextJaccard {
				e |= innerNear
			}
			tp.inner = append(tp.inner, e)
		}
	}
	if total <= 64 {
		tp.known, tp.near = true, 0
		n := 0
		for b := range textsig.Bands {
			for _, r := range tp.lists[b] {
				if sig.Jaccard(s.sig(r)) >= TextJaccard {
					tp.near |= 1 << n
				}
				n++
			}
		}
	}
}

// scan is textScan over the prepared lists (the chunk's first advert has
// ref base), without keep.
func (tp *textPrep) scan(s *state, sig *textsig.MinHash, base uint32, skipTemplates func() bool, fn func(ref uint32)) {
	s.tgen++
	if s.tgen == 0 { // wrapped: clear the stamps
		clear(s.tvisit)
		s.tgen = 1
	}
	// visit is textScan's test of one entry; near is its Jaccard test,
	// -1 when not prepared.
	visit := func(r uint32, near int) {
		if s.tvisit[r] == s.tgen {
			return
		}
		if s.tflag[r]&tTemplate != 0 && skipTemplates() {
			return
		}
		// Found under a shared key: near when the Jaccard is high enough.
		s.tvisit[r] = s.tgen
		if near < 0 {
			near = 0
			if sig.Jaccard(s.sig(r)) >= TextJaccard {
				near = 1
			}
		}
		if near == 1 {
			fn(r)
		}
	}
	in := tp.inner
	n := 0
	for b := range textsig.Bands {
		for _, r := range tp.lists[b] {
			near := -1
			if tp.known {
				near = int(tp.near >> n & 1)
			}
			n++
			visit(r, near)
		}
		for ; len(in) > 0 && int(in[0]>>16) == b; in = in[1:] {
			visit(base+in[0]&(innerNear-1), int(in[0]>>15&1))
		}
	}
}

// put files the advert (ref, text sig, band keys keys) in the text index
// as textIndex.put does, at the slots prepared where the tables have not
// changed since.
func (tp *textPrep) put(x *textIndex, sig *textsig.MinHash, keys *[textsig.Bands]uint64, ref uint32) {
	for b, k := range keys {
		t := &x.bands[b]
		if 4*(t.n+1) > 3*len(t.slots) {
			t.grow()
		}
		var i int
		var ok bool
		switch j := int(tp.slot[b]); {
		case j >= 0 && int(tp.size[b]) == len(t.slots) && tp.found[b]:
			// Found then: still there (slots are never emptied).
			i, ok = j, true
		case j >= 0 && int(tp.size[b]) == len(t.slots) && t.slots[j] == 0:
			// Not found then, and no key took the slot since: still
			// absent, since a key filed since would be in it.
			i = j
		default:
			i, ok = x.find(b, k, sig)
		}
		x.fileAt(b, i, ok, k, ref)
	}
}

// texts updates the template marks of a new advert's text (ref, its band
// keys' lists tp, prepared when its chunk began at ref base) and of the
// texts near it, and adds to cands the adverts rule (d)
// may link it with. It returns flipped with the adverts whose text just
// became a template appended.
//
// The new text sees every near text and every near text that is not a
// template sees it. Once the new text is a template, near texts that are
// templates have nothing to learn from it and nothing to teach it, so a
// busy band key of a template costs a pass over flags. Of the adverts rule
// (d) links it with, one per person is enough: the others are already
// joined to it.
func (b *batch) texts(ref uint32, tp *textPrep, base uint32, cands map[uint32]struct{}, flipped []uint32) []uint32 {
	s := b.s
	prof := s.profs[ref]
	t := prof.Text
	if t == nil {
		return flipped
	}
	if _, fl := t.seen(prof); fl {
		s.tflag[ref] |= tTemplate
	}
	var same []uint32 // near, with an agreeing name (NamesAgree)
	tp.scan(s, &t.Sig, base, func() bool { return t.Template }, func(r uint32) {
		op := s.profs[r]
		if _, fl := t.seen(op); fl {
			s.tflag[ref] |= tTemplate
		}
		ch, fl := op.Text.seen(prof)
		if ch {
			b.dirtyProf[r] = struct{}{}
		}
		if fl {
			s.tflag[r] |= tTemplate
			flipped = append(flipped, r)
		}
		if NamesAgree(op.Name, prof.Name) {
			same = append(same, r)
		}
	})
	if t.Template {
		return flipped
	}
	roots := map[uint32]struct{}{}
	for _, r := range same {
		if s.tflag[r]&tTemplate != 0 {
			continue
		}
		if _, ok := roots[s.comp[0][r]]; !ok {
			roots[s.comp[0][r]] = struct{}{}
			cands[r] = struct{}{}
		}
	}
	return flipped
}

// textCands adds to cands the adverts that rule (d) may link advert a
// with (a's text is no template and a has a name), among those keep
// accepts: one per person.
func (b *batch) textCands(a uint32, keys *[textsig.Bands]uint64, keep func(uint32) bool, cands map[uint32]struct{}) {
	s := b.s
	pa := s.profs[a]
	roots := map[uint32]struct{}{}
	// An advert of a person that has its candidate already is skipped
	// before its text is compared: it would add nothing (a person's
	// near-duplicate texts are one long band list each).
	s.textScan(&pa.Text.Sig, keys, func(r uint32) bool {
		if s.tflag[r]&tTemplate != 0 || keep != nil && !keep(r) {
			return false
		}
		if _, ok := roots[s.comp[0][r]]; ok {
			return false
		}
		return NamesAgree(s.profs[r].Name, pa.Name)
	}, func() bool { return true }, func(r uint32, _ float64) {
		if _, ok := roots[s.comp[0][r]]; !ok {
			roots[s.comp[0][r]] = struct{}{}
			cands[r] = struct{}{}
		}
	})
}
