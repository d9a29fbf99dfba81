// Package bleve implements index.Store with bleve full-text indexes, one
// per month of the adverts' posted time (ads.bleve/p2026-03, …; see
// shards.go), beside a bbolt file (docs.db) that keeps every indexed
// document by advert id, and a compact copy of its count fields
// (facts.go). docs.db is what makes re-indexing on a changed assignment,
// assignments that arrive before their advert, counts, and rebuilding the
// bleve indexes possible; both are projections of the stream.
package bleve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	blevelib "github.com/blevesearch/bleve/v2"
	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
	"adcensus/index"
)

// File names inside the directory given to Open.
const (
	IndexFile = "ads.bleve"
	DocsFile  = "docs.db"
)

var (
	bucketDocs    = []byte("docs")    // ad id → index.Doc JSON
	bucketPending = []byte("pending") // ad id → ad.Assignment JSON, advert not seen yet
	bucketMeta    = []byte("meta")
	keyMapping    = []byte("mapping_version")
)

// rebuildBatch is the number of documents per bleve batch when rebuilding.
const rebuildBatch = 1000

var _ index.Store = (*Index)(nil)

// Index is a bleve index of adverts, sharded by month (see shards.go), with
// their documents in bbolt. It is safe for concurrent use.
type Index struct {
	dir    string
	shards *shards
	db     *bolt.DB
}

// Open opens or creates the index in dir. When ads.bleve is missing, or was
// built with another mapping version, it is (re)built from docs.db.
func Open(dir string) (*Index, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, DocsFile), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", DocsFile, err)
	}
	x := &Index{dir: dir, db: db}
	var stored []byte
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDocs, bucketPending, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		stored = bytes.Clone(tx.Bucket(bucketMeta).Get(keyMapping))
		return ensureFacts(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", DocsFile, err)
	}
	if err := x.openBleve(string(stored)); err != nil {
		db.Close()
		return nil, err
	}
	return x, nil
}

func (x *Index) openBleve(storedVersion string) error {
	path := filepath.Join(x.dir, IndexFile)
	_, statErr := os.Stat(path)
	if statErr == nil && storedVersion == mappingVersion {
		s, err := openShards(path)
		if err != nil {
			return err
		}
		x.shards = s
		return nil
	}
	if statErr != nil && !errors.Is(statErr, os.ErrNotExist) {
		return fmt.Errorf("open %s: %w", IndexFile, statErr)
	}
	// Missing, or built with another mapping: rebuild from docs.db. The
	// mapping version is cleared first, so a rebuild cut short is redone.
	err := x.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyMapping) })
	if err != nil {
		return fmt.Errorf("rebuild %s: %w", IndexFile, err)
	}
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove old %s: %w", IndexFile, err)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", IndexFile, err)
	}
	x.shards = &shards{root: path, m: map[string]blevelib.Index{}}
	if err := x.rebuild(); err != nil {
		x.shards.close()
		return fmt.Errorf("rebuild %s: %w", IndexFile, err)
	}
	return x.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyMapping, []byte(mappingVersion))
	})
}

// rebuild indexes every document of docs.db into the (new, empty) shards.
func (x *Index) rebuild() error {
	return x.db.View(func(tx *bolt.Tx) error {
		b := newBatches(x.shards)
		err := tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			var d index.Doc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("doc %q: %w", k, err)
			}
			if err := b.index(shardKey(&d), d.ID, bleveDoc(&d)); err != nil {
				return err
			}
			if b.size() >= rebuildBatch {
				return b.flush()
			}
			return nil
		})
		if err != nil {
			return err
		}
		return b.flush()
	})
}

// Close closes the shards and docs.db.
func (x *Index) Close() error {
	return errors.Join(x.shards.close(), x.db.Close())
}

// Apply stores and indexes adverts and assignments: one bbolt transaction
// and one bleve batch per shard touched (applied in parallel). An advert
// keeps the assignment it already has; an assignment for an advert not yet
// seen is kept until the advert arrives; an advert whose dates move it to
// another month's shard is deleted from the old one. Re-applying the same
// input changes nothing. If a bleve batch fails the bbolt transaction is
// rolled back, so a retry applies everything again (indexing is
// idempotent, so shards whose batch did succeed are unharmed).
func (x *Index) Apply(ctx context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error {
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
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(fps) == 0 && len(asg) == 0 {
		return nil
	}
	return x.db.Update(func(tx *bolt.Tx) error {
		docs, pending, facts := tx.Bucket(bucketDocs), tx.Bucket(bucketPending), tx.Bucket(bucketFacts)
		changed := map[string]*index.Doc{}
		get := func(id string) (*index.Doc, error) {
			if d, ok := changed[id]; ok {
				return d, nil
			}
			return decodeDoc(docs.Get([]byte(id)))
		}
		for _, fp := range fps {
			d := index.NewDoc(fp)
			old, err := get(d.ID)
			if err != nil {
				return err
			}
			if old != nil {
				d.PersonID, d.NetworkID, d.AssignVersion = old.PersonID, old.NetworkID, old.AssignVersion
			} else if v := pending.Get([]byte(d.ID)); v != nil {
				var a ad.Assignment
				if err := json.Unmarshal(v, &a); err != nil {
					return fmt.Errorf("pending assignment %q: %w", d.ID, err)
				}
				d.PersonID, d.NetworkID, d.AssignVersion = a.PersonID, a.NetworkID, a.Version
				if err := pending.Delete([]byte(d.ID)); err != nil {
					return err
				}
			}
			changed[d.ID] = d
		}
		for _, a := range asg {
			d, err := get(a.AdID)
			if err != nil {
				return err
			}
			if d == nil {
				if v := pending.Get([]byte(a.AdID)); v != nil && a.Version != 0 {
					var old ad.Assignment
					if json.Unmarshal(v, &old) == nil && old.Version > a.Version {
						continue // a newer assignment is already waiting
					}
				}
				v, err := json.Marshal(a)
				if err != nil {
					return err
				}
				if err := pending.Put([]byte(a.AdID), v); err != nil {
					return err
				}
				continue
			}
			if a.Version != 0 && a.Version < d.AssignVersion {
				continue // older than the one applied: redelivered late
			}
			d.PersonID, d.NetworkID = a.PersonID, a.NetworkID
			d.AssignVersion = max(d.AssignVersion, a.Version)
			changed[d.ID] = d
		}
		b := newBatches(x.shards)
		for id, d := range changed {
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			prev := docs.Get([]byte(id))
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
			if err := docs.Put([]byte(id), v); err != nil {
				return err
			}
			if err := facts.Put([]byte(id), encodeFacts(d)); err != nil {
				return err
			}
			if err := b.index(key, id, bleveDoc(d)); err != nil {
				return fmt.Errorf("index %q: %w", id, err)
			}
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

func decodeDoc(v []byte) (*index.Doc, error) {
	if v == nil {
		return nil, nil
	}
	var d index.Doc
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("decode doc: %w", err)
	}
	return &d, nil
}

// Doc returns the stored document of an advert.
func (x *Index) Doc(ctx context.Context, id string) (*index.Doc, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var d *index.Doc
	err := x.db.View(func(tx *bolt.Tx) error {
		var err error
		d, err = decodeDoc(tx.Bucket(bucketDocs).Get([]byte(id)))
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return d, d != nil, nil
}

// docs returns the stored documents of ids (missing ones are left out).
func (x *Index) docs(ids []string) (map[string]*index.Doc, error) {
	out := make(map[string]*index.Doc, len(ids))
	err := x.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDocs)
		for _, id := range ids {
			d, err := decodeDoc(b.Get([]byte(id)))
			if err != nil {
				return err
			}
			if d != nil {
				out[id] = d
			}
		}
		return nil
	})
	return out, err
}

// ForEachDoc calls fn for every stored document, in advert-id order, in one
// read transaction, checking ctx every 1024 documents; it stops at and
// returns the first error of fn. fn must not write to the index.
func (x *Index) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return x.db.View(func(tx *bolt.Tx) error {
		n := 0
		return tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			d, err := decodeDoc(v)
			if err != nil {
				return fmt.Errorf("doc %q: %w", k, err)
			}
			return fn(d)
		})
	})
}

// Counts counts distinct adverts and persons per group from the facts
// bucket of docs.db (see facts.go and index.Counter: an advert without an
// assignment counts as its own person).
func (x *Index) Counts(ctx context.Context, by []string, opt index.CountOptions) ([]index.CountRow, error) {
	c, err := index.NewCounter(by)
	if err != nil {
		return nil, err
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := x.forEachFact(ctx, c.Add); err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return c.Rows(opt), nil
}

// Stats returns the number of adverts, distinct persons (an unassigned
// advert counts as its own person) and distinct non-empty network ids.
func (x *Index) Stats(ctx context.Context) (ads, persons, networks int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, 0, err
	}
	ps, ns := map[string]struct{}{}, map[string]struct{}{}
	err = x.forEachFact(ctx, func(d *index.Doc) {
		ads++
		ps[d.Person()] = struct{}{}
		if d.NetworkID != "" {
			ns[d.NetworkID] = struct{}{}
		}
	})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("stats: %w", err)
	}
	return ads, len(ps), len(ns), nil
}
