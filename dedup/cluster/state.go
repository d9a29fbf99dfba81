package cluster

import (
	"adcensus/ad"
	"adcensus/internal/textsig"
)

// state is the clustering state in memory: every profile, the image and
// contact indexes and the union-find of both scopes. It mirrors the
// committed bbolt file, which holds the profiles, each advert's
// components and the evidence; Open rebuilds the indexes from them.
// Adverts are numbered (ref) in the order they entered the state.
type state struct {
	ids   []string          // ref → advert id
	pos   map[string]uint32 // advert id → ref
	profs []*Profile        // ref → profile

	// Union-find per scope (0 persons, 1 networks), with member lists: the
	// smaller component moves into the larger, so an advert moves
	// O(log n) times. A component is named by its root, one of its
	// adverts; its public id derives from its smallest ad id (minOf).
	comp    [2][]uint32   // ref → root
	members [2][][]uint32 // root → members; nil for non-roots
	minOf   [2][]uint32   // root → ref of the smallest ad id
	count   [2]int        // components

	imgs    []imgRef    // image → (advert, index in its profile)
	indexed int         // images 0 … indexed−1 are filed in img
	ihs     []uint64    // image n → pHash at 2n, mirror pHash at 2n+1
	img     *imageIndex // every image, this batch's included

	contacts map[string]*contactGroup
	strs     map[string]string // interned names and contacts

	// Texts (template.go): the LSH index, per advert its text flags, and
	// the visit stamps of a text scan.
	text   *textIndex
	tflag  []uint8
	sigs   [][]textsig.MinHash // pages of signatures by ref (sig)
	tvisit []uint32
	tgen   uint32

	// Region stamps of a rebuild (rebuild.go): ref is in the current
	// region's done set when rmark[ref] == rgen.
	rmark []uint32
	rgen  uint32

	nlog  uint64     // records in the log (the next record's key)
	tprep []textPrep // scratch of a chunk's text lookups (textprep.go)
}

type imgRef struct {
	ad uint32
	i  uint16
	fl uint16 // imgMirror, imgRobust
}

// Image flags (imgRef.fl), so a candidate image can be checked against
// the v1 rule from s.ihs without reading its profile.
const (
	imgMirror = 1 // HasMirror
	imgRobust = 2 // carries the robust hashes
)

func newState() *state {
	s := &state{
		pos:      map[string]uint32{},
		img:      newImageIndex(),
		contacts: map[string]*contactGroup{},
		strs:     map[string]string{},
	}
	s.text = newTextIndex(s.sig)
	return s
}

// Text signatures are also kept in a slab of fixed pages, by ref, so a
// lookup reads one cache line where the profile took three dependent
// reads (the profile, its text, the signature), and the garbage collector
// has nothing to scan there.
const sigPageBits = 12

// sig is the text signature of advert ref (zero when it has no text).
func (s *state) sig(ref uint32) *textsig.MinHash {
	return &s.sigs[ref>>sigPageBits][ref&(1<<sigPageBits-1)]
}

func (s *state) intern(x string) string {
	if v, ok := s.strs[x]; ok {
		return v
	}
	s.strs[x] = x
	return x
}

// addAdvert enters a new advert as its own person and network and returns
// its ref. It does not index it, and enters its id in s.pos only when pos
// is set (a batch enters its adverts' ids while it commits).
func (s *state) addAdvert(id string, p *Profile, pos bool) uint32 {
	ref := uint32(len(s.ids))
	s.ids = append(s.ids, id)
	if pos {
		s.pos[id] = ref
	}
	s.profs = append(s.profs, p)
	var fl uint8
	if p.Text != nil {
		fl = tHasText
		if p.Text.Template {
			fl |= tTemplate
		}
	}
	s.tflag = append(s.tflag, fl)
	if ref&(1<<sigPageBits-1) == 0 {
		s.sigs = append(s.sigs, make([]textsig.MinHash, 1<<sigPageBits))
	}
	if p.Text != nil {
		*s.sig(ref) = p.Text.Sig
	}
	s.tvisit = append(s.tvisit, 0)
	s.rmark = append(s.rmark, 0)
	for sc := range 2 {
		s.comp[sc] = append(s.comp[sc], ref)
		s.members[sc] = append(s.members[sc], []uint32{ref})
		s.minOf[sc] = append(s.minOf[sc], ref)
		s.count[sc]++
	}
	return ref
}

// indexImages numbers the advert's images and files them in x unless nil
// (then indexPending files them).
func (s *state) indexImages(ref uint32, x *imageIndex) {
	for i := range s.profs[ref].Images {
		n := uint32(len(s.imgs))
		h := &s.profs[ref].Images[i]
		var fl uint16
		if h.HasMirror {
			fl |= imgMirror
		}
		if h.robust() {
			fl |= imgRobust
		}
		s.imgs = append(s.imgs, imgRef{ref, uint16(i), fl})
		s.ihs = append(s.ihs, h.PHash, h.Mirror)
		if x != nil {
			x.put(h, n)
			s.indexed = len(s.imgs)
		}
	}
}

// indexPending files the images numbered but not yet in the index, up
// to image upTo, reading them through v.
func (s *state) indexPending(v *view, upTo int) {
	for n := s.indexed; n < upTo; n++ {
		r := v.imgs[n]
		s.img.put(&v.profs[r.ad].Images[r.i], uint32(n))
	}
	s.indexed = max(s.indexed, upTo)
}

// indexText files the advert's text under its band keys (nil: computed).
func (s *state) indexText(ref uint32, keys *[textsig.Bands]uint64) {
	t := s.profs[ref].Text
	if t == nil {
		return
	}
	if keys == nil {
		k := t.Sig.BandKeys()
		keys = &k
	}
	s.text.put(&t.Sig, keys, ref)
}

// indexContacts enters the advert in the contact groups and keeps the
// multi-name marks (Profile.Multi) of the adverts on them. It returns
// the contacts that carry a blank or a nameless advert and just became
// multi-name contacts: links of rule (c) through them may no longer hold.
func (s *state) indexContacts(ref uint32) (rebuild []string) {
	p := s.profs[ref]
	for _, c := range p.Contacts {
		g := s.contacts[c]
		if g == nil {
			g = &contactGroup{blank: -1, named: map[string][]namedRef{}}
			s.contacts[c] = g
		}
		switch {
		case g.add(ref, p):
			for _, r := range g.all {
				s.profs[r].setMulti(c)
			}
			if g.blank >= 0 || len(g.nameless) > 0 {
				rebuild = append(rebuild, c)
			}
		case g.multi:
			p.setMulti(c)
		}
	}
	return rebuild
}

func (s *state) assignment(ref uint32) ad.Assignment {
	return ad.Assignment{
		AdID:      s.ids[ref],
		PersonID:  PersonID(s.ids[s.minOf[0][s.comp[0][ref]]]),
		NetworkID: NetworkID(s.ids[s.minOf[1][s.comp[1][ref]]]),
	}
}

// union joins the components of a and b in scope sc. It adds to changed
// every advert whose public id changes, to moved every advert that got a
// new root, and reports whether two components were joined.
func (s *state) union(sc int, a, b uint32, changed map[uint32]struct{}, moved func(sc int, ref uint32)) bool {
	ra, rb := s.comp[sc][a], s.comp[sc][b]
	if ra == rb {
		return false
	}
	ma, mb := s.minOf[sc][ra], s.minOf[sc][rb]
	// The members of the component with the larger minimum get a new id.
	renamed, small := rb, ma
	if s.ids[mb] < s.ids[ma] {
		renamed, small = ra, mb
	}
	for _, m := range s.members[sc][renamed] {
		changed[m] = struct{}{}
	}
	keep, move := ra, rb
	if la, lb := len(s.members[sc][ra]), len(s.members[sc][rb]); lb > la || (lb == la && s.ids[rb] < s.ids[ra]) {
		keep, move = rb, ra
	}
	for _, m := range s.members[sc][move] {
		s.comp[sc][m] = keep
		moved(sc, m)
	}
	s.members[sc][keep] = append(s.members[sc][keep], s.members[sc][move]...)
	s.members[sc][move] = nil
	s.minOf[sc][keep] = small
	s.count[sc]--
	return true
}

// resetScope makes ref its own component in scope sc; the caller has
// taken its whole component apart (rebuild).
func (s *state) resetScope(sc int, ref uint32) {
	s.comp[sc][ref] = ref
	s.members[sc][ref] = append(s.members[sc][ref][:0:0], ref)
	s.minOf[sc][ref] = ref
}
