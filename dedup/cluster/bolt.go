// Package bolt is the cluster stage of adcensus de-duplication, with its
// state in a bbolt file: it groups fingerprinted adverts into persons and
// networks by the rules in rule.go (docs/DEDUP.md), keeps the evidence of
// every link, and answers which person and network an advert belongs to.
//
// The state is a projection of the fingerprint stream: delete the file and
// replay the stream, in any order, to get the same assignments back.
// It is held in memory (state.go), loaded when the file opens, and every
// batch writes what it changed in one bbolt transaction. Batches run in
// memory one after another, in call order; a batch's commit may overlap
// the next batch's work in memory (Begin), and readers see committed
// state only.
package cluster

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"adcensus/ad"

	bbolt "go.etcd.io/bbolt"
)

// Errors returned by Cluster methods.
var (
	ErrNotFound  = errors.New("advert not found")
	ErrInvalidID = errors.New("invalid advert id")
)

// MaxIDLen is the longest advert id the cluster stores.
const MaxIDLen = 1024

// Buckets of the state file. The log holds one record per AddBatch that
// changed anything (encode.go): the batch's new adverts, numbered in the
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

// Evidence is one link between two adverts and why it was made. Only links
// that joined two components are kept, so the evidence of a person or a
// network is a spanning tree of it.
type Evidence struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Scope  string `json:"scope"` // ScopePerson or ScopeNetwork
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// Explanation is an advert's place in the clusters with the evidence.
type Explanation struct {
	AdID      string     `json:"ad_id"`
	PersonID  string     `json:"person_id"`
	NetworkID string     `json:"network_id"`
	Person    []string   `json:"person"`   // ad ids of the person, sorted
	Network   []string   `json:"network"`  // ad ids of the network, sorted
	Evidence  []Evidence `json:"evidence"` // links within the network, sorted
	// Stock lists the images of the network's adverts that are stock
	// photos and so link no one: "ad-1 image 0: image is stock: …".
	Stock []string `json:"stock,omitempty"`
	// Templates lists the adverts of the network whose text is a shared
	// template and so links no one: "ad-1 text: text is a template: …".
	Templates []string `json:"templates,omitempty"`
	// Shared lists the network's multi-name contacts, on which a blank
	// advert is tied to no one person: "tel:ab12cd34…: used with 2 or
	// more names".
	Shared []string `json:"shared,omitempty"`
}

// PersonID is the public id of a person whose smallest ad id is minAdID.
func PersonID(minAdID string) string { return "P" + shortHash(minAdID) }

// NetworkID is the public id of a network whose smallest ad id is minAdID.
func NetworkID(minAdID string) string { return "N" + shortHash(minAdID) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// Cluster is the clustering state: in memory (state.go) for speed, in one
// bbolt file for durability. Every batch is one bbolt transaction
// (fsynced on commit), committed in the order the batches ran; the
// memory is ahead of the file only while batches are in flight (begun,
// not yet committed), and is reloaded from the file when a transaction
// fails.
type Cluster struct {
	db *bbolt.DB

	// mu is held by a batch's work in memory and by readers; cond (on
	// mu) is broadcast when inflight, failed or readers change.
	mu   sync.Mutex
	cond sync.Cond
	st   *state
	// inflight counts batches begun whose commit has not ended; last is
	// the latest of them, whose commit the next batch's waits for.
	inflight int
	last     *Pending
	// tail is the batch whose last chunk is not yet added (batch.run):
	// the next Begin adds it, or flushTail.
	tail *batch
	// failed is set when a commit failed while batches were in flight:
	// the memory holds their work, so it reloads when the last ends.
	failed error
	// readers counts readers waiting for the batches in flight to
	// commit; Begin waits for them, so they are not starved.
	readers int
	broken  error // set when the state could not be reloaded
}

// Open opens or creates the state file at path and loads it.
//
// bbolt options: the freelist is not written on commit (NoFreelistSync)
// but rebuilt by a scan when the file opens, and kept as a hash map
// (FreelistMapType); with a large file a synced array freelist made every
// commit rewrite it. Commits stay fsynced: the cluster stage acknowledges
// fingerprints only after AddBatch returns, so a crash loses no committed
// batch. (NoSync would be safe only because the state is a projection
// that a replay of the stream rebuilds; it is not used.)
func Open(path string) (*Cluster, error) { return open(path, false) }

// OpenScratch opens a state for one offline run whose file is removed
// afterwards (dedup.Offline): as Open, but commits are not fsynced
// (bbolt NoSync). A crash loses nothing that a rerun does not redo; the
// streaming cluster stage, whose commits must survive one, uses Open.
func OpenScratch(path string) (*Cluster, error) { return open(path, true) }

func open(path string, scratch bool) (*Cluster, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:        5 * time.Second,
		NoFreelistSync: true,
		FreelistType:   bbolt.FreelistMapType,
		NoSync:         scratch,
	})
	if err != nil {
		return nil, fmt.Errorf("open cluster state: %w", err)
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
	c := &Cluster{db: db}
	c.cond.L = &c.mu
	if err := c.reload(); err != nil {
		db.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) reload() error {
	return c.db.View(func(tx *bbolt.Tx) error {
		st, err := load(tx)
		if err != nil {
			return fmt.Errorf("load cluster state: %w", err)
		}
		c.st = st
		return nil
	})
}

// Close waits for the batches in flight to commit and closes the state
// file.
func (c *Cluster) Close() error {
	c.mu.Lock()
	// A Begin of another goroutine may leave a new tail while this waits.
	for c.flushTail(); c.inflight > 0; c.flushTail() {
		c.cond.Wait()
	}
	c.mu.Unlock()
	return c.db.Close()
}

// lockCommitted locks c.mu once no batch is in flight, so a reader sees
// committed state.
func (c *Cluster) lockCommitted() {
	c.mu.Lock()
	c.flushTail()
	if c.inflight == 0 {
		return
	}
	c.readers++
	for c.inflight > 0 {
		c.cond.Wait()
	}
	c.readers--
	if c.readers == 0 {
		c.cond.Broadcast() // Begin may wait for readers
	}
}

// ValidID reports whether the cluster can store an advert id: not empty, at
// most MaxIDLen bytes, no 0 byte.
func ValidID(id string) bool {
	return id != "" && len(id) <= MaxIDLen && strings.IndexByte(id, 0) < 0
}

// AddBatch adds fingerprinted adverts in one transaction and returns, for
// each advert not seen before, the assignments it changed: Cause is its id,
// Changed the new assignment of every advert whose person or network id
// changed (itself included), sorted by ad id. An advert id already in the
// state is skipped, so redelivery never double-counts. A nil fingerprint or
// an invalid id (empty, longer than MaxIDLen, holding a 0 byte) fails the
// whole batch with ErrInvalidID before anything is written. It returns
// when the batch is durable (Begin, then Wait).
func (c *Cluster) AddBatch(fps []*ad.Fingerprinted) ([]ad.Assignments, error) {
	p, err := c.Begin(fps)
	if err != nil {
		return nil, err
	}
	return p.Wait()
}

// Pending is a batch begun and maybe not yet durable.
type Pending struct {
	c    *Cluster
	prev *Pending // the batch begun before, in flight then
	out  []ad.Assignments
	done chan struct{} // closed when the commit has ended
	err  error
}

// Begin is the first half of AddBatch: it checks the batch and adds it
// to the state in memory, all but its last chunk of adverts (batch.run).
// The next Begin adds that chunk while it matches its own first chunk's
// images, then starts this batch's commit, which follows the commits of
// the batches begun before, and goes on with its own adverts while this
// one commits (fsyncs). Wait (or a reader, or Close) adds the last chunk
// itself when no Begin came after. Wait returns what AddBatch would.
// Batches run in memory strictly in call order, so the results are those
// of one AddBatch after another. A batch begun after one whose commit
// fails, while that one is in flight, fails too (it was built on the
// failed one's state), and the state is reloaded from the file once no
// batch is in flight. The fingerprints (not the slice fps) are read until
// the batch is complete: callers must not change them before Wait.
// Readers (Assignment, All, Explain, …) wait until no batch is in flight.
func (c *Cluster) Begin(fps []*ad.Fingerprinted) (*Pending, error) {
	for i, fp := range fps {
		if fp == nil {
			return nil, fmt.Errorf("%w: fingerprint %d is nil", ErrInvalidID, i)
		}
		if !ValidID(fp.Ad.ID) {
			return nil, fmt.Errorf("%w: fingerprint %d", ErrInvalidID, i)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// After a failed commit, wait for the reload rather than build on
	// the failed batch's state. The reload waits for every batch in
	// flight, the tail too, so the tail is added here; a Begin of another
	// goroutine may leave a new one while this waits.
	for {
		if c.failed != nil {
			c.flushTail()
		}
		if c.readers == 0 && c.failed == nil {
			break
		}
		c.cond.Wait()
	}
	if c.broken != nil {
		return nil, c.broken
	}
	// The batch's last chunk is added by the next Begin, beside the
	// matching of that batch's first chunk, or by flushTail.
	b := newBatch(c.st)
	b.p = &Pending{c: c, prev: c.last, done: make(chan struct{})}
	c.last = b.p
	c.inflight++
	prev := c.tail
	c.tail = nil
	b.run(fps, prev, c.complete)
	if b.last != nil {
		c.tail = b
	} else {
		c.complete(b)
	}
	return b.p, nil
}

// complete finishes batch b, whose adverts are all added, and starts its
// commit. c.mu is held.
func (c *Cluster) complete(b *batch) {
	// The messages are written out while the record is encoded.
	var wg sync.WaitGroup
	wg.Go(b.finish)
	w := b.record()
	wg.Wait()
	b.p.out = b.out
	go b.p.commit(w)
}

// flushTail adds the last chunk of the tail batch, if any, alone, and
// completes it. c.mu is held.
func (c *Cluster) flushTail() {
	if b := c.tail; b != nil {
		c.tail = nil
		b.step(b.last, nil)
		b.last = nil
		c.complete(b)
	}
}

// commit writes the batch after the batch before it has committed.
func (p *Pending) commit(w *logWrite) {
	c := p.c
	var err error
	if p.prev != nil {
		<-p.prev.done
		if p.prev.err != nil {
			err = fmt.Errorf("not committed: an earlier batch failed: %w", p.prev.err)
		}
	}
	if err == nil {
		err = c.db.Update(w.write)
	}
	c.mu.Lock()
	c.inflight--
	if c.last == p {
		c.last = nil
	}
	if err != nil && c.failed == nil {
		c.failed = err
	}
	if c.inflight == 0 && c.failed != nil {
		if lerr := c.reload(); lerr != nil {
			c.broken = fmt.Errorf("cluster state unusable after a failed commit (%v): %w", c.failed, lerr)
		}
		c.failed = nil
	}
	p.err = err
	p.prev = nil
	c.cond.Broadcast()
	c.mu.Unlock()
	close(p.done)
}

// Wait returns once the batch is durable (or failed) with what AddBatch
// returns.
func (p *Pending) Wait() ([]ad.Assignments, error) {
	c := p.c
	c.mu.Lock()
	if c.tail != nil && c.tail.p == p {
		c.flushTail()
	}
	c.mu.Unlock()
	<-p.done
	if p.err != nil {
		return nil, p.err
	}
	return p.out, nil
}

// Assignment returns the person and network of one advert, ok=false when
// the advert is unknown.
func (c *Cluster) Assignment(adID string) (as ad.Assignment, ok bool, err error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, ok, err := c.lookup(adID)
	if !ok {
		return as, false, err
	}
	return c.st.assignment(ref), true, nil
}

// lookup returns the ref of an advert, ok=false when the state is unusable
// (err) or the advert unknown (err nil). c.mu must be held.
func (c *Cluster) lookup(adID string) (ref uint32, ok bool, err error) {
	if c.broken != nil {
		return 0, false, c.broken
	}
	ref, ok = c.st.pos[adID]
	return ref, ok, nil
}

// mustLookup is lookup with an unknown advert as ErrNotFound.
func (c *Cluster) mustLookup(adID string) (uint32, error) {
	ref, ok, err := c.lookup(adID)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %q", ErrNotFound, adID)
	}
	return ref, err
}

// allChunk is the number of adverts All reads at a time.
const allChunk = 1000

// All calls fn with the assignment of every advert, sorted by ad id, and
// stops at the first error fn returns. fn may call other Cluster methods;
// adverts added meanwhile are not visited.
func (c *Cluster) All(fn func(ad.Assignment) error) error {
	c.lockCommitted()
	if c.broken != nil {
		c.mu.Unlock()
		return c.broken
	}
	refs := make([]uint32, len(c.st.ids))
	for i := range refs {
		refs[i] = uint32(i)
	}
	ids := c.st.ids
	c.mu.Unlock()
	slices.SortFunc(refs, func(x, y uint32) int { return strings.Compare(ids[x], ids[y]) })
	for len(refs) > 0 {
		chunk := refs[:min(allChunk, len(refs))]
		refs = refs[len(chunk):]
		batch := make([]ad.Assignment, 0, len(chunk))
		c.lockCommitted()
		for _, r := range chunk {
			batch = append(batch, c.st.assignment(r))
		}
		c.mu.Unlock()
		for _, as := range batch {
			if err := fn(as); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats returns the numbers of adverts, persons and networks.
func (c *Cluster) Stats() (ads, persons, networks int, err error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	if c.broken != nil {
		return 0, 0, 0, c.broken
	}
	return len(c.st.ids), c.st.count[0], c.st.count[1], nil
}

// PersonsWithoutContactOrPhoto returns the number of persons none of
// whose adverts has a contact or an image fingerprint. Only a
// near-duplicate text with the same name can have joined their adverts
// (an advert with no name either is always a person of its own), so they
// are the least certain part of the person count: each may be a person,
// or a fragment of one counted elsewhere. The count of persons thus lies
// between Stats' persons minus this number and Stats' persons.
func (c *Cluster) PersonsWithoutContactOrPhoto() (int, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	if c.broken != nil {
		return 0, c.broken
	}
	s := c.st
	attributed := make([]bool, len(s.profs)) // by root
	for r, p := range s.profs {
		if len(p.Contacts) > 0 || len(p.Images) > 0 {
			attributed[s.comp[0][r]] = true
		}
	}
	n := 0
	for r := range s.profs {
		if s.comp[0][r] == uint32(r) && !attributed[r] {
			n++
		}
	}
	return n, nil
}

// Explain returns the person and network of an advert, their members and
// the evidence linking them, or ErrNotFound.
func (c *Cluster) Explain(adID string) (*Explanation, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, err := c.mustLookup(adID)
	if err != nil {
		return nil, err
	}
	s := c.st
	as := s.assignment(ref)
	ex := &Explanation{AdID: adID, PersonID: as.PersonID, NetworkID: as.NetworkID}
	for sc, dst := range []*[]string{&ex.Person, &ex.Network} {
		for _, m := range s.members[sc][s.comp[sc][ref]] {
			*dst = append(*dst, s.ids[m])
		}
		slices.Sort(*dst)
	}
	for _, m := range ex.Network {
		for i, im := range s.profs[s.pos[m]].Images {
			if im.Stock != "" {
				ex.Stock = append(ex.Stock, fmt.Sprintf("%s image %d: %s", m, i, im.Stock))
			}
		}
		if t := s.profs[s.pos[m]].Text; t != nil && t.Template {
			ex.Templates = append(ex.Templates, m+" text: "+templateEvidence)
		}
		for _, c := range s.profs[s.pos[m]].Multi {
			ex.Shared = append(ex.Shared, fmt.Sprintf("%s: used with %d or more names, so a blank advert on it is tied to no one person", ShortContact(c), MultiNameMin))
		}
	}
	slices.Sort(ex.Shared)
	ex.Shared = slices.Compact(ex.Shared)
	err = c.db.View(func(tx *bbolt.Tx) error {
		// A link is stored under one of its adverts, both in the network.
		cur := tx.Bucket(bEdge).Cursor()
		for _, m := range ex.Network {
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
				ex.Evidence = append(ex.Evidence, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ex.Evidence, func(x, y Evidence) int {
		return strings.Compare(x.A+"\x00"+x.B+"\x00"+x.Scope, y.A+"\x00"+y.B+"\x00"+y.Scope)
	})
	return ex, nil
}

// NetworkAssignments returns the current assignments of every advert in the
// network of adID, sorted by ad id (ErrNotFound for an unknown advert).
// The cluster stage republishes them when a redelivered advert finds its
// state already committed, so assignments lost between commit and publish
// are restored.
func (c *Cluster) NetworkAssignments(adID string) ([]ad.Assignment, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, err := c.mustLookup(adID)
	if err != nil {
		return nil, err
	}
	s := c.st
	ms := s.members[1][s.comp[1][ref]]
	out := make([]ad.Assignment, 0, len(ms))
	for _, m := range ms {
		out = append(out, s.assignment(m))
	}
	slices.SortFunc(out, func(x, y ad.Assignment) int { return strings.Compare(x.AdID, y.AdID) })
	return out, nil
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
