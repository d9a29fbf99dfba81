package bleve

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	blevelib "github.com/blevesearch/bleve/v2"

	"adcensus/index"
)

// Time shards. ads.bleve is a directory of bleve indexes, one per calendar
// month (Swedish time) of the adverts' posted_at: "p2026-03". An advert
// without posted_at goes by its fetched_at month ("f2026-03"), one with
// neither to "undated". A search runs on every shard at once and merges
// the results; a required posted_at range (`+posted_at:>=…`) skips the
// shards it cannot match and is dropped on the shards it covers whole. See
// docs/SEARCH.md.

const (
	postedPrefix  = "p"
	fetchedPrefix = "f"
	undatedShard  = "undated"
)

// shardName matches the directory names of shards; anything else inside
// ads.bleve is refused.
var shardName = regexp.MustCompile(`^([pf][0-9]{4}-[0-9]{2}|undated)$`)

// shardKey returns the shard a document belongs to.
func shardKey(d *index.Doc) string {
	if !d.PostedAt.IsZero() {
		_, m := index.Period(d.PostedAt)
		return postedPrefix + m
	}
	if !d.FetchedAt.IsZero() {
		_, m := index.Period(d.FetchedAt)
		return fetchedPrefix + m
	}
	return undatedShard
}

// postedSpan returns the half-open interval [start, end) of posted_at
// times a posted shard holds, and false for other shards.
func postedSpan(key string) (start, end time.Time, ok bool) {
	if len(key) != 8 || key[:1] != postedPrefix {
		return time.Time{}, time.Time{}, false
	}
	t, err := time.ParseInLocation("2006-01", key[1:], stockholm())
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	return t, t.AddDate(0, 1, 0), true
}

var stockholm = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil { // cannot happen: index imports time/tzdata
		return time.UTC
	}
	return loc
})

// shards is the set of open shard indexes. Shards are only added while the
// Index is open; mu guards the map.
type shards struct {
	root string // the ads.bleve directory
	mu   sync.RWMutex
	m    map[string]blevelib.Index
}

// openShards opens every shard under root; read-only with readOnly (bleve
// scorch read_only: no persister, merger or file changes).
func openShards(root string, readOnly bool) (*shards, error) {
	s := &shards{root: root, m: map[string]blevelib.Index{}}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", IndexFile, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), newShardPrefix) {
			// A shard whose creation was cut short (see get): never
			// renamed into place, so it holds nothing that docs.db does
			// not. Removed when writing, skipped when reading.
			if !readOnly {
				if err := os.RemoveAll(filepath.Join(root, e.Name())); err != nil {
					s.close()
					return nil, fmt.Errorf("open %s: remove unfinished shard %s: %w", IndexFile, e.Name(), err)
				}
			}
			continue
		}
		if !e.IsDir() || !shardName.MatchString(e.Name()) {
			s.close()
			return nil, fmt.Errorf("open %s: unexpected entry %q (shards are named p2026-03, f2026-03 or undated)", IndexFile, e.Name())
		}
		if err := checkShardMeta(filepath.Join(root, e.Name())); err != nil {
			s.close()
			return nil, err
		}
		var bi blevelib.Index
		if readOnly {
			bi, err = blevelib.OpenUsing(filepath.Join(root, e.Name()), map[string]any{"read_only": true})
		} else {
			bi, err = blevelib.Open(filepath.Join(root, e.Name()))
		}
		if err != nil {
			s.close()
			return nil, fmt.Errorf("open %s shard %s: %w", IndexFile, e.Name(), err)
		}
		s.m[e.Name()] = bi
	}
	return s, nil
}

// get returns the shard of key, creating it when create is set; nil when it
// does not exist and create is not set.
func (s *shards) get(key string, create bool) (blevelib.Index, error) {
	s.mu.RLock()
	bi := s.m[key]
	s.mu.RUnlock()
	if bi != nil || !create {
		return bi, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bi := s.m[key]; bi != nil {
		return bi, nil
	}
	bi, err := createShard(s.root, key)
	if err != nil {
		return nil, fmt.Errorf("create %s shard %s: %w", IndexFile, key, err)
	}
	s.m[key] = bi
	return bi, nil
}

// newShardPrefix names a shard directory while it is being created.
const newShardPrefix = ".new-"

// createShard creates the shard key under root so that a process killed
// at any moment leaves either no shard or a whole one: bleve writes
// index_meta.json and the store files one after another, so the shard is
// made under a temporary name, closed, renamed into place (the directory
// synced) and opened again. A kill before the rename leaves a .new-
// directory that openShards removes.
func createShard(root, key string) (blevelib.Index, error) {
	tmp := filepath.Join(root, newShardPrefix+key)
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	bi, err := blevelib.New(tmp, newMapping())
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := bi.Close(); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	final := filepath.Join(root, key)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := syncDir(root); err != nil {
		return nil, err
	}
	return blevelib.Open(final)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// errBrokenShard marks a shard directory bleve cannot open because its
// index_meta.json is missing or cut short: a shard whose creation was
// interrupted by a kill (data dirs written before shards were created
// atomically). docs.db holds every document, so Open rebuilds ads.bleve.
var errBrokenShard = errors.New("shard metadata missing or cut short")

// checkShardMeta returns errBrokenShard when dir's index_meta.json is
// missing or not JSON.
func checkShardMeta(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "index_meta.json"))
	if err == nil && !json.Valid(b) {
		err = fmt.Errorf("index_meta.json is not JSON (%d bytes)", len(b))
	}
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("open %s shard %s: %w", IndexFile, filepath.Base(dir), err)
		}
		return fmt.Errorf("open %s shard %s: %w: %v", IndexFile, filepath.Base(dir), errBrokenShard, err)
	}
	return nil
}

// list returns the open shards, sorted by key.
func (s *shards) list() []shard {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]shard, 0, len(s.m))
	for k, bi := range s.m {
		out = append(out, shard{key: k, bi: bi})
	}
	slices.SortFunc(out, func(a, b shard) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	return out
}

func (s *shards) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, bi := range s.m {
		errs = append(errs, bi.Close())
	}
	s.m = map[string]blevelib.Index{}
	return errors.Join(errs...)
}

type shard struct {
	key string
	bi  blevelib.Index
}

// batches collects one bleve batch per shard.
type batches struct {
	s *shards
	m map[string]*blevelib.Batch
	n int
}

func newBatches(s *shards) *batches { return &batches{s: s, m: map[string]*blevelib.Batch{}} }

func (b *batches) of(key string) (*blevelib.Batch, error) {
	if bt := b.m[key]; bt != nil {
		return bt, nil
	}
	bi, err := b.s.get(key, true)
	if err != nil {
		return nil, err
	}
	bt := bi.NewBatch()
	b.m[key] = bt
	return bt, nil
}

func (b *batches) index(key, id string, doc any) error {
	bt, err := b.of(key)
	if err != nil {
		return err
	}
	b.n++
	return bt.Index(id, doc)
}

func (b *batches) delete(key, id string) error {
	bt, err := b.of(key)
	if err != nil {
		return err
	}
	b.n++
	bt.Delete(id)
	return nil
}

// size is the number of operations collected.
func (b *batches) size() int { return b.n }

// flush applies every shard's batch, the shards in parallel, and empties
// the set.
func (b *batches) flush() error {
	var wg sync.WaitGroup
	errs := make(chan error, len(b.m))
	for key, bt := range b.m {
		if bt.Size() == 0 {
			continue
		}
		bi, err := b.s.get(key, false)
		if err != nil || bi == nil {
			return fmt.Errorf("shard %s vanished: %v", key, err)
		}
		wg.Go(func() {
			if err := bi.Batch(bt); err != nil {
				errs <- fmt.Errorf("shard %s: %w", key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	clear(b.m)
	b.n = 0
	return errors.Join(all...)
}
