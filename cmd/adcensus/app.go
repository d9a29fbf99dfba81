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
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"adcensus/crawler"
	"adcensus/dedup"
	cluster "adcensus/dedup/cluster"
	"adcensus/index"
	indexbleve "adcensus/index/bleve"
	"adcensus/index/census"
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
	census   *census.Store // census.go
	counters pipeline.Counters

	// roles are the roles the node runs (roles.go): its stores are
	// opened for them only, and it joins no other consumer.
	roles []string
	// id names the process in leases, heartbeats and standby consumers;
	// indexDurable is its index stage's consumer.
	id           string
	indexDurable string
	started      []string // the pipeline stages startSome started
	// writing is set while the node holds the cluster writer's lease.
	writing atomic.Bool
	// indexStage is the index stage startSome started (for its count of
	// fenced assignments in the heartbeat), nil without one.
	indexStage atomic.Pointer[index.Stage]

	cancel context.CancelFunc
	group  *errgroup.Group
	closed bool

	nodeReviews // the review store of review forums (reviews.go)
}

type nodeOptions struct {
	DataDir string
	NATSURL string
	Logger  *slog.Logger
	// Roles the process runs (nil: every role, the single-process
	// pipeline).
	Roles []string
	// Replica names this process's index replica on a NATS cluster
	// (default: the node id of the data directory).
	Replica string
	// Stream settings (the main config's stream section).
	Stream streamSettings
	// API is the address this process serves the index's API on, if it
	// does (recorded in the holder file).
	API string
	// MaxAge is the longest the retention section lets a message stay
	// (RetentionConfig.StreamMaxAge): the stream's max_age is at most this.
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
	if o.Roles == nil {
		o.Roles = roles
	}
	n := &node{dataDir: o.DataDir, log: o.Logger, roles: o.Roles}
	key, err := contact.LoadOrCreateKey(o.DataDir)
	if err != nil {
		return nil, err
	}
	n.pseudo = contact.New(key)
	if n.id, err = nodeID(o.DataDir); err != nil {
		return nil, err
	}
	if o.NATSURL != "" {
		replica := o.Replica
		if replica == "" {
			replica = n.id
		}
		n.indexDurable = pipeline.IndexDurable(replica)
	} else {
		n.indexDurable = pipeline.DurableIndex
	}
	jo := o.Stream.busOptions()
	jo.URL, jo.DataDir, jo.Logger = o.NATSURL, o.DataDir, o.Logger
	jo.RetentionMaxAge = o.MaxAge
	if n.bus, err = jetstream.Open(ctx, jo); err != nil {
		return nil, err
	}
	if err := n.checkClusterKey(ctx, key); err != nil {
		n.Close()
		return nil, err
	}
	if n.has(roleCrawl) {
		if n.crawls, err = crawler.OpenStore(filepath.Join(o.DataDir, crawlStateFile)); err != nil {
			n.Close()
			return nil, explainHeld(o.DataDir, err)
		}
	}
	if n.has("cluster") {
		if n.cluster, err = cluster.Open(filepath.Join(o.DataDir, clusterStateFile)); err != nil {
			n.Close()
			return nil, explainHeld(o.DataDir, err)
		}
	}
	if n.has("index") {
		// Through a variable of the concrete type: a nil *Index in the
		// index.Store field would not be nil, and Close would call it.
		ix, err := indexbleve.Open(filepath.Join(o.DataDir, indexDir))
		if err != nil {
			n.Close()
			return nil, explainHeld(o.DataDir, err)
		}
		n.index = ix
	}
	if err := n.openCensus(); err != nil {
		n.Close()
		return nil, explainHeld(o.DataDir, err)
	}
	if err := writeHolder(o.DataDir, holder{Node: n.id, Roles: n.roles, API: o.API}); err != nil {
		n.log.Warn("holder file", "err", err)
	}
	return n, nil
}

// has reports whether the node runs role.
func (n *node) has(role string) bool { return slices.Contains(n.roles, role) }

// startStages starts the pipeline stages among the node's roles as
// goroutines. Shutdown order (stopStages): cancel the stages' context,
// wait for every stage to return (each finishes or abandons its current
// batch, which is then redelivered; the cluster writer releases its
// lease), then Close closes the stores and the stream.
func (n *node) startStages(ctx context.Context) { n.startSome(ctx, pipelineRoles(n.roles)) }

// stages returns the pipeline's stages in flow order, wired to the node's
// stores. Images on the stream were fetched and hashed by the crawler
// under its politeness rules; the fingerprint stage never fetches on its
// own.
func (n *node) stages() []pipeline.Stage {
	fp := dedup.NewFingerprinter(n.pseudo, noImageLoader{}, imagehash.DefaultLimits())
	return []pipeline.Stage{
		&dedup.FingerprintStage{FP: fp, Workers: runtime.NumCPU(), Log: n.log},
		&cluster.Stage{Cluster: n.cluster, Log: n.log},
		&index.Stage{Store: n.index, Durable: n.indexDurable, Log: n.log},
		&census.Stage{Store: n.census, Durable: n.censusDurable(), Log: n.log},
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
	on["census"] = on["census"] || on["index"] // the census runs beside every index
	ctx, n.cancel = context.WithCancel(ctx)
	g, gctx := errgroup.WithContext(ctx)
	n.group = g
	n.started = nil
	sts := n.stages()
	for _, st := range sts {
		if ix, ok := st.(*index.Stage); ok && on[ix.Spec().Name] {
			n.indexStage.Store(ix)
		}
	}
	if !n.bus.Embedded() {
		g.Go(func() error { n.heartbeat(gctx); return nil })
	}
	for _, st := range sts {
		name := st.Spec().Name
		if !on[name] {
			continue
		}
		n.started = append(n.started, name)
		if cs, ok := st.(*cluster.Stage); ok && !n.bus.Embedded() {
			// On a NATS cluster: one writer at a time, by lease.
			g.Go(func() error { return n.runClusterRole(gctx, cs) })
			continue
		}
		if name == "index" && !n.bus.Embedded() {
			// The replica's consumer is its own: what a killed
			// predecessor took and did not acknowledge is delivered
			// again now, not after the ack wait.
			g.Go(func() error {
				if err := n.bus.Reclaim(gctx, n.indexDurable); err != nil {
					return err
				}
				return pipeline.Run(gctx, n.bus, st, &n.counters)
			})
			continue
		}
		g.Go(func() error { return pipeline.Run(gctx, n.bus, st, &n.counters) })
	}
}

// waitIdle waits until every stage has processed everything in the stream:
// with the embedded server the node's own stages, on a NATS cluster every
// stage's consumer (drainedDurables). A stage of the node that fails ends
// the wait with its error.
func (n *node) waitIdle(ctx context.Context) error {
	if n.bus.Embedded() {
		return n.waitIdleOf(ctx, n.durablesOf(allStages)...)
	}
	return n.waitIdleOf(ctx)
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

// durablesOf is durablesOf with the node's index consumer.
func (n *node) durablesOf(names []string) []string {
	ds := durablesOf(names)
	for i, d := range ds {
		switch d {
		case pipeline.DurableIndex:
			ds[i] = n.indexDurable
		case pipeline.DurableCensus:
			ds[i] = n.censusDurable()
		}
	}
	return ds
}

// idleErrorsFor is how long waitIdleOf tolerates a NATS cluster that does
// not answer before it gives up.
const idleErrorsFor = 2 * time.Minute

// waitIdleOf waits until the given durable consumers (in flow order) have
// processed everything in the stream; with none given, until every
// stage's consumer on the NATS cluster has (drainedDurables).
func (n *node) waitIdleOf(ctx context.Context, durables ...string) error {
	stagesDone := make(chan error, 1)
	// The group is read here, not in the goroutine: stopStages and
	// startStages (run --schedule) replace it while the goroutine waits.
	if g := n.group; g != nil && len(n.started) > 0 {
		go func() { stagesDone <- g.Wait() }()
	}
	idleInARow := 0
	var failingSince time.Time
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
		ds := durables
		var err error
		if len(durables) == 0 {
			// On a NATS cluster: every stage's consumer, looked up each
			// time (replicas may create theirs after the crawl began).
			ds, err = n.drainedDurables(ctx)
		}
		idle := false
		if err == nil {
			idle, err = n.bus.Idle(ctx, ds...)
		}
		if err != nil {
			// On a NATS cluster a node going away makes requests time
			// out while leaders are elected: wait it out, for a while.
			if n.bus.Embedded() || ctx.Err() != nil {
				return err
			}
			if failingSince.IsZero() {
				failingSince = time.Now()
			}
			if time.Since(failingSince) > idleErrorsFor {
				return fmt.Errorf("stream unreachable for %s: %w", idleErrorsFor, err)
			}
			n.log.Warn("waiting for the stages: stream not answering, retrying", "err", err)
			idleInARow = 0
			continue
		}
		failingSince = time.Time{}
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
	if n.census != nil {
		errs = append(errs, n.census.Close())
	}
	if n.cluster != nil {
		errs = append(errs, n.cluster.Close())
	}
	if n.crawls != nil {
		errs = append(errs, n.crawls.Close())
	}
	errs = append(errs, n.closeReviews())
	if n.bus != nil {
		errs = append(errs, n.bus.Close())
	}
	removeHolder(n.dataDir)
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
	case "census":
		return n.resetCensus()
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
		ix, err = indexbleve.Open(dir)
	}
	if err != nil {
		return nil, explainHeld(dataDir, err)
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

// sleep waits d or until ctx is cancelled.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
