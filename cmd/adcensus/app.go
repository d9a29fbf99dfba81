package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"adcensus/crawler"
	"adcensus/dedup"
	cluster "adcensus/dedup/cluster"
	"adcensus/index"
	indexbleve "adcensus/index/bleve"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// Files and folders inside the data directory.
const (
	crawlStateFile   = "crawl.db"
	clusterStateFile = "cluster.db"
	indexDir         = "index"
)

// node is one process's share of the pipeline: the stream connection and the
// stores of the stages it runs.
type node struct {
	dataDir string
	log     *slog.Logger

	pseudo   *contact.Pseudonymiser
	bus      *jetstream.Bus
	crawls   *crawler.Store
	cluster  *cluster.Cluster
	index    index.Store
	counters pipeline.Counters

	cancel context.CancelFunc
	group  *errgroup.Group
	closed bool
}

type nodeOptions struct {
	DataDir string
	NATSURL string
	Logger  *slog.Logger
	// MaxAge is the stream's max_age (RetentionConfig.StreamMaxAge).
	MaxAge time.Duration
}

// openNode opens the data directory: key, stream, crawl state, cluster state
// and index.
func openNode(ctx context.Context, o nodeOptions) (*node, error) {
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := checkWritable(o.DataDir); err != nil {
		return nil, err
	}
	n := &node{dataDir: o.DataDir, log: o.Logger}
	key, err := contact.LoadOrCreateKey(o.DataDir)
	if err != nil {
		return nil, err
	}
	n.pseudo = contact.New(key)
	if n.bus, err = jetstream.Open(ctx, jetstream.Options{URL: o.NATSURL, DataDir: o.DataDir, Logger: o.Logger, MaxAge: o.MaxAge}); err != nil {
		return nil, err
	}
	if n.crawls, err = crawler.OpenStore(filepath.Join(o.DataDir, crawlStateFile)); err != nil {
		n.Close()
		return nil, err
	}
	if n.cluster, err = cluster.Open(filepath.Join(o.DataDir, clusterStateFile)); err != nil {
		n.Close()
		return nil, err
	}
	// Through a variable of the concrete type: a nil *Index in the
	// index.Store field would not be nil, and Close would call it.
	ix, err := indexbleve.Open(filepath.Join(o.DataDir, indexDir))
	if err != nil {
		n.Close()
		return nil, err
	}
	n.index = ix
	return n, nil
}

// startStages starts the fingerprint, cluster and index stages as goroutines.
// Shutdown order (stopStages): cancel the stages' context, wait for every
// stage to return (each finishes or abandons its current batch, which is
// then redelivered), then Close closes the stores and the stream.
func (n *node) startStages(ctx context.Context) { n.startSome(ctx, allStages) }

// stages returns the pipeline's stages in flow order, wired to the node's
// stores. Images on the stream were fetched and hashed by the crawler
// under its politeness rules; the fingerprint stage never fetches on its
// own.
func (n *node) stages() []pipeline.Stage {
	fp := dedup.NewFingerprinter(n.pseudo, noImageLoader{}, imagehash.DefaultLimits())
	return []pipeline.Stage{
		&dedup.FingerprintStage{FP: fp, Workers: runtime.NumCPU(), Log: n.log},
		&cluster.Stage{Cluster: n.cluster, Log: n.log},
		&index.Stage{Store: n.index},
	}
}

// allStages are the stages' names (their pipeline.Spec names), in flow
// order: what startSome and 'adcensus stages --only' take.
var allStages = func() []string {
	var names []string
	for _, st := range (&node{}).stages() {
		names = append(names, st.Spec().Name)
	}
	return names
}()

func (n *node) startSome(ctx context.Context, stages []string) {
	on := map[string]bool{}
	for _, s := range stages {
		on[s] = true
	}
	ctx, n.cancel = context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	n.group = g
	for _, st := range n.stages() {
		if on[st.Spec().Name] {
			g.Go(func() error { return pipeline.Run(gctx, n.bus, st, &n.counters) })
		}
	}
}

// waitIdle waits until every stage has processed everything in the stream.
// A stage that fails ends the wait with its error.
func (n *node) waitIdle(ctx context.Context) error {
	return n.waitIdleOf(ctx, durablesOf(allStages)...)
}

// durablesOf returns the durable consumers of the named stages, in flow
// order.
func durablesOf(names []string) []string {
	var ds []string
	for _, st := range (&node{}).stages() {
		if spec := st.Spec(); slices.Contains(names, spec.Name) {
			ds = append(ds, spec.Durable)
		}
	}
	return ds
}

// waitIdleOf waits until the given durable consumers (in flow order) have
// processed everything in the stream.
func (n *node) waitIdleOf(ctx context.Context, durables ...string) error {
	stagesDone := make(chan error, 1)
	// The group is read here, not in the goroutine: stopStages and
	// startStages (run --schedule) replace it while the goroutine waits.
	g := n.group
	go func() { stagesDone <- g.Wait() }()
	idleInARow := 0
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-stagesDone:
			if err == nil {
				err = errors.New("pipeline stages stopped")
			}
			return err
		case <-t.C:
		}
		// Checked in flow order: when a stage is idle, all it will ever
		// publish from what it consumed is already in the stream.
		idle, err := n.bus.Idle(ctx, durables...)
		if err != nil {
			return err
		}
		if idle {
			idleInARow++
		} else {
			idleInARow = 0
		}
		if idleInARow >= 2 {
			return nil
		}
	}
}

func (n *node) stopStages() error {
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	err := n.group.Wait()
	n.cancel = nil
	return err
}

// Close stops the stages and closes the stores, then the stream. Calling it
// again does nothing.
func (n *node) Close() error {
	if n.closed {
		return nil
	}
	n.closed = true
	errs := []error{n.stopStages()}
	if n.index != nil {
		errs = append(errs, n.index.Close())
	}
	if n.cluster != nil {
		errs = append(errs, n.cluster.Close())
	}
	if n.crawls != nil {
		errs = append(errs, n.crawls.Close())
	}
	if n.bus != nil {
		errs = append(errs, n.bus.Close())
	}
	return errors.Join(errs...)
}

// resetStore closes the store of stage ("cluster" or "index"), deletes its
// files and opens it empty, for a rebuild by replay.
func (n *node) resetStore(stage string) error {
	switch stage {
	case "cluster":
		path := filepath.Join(n.dataDir, clusterStateFile)
		if err := n.cluster.Close(); err != nil {
			return err
		}
		n.cluster = nil
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		cl, err := cluster.Open(path)
		if err != nil {
			return err
		}
		n.cluster = cl
	case "index":
		dir := filepath.Join(n.dataDir, indexDir)
		if err := n.index.Close(); err != nil {
			return err
		}
		n.index = nil
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		ix, err := indexbleve.Open(dir)
		if err != nil {
			return err
		}
		n.index = ix
	default:
		return fmt.Errorf("no store to reset for stage %q", stage)
	}
	return nil
}

// openIndex opens only the index of a data directory, for read commands:
// read-only, so a copy of a data directory without write permission can be
// read. An index of an older layout is rebuilt by a read-write open.
func openIndex(dataDir string) (index.Store, error) {
	dir := filepath.Join(dataDir, indexDir)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("no index in %s (run 'adcensus run' or 'adcensus demo --data %s' first): %w", dataDir, dataDir, err)
	}
	ix, err := indexbleve.OpenReadOnly(dir)
	if errors.Is(err, indexbleve.ErrNeedsRebuild) {
		return indexbleve.Open(dir)
	}
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// openCrawlState opens the crawl state of a data directory read-only, for
// read commands.
func openCrawlState(dataDir string) (*crawler.Store, error) {
	path := filepath.Join(dataDir, crawlStateFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no crawl state in %s (run 'adcensus run' or 'adcensus crawl' first): %w", dataDir, err)
	}
	return crawler.OpenStoreReadOnly(path)
}

// checkWritable returns an error naming the cause when the data directory,
// or a file or folder the pipeline writes in it, cannot be written: a
// read-only copy, a read-only mount, files of another user. Checked before
// anything starts, so 'run' fails at once instead of when the embedded
// NATS server cannot write its store. Nothing is changed: a file is
// opened for writing without truncation, and a temporary file is created
// and removed in each folder.
func checkWritable(dataDir string) error {
	fail := func(err error) error {
		return fmt.Errorf("data directory %s is not writable (run, crawl and rebuild write the stream, the state and the index there; read commands such as search, export and runs work read-only): %w", dataDir, err)
	}
	for _, dir := range []string{dataDir, filepath.Join(dataDir, "nats"), filepath.Join(dataDir, indexDir)} {
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		f, err := os.CreateTemp(dir, ".adcensus-write-check-")
		if err != nil {
			return fail(err)
		}
		f.Close()
		os.Remove(f.Name())
	}
	for _, file := range []string{crawlStateFile, clusterStateFile, filepath.Join(indexDir, indexbleve.DocsFile)} {
		f, err := os.OpenFile(filepath.Join(dataDir, file), os.O_WRONLY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fail(err)
		}
		f.Close()
	}
	return nil
}

// noImageLoader refuses to load images: on the stream, adverts carry the
// fingerprints the crawler computed.
type noImageLoader struct{}

func (noImageLoader) Load(context.Context, string) ([]byte, error) {
	return nil, errors.New("not hashed by the crawler, and the fingerprint stage does not fetch images")
}
