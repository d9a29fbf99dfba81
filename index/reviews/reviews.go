// Package reviews keeps the buyer reviews crawled from review forums
// (arenas of kind: reviews) and links them to the advertised persons of
// the index: Store holds the pseudonymised ad.Review records in bbolt
// (reviews.db in the data directory), Linker links a review to persons by
// the evidence it carries (Link, Explain), Export counts reviews,
// reviewers and reviewed persons per group with small cells suppressed,
// and Patterns finds the review patterns that feed persons' flags.
//
// Links are computed when read, against the index as it is then: a review
// follows its person when adverts are re-clustered, and nothing about
// persons is stored here.
package reviews

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
	"adcensus/internal/boltfile"
)

// File is the store's file name in the data directory.
const File = "reviews.db"

var bucket = []byte("reviews")

// Store is the review store. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the store at path; readOnly opens an existing
// file without writing (exports, explain).
func Open(path string, readOnly bool) (*Store, error) {
	db, err := boltfile.Open(path, &bolt.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	if !readOnly {
		if err := db.Update(func(tx *bolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(bucket)
			return err
		}); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// PublishReviews stores reviews durably in one transaction (one fsync),
// replacing a review stored before under the same id: a thread page read
// again stores nothing twice. A review ad.CheckReview refuses (a raw phone,
// an author that is no pseudonym) fails the whole call and nothing is
// stored. It implements crawler.ReviewSink.
func (s *Store) PublishReviews(ctx context.Context, reviews []*ad.Review) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range reviews {
		if err := ad.CheckReview(r); err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, r := range reviews {
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(r.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// ErrNotFound is returned by Review for an unknown id.
var ErrNotFound = errors.New("review not found")

// Review returns the stored review with id.
func (s *Store) Review(id string) (*ad.Review, error) {
	var r *ad.Review
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		r = &ad.Review{}
		return json.Unmarshal(v, r)
	})
	if err != nil {
		return nil, fmt.Errorf("review %s: %w", id, err)
	}
	return r, nil
}

// ForEach calls fn for every stored review in id order and stops at fn's
// first error. A record that cannot be read is skipped and counted in bad.
func (s *Store) ForEach(ctx context.Context, fn func(*ad.Review) error) (bad int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := &ad.Review{}
			if json.Unmarshal(v, r) != nil || ad.CheckReview(r) != nil {
				bad++
				return nil
			}
			return fn(r)
		})
	})
	return bad, err
}

// All returns every stored review in id order.
func (s *Store) All(ctx context.Context) ([]*ad.Review, int, error) {
	var out []*ad.Review
	bad, err := s.ForEach(ctx, func(r *ad.Review) error {
		out = append(out, r)
		return nil
	})
	return out, bad, err
}

// DropText empties the text of the reviews fetched before cutoff, keeping
// the rest of the record (its references, author pseudonym and times) for
// the counts: review text is kept only as long as retention allows. It
// returns the number of reviews whose text was dropped.
func (s *Store) DropText(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		type kv struct{ k, v []byte }
		var puts []kv
		err := b.ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r := &ad.Review{}
			if json.Unmarshal(v, r) != nil || r.Text == "" || !r.FetchedAt.Before(cutoff) {
				return nil
			}
			r.Text = ""
			nv, err := json.Marshal(r)
			if err != nil {
				return err
			}
			puts = append(puts, kv{append([]byte(nil), k...), nv})
			return nil
		})
		if err != nil {
			return err
		}
		for _, p := range puts {
			if err := b.Put(p.k, p.v); err != nil {
				return err
			}
		}
		n = len(puts)
		return nil
	})
	return n, err
}
