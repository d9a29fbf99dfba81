package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	indexbleve "adcensus/index/bleve"
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
	if !strings.Contains(err.Error(), indexbleve.DocsFile) {
		t.Fatalf("err %q does not name %s", err, indexbleve.DocsFile)
	}
	if _, _, _, err := held.Stats(context.Background()); err != nil {
		t.Fatalf("holder broken after the refused open: %v", err)
	}
}
