package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

// flakyBus fails the first n publishes of assignments, as a crash between the
// cluster commit and its publish would.
type flakyBus struct {
	pipeline.Bus
	fail atomic.Int64
}

func (b *flakyBus) Publish(ctx context.Context, subject, msgID string, data []byte, h map[string]string) error {
	if subject == pipeline.SubjectAssignments && b.fail.Add(-1) >= 0 {
		return errors.New("injected publish failure")
	}
	return b.Bus.Publish(ctx, subject, msgID, data, h)
}

// PublishAsync loses the message as a stream that never stored it would:
// done reports the error.
func (b *flakyBus) PublishAsync(ctx context.Context, subject, msgID string, data []byte, h map[string]string, done func(error)) error {
	if subject == pipeline.SubjectAssignments && b.fail.Add(-1) >= 0 {
		go done(errors.New("injected publish failure"))
		return nil
	}
	return b.Bus.PublishAsync(ctx, subject, msgID, data, h, done)
}

func stageFP(id, name, contact string) *ad.Fingerprinted {
	return &ad.Fingerprinted{Ad: ad.Ad{ID: id, Arena: "a"}, Name: name, Contacts: []string{contact}}
}

// mustStageBusAndCluster opens an embedded bus and a cluster state in a temporary
// directory, both closed at cleanup.
func mustStageBusAndCluster(t testing.TB) (*jetstream.Bus, *cluster.Cluster) {
	t.Helper()
	dir := t.TempDir()
	bus := jstest.MustBus(t, dir)
	cl, err := cluster.Open(filepath.Join(dir, "cluster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return bus, cl
}

// TestClusterStageRepublishesAfterFailedPublish checks that assignments lost
// between the state commit and the publish reach the stream on redelivery,
// so the stream agrees with the state.
func TestClusterStageRepublishesAfterFailedPublish(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, cl := mustStageBusAndCluster(t)

	fps := []*ad.Fingerprinted{
		stageFP("a-1", "anna", "tel:aa"),
		stageFP("a-2", "anna", "tel:aa"), // same person as a-1
		stageFP("a-3", "bea", "tel:aa"),  // same network, other person
		stageFP("a-4", "cleo", "tel:cc"), // alone
	}
	for _, fp := range fps {
		data, _ := json.Marshal(fp)
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, "fp-"+fp.Ad.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	fb := &flakyBus{Bus: bus}
	fb.fail.Store(1)
	stage := &cluster.Stage{Cluster: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, fb, stage, &pipeline.Counters{}) }()
	jstest.WaitIdle(t, bus, pipeline.DurableCluster)

	// Fold every assignments message in stream order, last writer wins.
	got := map[string]ad.Assignment{}
	rctx, rcancel := context.WithCancel(ctx)
	go func() {
		jstest.WaitIdle(t, bus, "reader")
		rcancel()
	}()
	bus.Consume(rctx, "reader", []string{pipeline.SubjectAssignments}, 100, func(_ context.Context, msgs []*pipeline.Msg) error {
		for _, m := range msgs {
			var a ad.Assignments
			if err := json.Unmarshal(m.Data, &a); err != nil {
				return err
			}
			for _, x := range a.Changed {
				got[x.AdID] = x
			}
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := cl.All(func(want ad.Assignment) error {
		n++
		if got[want.AdID] != want {
			return fmt.Errorf("stream says %+v, state says %+v", got[want.AdID], want)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(fps) {
		t.Fatalf("state has %d adverts, want %d", n, len(fps))
	}
	if got["a-1"].PersonID != got["a-2"].PersonID || got["a-1"].PersonID == got["a-3"].PersonID || got["a-1"].NetworkID != got["a-3"].NetworkID {
		t.Fatalf("unexpected grouping: %+v", got)
	}
}

// A malformed message is set aside (terminated, recorded on
// adcensus.errors) and never holds up the good ones around it.
func TestClusterStageSetsAsideBadMessages(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, cl := mustStageBusAndCluster(t)
	good1, _ := json.Marshal(stageFP("a-1", "anna", "tel:aa"))
	badID, _ := json.Marshal(stageFP("a-\x00", "bea", "tel:bb"))
	good2, _ := json.Marshal(stageFP("a-2", "cleo", "tel:cc"))
	for i, data := range [][]byte{good1, []byte("{not json"), badID, good2} {
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, fmt.Sprint("m", i), data, nil); err != nil {
			t.Fatal(err)
		}
	}
	counters := &pipeline.Counters{}
	stage := &cluster.Stage{Cluster: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, bus, stage, counters) }()
	jstest.WaitIdle(t, bus, pipeline.DurableCluster)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ads, _, _, err := cl.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if ads != 2 || counters.Rejected.Load() != 2 || bus.Terminated.Load() != 2 {
		t.Fatalf("state has %d adverts, rejected %d, terminated %d; want 2, 2, 2", ads, counters.Rejected.Load(), bus.Terminated.Load())
	}
	if got, want := counters.Clustered.Load(), int64(2); got != want {
		t.Fatalf("clustered %d, want %d", got, want)
	}
	// The records of the rejected messages say what was wrong, and where.
	var errs []string
	for _, m := range readSubject(t, bus, pipeline.SubjectErrors) {
		errs = append(errs, m.Header["Adcensus-Error"])
	}
	want := []string{
		"adcensus.fingerprints at stream seq 2: decode: invalid character 'n' looking for beginning of object key string",
		"adcensus.fingerprints at stream seq 3: advert id invalid: control character U+0000 at byte 2",
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors recorded:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
}

// readers numbers the durables of readSubject.
var readers atomic.Int64

// readSubject returns every message on subject, in stream order.
func readSubject(t *testing.T, bus pipeline.Bus, subject string) []*pipeline.Msg {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []*pipeline.Msg
	durable := fmt.Sprint("reader-", readers.Add(1))
	go func() {
		jstest.WaitIdle(t, bus, durable)
		cancel()
	}()
	err := bus.Consume(ctx, durable, []string{subject}, 100, func(_ context.Context, msgs []*pipeline.Msg) error {
		got = append(got, msgs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// A state rebuilt from an empty file by replaying the stream publishes no
// assignments for fingerprints whose assignments are in the stream
// already (pipeline.HeaderCauseSeq), and ends as the first state did.
func TestClusterStageReplayPublishesNothingTwice(t *testing.T) {
	ctx := context.Background()
	bus, cl := mustStageBusAndCluster(t)
	for _, fp := range []*ad.Fingerprinted{
		stageFP("a-1", "anna", "tel:aa"),
		stageFP("a-2", "anna", "tel:aa"),
		stageFP("a-3", "bea", "tel:bb"),
	} {
		data, _ := json.Marshal(fp)
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, "fp-"+fp.Ad.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The stream's duplicate window would drop republished messages
	// anyway: count what the stage sends.
	counting := &countingBus{Bus: bus}
	run := func(cl *cluster.Cluster) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- pipeline.Run(rctx, counting, &cluster.Stage{Cluster: cl}, nil) }()
		jstest.WaitIdle(t, bus, pipeline.DurableCluster)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(cl)
	first := len(readSubject(t, bus, pipeline.SubjectAssignments))
	if first != 3 {
		t.Fatalf("%d assignments messages, want 3", first)
	}
	if err := bus.ResetConsumer(ctx, pipeline.DurableCluster); err != nil {
		t.Fatal(err)
	}
	fresh, err := cluster.Open(filepath.Join(t.TempDir(), "rebuilt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	counting.n.Store(0)
	run(fresh)
	if got := counting.n.Load(); got != 0 {
		t.Fatalf("the replay sent %d assignments messages, want 0", got)
	}
	if got := len(readSubject(t, bus, pipeline.SubjectAssignments)); got != first {
		t.Fatalf("%d assignments messages after the replay, want still %d", got, first)
	}
	want := map[string]ad.Assignment{}
	cl.All(func(a ad.Assignment) error { want[a.AdID] = a; return nil })
	n := 0
	fresh.All(func(a ad.Assignment) error {
		n++
		if want[a.AdID] != a {
			t.Errorf("rebuilt %+v, first %+v", a, want[a.AdID])
		}
		return nil
	})
	if n != len(want) {
		t.Fatalf("rebuilt state has %d adverts, want %d", n, len(want))
	}
}

// countingBus counts the messages published asynchronously.
type countingBus struct {
	pipeline.Bus
	n atomic.Int64
}

func (b *countingBus) PublishAsync(ctx context.Context, subject, msgID string, data []byte, h map[string]string, done func(error)) error {
	b.n.Add(1)
	return b.Bus.PublishAsync(ctx, subject, msgID, data, h, done)
}
