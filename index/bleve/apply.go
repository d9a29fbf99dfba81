package bleve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
	"adcensus/index"
)

// Apply stores and indexes adverts and assignments: one bbolt transaction
// and one bleve batch per shard touched (applied in parallel). An advert
// keeps the assignment it already has; an assignment for an advert not yet
// seen is kept until the advert arrives; an advert whose dates move it to
// another month's shard is deleted from the old one. Re-applying the same
// input changes nothing. If a bleve batch fails the bbolt transaction is
// rolled back, so a retry applies everything again (indexing is
// idempotent, so shards whose batch did succeed are unharmed).
func (x *Index) Apply(ctx context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error {
	if err := checkApply(fps, asg); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(fps) == 0 && len(asg) == 0 {
		return nil
	}
	return x.db.Update(func(tx *bolt.Tx) error {
		t := &applyTx{
			docs: tx.Bucket(bucketDocs), pending: tx.Bucket(bucketPending), facts: tx.Bucket(bucketFacts),
			changed: map[string]*index.Doc{},
		}
		if err := t.adverts(fps); err != nil {
			return err
		}
		if err := t.assignments(asg); err != nil {
			return err
		}
		if err := recordStreamPosition(tx, asg); err != nil {
			return err
		}
		b := newBatches(x.shards)
		if err := t.store(b); err != nil {
			return err
		}
		if b.size() == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.flush(); err != nil {
			return fmt.Errorf("index batch: %w", err)
		}
		return nil
	})
}

// checkApply rejects adverts and assignments without an id.
func checkApply(fps []*ad.Fingerprinted, asg []ad.Assignment) error {
	for i, fp := range fps {
		if fp == nil || fp.Ad.ID == "" {
			return fmt.Errorf("apply: advert %d: %w: no id", i, index.ErrBadRecord)
		}
	}
	for i, a := range asg {
		if a.AdID == "" {
			return fmt.Errorf("apply: assignment %d: %w: no ad id", i, index.ErrBadRecord)
		}
	}
	return nil
}

// applyTx is one Apply inside its bbolt transaction: the documents it
// changes, by advert id, before they are stored and indexed.
type applyTx struct {
	docs, pending, facts *bolt.Bucket
	changed              map[string]*index.Doc
}

// get returns the document of id as changed so far, or as stored (nil if
// there is none).
func (t *applyTx) get(id string) (*index.Doc, error) {
	if d, ok := t.changed[id]; ok {
		return d, nil
	}
	return decodeDoc(t.docs.Get([]byte(id)))
}

// adverts turns each advert into a document that keeps the assignment
// already stored for it, or takes the one pending for it.
func (t *applyTx) adverts(fps []*ad.Fingerprinted) error {
	for _, fp := range fps {
		d := index.NewDoc(fp)
		old, err := t.get(d.ID)
		if err != nil {
			return err
		}
		if old != nil {
			d.PersonID, d.NetworkID, d.AssignVersion = old.PersonID, old.NetworkID, old.AssignVersion
			keepFirstFetch(d, old)
		}
		// A first advert, or a new content version (placed anew by the
		// cluster stage under its versioned id), takes the assignment
		// waiting for it; a version keeps the old person until then.
		if old == nil || old.ClusterID() != d.ClusterID() {
			key := []byte(d.ClusterID())
			if v := t.pending.Get(key); v != nil {
				var a ad.Assignment
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("pending assignment %q: %w", key, err)
				}
				d.PersonID, d.NetworkID, d.AssignVersion = a.PersonID, a.NetworkID, max(a.Version, d.AssignVersion)
				if err := t.pending.Delete(key); err != nil {
					return err
				}
			}
		}
		t.changed[d.ID] = d
	}
	return nil
}

// keepFirstFetch keeps the first fetch time of an advert fetched again
// (its content changed): its posting-basis week stays where it was.
func keepFirstFetch(d, old *index.Doc) {
	if old.FetchedAt.IsZero() || !old.FetchedAt.Before(d.FetchedAt) {
		return
	}
	d.FetchedAt = old.FetchedAt
	if d.PostedAt.IsZero() {
		d.Week, d.Month = index.Period(d.FetchedAt)
	}
}

// assignments applies each assignment to its advert's document, or keeps
// it pending when the advert has not been seen; an assignment older than
// the one applied or pending is dropped.
func (t *applyTx) assignments(asg []ad.Assignment) error {
	for _, a := range asg {
		base, _ := ad.SplitVersion(a.AdID)
		d, err := t.get(base)
		if err != nil {
			return err
		}
		if d != nil && d.ClusterID() != a.AdID {
			if d.Version != "" && a.AdID == base {
				continue // of the advert's first content, since changed
			}
			d = nil // of a version not (yet) indexed: kept pending
		}
		if d == nil {
			if v := t.pending.Get([]byte(a.AdID)); v != nil && a.Version != 0 {
				var old ad.Assignment
				if json.Unmarshal(v, &old) == nil && old.Version > a.Version {
					continue // a newer assignment is already waiting
				}
			}
			v, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if err := t.pending.Put([]byte(a.AdID), v); err != nil {
				return err
			}
			continue
		}
		if a.Version != 0 && a.Version < d.AssignVersion {
			continue // older than the one applied: redelivered late
		}
		d.PersonID, d.NetworkID = a.PersonID, a.NetworkID
		d.AssignVersion = max(d.AssignVersion, a.Version)
		t.changed[d.ID] = d
	}
	return nil
}

// store writes every changed document that differs from the stored one to
// docs and facts, and adds it to b (deleting it from its old shard when
// its dates moved it).
func (t *applyTx) store(b *batches) error {
	for id, d := range t.changed {
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		prev := t.docs.Get([]byte(id))
		if bytes.Equal(v, prev) {
			continue // already stored and indexed as it is
		}
		key := shardKey(d)
		if prev != nil {
			old, err := decodeDoc(prev)
			if err != nil {
				return fmt.Errorf("doc %q: %w", id, err)
			}
			if ok := shardKey(old); ok != key { // its dates changed
				if err := b.delete(ok, id); err != nil {
					return err
				}
			}
		}
		if err := t.docs.Put([]byte(id), v); err != nil {
			return err
		}
		if err := t.facts.Put([]byte(id), encodeFacts(d)); err != nil {
			return err
		}
		if err := b.index(key, id, bleveDoc(d)); err != nil {
			return fmt.Errorf("index %q: %w", id, err)
		}
	}
	return nil
}

// keyStreamSeq is the meta key of the stream position the index reached:
// the highest stream sequence (ad.Assignment.Version) of an assignment it
// has applied, 8 bytes big-endian.
var keyStreamSeq = []byte("stream_seq")

// recordStreamPosition raises the recorded stream position to the highest
// version among asg.
func recordStreamPosition(tx *bolt.Tx, asg []ad.Assignment) error {
	var top uint64
	for _, a := range asg {
		top = max(top, a.Version)
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyStreamSeq); len(v) == 8 && binary.BigEndian.Uint64(v) >= top {
		return nil
	}
	if top == 0 {
		return nil
	}
	return meta.Put(keyStreamSeq, binary.BigEndian.AppendUint64(nil, top))
}

// StreamPosition returns the stream position the index has reached: the
// highest stream sequence of an assignments message it has applied
// (everything the cluster stage published up to it is in the index once
// the index stage is idle). ok is false when none was recorded (an empty
// index, or one built before positions were recorded).
func (x *Index) StreamPosition() (seq uint64, ok bool, err error) {
	err = x.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyStreamSeq); len(v) == 8 {
			seq, ok = binary.BigEndian.Uint64(v), true
		}
		return nil
	})
	return seq, ok, err
}
