// Package cluster decides which adverts are one person and which persons
// one network, and keeps that state for the cluster stage: it groups
// fingerprinted adverts by the rules in rules.go (docs/DEDUP.md), keeps
// the evidence of every link, and answers which person and network an
// advert belongs to.
//
// The state is a projection of the fingerprint stream: delete the file and
// replay the stream, in any order, to get the same assignments back.
// It is held in memory (state.go), loaded when the file opens, and every
// batch writes what it changed in one bbolt transaction (bolt.go). Batches
// run in memory one after another, in call order; a batch's commit may
// overlap the next batch's work in memory (Begin), and readers see
// committed state only.
//
// The files, one job each:
//
//   - rules.go: when two adverts are one person or one network (start here)
//   - profile.go: what the rules know of an advert (ProfileOf)
//   - stock.go, template.go, contacts.go: the marks that depend on the set
//     of adverts (stock photos, template texts, multi-name contacts), the
//     text index and the contact groups
//   - robust.go: the robust image distance; memindex.go: the image index
//   - cluster.go: Cluster, Open and a batch from Begin to its commit
//   - batch.go: adding a batch's adverts in chunks; imagelookup.go and
//     textprep.go: the image and text lookups of a chunk; parallel.go:
//     the worker pool
//   - rebuild.go: linking two adverts and re-adding networks whose links
//     no longer hold; state.go: the state in memory and the union-find
//   - query.go: the readers (Assignment, All, Stats, Explain, …)
//   - profiles.go: what the rules compare of given adverts, for the
//     count's interval (ComparedOf)
//   - bolt.go: the state file, every bbolt call; encode.go: the bytes of
//     a profile and its patches
package cluster

import (
	"errors"
	"fmt"
	"sync"

	"adcensus/ad"
)

// Errors returned by Cluster methods.
var (
	ErrNotFound  = errors.New("advert not found")
	ErrInvalidID = errors.New("invalid advert id")
)

// Cluster is the clustering state: in memory (state.go) for speed, in one
// bbolt file for durability. Every batch is one bbolt transaction
// (fsynced on commit), committed in the order the batches ran; the
// memory is ahead of the file only while batches are in flight (begun,
// not yet committed), and is reloaded from the file when a transaction
// fails.
type Cluster struct {
	file *store // the state file (bolt.go)

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
func Open(path string) (*Cluster, error) { return open(path, false, false) }

// OpenReadOnly opens an existing state file for reading only (bbolt
// ReadOnly, a shared lock): Explain, All and the counts work, AddBatch
// fails. For read commands on a data directory they may not write.
func OpenReadOnly(path string) (*Cluster, error) { return open(path, false, true) }

// OpenScratch opens a state for one offline run whose file is removed
// afterwards (dedup.Offline): as Open, but commits are not fsynced
// (bbolt NoSync). A crash loses nothing that a rerun does not redo; the
// streaming cluster stage, whose commits must survive one, uses Open.
func OpenScratch(path string) (*Cluster, error) { return open(path, true, false) }

func open(path string, scratch, readOnly bool) (*Cluster, error) {
	f, err := openStore(path, scratch, readOnly)
	if err != nil {
		return nil, err
	}
	c := &Cluster{file: f}
	c.cond.L = &c.mu
	if err := c.reload(); err != nil {
		f.close()
		return nil, err
	}
	return c, nil
}

// reload replaces the state in memory with the committed state.
func (c *Cluster) reload() error {
	st, err := c.file.load()
	if err != nil {
		return err
	}
	c.st = st
	return nil
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
	return c.file.close()
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

// AddBatch adds fingerprinted adverts in one transaction and returns, for
// each advert not seen before, the assignments it changed: Cause is its id,
// Changed the new assignment of every advert whose person or network id
// changed (itself included), sorted by ad id. An advert id already in the
// state is skipped, so redelivery never double-counts. A nil fingerprint or
// an invalid id (ad.ValidID: empty, longer than ad.MaxIDLen, not UTF-8,
// holding a control character) fails the
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
		if err := ad.CheckID(fp.Ad.ID); err != nil {
			return nil, fmt.Errorf("%w: fingerprint %d: %v", ErrInvalidID, i, err)
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
		err = c.file.write(w)
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
