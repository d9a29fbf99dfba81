package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/internal/synthetic/demoarena"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

// recordingIndex is an index store that remembers the stream sequence
// (the version) of every assignment it applied.
type recordingIndex struct {
	index.Store
	mu      sync.Mutex
	applied map[uint64]bool
}

func (r *recordingIndex) Apply(ctx context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error {
	if err := r.Store.Apply(ctx, fps, asg); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range asg {
		r.applied[a.Version] = true
	}
	return nil
}

func (r *recordingIndex) wasApplied(seq uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied[seq]
}

// startProcOn starts a stage process as startProc does, with the stream
// settings given; with record, its index records what it applies.
func startProcOn(tb testing.TB, url, dir string, rs []string, replica string, st streamSettings, record bool) *stageProc {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := openNode(ctx, nodeOptions{DataDir: dir, NATSURL: url, Logger: testLogger(),
		Roles: rs, Replica: replica, Stream: st})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if record {
		n.index = &recordingIndex{Store: n.index, applied: map[uint64]bool{}}
	}
	n.startStages(ctx)
	p := &stageProc{n: n, cancel: cancel}
	// As 'adcensus stages' would exit non-zero: a stage that fails
	// while the process runs fails the test (a partition that heals
	// within seconds must not kill a process).
	g := n.group
	go func() {
		if err := g.Wait(); err != nil && ctx.Err() == nil {
			tb.Errorf("stage process %s (%v) failed: %v", n.id, rs, err)
		}
	}()
	tb.Cleanup(p.stop)
	return p
}

// streamMsg is an assignments message or an epoch marker as stored.
type streamMsg struct {
	seq, epoch uint64
	marker     bool
	ads        []string
}

// readEpochs reads every assignments message and epoch marker of the
// stream, in order, from a direct connection to the servers (retried for
// two minutes while the cluster settles).
func readEpochs(tb testing.TB, urls string) []streamMsg {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		msgs, err := tryReadEpochs(urls)
		if err == nil {
			return msgs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("read the stream: %v", err)
		}
		time.Sleep(time.Second)
	}
}

func tryReadEpochs(urls string) ([]streamMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nc, err := nats.Connect(urls)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		return nil, err
	}
	st, err := js.Stream(ctx, pipeline.Stream)
	if err != nil {
		return nil, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, err
	}
	var out []streamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, natsjs.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("seq %d: %w", seq, err)
		}
		if m.Subject != pipeline.SubjectAssignments && m.Subject != pipeline.SubjectEpochs {
			continue
		}
		sm := streamMsg{seq: seq, marker: m.Subject == pipeline.SubjectEpochs}
		sm.epoch, _ = strconv.ParseUint(m.Header.Get(pipeline.HeaderEpoch), 10, 64)
		if !sm.marker {
			var a ad.Assignments
			if err := json.Unmarshal(m.Data, &a); err != nil {
				return nil, fmt.Errorf("assignments at seq %d: %w", seq, err)
			}
			for _, x := range a.Changed {
				sm.ads = append(sm.ads, x.AdID)
			}
		}
		out = append(out, sm)
	}
	return out, nil
}

// checkFencing checks, on the stream as stored, that no writer published
// before its epoch marker, and that an index replica let no deposed writer
// decide an assignment: every assignments message of an epoch below the
// last marker before it (published by a writer whose lease had ended)
// that the replica applied is overwritten by a later one of a newer epoch
// that it applied too. It returns how many deposed writes the stream
// holds.
func checkFencing(tb testing.TB, msgs []streamMsg, name string, ix *recordingIndex) (deposed int) {
	tb.Helper()
	var current uint64 // the epoch of the last marker so far
	for i, m := range msgs {
		if m.marker {
			current = max(current, m.epoch)
			continue
		}
		if m.epoch > current {
			tb.Errorf("assignments at seq %d of epoch %d before that epoch's marker (last marker %d)", m.seq, m.epoch, current)
		}
		if m.epoch >= current {
			continue
		}
		deposed++
		if !ix.wasApplied(m.seq) {
			continue // fenced
		}
		for _, id := range m.ads {
			overwritten := false
			for _, later := range msgs[i+1:] {
				if !later.marker && later.epoch > m.epoch && ix.wasApplied(later.seq) && containsString(later.ads, id) {
					overwritten = true
					break
				}
			}
			if !overwritten {
				tb.Errorf("replica %s: advert %s keeps the assignment of a deposed writer (epoch %d at seq %d, current epoch %d)", name, id, m.epoch, m.seq, current)
			}
		}
	}
	return deposed
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The demo crawled through a 3-node JetStream cluster (R3) whose routes
// and client connections go through proxies: in the middle of the crawl
// the cluster writer's NATS node is cut off from the other two (a network
// partition: the writer process and its connection live on), and a
// fingerprint worker's connection and index replica a's are cut. The writer gives up its lease,
// the standby on the majority side takes over with a higher epoch, and
// the other fingerprint worker gets the cut one's messages after the ack
// wait; replica a's connection heals with the servers' partition, and the
// pipeline drains with the worker still cut off. After the partitions
// heal, both index replicas count the demo's truth, no
// deposed writer's assignment decides anything on either replica, and
// 'adcensus status' names the new writer.
func TestPartitionCountsRight(t *testing.T) {
	if os.Getenv("ADCENSUS_PARTITION") == "" {
		t.Skip("set ADCENSUS_PARTITION=1 to run the partition test with the whole pipeline (1 to 5 minutes; TestLeaseAcrossPartition in pipeline/jetstream is the short one)")
	}
	c := jstest.MustCluster(t, 3)
	corpus := demoarena.Generate(demoarena.DefaultSeed)
	demo, err := demoarena.Start(context.Background(), corpus)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	arenas, err := demoArenas(demo)
	if err != nil {
		t.Fatal(err)
	}
	// A short ack wait, so that the cut worker's messages come back soon;
	// a long lease, so that load alone (the race detector on a busy
	// machine) rarely moves it.
	st := streamSettings{Replicas: 3, LeaseTTL: 10 * time.Second, AckWait: 5 * time.Second}
	url := func(server int) string { u, _ := c.ClientURL(t, server); return u }
	dirs := dataDirs(t, 7)
	// Server 2 is on the majority side whichever cluster process is cut
	// off: the fingerprint workers, replica b and the crawl are there.
	fp1URL, fp1Link := c.ClientURL(t, 2)
	fp1 := startProcOn(t, fp1URL, dirs[0], []string{"fingerprint"}, "", st, false)
	startProcOn(t, url(2), dirs[1], []string{"fingerprint"}, "", st, false)
	procs := []*stageProc{startProcOn(t, url(0), dirs[2], []string{"cluster"}, "", st, false)}
	waitFor(t, "the first cluster process holds the lease", func() bool {
		h, err := procs[0].n.bus.LeaseHolder(context.Background(), pipeline.LeaseCluster)
		return err == nil && h != nil && h.Holder == procs[0].n.id && h.Epoch > 0
	})
	procs = append(procs, startProcOn(t, url(1), dirs[3], []string{"cluster"}, "", st, false))
	ixAURL, ixALink := c.ClientURL(t, 1)
	ixA := startProcOn(t, ixAURL, dirs[4], []string{"index"}, "a", st, true)
	ixB := startProcOn(t, url(2), dirs[5], []string{"index"}, "b", st, true)

	crawled := make(chan error, 1)
	go func() {
		_, err := runPipeline(context.Background(), runOptions{DataDir: dirs[6], NATSURL: url(2), Arenas: arenas, Quiet: true,
			Roles: []string{roleCrawl}, Stream: st}, io.Discard, io.Discard)
		crawled <- err
	}()
	waitFor(t, "some adverts clustered", func() bool {
		return procs[0].n.counters.Clustered.Load()+procs[1].n.counters.Clustered.Load() >= 20
	})
	ctx := context.Background()
	// Under load the lease may change hands on its own: partition the
	// holder of the moment once it writes (its epoch is recorded).
	var old *jetstream.LeaseInfo
	waitFor(t, "a cluster process writes", func() bool {
		old, err = ixB.n.bus.LeaseHolder(ctx, pipeline.LeaseCluster)
		return err == nil && old != nil && old.Epoch > 0
	})
	// Cut the writer's server (cluster process i is on server i) off
	// from the others, and the first fingerprint worker's connection.
	cut := 0
	if old.Holder == procs[1].n.id {
		cut = 1
	}
	standby := procs[1-cut]
	_, fpBefore, _, _ := ixB.n.bus.Progress(ctx, pipeline.DurableFingerprint)
	c.Isolate(cut)
	fp1Link.Cut()
	ixALink.Cut()
	t.Logf("partitioned: server n%d (writer %s, epoch %d), fingerprint worker %s (fingerprint ack floor %d) and replica a",
		cut+1, old.Holder, old.Epoch, fp1.n.id, fpBefore)

	// The standby on the majority side takes the lease with a newer epoch.
	waitForLong(t, "the standby takes the lease", func() bool {
		h, err := ixB.n.bus.LeaseHolder(ctx, pipeline.LeaseCluster)
		return err == nil && h != nil && h.Holder == standby.n.id && h.Epoch > old.Epoch
	})
	c.Heal()
	ixALink.Heal()
	select {
	case err := <-crawled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(4 * time.Minute):
		_, cs, err := ixB.n.bus.Status(ctx)
		t.Fatalf("crawl not processed after 4 minutes: %+v %v", cs, err)
	}
	// Drained with the fingerprint worker still cut off: its messages went
	// to the other worker after the ack wait.
	var out, errb strings.Builder
	if err := Main(ctx, []string{"status", "--nats", c.DirectURLs()}, &out, &errb); err != nil {
		t.Fatalf("status with a fingerprint worker cut off: %v\n%s", err, out.String())
	}
	fp1Link.Heal()
	for name, p := range map[string]*stageProc{"a": ixA, "b": ixB} {
		ads, persons, networks := mustCounts(t, p.n.index)
		if ads != corpus.Ads() || persons != corpus.Persons() || networks != corpus.Networks() {
			t.Errorf("replica %s: %d ads / %d persons / %d networks, want %d / %d / %d", name, ads, persons, networks,
				corpus.Ads(), corpus.Persons(), corpus.Networks())
		}
	}
	msgs := readEpochs(t, c.DirectURLs())
	for name, p := range map[string]*stageProc{"a": ixA, "b": ixB} {
		deposed := checkFencing(t, msgs, name, p.n.index.(*recordingIndex))
		if name == "a" {
			t.Logf("%d assignments messages of a deposed writer in the stream", deposed)
		}
	}
	// 'adcensus status' names the new writer and its epoch, and says
	// drained once the healed worker is back.
	// Under load a 4 s lease may change hands (or be between holders) on
	// its own, so status and the lease are read until they agree.
	waitForLong(t, "status drained after the heal, naming the writer", func() bool {
		out.Reset()
		if Main(ctx, []string{"status", "--nats", c.DirectURLs()}, &out, &errb) != nil {
			return false
		}
		h, err := ixB.n.bus.LeaseHolder(ctx, pipeline.LeaseCluster)
		if err != nil || h == nil || h.Epoch == 0 { // epoch 0: a new holder not yet writing
			return false
		}
		if h.Epoch <= old.Epoch {
			t.Fatalf("lease epoch %d after the heal, want above the deposed writer's %d", h.Epoch, old.Epoch)
		}
		return strings.Contains(out.String(), fmt.Sprintf("cluster writer: %s, epoch %d", h.Holder, h.Epoch))
	})
}

// waitForLong is waitFor with four minutes (elections and ack waits on a
// loaded machine).
func waitForLong(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not true after 4 minutes: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
