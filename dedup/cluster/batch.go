package cluster

import (
	"slices"
	"strings"
	"sync"

	"adcensus/ad"
	"adcensus/internal/textsig"
)

// batch adds the adverts of one AddBatch to the in-memory state and keeps
// what the transaction must write: new and changed profiles, adverts that
// changed component, new evidence and the adverts whose evidence is
// dropped. The state changes as adverts are added, so later adverts of
// the batch see earlier ones; if the transaction fails, the Cluster
// reloads the state from the file.
type batch struct {
	s    *state
	base uint32 // refs from base on are new in this batch

	dirtyProf map[uint32]struct{}
	dirtyComp map[uint32]struct{}
	edges     map[edgeKey]Link
	// wiped holds, per scope (0 persons, 1 networks), the adverts whose
	// stored evidence of that scope is dropped (rebuild).
	wiped [2]map[uint32]struct{}
	pend  [][]pendingAssignment // per advert added, its changed assignments
	// indexed is closed when the images being filed beside the adding
	// are in the image index (run); nil when none are.
	indexed chan struct{}

	out  []ad.Assignments    // the messages, per advert added
	ids  map[string]struct{} // the batch's new ids
	last *chunkIn            // the last chunk, matched, not yet added (run)
	p    *Pending
}

// edgeKey is a link between adverts lo < hi (by ad id) in one scope.
type edgeKey struct {
	lo, hi uint32
	scope  string
}

func newBatch(s *state) *batch {
	return &batch{
		s:         s,
		base:      uint32(len(s.ids)),
		dirtyProf: map[uint32]struct{}{},
		dirtyComp: map[uint32]struct{}{},
		edges:     map[edgeKey]Link{},
		wiped:     [2]map[uint32]struct{}{{}, {}},
	}
}

// Adverts are added in chunks of chunkSize: the images of a chunk's
// adverts are looked up in parallel (run), the adverts are then added one
// by one (parallel spreads a large chunk over the cores). (chunkSize is
// a variable so tests can make batches of many chunks.)
var chunkSize = 128

// run adds the new adverts of fps but its last chunk, which it leaves
// matched in b.last: the next batch adds it beside the matching of its
// own first chunk (or flush adds it alone). prev, when set, is the batch
// before with such a last chunk; run adds it (beside matching its own
// first chunk) and then calls complete(prev), before adding anything of
// its own. b.base is set once prev is complete.
func (b *batch) run(fps []*ad.Fingerprinted, prev *batch, complete func(*batch)) {
	s := b.s
	// New adverts, first copy of each id (the ids of prev are not yet
	// in s.pos).
	var todo []*ad.Fingerprinted
	b.ids = map[string]struct{}{}
	known := make([]bool, len(fps))
	parallel(len(fps), func(i int) {
		id := fps[i].Ad.ID
		_, known[i] = s.pos[id]
		if !known[i] && prev != nil {
			_, known[i] = prev.ids[id]
		}
	})
	for i, fp := range fps {
		if known[i] {
			continue
		}
		if _, ok := b.ids[fp.Ad.ID]; ok {
			continue
		}
		b.ids[fp.Ad.ID] = struct{}{}
		todo = append(todo, fp)
	}
	b.out = make([]ad.Assignments, 0, len(todo))
	var chunks [][]*ad.Fingerprinted
	for len(todo) > 0 {
		chunks = append(chunks, todo[:min(chunkSize, len(todo))])
		todo = todo[len(chunks[len(chunks)-1]):]
	}
	// Chunk i+1's images are matched while chunk i's adverts are added
	// (step), and this batch's first chunk while prev's last is added.
	var cur *chunkIn
	if prev != nil {
		var first []*ad.Fingerprinted
		if len(chunks) > 0 {
			first = chunks[0]
		}
		cur = prev.step(prev.last, first)
		prev.last = nil
		complete(prev)
	}
	b.base = uint32(len(s.ids))
	if len(chunks) == 0 {
		return
	}
	if cur == nil {
		cur = b.newChunk(chunks[0], uint32(len(s.ids)), len(s.imgs))
		b.match(cur, nil, s.view())
	}
	for _, next := range chunks[1:] {
		cur = b.step(cur, next)
	}
	b.last = cur
}

// step adds chunk cur, matched, while the adverts fps of the next chunk
// (none when nil) are numbered and their images matched: against the
// image index, which then holds the images of the chunks before cur
// (add numbers a chunk's images; they are filed, beside the adding, just
// before the match of the chunk after), and directly against cur's and
// their own earlier adverts' images. So the lookup, the larger part of
// the work, runs on the other core beside the serial adding. The last
// chunk's images are filed when its batch is complete (finish). step
// returns the next chunk, matched (it may belong to the next batch: only
// b.s is read for it).
func (b *batch) step(cur *chunkIn, fps []*ad.Fingerprinted) *chunkIn {
	s := b.s
	var next *chunkIn
	b.indexed = nil
	matched := make(chan struct{})
	if fps != nil {
		v, upTo, indexed := s.view(), cur.first[0], make(chan struct{})
		b.indexed = indexed
		go func() {
			defer close(matched)
			s.indexPending(v, upTo)
			close(indexed)
			next = b.newChunk(fps, cur.base+uint32(len(cur.fps)), cur.first[len(cur.fps)])
			b.match(next, cur, v)
		}()
	} else {
		close(matched)
	}
	b.out = b.addChunk(cur, b.out)
	<-matched
	b.indexed = nil
	return next
}

// finish writes out the assignments of the messages, enters the new
// adverts' ids in s.pos (nothing in run reads them there: run checks a
// batch's ids first, against s.pos and the batch before's) and files the
// images still to be filed in the image index. It runs beside record.
func (b *batch) finish() {
	s, out := b.s, b.out
	var wg sync.WaitGroup
	wg.Go(func() {
		for r := b.base; r < uint32(len(s.ids)); r++ {
			s.pos[s.ids[r]] = r
		}
		s.indexPending(s.view(), len(s.imgs))
	})
	parallel(len(out), func(i int) { out[i].Changed = b.assignments(b.pend[i]) })
	wg.Wait()
}

// chunkIn is a chunk of new adverts: their profiles, their texts' band
// keys, the numbers their images will get in s.imgs (first[k] for advert
// k, first[len] the next chunk's), their flat v1 hashes and the ref of
// the first.
type chunkIn struct {
	fps   []*ad.Fingerprinted
	profs []*Profile
	keys  [][textsig.Bands]uint64
	first []int
	flat  []flatImage
	base  uint32
	found [][]match // per advert, its images' matches, in add's order
}

// newChunk parses the adverts of a chunk whose first advert gets ref base
// and whose first image gets number img.
func (b *batch) newChunk(fps []*ad.Fingerprinted, base uint32, img int) *chunkIn {
	c := &chunkIn{
		fps:   fps,
		profs: make([]*Profile, len(fps)),
		keys:  make([][textsig.Bands]uint64, len(fps)),
		first: make([]int, len(fps)+1),
		base:  base,
	}
	parallel(len(fps), func(k int) {
		c.profs[k] = ProfileOf(fps[k])
		if t := c.profs[k].Text; t != nil {
			c.keys[k] = t.Sig.BandKeys()
		}
	})
	c.first[0] = img
	for k, p := range c.profs {
		c.first[k+1] = c.first[k] + len(p.Images)
		for i := range p.Images {
			h := &p.Images[i]
			c.flat = append(c.flat, flatImage{h.PHash, h.Mirror, h})
		}
	}
	return c
}

// addChunk looks the chunk's texts up in the text index (in parallel:
// nothing changes meanwhile), then adds its adverts one by one.
func (b *batch) addChunk(c *chunkIn, out []ad.Assignments) []ad.Assignments {
	s := b.s
	texts := chunkTexts(c.profs, c.keys)
	if len(s.tprep) < len(c.fps) {
		s.tprep = make([]textPrep, chunkSize)
	}
	tprep := s.tprep[:len(c.fps)]
	defer func() {
		for k := range tprep { // keep no index lists alive
			tprep[k].lists = [textsig.Bands][]uint32{}
		}
	}()
	parallel(len(c.fps), func(k int) {
		tprep[k].prepare(s, c.profs[k], &c.keys[k], k, c.profs, c.keys, texts)
	})
	for k, fp := range c.fps {
		out = append(out, b.add(fp.Ad.ID, c.profs[k], c.found[k], &c.keys[k], &tprep[k], c.base))
	}
	return out
}

// add adds one new advert whose images match the images found (of the
// state and of the batch's earlier adverts); keys are its text's band keys.
func (b *batch) add(id string, prof *Profile, found []match, keys *[textsig.Bands]uint64, tp *textPrep, base uint32) ad.Assignments {
	s := b.s
	if !tp.interned {
		prof.Name = s.intern(prof.Name)
		for i, c := range prof.Contacts {
			prof.Contacts[i] = s.intern(c)
		}
	}
	ref := s.addAdvert(id, prof, false)
	b.dirtyProf[ref] = struct{}{}
	b.dirtyComp[ref] = struct{}{}

	// Stock photos (stock.go): this advert's images see the adverts with a
	// matching image, and those adverts' images see this one.
	for i := range prof.Images {
		prof.Images[i].seen(prof)
	}
	// found is sorted by the other advert's id, then image (chunk).
	cands := map[uint32]struct{}{}
	var flips []imageFlip // images of earlier adverts that just became stock
	for _, m := range found {
		r := s.imgs[m.img]
		op := s.profs[r.ad]
		prof.Images[m.i].seen(op)
		ch, fl := op.Images[r.i].seen(prof)
		if ch {
			b.dirtyProf[r.ad] = struct{}{}
		}
		if fl {
			flips = append(flips, imageFlip{r.ad, r.i})
		}
	}
	// A stock image links no one: only matches of two images that are
	// not stock make candidates (a stock photo recurs thousands of times).
	for _, m := range found {
		r := s.imgs[m.img]
		if prof.Images[m.i].Stock == "" && s.profs[r.ad].Images[r.i].Stock == "" {
			cands[r.ad] = struct{}{}
		}
	}
	for _, c := range prof.Contacts {
		if g := s.contacts[c]; g != nil {
			g.candidates(prof, g.multi, func(r uint32) { cands[r] = struct{}{} })
		}
	}
	texts := b.texts(ref, tp, base, cands, nil) // texts that just became templates
	delete(cands, ref)
	// A contact with a blank or nameless advert that just got its second
	// name: the persons on it are re-added under the new mark.
	multi := s.indexContacts(ref)
	s.indexImages(ref, nil) // filed when the chunk is done (run)
	if prof.Text != nil {
		tp.put(s.text, &prof.Text.Sig, keys, ref)
	}

	changed := map[uint32]struct{}{ref: {}}
	for _, other := range b.sorted(cands) {
		b.link(ref, other, changed)
	}
	if len(flips) > 0 || len(texts) > 0 || len(multi) > 0 {
		b.rebuild(ref, flips, texts, multi, changed)
	}
	// The assignments are written out when the batch is done (run), from
	// the smallest members now.
	pa := make([]pendingAssignment, 0, len(changed))
	for r := range changed {
		pa = append(pa, pendingAssignment{r, [2]uint32{s.minOf[0][s.comp[0][r]], s.minOf[1][s.comp[1][r]]}})
	}
	b.pend = append(b.pend, pa)
	return ad.Assignments{Cause: id}
}

// pendingAssignment is an advert's new assignment: the smallest members
// of its person and network, whose ids name them.
type pendingAssignment struct {
	ref uint32
	min [2]uint32
}

// assignments returns the assignments of pa sorted by ad id.
func (b *batch) assignments(pa []pendingAssignment) []ad.Assignment {
	s := b.s
	slices.SortFunc(pa, func(x, y pendingAssignment) int { return strings.Compare(s.ids[x.ref], s.ids[y.ref]) })
	out := make([]ad.Assignment, len(pa))
	// A component renamed by a join gives many adverts the same ids.
	var last [2]uint32
	var lastID [2]string
	for i, a := range pa {
		out[i].AdID = s.ids[a.ref]
		for sc, id := range [2]*string{&out[i].PersonID, &out[i].NetworkID} {
			if lastID[sc] == "" || last[sc] != a.min[sc] {
				last[sc] = a.min[sc]
				if sc == 0 {
					lastID[sc] = PersonID(s.ids[a.min[sc]])
				} else {
					lastID[sc] = NetworkID(s.ids[a.min[sc]])
				}
			}
			*id = lastID[sc]
		}
	}
	return out
}

// sorted returns the refs of set in ad id order.
func (b *batch) sorted(set map[uint32]struct{}) []uint32 {
	out := make([]uint32, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y uint32) int { return strings.Compare(b.s.ids[x], b.s.ids[y]) })
	return out
}
