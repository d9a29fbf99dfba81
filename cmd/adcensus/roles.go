package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cluster "adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// Roles of a process. 'adcensus run' runs all of them in one process;
// 'adcensus stages --only' runs the ones named, and a process joins only
// the consumers of its own roles.
//
//   - crawl: the scheduler and the crawlers, publishing adverts (no consumer);
//   - fingerprint: the shared consumer "fingerprint" (any number of processes);
//   - cluster: the one writer of assignments, by lease on a NATS cluster;
//     other cluster processes are standbys following on their own consumer;
//   - index: an index replica, with its own consumer "index-<replica>".
const roleCrawl = "crawl"

// roles are every role, in flow order.
var roles = append([]string{roleCrawl}, allStages...)

// pipelineRoles returns the pipeline stages among rs (rs without crawl).
func pipelineRoles(rs []string) []string {
	var out []string
	for _, r := range rs {
		if r != roleCrawl {
			out = append(out, r)
		}
	}
	return out
}

// parseRoles reads a comma-separated list of roles; "all" is every role.
func parseRoles(s string) ([]string, error) {
	list := splitList(s)
	if len(list) == 1 && list[0] == "all" {
		return roles, nil
	}
	if len(list) == 0 {
		return nil, usageError{"--only names no role (roles: " + strings.Join(roles, ", ") + ", or all)"}
	}
	var out []string
	for _, r := range list {
		if !slices.Contains(roles, r) {
			return nil, usageError{fmt.Sprintf("unknown role %q (roles: %s, or all)", r, strings.Join(roles, ", "))}
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	// In flow order, whatever the order asked.
	sort.Slice(out, func(i, j int) bool { return slices.Index(roles, out[i]) < slices.Index(roles, out[j]) })
	return out, nil
}

// nodeIDFile holds the id of the process that uses a data directory: it
// names its standby consumer, its index replica (unless --replica) and its
// lease and heartbeat entries.
const nodeIDFile = "node-id"

var validID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// nodeID returns the data directory's node id, creating it (host name and
// four random bytes) the first time.
func nodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, nodeIDFile)
	data, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(data))
		if !validID.MatchString(id) {
			return "", fmt.Errorf("%s: %q is not a node id (letters, digits, - and _)", path, id)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	host, _ := os.Hostname()
	host = regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(host, "-")
	if len(host) > 40 {
		host = host[:40]
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := strings.Trim(host+"-"+hex.EncodeToString(r[:]), "-")
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("node id: %w", err)
	}
	return id, nil
}

// validReplica checks a --replica value.
func validReplica(id string) error {
	if id != "" && !validID.MatchString(id) {
		return usageError{fmt.Sprintf("--replica %q: use 1 to 64 letters, digits, - and _", id)}
	}
	return nil
}

// keyID is a public name of the key: an HMAC of a constant under it. It
// tells whether two processes share a key without revealing it.
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("adcensus key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// checkClusterKey makes sure every process on a NATS cluster uses the same
// pseudonymisation key: the first records the key's id in the stream's
// key-value store, and a process with another key is refused (different
// keys give different pseudonyms and break de-duplication).
func (n *node) checkClusterKey(ctx context.Context, key []byte) error {
	if n.bus.Embedded() {
		return nil
	}
	id := keyID(key)
	got, err := n.bus.PutIfAbsent(ctx, pipeline.ClusterBucket, "key-id", []byte(id))
	if err != nil {
		return fmt.Errorf("check key: %w", err)
	}
	if string(got) != id {
		return fmt.Errorf("%s: this key (id %s) is not the one the NATS cluster's other processes use (id %s); copy their %s into %s (deploy/README.md: the key is distributed as a secret)",
			filepath.Join(n.dataDir, contact.KeyFile), id, got, contact.KeyFile, n.dataDir)
	}
	return nil
}

// drainedDurables returns the consumers whose being idle means the stream
// is fully processed on a NATS cluster, in flow order: fingerprint,
// cluster and every index replica (not the standbys). The fingerprint and
// cluster consumers are included even before their processes created them:
// then the stream is not processed.
func (n *node) drainedDurables(ctx context.Context) ([]string, error) {
	names, err := n.bus.ConsumerNames(ctx)
	if err != nil {
		return nil, err
	}
	ds := []string{pipeline.DurableFingerprint, pipeline.DurableCluster}
	var ix, cs []string
	for _, c := range names {
		if c == pipeline.DurableIndex || strings.HasPrefix(c, pipeline.DurableIndexPrefix) {
			ix = append(ix, c)
		}
		if c == pipeline.DurableCensus || strings.HasPrefix(c, pipeline.DurableCensusPrefix) {
			cs = append(cs, c)
		}
	}
	if len(ix) == 0 {
		// No replica has created its consumer yet: not processed.
		ix = []string{pipeline.IndexDurable("none-yet")}
	}
	sort.Strings(ix)
	sort.Strings(cs)
	return append(append(ds, ix...), cs...), nil
}

// runClusterRole runs the cluster stage on a NATS cluster until ctx is
// cancelled: as a standby following the fingerprints on its own consumer
// until it holds the writer's lease, then as the writer (writeWithLease);
// when the lease is lost it becomes a standby again.
func (n *node) runClusterRole(ctx context.Context, cs *cluster.Stage) error {
	log := n.log.With("stage", "cluster", "node", n.id)
	for ctx.Err() == nil {
		// The standby consumer is this process's own (named by its node
		// id): what it held when the process died or last took the lease
		// is delivered again at once.
		if err := n.bus.Reclaim(ctx, pipeline.DurableStandbyPrefix+n.id); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		follower := &cluster.Stage{Cluster: cs.Cluster, Log: cs.Log, Follow: true, Durable: pipeline.DurableStandbyPrefix + n.id}
		fctx, stopFollow := context.WithCancel(ctx)
		// The follower must have returned before another stage uses the
		// state (the writer, or the next round's follower).
		var followErr error
		followDone := make(chan struct{})
		go func() { followErr = pipeline.Run(fctx, n.bus, follower, nil); close(followDone) }()
		lease, err := n.bus.AcquireLease(ctx, pipeline.LeaseCluster, n.id)
		if err != nil {
			stopFollow()
			<-followDone
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		err = n.writeWithLease(ctx, log, lease, follower, func() error {
			// Catch up: the state must hold every fingerprint the previous
			// writer processed before this one publishes anything. The
			// previous writer has stopped, so what it was delivered is
			// fixed: the standby follows up to there (not to the end of
			// a stream that a crawl keeps growing).
			if err := n.waitFollowed(lease.Context(), follower.Durable, followDone, &followErr); err != nil {
				return err
			}
			stopFollow()
			<-followDone
			if errors.Is(followErr, context.Canceled) {
				return nil // stopped here, maybe while it started
			}
			return followErr
		})
		stopFollow()
		<-followDone
		lease.Release(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && !jetstream.Transient(err) {
			return err
		}
		if err != nil {
			// The cluster answered slowly while taking over (leaders
			// elected after a node or a partition came back): try again
			// as a standby rather than exit.
			log.Warn("taking over as writer failed; back to standby", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		log.Warn("lease lost; back to standby")
	}
	return nil
}

// waitFollowed waits until the standby consumer has applied every
// fingerprint that was delivered to the writer's consumer, or the
// follower failed.
func (n *node) waitFollowed(ctx context.Context, durable string, followDone <-chan struct{}, followErr *error) error {
	target, _, _, err := n.bus.Progress(ctx, pipeline.DurableCluster)
	if err != nil {
		return err
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		_, floor, ok, err := n.bus.Progress(ctx, durable)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ok && floor >= target {
			return nil
		}
		if !ok && target == 0 {
			return nil // nothing was ever delivered to a writer
		}
		select {
		case <-ctx.Done():
			return nil
		case <-followDone:
			if err := *followErr; err != nil {
				return err
			}
			return errors.New("standby stopped")
		case <-t.C:
		}
	}
}

// writeWithLease is the writer's part of runClusterRole: catch up, publish
// the epoch marker, publish a snapshot
// of the state, then run the cluster stage until the lease ends.
func (n *node) writeWithLease(ctx context.Context, log interface {
	Info(string, ...any)
}, lease interface {
	Context() context.Context
	SetEpoch(uint64)
}, _ *cluster.Stage, catchUp func() error) error {
	// Writes end when the lease ends or the process stops.
	lctx, cancel := context.WithCancel(lease.Context())
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	if err := catchUp(); err != nil {
		if lctx.Err() != nil {
			return nil // the lease ended meanwhile
		}
		return err
	}
	if lctx.Err() != nil {
		return nil
	}
	// The previous writer has stopped (it stops before its lease
	// expires): what it took and did not acknowledge is delivered again
	// now, not after the ack wait.
	if err := n.bus.Reclaim(lctx, pipeline.DurableCluster); err != nil {
		if lctx.Err() != nil {
			return nil
		}
		return err
	}
	// The epoch is one above the last in the stream: only the lease
	// holder publishes markers, so epochs only grow, whatever happens to
	// the lease bucket.
	last, err := n.bus.LastHeader(lctx, pipeline.SubjectEpochs, pipeline.HeaderEpoch)
	if err != nil {
		if lctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cluster: last epoch: %w", err)
	}
	prev, _ := strconv.ParseUint(last, 10, 64)
	epoch := prev + 1
	if err := n.bus.Publish(lctx, pipeline.SubjectEpochs, "epoch-"+strconv.FormatUint(epoch, 10), nil, map[string]string{
		pipeline.HeaderEpoch: strconv.FormatUint(epoch, 10), "Adcensus-Holder": n.id,
	}); err != nil {
		if lctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cluster: epoch marker: %w", err)
	}
	lease.SetEpoch(epoch)
	writer := &cluster.Stage{Cluster: n.cluster, Log: n.log, Epoch: epoch}
	if err := writer.Start(lctx, n.bus); err != nil {
		if lctx.Err() != nil {
			return nil
		}
		return err
	}
	count, err := writer.Snapshot(lctx, n.bus)
	if err != nil {
		if lctx.Err() != nil {
			return nil
		}
		return err
	}
	log.Info("writing assignments", "epoch", epoch, "snapshot", count)
	n.writing.Store(true)
	defer n.writing.Store(false)
	return pipeline.Run(lctx, n.bus, writer, &n.counters)
}
