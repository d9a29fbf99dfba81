// Package boltfile opens the bbolt files of a data directory (crawl state,
// cluster state, the index's documents) the one way: a bounded wait for
// the file lock, and an error that names the file and says who holds it.
package boltfile

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// LockWait is how long Open waits for another process to release a file.
const LockWait = 5 * time.Second

// ErrHeld is returned (wrapped, with bolt.ErrTimeout) when another process
// keeps the file open for LockWait.
var ErrHeld = errors.New("held by another process (is adcensus running on this data directory?)")

// Open opens or creates the bbolt file at path with opts (nil for the
// defaults) and a lock wait of LockWait. Errors name path.
func Open(path string, opts *bolt.Options) (*bolt.DB, error) {
	o := bolt.Options{}
	if opts != nil {
		o = *opts
	}
	o.Timeout = LockWait
	db, err := bolt.Open(path, 0o600, &o)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w after %s: %w", path, ErrHeld, LockWait, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}
