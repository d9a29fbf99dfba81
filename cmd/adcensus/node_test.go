package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
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

// 'adcensus rebuild' on a data directory that does not exist (a typo)
// refuses, and creates nothing.
func TestRebuildRefusesMissingDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	var out, errb strings.Builder
	for _, args := range [][]string{{"rebuild", "--data", dir}, {"index", "rebuild", "--data", dir}} {
		if err := Main(context.Background(), args, &out, &errb); err == nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q: err %v, want one wrapping fs.ErrNotExist", args, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q created %s", args, dir)
		}
	}
}
