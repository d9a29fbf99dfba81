package cluster

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"adcensus/ad"
	"adcensus/internal/boltfile"

	bbolt "go.etcd.io/bbolt"
)

// The state file: every bbolt call of the package is in this file. The
// file holds a log of the batches (each record what one batch changed),
// the evidence and the layout; Open loads the state by replaying the log
// (load, replay) and every batch appends its record (record, write).

// Buckets of the state file. The log holds one record per AddBatch that
// changed anything (below): the batch's new adverts, numbered in the
// order they entered the state (ref), with their profiles, then patches
// of the marks and seen sets of earlier adverts, then the new roots of
// every advert that changed component. Each commit thus appends one
// value instead of rewriting pages all over the B+trees: an earlier
// advert that matches a new one changes, and rewriting its page cost
// four times the bytes of the new adverts. Open replays the log. Edges
// are kept by ref (4 bytes big-endian), so Explain reads an advert's
// links directly. The image and contact indexes and the members of each
// component live in memory only (state.go) and are rebuilt from these
// when the file opens.
var (
	bLog  = []byte("log")  // batch number (8 bytes big-endian), piece (4) → record piece
	bEdge = []byte("edge") // ref, other ref (smaller ad id), scope byte → rule, 0, detail
	bMeta = []byte("meta") // the layout

	allBuckets = [][]byte{bLog, bEdge, bMeta}

	keyLayout = []byte("layout")
)

// storeLayout names the storage of the state (the log above), beside
// the rules' stateLayout; a file with either different is refused.
const storeLayout = "log2"

// fileLayout is the layout stored in the file.
const fileLayout = stateLayout + "+" + storeLayout

// Component scopes in edge keys.
const (
	scopeP byte = 'P'
	scopeN byte = 'N'
)

func refKey(ref uint32) []byte { return binary.BigEndian.AppendUint32(nil, ref) }

// store is the state file: a bbolt database with the buckets above.
type store struct{ db *bbolt.DB }

// openStore opens or creates the state file at path, creates its
// buckets and checks its layout (Open has the options).
func openStore(path string, scratch, readOnly bool) (*store, error) {
	db, err := boltfile.Open(path, &bbolt.Options{
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		NoSync:         scratch,
		ReadOnly:       readOnly,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster state: %w", err)
	}
	if readOnly {
		err := db.View(func(tx *bbolt.Tx) error {
			for _, name := range allBuckets {
				if tx.Bucket(name) == nil {
					return fmt.Errorf("no bucket %q: not a cluster state file", name)
				}
			}
			if v := tx.Bucket(bMeta).Get(keyLayout); string(v) != fileLayout {
				return fmt.Errorf("state has layout %q, this build uses %q: rebuild it on a writable copy", v, fileLayout)
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open cluster state: %w", err)
		}
		return &store{db}, nil
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		switch v := meta.Get(keyLayout); {
		case v == nil:
			return meta.Put(keyLayout, []byte(fileLayout))
		case string(v) != fileLayout:
			return fmt.Errorf("state has layout %q, this build uses %q: delete it and replay", v, fileLayout)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open cluster state: %w", err)
	}
	return &store{db}, nil
}

// close closes the file.
func (f *store) close() error { return f.db.Close() }

// load reads the committed state (load).
func (f *store) load() (*state, error) {
	var st *state
	err := f.db.View(func(tx *bbolt.Tx) error {
		var err error
		st, err = load(tx)
		if err != nil {
			return fmt.Errorf("load cluster state: %w", err)
		}
		return nil
	})
	return st, err
}

// write commits what one batch writes (logWrite.write) in one
// transaction.
func (f *store) write(w *logWrite) error { return f.db.Update(w.write) }

// evidence reads the links stored under the adverts of a network (their
// ad ids), in the order stored (Explain).
func (f *store) evidence(s *state, network []string) ([]Evidence, error) {
	var out []Evidence
	err := f.db.View(func(tx *bbolt.Tx) error {
		// A link is stored under one of its adverts, both in the network.
		cur := tx.Bucket(bEdge).Cursor()
		for _, m := range network {
			prefix := refKey(s.pos[m])
			for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
				rule, detail, ok := strings.Cut(string(v), "\x00")
				if len(k) != 9 || !ok {
					return fmt.Errorf("corrupt state: edge %x", k)
				}
				o := binary.BigEndian.Uint32(k[4:])
				if int(o) >= len(s.ids) {
					return fmt.Errorf("corrupt state: edge %x", k)
				}
				e := Evidence{A: s.ids[o], B: m, Scope: ScopeNetwork, Rule: rule, Detail: detail}
				if e.A > e.B {
					e.A, e.B = e.B, e.A
				}
				if k[8] == scopeP {
					e.Scope = ScopePerson
				}
				out = append(out, e)
			}
		}
		return nil
	})
	return out, err
}

// A log record is everything one AddBatch committed (record),
// stored under its batch number in the log bucket:
//
//	new adverts: count, then per advert the length and encodeProfile of
//	             its id and profile, in ref order (the refs follow those
//	             of the records before)
//	patches:     count, then per earlier advert whose marks or seen sets
//	             changed, encodePatch
//	components:  count, then per advert whose roots changed its ref, the
//	             root of its person and the root of its network
//
// all counts and numbers uvarints. Replaying the records in order (load)
// gives the committed state. An advert is thus written whole once, when
// it arrives; later changes append small patches instead of rewriting
// pages all over the file.

// load fills a fresh state from the committed file: it replays the log,
// record by record (replay).
func load(tx *bbolt.Tx) (*state, error) {
	s := newState()
	var hasComp []bool
	// A record is stored in pieces (logKey); rec gathers them.
	var rec []byte
	var pieces uint32
	flush := func() error {
		if pieces == 0 {
			return nil
		}
		if err := s.replay(rec, &hasComp); err != nil {
			return fmt.Errorf("corrupt state: log record %d: %w", s.nlog, err)
		}
		s.nlog++
		rec, pieces = rec[:0], 0
		return nil
	}
	err := tx.Bucket(bLog).ForEach(func(k, v []byte) error {
		if len(k) == 12 && binary.BigEndian.Uint64(k) == s.nlog+1 && binary.BigEndian.Uint32(k[8:]) == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(k) != 12 || binary.BigEndian.Uint64(k) != s.nlog || binary.BigEndian.Uint32(k[8:]) != pieces {
			return fmt.Errorf("corrupt state: log key %x, want record %d piece %d", k, s.nlog, pieces)
		}
		rec = append(rec, v...)
		pieces++
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, err
	}
	for ref, ok := range hasComp {
		if !ok {
			return nil, fmt.Errorf("corrupt state: advert %d has no components", ref)
		}
	}
	s.count = [2]int{}
	for sc := range 2 {
		for ref := range s.ids {
			s.members[sc][ref] = nil
		}
		for ref := range s.ids {
			r := s.comp[sc][ref]
			if s.comp[sc][r] != r {
				return nil, fmt.Errorf("corrupt state: root %q of %q is not its own root", s.ids[r], s.ids[ref])
			}
			if s.members[sc][r] == nil {
				s.count[sc]++
				s.minOf[sc][r] = uint32(ref)
			} else if s.ids[ref] < s.ids[s.minOf[sc][r]] {
				s.minOf[sc][r] = uint32(ref)
			}
			s.members[sc][r] = append(s.members[sc][r], uint32(ref))
		}
	}
	return s, nil
}

// replay applies one log record (above) to the state; hasComp
// tracks which adverts got their components.
func (s *state) replay(v []byte, hasComp *[]bool) error {
	d := &decoder{b: v}
	for range d.uvarint() {
		enc := d.bytes(d.uvarint())
		if d.err != nil {
			break
		}
		id, p, err := decodeProfile(enc, s.intern)
		if err != nil {
			return fmt.Errorf("advert %d: %w", len(s.ids), err)
		}
		if _, dup := s.pos[id]; dup {
			return fmt.Errorf("advert %d has id %q, repeated", len(s.ids), id)
		}
		if err := ad.CheckID(id); err != nil {
			return fmt.Errorf("advert %d: %w", len(s.ids), err)
		}
		ref := s.addAdvert(id, p, true)
		s.indexImages(ref, s.img)
		s.indexContacts(ref)
		s.indexText(ref, nil)
		*hasComp = append(*hasComp, false)
	}
	n := uint64(len(s.ids))
	for range d.uvarint() {
		ref := d.num()
		if d.err == nil && ref >= n {
			return fmt.Errorf("patch of advert %d of %d", ref, n)
		}
		if d.err != nil {
			break
		}
		p := s.profs[ref]
		d.patch(p, s.intern)
		if p.Text != nil && p.Text.Template {
			s.tflag[ref] |= tTemplate
		} else {
			s.tflag[ref] &^= tTemplate
		}
	}
	for range d.uvarint() {
		ref, r0, r1 := d.num(), d.num(), d.num()
		if d.err != nil {
			break
		}
		if ref >= n || r0 >= n || r1 >= n {
			return fmt.Errorf("components %d, %d of advert %d of %d", r0, r1, ref, n)
		}
		s.comp[0][ref], s.comp[1][ref] = uint32(r0), uint32(r1)
		(*hasComp)[ref] = true
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	return d.err
}

// logWrite is what one batch writes to the file: its log record (nil
// when nothing changed), the adverts whose evidence is dropped and the
// new evidence, keys in order. It is built from the state in memory when
// the batch has run (record), so the next batch may change the memory
// while this one is written.
type logWrite struct {
	nlog  uint64 // the record's number
	rec   []byte
	wiped [2][]uint32 // per scope, adverts whose evidence of it is dropped
	edges [][2][]byte // key, value
}

// record encodes the batch's log record (its profiles and patches by
// encode.go) and evidence, and takes the next record number.
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
	w := &logWrite{nlog: s.nlog, wiped: [2][]uint32{sortedRefs(b.wiped[0]), sortedRefs(b.wiped[1])}}
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
	for sc, scope := range [2]byte{scopeP, scopeN} {
		if err := wipeEdges(ed, w.wiped[sc], scope); err != nil {
			return err
		}
	}
	for _, kv := range w.edges {
		if err := ed.Put(kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// wipeEdges deletes the evidence of scope stored under the adverts refs
// (each link is stored under its later advert).
func wipeEdges(ed *bbolt.Bucket, refs []uint32, scope byte) error {
	for _, r := range refs {
		prefix := refKey(r)
		var dead [][]byte
		cur := ed.Cursor()
		for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = cur.Next() {
			if k[len(k)-1] == scope {
				dead = append(dead, slices.Clone(k))
			}
		}
		for _, k := range dead {
			if err := ed.Delete(k); err != nil {
				return err
			}
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
