// Package census keeps the census over time: every sighting of every
// advert by every crawl run, and the end of every run, as read from the
// stream (subjects adcensus.sightings.<arena> and adcensus.runs.<arena>).
// From them it derives each advert's lifetime (first seen, last seen, gone
// and back), each person's activity (the days, weeks and months in which
// any of their adverts was live) and the counts, facts and overlap of a
// period (PeriodSource), the changes since a run or date (Changes) and
// trends (Trend). Like every store it is a projection of the stream: delete
// census.db and replay. docs/CENSUS.md describes the rules.
package census

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
	"adcensus/internal/boltfile"
)

// File is the census file's name in the data directory.
const File = "census.db"

var (
	bucketAds   = []byte("ads")   // advert id → Lifetime (JSON)
	bucketArena = []byte("arena") // arena \x00 advert id → nil
	bucketRuns  = []byte("runs")  // run id → Run (JSON)
)

// Sighting is one advert seen by one run.
type Sighting struct {
	Run  string    `json:"r"`
	At   time.Time `json:"t"`
	Hash string    `json:"h"`
}

// Event is an advert marked gone by a complete run.
type Event struct {
	Run string    `json:"r"`
	At  time.Time `json:"t"`
}

// Lifetime is what the census knows of one advert: every sighting in time
// order and every time a complete run of its arena no longer found it.
type Lifetime struct {
	ID        string     `json:"id"`
	Arena     string     `json:"arena"`
	Sightings []Sighting `json:"s"`
	Gone      []Event    `json:"g,omitempty"`
}

// First is the time of the first sighting.
func (l *Lifetime) First() time.Time { return l.Sightings[0].At }

// Last is the time of the last sighting.
func (l *Lifetime) Last() time.Time { return l.Sightings[len(l.Sightings)-1].At }

// GoneAt returns the event that marked the advert gone, if it is gone now
// (no sighting after its last gone event).
func (l *Lifetime) GoneAt() (Event, bool) {
	if len(l.Gone) == 0 {
		return Event{}, false
	}
	g := l.Gone[len(l.Gone)-1]
	if l.Last().After(g.At) {
		return Event{}, false
	}
	return g, true
}

// Versions is the number of distinct contents sighted in a row: 1 for an
// advert that never changed.
func (l *Lifetime) Versions() int {
	n := 0
	for i, s := range l.Sightings {
		if i == 0 || s.Hash != l.Sightings[i-1].Hash {
			n++
		}
	}
	return n
}

// Run is a finished crawl run as the census recorded it: its RunEnd and
// what it changed.
type Run struct {
	ad.RunEnd
	New     int `json:"new"`     // adverts first sighted by this run
	Changed int `json:"changed"` // adverts sighted with content other than at their last sighting
	Back    int `json:"back"`    // adverts sighted again after being gone
	Gone    int `json:"gone"`    // adverts this (complete) run marked gone
}

// Store is the census file. It is safe for concurrent use; Apply is the
// one writer.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the census file at path.
func Open(path string) (*Store, error) {
	db, err := boltfile.Open(path, nil)
	if err != nil {
		return nil, fmt.Errorf("census: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAds, bucketArena, bucketRuns} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("census: %w", err)
	}
	return &Store{db: db}, nil
}

// OpenReadOnly opens an existing census file for reading only.
func OpenReadOnly(path string) (*Store, error) {
	db, err := boltfile.Open(path, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("census: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// ErrBadRecord is returned by Apply for a sighting or run end without its
// ids; nothing of that call is applied.
var ErrBadRecord = errors.New("census: bad record")

// Record is one input of Apply: a sighting or a run end, in stream order.
type Record struct {
	Sighting *ad.Sighting
	RunEnd   *ad.RunEnd
}

// Apply applies sightings and run ends in order, in one transaction. It is
// idempotent: a sighting of an advert by a run already recorded, or a run
// already ended, changes nothing.
func (s *Store) Apply(ctx context.Context, recs []Record) error {
	for i, r := range recs {
		switch {
		case r.Sighting != nil:
			if r.Sighting.AdID == "" || r.Sighting.Run == "" || r.Sighting.Arena == "" || r.Sighting.At.IsZero() {
				return fmt.Errorf("%w: sighting %d: no advert, arena, run or time", ErrBadRecord, i)
			}
		case r.RunEnd != nil:
			if r.RunEnd.Run == "" || r.RunEnd.Arena == "" {
				return fmt.Errorf("%w: run end %d: no run or arena", ErrBadRecord, i)
			}
		default:
			return fmt.Errorf("%w: record %d is empty", ErrBadRecord, i)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		t := &applyTx{ads: tx.Bucket(bucketAds), arena: tx.Bucket(bucketArena), runs: tx.Bucket(bucketRuns),
			changed: map[string]*Lifetime{}}
		for _, r := range recs {
			var err error
			if r.Sighting != nil {
				err = t.sighting(r.Sighting)
			} else {
				err = t.end(r.RunEnd)
			}
			if err != nil {
				return err
			}
		}
		return t.flush()
	})
}

type applyTx struct {
	ads, arena, runs *bolt.Bucket
	changed          map[string]*Lifetime
}

func (t *applyTx) get(id string) (*Lifetime, error) {
	if l, ok := t.changed[id]; ok {
		return l, nil
	}
	v := t.ads.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	l := &Lifetime{}
	if err := json.Unmarshal(v, l); err != nil {
		return nil, fmt.Errorf("census: advert %q: %w", id, err)
	}
	return l, nil
}

func (t *applyTx) sighting(sg *ad.Sighting) error {
	l, err := t.get(sg.AdID)
	if err != nil {
		return err
	}
	if l == nil {
		l = &Lifetime{ID: sg.AdID, Arena: sg.Arena}
		if err := t.arena.Put(arenaKey(sg.Arena, sg.AdID), nil); err != nil {
			return err
		}
	}
	for _, s := range l.Sightings {
		if s.Run == sg.Run {
			return nil // redelivered or republished
		}
	}
	ns := Sighting{Run: sg.Run, At: sg.At.UTC(), Hash: sg.Hash}
	i, _ := slices.BinarySearchFunc(l.Sightings, ns, func(a, b Sighting) int { return a.At.Compare(b.At) })
	l.Sightings = slices.Insert(l.Sightings, i, ns)
	t.changed[l.ID] = l
	return nil
}

func arenaKey(arena, id string) []byte { return []byte(arena + "\x00" + id) }

// end records a run's end and, for a complete run, marks gone every
// advert of its arena that it did not sight, whose page did not fail, and
// that was not sighted after the run ended.
func (t *applyTx) end(r *ad.RunEnd) error {
	if t.runs.Get([]byte(r.Run)) != nil {
		return nil // already ended
	}
	rec := &Run{RunEnd: *r}
	failed := map[string]bool{}
	for _, id := range r.Failed {
		failed[id] = true
	}
	c := t.arena.Cursor()
	prefix := []byte(r.Arena + "\x00")
	var ids []string
	for k, _ := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	for _, id := range ids {
		l, err := t.get(id)
		if err != nil {
			return err
		}
		if l == nil || len(l.Sightings) == 0 {
			continue
		}
		i := slices.IndexFunc(l.Sightings, func(s Sighting) bool { return s.Run == r.Run })
		if i >= 0 {
			switch {
			case i == 0:
				rec.New++
			case l.Sightings[i-1].Hash != l.Sightings[i].Hash:
				rec.Changed++
			}
			if i > 0 && wasGoneBetween(l, l.Sightings[i-1].At, l.Sightings[i].At) {
				rec.Back++
			}
			continue
		}
		if !r.Complete || failed[id] || (!r.Ended.IsZero() && l.Last().After(r.Ended)) {
			continue
		}
		if _, gone := l.GoneAt(); gone {
			continue
		}
		at := r.Ended
		if at.IsZero() {
			at = r.Started
		}
		l.Gone = append(l.Gone, Event{Run: r.Run, At: at.UTC()})
		t.changed[id] = l
		rec.Gone++
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return t.runs.Put([]byte(r.Run), v)
}

// wasGoneBetween reports whether a gone event lies in (from, to].
func wasGoneBetween(l *Lifetime, from, to time.Time) bool {
	for _, g := range l.Gone {
		if g.At.After(from) && !g.At.After(to) {
			return true
		}
	}
	return false
}

func (t *applyTx) flush() error {
	for id, l := range t.changed {
		v, err := json.Marshal(l)
		if err != nil {
			return err
		}
		if err := t.ads.Put([]byte(id), v); err != nil {
			return err
		}
	}
	return nil
}

// Lifetime returns the lifetime of one advert, and false if it was never
// sighted.
func (s *Store) Lifetime(id string) (*Lifetime, bool, error) {
	var l *Lifetime
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAds).Get([]byte(id))
		if v == nil {
			return nil
		}
		l = &Lifetime{}
		return json.Unmarshal(v, l)
	})
	return l, l != nil, err
}

// ForEachLifetime calls fn for every advert's lifetime in advert-id order
// and stops at fn's first error.
func (s *Store) ForEachLifetime(ctx context.Context, fn func(*Lifetime) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAds).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			l := &Lifetime{}
			if err := json.Unmarshal(v, l); err != nil {
				return fmt.Errorf("census: advert %q: %w", k, err)
			}
			return fn(l)
		})
	})
}

// Lifetimes returns every advert's lifetime by id.
func (s *Store) Lifetimes(ctx context.Context) (map[string]*Lifetime, error) {
	out := map[string]*Lifetime{}
	err := s.ForEachLifetime(ctx, func(l *Lifetime) error { out[l.ID] = l; return nil })
	return out, err
}

// Runs returns every ended run, ordered by end time (then id).
func (s *Store) Runs() ([]Run, error) {
	var out []Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(k, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("census: run %q: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	slices.SortFunc(out, func(a, b Run) int {
		if c := a.Ended.Compare(b.Ended); c != 0 {
			return c
		}
		return compareStrings(a.Run, b.Run)
	})
	return out, err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
