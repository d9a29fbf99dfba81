package cluster

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"adcensus/ad"
	"adcensus/internal/textsig"

	bbolt "go.etcd.io/bbolt"
)

// ProfileOf extracts what the rules compare from a fingerprinted advert:
// the normalised name, the sorted unique contacts and the hashes of the
// images that have a pHash ("phash", optional "phash_mirror", 16 hex
// digits; optional robust lists "phash_centres" and "phash_shifts", taken
// only when both parse) and the text signature ("text_minhash", taken when
// it parses; an advert without one has no text and rule (d) and the
// template marks leave it alone).
func ProfileOf(fp *ad.Fingerprinted) *Profile {
	// Control characters never belong to a name (and 0 separates the
	// contact index's keys).
	p := &Profile{Name: strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, fp.Name)), " ")}
	contacts := fp.Contacts
	if len(contacts) == 0 {
		contacts = fp.Ad.Contacts
	}
	p.Contacts = slices.Compact(slices.Sorted(slices.Values(contacts)))
	p.Contacts = slices.DeleteFunc(p.Contacts, func(c string) bool {
		return c == "" || strings.IndexByte(c, 0) >= 0
	})
	if fp.TextMinHash != "" {
		if sig, err := textsig.Parse(fp.TextMinHash); err == nil {
			p.Text = &TextSig{Sig: sig}
		}
	}
	for _, im := range fp.Images {
		if im.Err != "" {
			continue
		}
		ph, err := strconv.ParseUint(im.Hashes["phash"], 16, 64)
		if err != nil {
			continue
		}
		h := ImageHash{PHash: ph}
		if m, err := strconv.ParseUint(im.Hashes["phash_mirror"], 16, 64); err == nil {
			h.Mirror, h.HasMirror = m, true
		}
		if cs, gs := im.Hashes[kindCentres], im.Hashes[kindShifts]; cs != "" && gs != "" {
			sc, err1 := ad.ParseHashList(cs, 2*NumScales)
			gr, err2 := ad.ParseHashList(gs, 2*NumTiles)
			if err1 == nil && err2 == nil {
				h.Scales, h.Grid = sc, gr
			}
		}
		if !slices.ContainsFunc(p.Images, h.Equal) {
			p.Images = append(p.Images, h)
		}
	}
	return p
}

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
	wiped     map[uint32]struct{}
	pend      [][]pendingAssignment // per advert added, its changed assignments
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

// match is an image i of a new advert matching image img of the state.
type match struct {
	i   uint16
	img uint32
}

func newBatch(s *state) *batch {
	return &batch{
		s:         s,
		base:      uint32(len(s.ids)),
		dirtyProf: map[uint32]struct{}{},
		dirtyComp: map[uint32]struct{}{},
		edges:     map[edgeKey]Link{},
		wiped:     map[uint32]struct{}{},
	}
}

// Adverts are added in chunks of chunkSize: the images of a chunk's
// adverts are looked up in parallel (run), the adverts are then added one
// by one. parallelMin is the smallest chunk spread over cores.
// (chunkSize is a variable so tests can make batches of many chunks.)
var chunkSize = 128

const parallelMin = 64

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

// flatImage is one of a chunk's images for direct comparison.
type flatImage struct {
	ph, mh uint64
	h      *ImageHash
}

// match reports whether images x and y match (ImagesMatch).
func (f *flatImage) match(x *ImageHash) bool {
	if x.robust() && f.h.robust() {
		return ImagesMatch(x, f.h)
	}
	d := Hamming(x.PHash, f.ph)
	if x.HasMirror {
		d = min(d, Hamming(x.Mirror, f.ph))
	}
	if f.h.HasMirror {
		d = min(d, Hamming(x.PHash, f.mh))
	}
	return d <= MaxImageDistance
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

// match finds the matches of chunk c's images, in parallel: in the image
// index (its images up to the chunk before c, through view v), among the
// images of prev, the chunk before c when it is not in the index, and
// among c's earlier adverts; then puts them in the order add takes them.
// It reads only what adding prev's adverts leaves alone.
func (b *batch) match(c, prev *chunkIn, v *view) {
	c.found = make([][]match, len(c.fps))
	inIndex := c.first[0]
	if prev != nil {
		inIndex = prev.first[0]
	}
	// The advert and image index (in its profile) of image img.
	imageOf := func(img uint32) (string, uint16) {
		if int(img) < inIndex {
			r := v.imgs[img]
			return v.ids[r.ad], r.i
		}
		ch := c
		if int(img) < c.first[0] {
			ch = prev
		}
		j, _ := slices.BinarySearch(ch.first, int(img)+1)
		return ch.fps[j-1].Ad.ID, uint16(int(img) - ch.first[j-1])
	}
	parallel(len(c.fps), func(k int) {
		p := c.profs[k]
		found := b.lookup(v, p, nil, false)
		for i := range p.Images {
			x := &p.Images[i]
			if prev != nil {
				for y := range prev.flat {
					if prev.flat[y].match(x) {
						found = append(found, match{uint16(i), uint32(prev.first[0] + y)})
					}
				}
			}
			for y := range c.first[k] - c.first[0] {
				if c.flat[y].match(x) {
					found = append(found, match{uint16(i), uint32(c.first[0] + y)})
				}
			}
		}
		slices.SortFunc(found, func(x, y match) int {
			ax, ix := imageOf(x.img)
			ay, iy := imageOf(y.img)
			return cmp.Or(strings.Compare(ax, ay), cmp.Compare(x.i, y.i), cmp.Compare(ix, iy)) // ids are unique
		})
		c.found[k] = found
	})
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

// parallel calls fn(0) … fn(n−1), spread over the cores for large n.
// The workers take the next few k as they go, so one left with the
// costlier adverts does not keep the others waiting (the lookups of a
// chunk run beside the adding: a core left idle at the end of one is
// lost).
func parallel(n int, fn func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n/parallelMin)
	if workers <= 1 {
		for k := range n {
			fn(k)
		}
		return
	}
	step := int64(max(1, n/(workers*32)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				lo := int(next.Add(step) - step)
				if lo >= n {
					return
				}
				for k := lo; k < min(n, lo+int(step)); k++ {
					fn(k)
				}
			}
		})
	}
	wg.Wait()
}

// view is what a lookup reads of the state, so that a lookup can run
// while adverts are added (appending to these).
type view struct {
	imgs  []imgRef
	ihs   []uint64
	profs []*Profile
	ids   []string
}

func (s *state) view() *view { return &view{s.imgs, s.ihs, s.profs, s.ids} }

// v1Distance is ImageDistance between h and image n, from v.ihs.
func (v *view) v1Distance(h *ImageHash, n uint32) int {
	fl := v.imgs[n].fl
	p, m := v.ihs[2*n], v.ihs[2*n+1]
	d := Hamming(h.PHash, p)
	if h.HasMirror {
		d = min(d, Hamming(h.Mirror, p))
	}
	if fl&imgMirror != 0 {
		d = min(d, Hamming(h.PHash, m))
	}
	return d
}

// lookup returns the images of p that match images in the state's index,
// each (image of p, image of the state) pair once, and, when unindexed is
// set, the images numbered but not yet filed in the index (the chunk
// being added). keep, when set, filters the adverts considered.
func (b *batch) lookup(v *view, p *Profile, keep func(ad uint32) bool, unindexed bool) []match {
	var out []match
	sc := scratchPool.Get().(*lookupScratch)
	defer scratchPool.Put(sc)
	cand := sc.cand[:0]
	defer func() { sc.cand = cand }()
	for i := range p.Images {
		h := &p.Images[i]
		robust := h.robust()
		cand = cand[:0]
		b.s.img.lookup(h, &sc.ps, func(img uint32) { cand = append(cand, img) })
		slices.Sort(cand)
		cand = slices.Compact(cand)
		if unindexed {
			for img := b.s.indexed; img < len(v.imgs); img++ {
				cand = append(cand, uint32(img))
			}
		}
		for _, img := range cand {
			r := v.imgs[img]
			if keep != nil && !keep(r.ad) {
				continue
			}
			// ImagesMatch, without reading the other profile when the v1
			// rule applies (either image lacks the robust hashes).
			var ok bool
			if robust && r.fl&imgRobust != 0 {
				ok = ImagesMatch(h, &v.profs[r.ad].Images[r.i])
			} else {
				ok = v.v1Distance(h, img) <= MaxImageDistance
			}
			if ok {
				out = append(out, match{uint16(i), img})
			}
		}
	}
	return out
}

// lookupScratch is the scratch space of one lookup, kept between lookups
// (a lookup gathers a few hundred probes and candidates; allocating them
// afresh for every advert was a fifth of all allocation).
type lookupScratch struct {
	ps   []probe
	cand []uint32
}

var scratchPool = sync.Pool{New: func() any { return new(lookupScratch) }}

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
	var flipped []uint32
	for _, m := range found {
		r := s.imgs[m.img]
		op := s.profs[r.ad]
		prof.Images[m.i].seen(op)
		ch, fl := op.Images[r.i].seen(prof)
		if ch {
			b.dirtyProf[r.ad] = struct{}{}
		}
		if fl {
			flipped = append(flipped, r.ad)
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
	flipped = b.texts(ref, tp, base, cands, flipped)
	delete(cands, ref)
	if s.indexContacts(ref) {
		// A contact with a blank advert just got its second name: the
		// networks on it are re-added under the new mark (the new advert
		// is linked to the contact's first advert below, so one network
		// holds them all).
		flipped = append(flipped, ref)
	}
	s.indexImages(ref, nil) // filed when the chunk is done (run)
	if prof.Text != nil {
		tp.put(s.text, &prof.Text.Sig, keys, ref)
	}

	changed := map[uint32]struct{}{ref: {}}
	for _, other := range b.sorted(cands) {
		b.link(ref, other, changed)
	}
	if len(flipped) > 0 {
		b.rebuild(flipped, changed)
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
	s.textScan(&pa.Text.Sig, keys, func(r uint32) bool {
		return s.tflag[r]&tTemplate == 0 && NamesAgree(s.profs[r].Name, pa.Name) && (keep == nil || keep(r))
	}, func() bool { return true }, func(r uint32, _ float64) {
		if _, ok := roots[s.comp[0][r]]; !ok {
			roots[s.comp[0][r]] = struct{}{}
			cands[r] = struct{}{}
		}
	})
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

// logWrite is what one batch writes to the file: its log record (nil
// when nothing changed), the adverts whose evidence is dropped and the
// new evidence, keys in order. It is built from the state in memory when
// the batch has run (record), so the next batch may change the memory
// while this one is written.
type logWrite struct {
	nlog  uint64 // the record's number
	rec   []byte
	wiped []uint32
	edges [][2][]byte // key, value
}

// record encodes the batch's log record and evidence (encode.go) and
// takes the next record number.
func (b *batch) record() *logWrite {
	s := b.s
	// New adverts are whole profiles, earlier ones patches, encoded in
	// parallel, then gathered into the record.
	dirty := sortedRefs(b.dirtyProf)
	enc := make([][]byte, len(dirty))
	parallel(len(dirty), func(k int) {
		r := dirty[k]
		p := s.profs[r]
		if r < b.base {
			enc[k] = encodePatch(make([]byte, 0, 64), r, p)
			return
		}
		// Room for a profile with a text and v1 images, so the encoding
		// rarely reallocates.
		enc[k] = encodeProfile(make([]byte, 0, 384+160*len(p.Images)), s.ids[r], p)
	})
	comps := sortedRefs(b.dirtyComp)
	w := &logWrite{nlog: s.nlog, wiped: sortedRefs(b.wiped)}
	if len(dirty) > 0 || len(comps) > 0 {
		old, _ := slices.BinarySearch(dirty, b.base)
		size := 3*binary.MaxVarintLen32 + 3*binary.MaxVarintLen32*len(comps)
		for _, e := range enc {
			size += binary.MaxVarintLen32 + len(e)
		}
		rec := make([]byte, 0, size)
		rec = binary.AppendUvarint(rec, uint64(len(dirty)-old))
		for _, e := range enc[old:] {
			rec = append(binary.AppendUvarint(rec, uint64(len(e))), e...)
		}
		rec = binary.AppendUvarint(rec, uint64(old))
		for _, e := range enc[:old] {
			rec = append(rec, e...)
		}
		rec = binary.AppendUvarint(rec, uint64(len(comps)))
		for _, r := range comps {
			rec = binary.AppendUvarint(rec, uint64(r))
			rec = binary.AppendUvarint(rec, uint64(s.comp[0][r]))
			rec = binary.AppendUvarint(rec, uint64(s.comp[1][r]))
		}
		w.rec = rec
		s.nlog++ // a failed commit reloads the state
	}
	keys := make([]edgeKey, 0, len(b.edges))
	for k := range b.edges {
		keys = append(keys, k)
	}
	// Under the later advert (ref), which is mostly this batch's.
	slices.SortFunc(keys, func(x, y edgeKey) int {
		return cmp.Or(cmp.Compare(max(x.lo, x.hi), max(y.lo, y.hi)), cmp.Compare(min(x.lo, x.hi), min(y.lo, y.hi)), strings.Compare(x.scope, y.scope))
	})
	w.edges = make([][2][]byte, len(keys))
	for i, k := range keys {
		l := b.edges[k]
		scope := scopeN
		if k.scope == ScopePerson {
			scope = scopeP
		}
		key := binary.BigEndian.AppendUint32(refKey(max(k.lo, k.hi)), min(k.lo, k.hi))
		w.edges[i] = [2][]byte{append(key, scope), []byte(l.Rule + "\x00" + l.Detail)}
	}
	return w
}

// commitHook, when set (tests), is called in each commit's transaction
// before it writes; an error fails the commit.
var commitHook func(nlog uint64) error

// write writes the batch in the transaction: it reads nothing of the
// state in memory.
func (w *logWrite) write(tx *bbolt.Tx) error {
	if commitHook != nil {
		if err := commitHook(w.nlog); err != nil {
			return err
		}
	}
	log := tx.Bucket(bLog)
	rec := w.rec
	for i := uint32(0); len(rec) > 0; i++ {
		n := min(len(rec), logPiece)
		if err := log.Put(logKey(w.nlog, i), rec[:n]); err != nil {
			return err
		}
		rec = rec[n:]
	}
	ed := tx.Bucket(bEdge)
	for _, r := range w.wiped {
		prefix := refKey(r)
		var dead [][]byte
		cur := ed.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			dead = append(dead, slices.Clone(k))
		}
		for _, k := range dead {
			if err := ed.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, kv := range w.edges {
		if err := ed.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// A log record is stored in pieces of at most logPiece bytes under
// logKey(record, piece): bbolt never splits a leaf of four entries or
// fewer, so a record stored whole (≈ 0.5 MB per 1,000 adverts) was
// rewritten with the next ones, five times the bytes of the old layout;
// two pieces fit a 4 KiB page, and a commit rewrites at most the last.
const logPiece = 1984

func logKey(record uint64, piece uint32) []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, record), piece)
}

func sortedRefs(set map[uint32]struct{}) []uint32 {
	out := make([]uint32, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
