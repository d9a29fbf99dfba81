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

	blevelib "github.com/blevesearch/bleve/v2"
	bolt "go.etcd.io/bbolt"

	"adcensus/index"
	"adcensus/internal/boltfile"
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
	db, err := boltfile.Open(filepath.Join(dir, DocsFile), nil)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
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

// ErrNeedsRebuild is returned by OpenReadOnly when the index was built by
// another version of the software (mapping or facts layout) and must be
// rebuilt, which needs write access.
var ErrNeedsRebuild = errors.New("index built by another version of adcensus needs a rebuild, which needs write access (open it once read-write, or run 'adcensus index rebuild' on a writable copy)")

// OpenReadOnly opens an existing index in dir for reading only: docs.db
// with bbolt ReadOnly (a shared lock), the bleve shards with scorch
// read_only. Nothing in dir is created or changed, so a data directory
// without write permission (a copy handed to a researcher) can be searched
// and counted. Writes fail. An index that Open would rebuild returns
// ErrNeedsRebuild.
func OpenReadOnly(dir string) (*Index, error) {
	db, err := boltfile.Open(filepath.Join(dir, DocsFile), &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	x := &Index{dir: dir, db: db}
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDocs, bucketPending, bucketMeta, bucketFacts} {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing: %w", b, ErrNeedsRebuild)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if string(meta.Get(keyMapping)) != mappingVersion || string(meta.Get(keyFacts)) != factsVersion {
			return ErrNeedsRebuild
		}
		return nil
	})
	if err == nil {
		x.shards, err = openShards(filepath.Join(dir, IndexFile), true)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open index %s read-only: %w", dir, err)
	}
	return x, nil
}

func (x *Index) openBleve(storedVersion string) error {
	path := filepath.Join(x.dir, IndexFile)
	_, statErr := os.Stat(path)
	if statErr == nil && storedVersion == mappingVersion {
		s, err := openShards(path, false)
		if err == nil {
			x.shards = s
			return nil
		}
		if !errors.Is(err, errBrokenShard) {
			return err
		}
		// A shard cut short by a kill: rebuilt below with the rest.
		fmt.Fprintf(os.Stderr, "adcensus: %v; rebuilding %s from %s\n", err, IndexFile, DocsFile)
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
