package boltfile_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"adcensus/internal/boltfile"
)

// A file another holder keeps open is refused after the lock wait with
// ErrHeld and the path; once released it opens.
func TestOpenHeld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	held, err := boltfile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = boltfile.Open(path, &bolt.Options{ReadOnly: false})
	if !errors.Is(err, boltfile.ErrHeld) || !errors.Is(err, bolt.ErrTimeout) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v, want ErrHeld and bolt.ErrTimeout naming %s", err, path)
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := boltfile.Open(path, nil)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	db.Close()
}
