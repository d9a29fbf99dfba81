package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"adcensus/ad"

	bbolt "go.etcd.io/bbolt"
)

// writer adds adverts inside one write transaction.
type writer struct {
	tx                                          *bbolt.Tx
	ads, img, contact, adcomp, comp, member, ed *bbolt.Bucket
	profiles                                    map[string]*Profile // read cache
	deltas                                      [3]int64            // ads, persons, networks
	// mem is the committed image index; pending holds this transaction's
	// additions, merged into mem only after a successful commit.
	mem     *imageIndex
	pending map[uint32][]string
}

func newWriter(tx *bbolt.Tx, mem *imageIndex) *writer {
	return &writer{
		mem:      mem,
		pending:  map[uint32][]string{},
		tx:       tx,
		ads:      tx.Bucket(bAds),
		img:      tx.Bucket(bImg),
		contact:  tx.Bucket(bContact),
		adcomp:   tx.Bucket(bAdComp),
		comp:     tx.Bucket(bComp),
		member:   tx.Bucket(bMember),
		ed:       tx.Bucket(bEdge),
		profiles: map[string]*Profile{},
	}
}

// ProfileOf extracts what the rules compare from a fingerprinted advert:
// the normalised name, the sorted unique contacts and the hashes of the
// images that have a pHash ("phash", optional "phash_mirror", 16 hex
// digits; optional robust lists "phash_centres" and "phash_shifts", taken
// only when both parse).
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
		sc, err1 := ad.ParseHashList(im.Hashes[kindCentres], 2*NumScales)
		gr, err2 := ad.ParseHashList(im.Hashes[kindShifts], 2*NumTiles)
		if err1 == nil && err2 == nil {
			h.Scales, h.Grid = sc, gr
		}
		if !slices.ContainsFunc(p.Images, h.Equal) {
			p.Images = append(p.Images, h)
		}
	}
	return p
}

func (w *writer) add(fp *ad.Fingerprinted) (ad.Assignments, bool, error) {
	id := fp.Ad.ID
	if w.ads.Get([]byte(id)) != nil {
		return ad.Assignments{}, false, nil
	}
	prof := ProfileOf(fp)
	w.profiles[id] = prof
	for _, scope := range []byte{scopeP, scopeN} {
		if err := w.newComp(scope, id); err != nil {
			return ad.Assignments{}, false, err
		}
	}
	w.deltas[0]++
	w.deltas[1]++
	w.deltas[2]++

	// Every advert that may share a photo or a contact with this one.
	cands := map[string]struct{}{}
	for _, im := range prof.Images {
		w.imageCandidates(im, cands)
	}
	delete(cands, id)

	// Stock photos (stock.go): this advert's images see the adverts with a
	// matching image, and those adverts' images see this one.
	for i := range prof.Images {
		prof.Images[i].seen(prof)
	}
	var flipped []string
	for _, other := range slices.Sorted(maps.Keys(cands)) {
		op, err := w.profile(other)
		if err != nil {
			return ad.Assignments{}, false, err
		}
		dirty, flip := false, false
		for i := range prof.Images {
			for j := range op.Images {
				x, y := &prof.Images[i], &op.Images[j]
				if !ImagesMatch(x, y) {
					continue
				}
				x.seen(op)
				ch, fl := y.seen(prof)
				dirty, flip = dirty || ch, flip || fl
			}
		}
		if dirty {
			if err := w.putProfile(other, op); err != nil {
				return ad.Assignments{}, false, err
			}
		}
		if flip {
			flipped = append(flipped, other)
		}
	}
	if err := w.putProfile(id, prof); err != nil {
		return ad.Assignments{}, false, err
	}

	for _, c := range prof.Contacts {
		w.contactCandidates(c, prof, cands)
	}
	delete(cands, id)

	changed := map[string]struct{}{id: {}}
	for _, other := range slices.Sorted(maps.Keys(cands)) {
		op, err := w.profile(other)
		if err != nil {
			return ad.Assignments{}, false, err
		}
		if err := w.link(id, prof, other, op, changed); err != nil {
			return ad.Assignments{}, false, err
		}
	}

	if err := w.index(id, prof); err != nil {
		return ad.Assignments{}, false, err
	}
	if len(flipped) > 0 {
		if err := w.rebuild(flipped, changed); err != nil {
			return ad.Assignments{}, false, err
		}
	}

	msg := ad.Assignments{Cause: id}
	for _, a := range slices.Sorted(maps.Keys(changed)) {
		as, err := assignment(w.tx, a)
		if err != nil {
			return ad.Assignments{}, false, err
		}
		msg.Changed = append(msg.Changed, as)
	}
	return msg, true, nil
}

// link applies the rules to adverts a and b and joins their components.
func (w *writer) link(a string, pa *Profile, b string, pb *Profile, changed map[string]struct{}) error {
	l := Compare(pa, pb)
	if l.Scope == "" {
		return nil
	}
	joinedP := false
	var err error
	if l.Scope == ScopePerson {
		if joinedP, err = w.union(scopeP, a, b, changed); err != nil {
			return err
		}
	}
	joinedN, err := w.union(scopeN, a, b, changed)
	if err != nil {
		return err
	}
	if joinedP || joinedN {
		return w.putEdge(a, b, l)
	}
	return nil
}

func (w *writer) putProfile(id string, p *Profile) error {
	buf, err := json.Marshal(p)
	if err != nil {
		return err
	}
	w.profiles[id] = p
	return w.ads.Put([]byte(id), buf)
}

// rebuild recomputes the persons and networks of the networks holding the
// adverts in flipped, whose images just became stock: links made through
// those images no longer hold, so components may split. A network is
// closed under every link, so recomputing its components from the rules
// over its own adverts (every pair that shares a photo or a contact) gives
// the components of the rules over all adverts. Every advert whose
// assignment changes is added to changed.
func (w *writer) rebuild(flipped []string, changed map[string]struct{}) error {
	set := map[string]struct{}{}
	for _, a := range flipped {
		if _, ok := set[a]; ok {
			continue
		}
		comp, err := compOf(w.tx, scopeN, a)
		if err != nil {
			return err
		}
		forMembers(w.tx, scopeN, comp, func(id string) { set[id] = struct{}{} })
	}
	ids := slices.Sorted(maps.Keys(set))
	before := make(map[string]ad.Assignment, len(ids))
	comps := [2]map[string]struct{}{{}, {}}
	for _, a := range ids {
		as, err := assignment(w.tx, a)
		if err != nil {
			return err
		}
		before[a] = as
		for i, scope := range []byte{scopeP, scopeN} {
			comp, err := compOf(w.tx, scope, a)
			if err != nil {
				return err
			}
			comps[i][comp] = struct{}{}
			if err := w.member.Delete(append(memberPrefix(scope, comp), a...)); err != nil {
				return err
			}
		}
	}
	for i, scope := range []byte{scopeP, scopeN} {
		for comp := range comps[i] {
			if err := w.comp.Delete(scopeKey(scope, comp)); err != nil {
				return err
			}
		}
		w.deltas[1+i] += int64(len(ids) - len(comps[i]))
	}
	for _, a := range ids {
		prefix := []byte(a + "\x00")
		var dead [][]byte
		cur := w.ed.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			dead = append(dead, slices.Clone(k))
		}
		for _, k := range dead {
			if err := w.ed.Delete(k); err != nil {
				return err
			}
		}
		for _, scope := range []byte{scopeP, scopeN} {
			if err := w.newComp(scope, a); err != nil {
				return err
			}
		}
	}
	scratch := map[string]struct{}{}
	for _, a := range ids {
		pa, err := w.profile(a)
		if err != nil {
			return err
		}
		cands := map[string]struct{}{}
		for _, im := range pa.Images {
			w.imageCandidates(im, cands)
		}
		for _, c := range pa.Contacts {
			prefix := append([]byte(c), 0)
			cur := w.contact.Cursor()
			for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
				if i := bytes.LastIndexByte(k, 0); i >= 0 {
					cands[string(k[i+1:])] = struct{}{}
				}
			}
		}
		for _, b := range slices.Sorted(maps.Keys(cands)) {
			if _, in := set[b]; !in || b >= a {
				continue
			}
			pb, err := w.profile(b)
			if err != nil {
				return err
			}
			if err := w.link(a, pa, b, pb, scratch); err != nil {
				return err
			}
		}
	}
	for _, a := range ids {
		as, err := assignment(w.tx, a)
		if err != nil {
			return err
		}
		if as != before[a] {
			changed[a] = struct{}{}
		}
	}
	return nil
}

func (w *writer) profile(id string) (*Profile, error) {
	if p, ok := w.profiles[id]; ok {
		return p, nil
	}
	v := w.ads.Get([]byte(id))
	if v == nil {
		return nil, fmt.Errorf("corrupt state: indexed advert %q missing", id)
	}
	p := &Profile{}
	if err := json.Unmarshal(v, p); err != nil {
		return nil, fmt.Errorf("advert %q: %w", id, err)
	}
	w.profiles[id] = p
	return p, nil
}

func imgKey(kind byte, b int, v uint16, id string) []byte {
	k := make([]byte, 4, 4+len(id))
	k[0], k[1] = kind, byte(b)
	binary.BigEndian.PutUint16(k[2:], v)
	return append(k, id...)
}

// imageCandidates adds to cands every advert with an image that compareImages
// may match with im (a superset; Compare decides): pHash or mirror pHash
// within MaxImageDistance of im's pHash or mirror, and, for the robust
// rule, a centred region of one within MaxRobustDistance of a centred
// region or a shifted window of the other.
func (w *writer) imageCandidates(im ImageHash, cands map[string]struct{}) {
	type query struct {
		h    uint64
		kind byte
	}
	qs := []query{{im.PHash, kindPHash}, {im.PHash, kindMirror}}
	if im.HasMirror {
		qs = append(qs, query{im.Mirror, kindPHash})
	}
	if im.robust() {
		for _, h := range im.Scales {
			qs = append(qs, query{h, kindCentre})
		}
		for _, i := range shiftScales {
			qs = append(qs, query{im.Scales[2*i], kindShifted})
		}
		for _, h := range im.Grid {
			qs = append(qs, query{h, kindCentre})
		}
	}
	add := func(id string) { cands[id] = struct{}{} }
	for _, q := range qs {
		for b := range bandCount {
			for _, v := range probes(band(q.h, b)) {
				key := bucketKey(q.kind, b, v)
				w.mem.each(key, add)
				for _, id := range w.pending[key] {
					cands[id] = struct{}{}
				}
			}
		}
	}
}

// Classes of adverts in the contact index: what rules (b) and (c) need to
// know about an advert without loading it.
const (
	classBlank    = 'b' // neither name nor images
	classNamed    = 'n' // a name
	classNameless = 'i' // images but no name
)

func classOf(p *Profile) byte {
	switch {
	case p.Name != "":
		return classNamed
	case p.Blank():
		return classBlank
	}
	return classNameless
}

// contactKey is contact, class, name and advert id, 0-separated.
func contactKey(c string, class byte, name, id string) []byte {
	k := make([]byte, 0, len(c)+len(name)+len(id)+5)
	k = append(append(k, c...), 0, class, 0)
	return append(append(append(k, name...), 0), id...)
}

// firstUnder returns the advert id of the first key with prefix, or "".
func firstUnder(cur *bbolt.Cursor, prefix []byte) string {
	k, _ := cur.Seek(prefix)
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return ""
	}
	if i := bytes.LastIndexByte(k, 0); i >= 0 {
		return string(k[i+1:])
	}
	return ""
}

// contactCandidates adds to cands, for one contact of a new advert, one
// representative of every group the rules could join it with, instead of
// every advert on the contact (a busy agency phone can carry thousands):
//
//   - all adverts on a contact are one network: the first one stands for it;
//   - all named adverts on it with the same name are one person (rule b): the
//     first of the name stands for them;
//   - once a blank advert is on it, everything on it is one person (rule c):
//     the first blank stands for it;
//   - a new blank advert joins every person on the contact: the first of
//     each name and every nameless advert with images.
//
// The components reached are exactly those the pairwise rules would join.
func (w *writer) contactCandidates(c string, prof *Profile, cands map[string]struct{}) {
	cur := w.contact.Cursor()
	base := append([]byte(c), 0)
	add := func(id string) {
		if id != "" {
			cands[id] = struct{}{}
		}
	}
	add(firstUnder(cur, base))
	add(firstUnder(cur, append(slices.Clone(base), classBlank, 0)))
	if prof.Name != "" {
		add(firstUnder(cur, contactKey(c, classNamed, prof.Name, "")))
	}
	if !prof.Blank() {
		return
	}
	named := append(slices.Clone(base), classNamed, 0)
	for k, _ := cur.Seek(named); k != nil && bytes.HasPrefix(k, named); {
		rest := k[len(named):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			break
		}
		add(string(rest[i+1:]))
		// Skip the rest of this name: seek past name + "\x00".
		next := append(append(slices.Clone(named), rest[:i]...), 1)
		k, _ = cur.Seek(next)
	}
	nameless := append(slices.Clone(base), classNameless, 0)
	for k, _ := cur.Seek(nameless); k != nil && bytes.HasPrefix(k, nameless); k, _ = cur.Next() {
		if i := bytes.LastIndexByte(k, 0); i >= 0 {
			add(string(k[i+1:]))
		}
	}
}

// index makes the advert findable by its images and contacts.
func (w *writer) index(id string, p *Profile) error {
	put := func(kind byte, h uint64) error {
		for b := range bandCount {
			if err := w.img.Put(imgKey(kind, b, band(h, b), id), nil); err != nil {
				return err
			}
			k := bucketKey(kind, b, band(h, b))
			w.pending[k] = append(w.pending[k], id)
		}
		return nil
	}
	for _, im := range p.Images {
		if err := put(kindPHash, im.PHash); err != nil {
			return err
		}
		if im.HasMirror {
			if err := put(kindMirror, im.Mirror); err != nil {
				return err
			}
		}
		if !im.robust() {
			continue
		}
		for _, h := range im.Scales {
			if err := put(kindCentre, h); err != nil {
				return err
			}
		}
		for _, h := range im.Grid {
			if err := put(kindShifted, h); err != nil {
				return err
			}
		}
	}
	class := classOf(p)
	for _, c := range p.Contacts {
		if err := w.contact.Put(contactKey(c, class, p.Name, id), nil); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) newComp(scope byte, id string) error {
	buf, err := json.Marshal(compRec{Min: id, Size: 1})
	if err != nil {
		return err
	}
	if err := w.comp.Put(scopeKey(scope, id), buf); err != nil {
		return err
	}
	if err := w.adcomp.Put(scopeKey(scope, id), []byte(id)); err != nil {
		return err
	}
	return w.member.Put(append(memberPrefix(scope, id), id...), nil)
}

// union joins the components of adverts a and b in scope. It adds to
// changed every advert whose public id changes, and reports whether two
// components were joined. The smaller component moves into the larger,
// so an advert moves O(log n) times.
func (w *writer) union(scope byte, a, b string, changed map[string]struct{}) (bool, error) {
	ca, err := compOf(w.tx, scope, a)
	if err != nil {
		return false, err
	}
	cb, err := compOf(w.tx, scope, b)
	if err != nil {
		return false, err
	}
	if ca == cb {
		return false, nil
	}
	ra, err := getComp(w.tx, scope, ca)
	if err != nil {
		return false, err
	}
	rb, err := getComp(w.tx, scope, cb)
	if err != nil {
		return false, err
	}
	// The members of the component with the larger minimum get a new id.
	renamed := cb
	if rb.Min < ra.Min {
		renamed = ca
	}
	forMembers(w.tx, scope, renamed, func(id string) { changed[id] = struct{}{} })

	keep, move, rk, rm := ca, cb, ra, rb
	if rb.Size > ra.Size || (rb.Size == ra.Size && cb < ca) {
		keep, move, rk, rm = cb, ca, rb, ra
	}
	var moved []string
	forMembers(w.tx, scope, move, func(id string) { moved = append(moved, id) })
	for _, id := range moved {
		if err := w.member.Delete(append(memberPrefix(scope, move), id...)); err != nil {
			return false, err
		}
		if err := w.member.Put(append(memberPrefix(scope, keep), id...), nil); err != nil {
			return false, err
		}
		if err := w.adcomp.Put(scopeKey(scope, id), []byte(keep)); err != nil {
			return false, err
		}
	}
	rk.Min = min(rk.Min, rm.Min)
	rk.Size += rm.Size
	buf, err := json.Marshal(rk)
	if err != nil {
		return false, err
	}
	if err := w.comp.Put(scopeKey(scope, keep), buf); err != nil {
		return false, err
	}
	if err := w.comp.Delete(scopeKey(scope, move)); err != nil {
		return false, err
	}
	if scope == scopeP {
		w.deltas[1]--
	} else {
		w.deltas[2]--
	}
	return true, nil
}

// putEdge stores the evidence of a link under both of its adverts.
func (w *writer) putEdge(x, y string, l Link) error {
	a, b := min(x, y), max(x, y)
	e := Evidence{A: a, B: b, Scope: l.Scope, Rule: l.Rule, Detail: l.Detail}
	buf, err := json.Marshal(e)
	if err != nil {
		return err
	}
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		k := []byte(pair[0] + "\x00" + pair[1] + "\x00" + l.Scope)
		if err := w.ed.Put(k, buf); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) saveCounts() error {
	meta := w.tx.Bucket(bMeta)
	for i, d := range w.deltas {
		if d == 0 {
			continue
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(getCount(meta, i)+d))
		if err := meta.Put(counterKeys[i], v[:]); err != nil {
			return err
		}
	}
	return nil
}
