package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	indexbleve "adcensus/index/bleve"
	"adcensus/internal/boltfile"
)

// A second process on a data directory whose index another process holds
// (`adcensus serve` while `adcensus run` starts) gets an error naming the
// locked file, not a crash, and leaves the holder working.
func TestOpenNodeWhileIndexHeld(t *testing.T) {
	dir := t.TempDir()
	held, err := indexbleve.Open(filepath.Join(dir, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	n, err := openNode(context.Background(), nodeOptions{DataDir: dir, Logger: newLogger(io.Discard, levelFor(true))})
	if err == nil {
		n.Close()
		t.Fatal("opened a node on an index another holder has open")
	}
	if !strings.Contains(err.Error(), indexbleve.DocsFile) || !errors.Is(err, boltfile.ErrHeld) {
		t.Fatalf("err %q does not name %s and say it is held", err, indexbleve.DocsFile)
	}
	if _, _, _, err := held.Stats(context.Background()); err != nil {
		t.Fatalf("holder broken after the refused open: %v", err)
	}
}

// A rebuild that cannot reach its stream deletes nothing: the cluster
// state and the index are still there for the next attempt.
func TestRebuildWithoutStreamKeepsStores(t *testing.T) {
	dir := t.TempDir()
	n, err := openNode(context.Background(), nodeOptions{DataDir: dir, Logger: newLogger(io.Discard, levelFor(true))})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if err := rebuildStores(context.Background(), dir, "nats://127.0.0.1:1", &stderr, "cluster", "index"); err == nil {
		t.Fatal("rebuild without a reachable stream succeeded")
	}
	for _, name := range []string{clusterStateFile, filepath.Join(indexDir, indexbleve.DocsFile)} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s gone after a failed rebuild: %v", name, err)
		}
	}
}
