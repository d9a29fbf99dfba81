package crawler

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"adcensus/internal/boltfile"

	bolt "go.etcd.io/bbolt"
)

// ErrRunNotFound is returned for an unknown run id.
var ErrRunNotFound = errors.New("crawl run not found")

// Run is one snapshot crawl of one arena: its identity, provenance and counts.
type Run struct {
	ID         string    `json:"id"`
	Arena      string    `json:"arena"`
	ConfigFile string    `json:"config_file"`
	ConfigHash string    `json:"config_hash"`
	Version    string    `json:"version"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
	Status     string    `json:"status"` // running, done, stopped (limit reached), failed (every page failed)
	Pages      int       `json:"pages"`
	Ads        int       `json:"ads"`
	// Reviews counts the reviews stored (review forums, kind: reviews).
	Reviews int            `json:"reviews,omitempty"`
	Errors  map[string]int `json:"errors,omitempty"`
	Resumed int            `json:"resumed,omitempty"` // times the run was resumed after an interruption
	// Duplicates counts advert URLs not fetched or not published because
	// an advert with the same key (detail.id) was already queued or
	// fetched under another URL in the run.
	Duplicates int `json:"duplicates,omitempty"`
	// NotModified counts the adverts sighted from a 304 answer to a
	// conditional request, Trusted those sighted from an unchanged
	// listing without a request (revisit.go): neither extracted nor
	// published. Ads counts them too.
	NotModified int `json:"not_modified,omitempty"`
	Trusted     int `json:"trusted,omitempty"`
	// Output is where the run's adverts went (Options.Output): "stream"
	// (run, demo: on to the index) or "file" (crawl --out: never
	// indexed). Empty for runs recorded before it was.
	Output string `json:"output,omitempty"`
}

// ErrorCount is the total of all error kinds.
func (r *Run) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// AllFailed reports whether the run fetched pages and every one of them
// failed, so it found no adverts: the arena refused connections, answered
// only errors, or the config matches nothing it serves. Such a run ends
// with status "failed".
func (r *Run) AllFailed() bool {
	return r.Pages > 0 && r.Ads == 0 && r.ErrorCount() >= r.Pages
}

// Entry is one URL of a run's frontier.
type Entry struct {
	URL   string   `json:"url"`
	Kind  PageKind `json:"kind"`
	Depth int      `json:"depth"`
	State string   `json:"state"` // queued, done, failed
	Seq   uint64   `json:"seq"`
	Err   string   `json:"err,omitempty"`
	// ID is an advert's key (detail.id) when its URL gives it: the run
	// queues one URL per key.
	ID string `json:"id,omitempty"`
	// Trust marks an advert page listed by an unchanged listing: it may be
	// sighted from the crawl state without a request (revisit.go).
	Trust bool `json:"trust,omitempty"`
}

// Store keeps crawl runs and their frontier (queued and finished URLs) in
// bbolt, so a crawl killed at any point resumes without refetching finished
// pages or losing queued ones. Colly's own queue pops without ack, so the
// frontier is ours.
type Store struct {
	db *bolt.DB
}

var bucketRuns = []byte("runs")

// OpenStore opens (creating if needed) the crawl state file.
func OpenStore(path string) (*Store, error) {
	db, err := boltfile.Open(path, nil)
	if err != nil {
		return nil, fmt.Errorf("crawl state: %w", err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketRuns)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("open crawl state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// OpenStoreReadOnly opens an existing crawl state file for reading only
// (a shared lock; bbolt ReadOnly), for commands that only list runs and
// schedules, so a copy of a data directory without write permission can be
// read. Writes return bbolt's ErrDatabaseReadOnly.
func OpenStoreReadOnly(path string) (*Store, error) {
	db, err := boltfile.Open(path, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("crawl state: %w", err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRuns) == nil {
			return errors.New("no runs bucket: not a crawl state file")
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("open crawl state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the state file.
func (s *Store) Close() error { return s.db.Close() }

func frontierBucket(runID string) []byte { return []byte("frontier/" + runID) }

// idsBucket holds the advert keys a run has queued or fetched (key → the
// URL that claimed it), so one advert under several URLs is fetched and
// published once, across resumes too.
func idsBucket(runID string) []byte { return []byte("ids/" + runID) }

// Begin returns the run to work on for cfg: the run named by resumeID, else
// when autoResume is set the latest unfinished run of the arena with the same
// config hash (an interrupted crawl is resumed), else a new run seeded with
// the start URLs.
func (s *Store) Begin(cfg *ArenaConfig, resumeID string, autoResume bool, version string, now time.Time) (*Run, error) {
	var run *Run
	err := s.db.Update(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		if resumeID != "" {
			v := runs.Get([]byte(resumeID))
			if v == nil {
				return fmt.Errorf("%w: %s", ErrRunNotFound, resumeID)
			}
			run = &Run{}
			if err := json.Unmarshal(v, run); err != nil {
				return err
			}
			if run.Arena != cfg.Name {
				return fmt.Errorf("run %s is of arena %s, not %s", resumeID, run.Arena, cfg.Name)
			}
		} else if autoResume {
			c := runs.Cursor()
			for k, v := c.Last(); k != nil; k, v = c.Prev() {
				var r Run
				if json.Unmarshal(v, &r) != nil || r.Arena != cfg.Name {
					continue
				}
				if r.Status == "running" && r.ConfigHash == cfg.Hash {
					run = &r
				}
				break
			}
		}
		if run != nil {
			if run.Status == "running" {
				run.Resumed++
			}
			return putJSON(runs, run.ID, run)
		}
		run = &Run{
			ID:         cfg.Name + "-" + now.UTC().Format("20060102T150405.000Z"),
			Arena:      cfg.Name,
			ConfigFile: cfg.File,
			ConfigHash: cfg.Hash,
			Version:    version,
			Started:    now.UTC(),
			Status:     "running",
			Errors:     map[string]int{},
		}
		if err := putJSON(runs, run.ID, run); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(frontierBucket(run.ID))
		if err != nil {
			return err
		}
		for _, e := range cfg.seeds() {
			if b.Get([]byte(e.URL)) != nil {
				continue
			}
			e.Seq, _ = b.NextSequence()
			e.State = "queued"
			if err := putJSON(b, e.URL, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// Queued returns the run's queued entries in the order they were added.
func (s *Store) Queued(runID string) ([]Entry, error) {
	return s.entries(runID, func(e *Entry) bool { return e.State == "queued" })
}

// Finished returns the run's entries committed as done or failed, in the
// order they were added.
func (s *Store) Finished(runID string) ([]Entry, error) {
	return s.entries(runID, func(e *Entry) bool { return e.State != "queued" })
}

func (s *Store) entries(runID string, keep func(*Entry) bool) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(frontierBucket(runID))
		if b == nil {
			return fmt.Errorf("%w: %s", ErrRunNotFound, runID)
		}
		return b.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if keep(&e) {
				out = append(out, e)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, err
}

// PageCommit is one finished page for CommitPages: its final entry (state
// done or failed), the links found on it and the advert keys it claimed
// after it was fetched (a redirect or a canonical link gave another key).
type PageCommit struct {
	Done  Entry
	Add   []Entry
	Claim []string
	// census is the page's census record with a CensusSink (census.go).
	census *censusCommit
}

// CommitPages records, in one transaction (one fsync), that the pages have
// finished, adds the links they found that the run has not seen before, and
// saves the run's counters. It returns the entries actually added, in
// order, and how many were left out because their advert key was already
// claimed (counted in run.Duplicates too). The frontier bucket is the
// run's visited set: a URL is queued once per run, however often it is
// found, and nothing of it is kept in memory; the ids bucket does the same
// for advert keys.
func (s *Store) CommitPages(run *Run, pages []PageCommit) (added []Entry, dups int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(frontierBucket(run.ID))
		if b == nil {
			return fmt.Errorf("%w: %s", ErrRunNotFound, run.ID)
		}
		ids, err := tx.CreateBucketIfNotExists(idsBucket(run.ID))
		if err != nil {
			return err
		}
		for i := range pages {
			if d := &pages[i].Done; d.URL != "" {
				if err := putJSON(b, d.URL, d); err != nil {
					return err
				}
			}
			if err := putCensus(tx, run.ID, pages[i].census); err != nil {
				return err
			}
			for _, k := range pages[i].Claim {
				if err := ids.Put([]byte(k), []byte(pages[i].Done.URL)); err != nil {
					return err
				}
			}
			for _, e := range pages[i].Add {
				if b.Get([]byte(e.URL)) != nil {
					continue
				}
				if e.ID != "" {
					if ids.Get([]byte(e.ID)) != nil {
						dups++
						continue
					}
					if err := ids.Put([]byte(e.ID), []byte(e.URL)); err != nil {
						return err
					}
				}
				e.Seq, _ = b.NextSequence()
				e.State = "queued"
				if err := putJSON(b, e.URL, e); err != nil {
					return err
				}
				added = append(added, e)
			}
		}
		run.Duplicates += dups
		return putJSON(tx.Bucket(bucketRuns), run.ID, run)
	})
	if err != nil {
		return nil, 0, err
	}
	return added, dups, nil
}

var bucketJars = []byte("jars")

// SaveJar stores a run's cookies (persistJar's snapshot): the session of
// the run (an age gate passed, a login) survives a resume. They are
// session secrets: the state file needs the protection of the key.
func (s *Store) SaveJar(runID string, data []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJars)
		if err != nil {
			return err
		}
		return b.Put([]byte(runID), data)
	})
}

// Jar returns the cookies SaveJar stored for the run, nil when none.
func (s *Store) Jar(runID string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketJars); b != nil {
			out = append([]byte(nil), b.Get([]byte(runID))...)
		}
		return nil
	})
	if len(out) == 0 {
		out = nil
	}
	return out, err
}

// HasID reports whether the run has queued or fetched an advert with the
// key.
func (s *Store) HasID(runID, key string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(idsBucket(runID)); b != nil {
			ok = b.Get([]byte(key)) != nil
		}
		return nil
	})
	return ok, err
}

// SaveRun stores the run record.
func (s *Store) SaveRun(run *Run) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketRuns), run.ID, run) })
}

// Runs lists all runs, oldest first.
func (s *Store) Runs() ([]Run, error) {
	var out []Run
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(_, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out, err
}

func putJSON(b *bolt.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}
