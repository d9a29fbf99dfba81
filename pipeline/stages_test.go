package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/dedup"
	dedupbolt "adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
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

func fingerprint(id, name, contact string) *ad.Fingerprinted {
	return &ad.Fingerprinted{Ad: ad.Ad{ID: id, Arena: "a"}, Name: name, Contacts: []string{contact}}
}

func waitIdle(t *testing.T, b pipeline.Bus, durables ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		idle, err := b.Idle(context.Background(), durables...)
		if err != nil {
			t.Fatal(err)
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v not idle", durables)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mustBusAndCluster opens an embedded bus and a cluster state in a temporary
// directory, both closed at cleanup.
func mustBusAndCluster(t testing.TB) (*jetstream.Bus, *dedupbolt.Cluster) {
	t.Helper()
	dir := t.TempDir()
	bus, err := jetstream.Open(context.Background(), jetstream.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Close() })
	cl, err := dedupbolt.Open(filepath.Join(dir, "cluster.db"))
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
	bus, cl := mustBusAndCluster(t)

	fps := []*ad.Fingerprinted{
		fingerprint("a-1", "anna", "tel:aa"),
		fingerprint("a-2", "anna", "tel:aa"), // same person as a-1
		fingerprint("a-3", "bea", "tel:aa"),  // same network, other person
		fingerprint("a-4", "cleo", "tel:cc"), // alone
	}
	for _, fp := range fps {
		data, _ := json.Marshal(fp)
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, "fp-"+fp.Ad.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	fb := &flakyBus{Bus: bus}
	fb.fail.Store(1)
	stage := &pipeline.ClusterStage{Bus: fb, Cluster: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Counters: &pipeline.Counters{}}
	done := make(chan error, 1)
	go func() { done <- stage.Run(ctx) }()
	waitIdle(t, bus, pipeline.DurableCluster)

	// Fold every assignments message in stream order, last writer wins.
	got := map[string]ad.Assignment{}
	rctx, rcancel := context.WithCancel(ctx)
	go func() {
		waitIdle(t, bus, "reader")
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
	bus, cl := mustBusAndCluster(t)
	good1, _ := json.Marshal(fingerprint("a-1", "anna", "tel:aa"))
	badID, _ := json.Marshal(fingerprint("a-\x00", "bea", "tel:bb"))
	good2, _ := json.Marshal(fingerprint("a-2", "cleo", "tel:cc"))
	for i, data := range [][]byte{good1, []byte("{not json"), badID, good2} {
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, fmt.Sprint("m", i), data, nil); err != nil {
			t.Fatal(err)
		}
	}
	counters := &pipeline.Counters{}
	stage := &pipeline.ClusterStage{Bus: bus, Cluster: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Counters: counters}
	done := make(chan error, 1)
	go func() { done <- stage.Run(ctx) }()
	waitIdle(t, bus, pipeline.DurableCluster)
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
}

// The fingerprint stage counts the problems of the adverts it passes on,
// by kind; the adverts themselves flow on.
func TestFingerprintStageCountsProblems(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, _ := mustBusAndCluster(t)
	for _, a := range []ad.Ad{
		{ID: "p-1", Arena: "a", Body: "Hej från Lund", Age: 300, Phones: []string{"12"}},
		{ID: "p-2", Arena: "a", Images: []string{"missing.jpg"}},
		{ID: "p-3", Arena: "a", Body: "Hej från Malmö", Age: 30},
	} {
		data, _ := json.Marshal(a)
		if err := bus.Publish(ctx, pipeline.AdsSubject(a.Arena), a.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A producer that types a field differently: the age is dropped, the
	// advert kept.
	if err := bus.Publish(ctx, pipeline.AdsSubject("a"), "p-4", []byte(`{"id":"p-4","arena":"a","age":"tjugo","body":"Hej"}`), nil); err != nil {
		t.Fatal(err)
	}
	lim := imagehash.DefaultLimits()
	counters := &pipeline.Counters{}
	stage := &pipeline.FingerprintStage{Bus: bus, Workers: 2, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Counters: counters,
		FP: dedup.NewFingerprinter(contact.New([]byte("test key")), imagehash.FileOrHTTPLoader{BaseDir: t.TempDir(), MaxBytes: lim.MaxBytes}, lim)}
	done := make(chan error, 1)
	go func() { done <- stage.Run(ctx) }()
	waitIdle(t, bus, pipeline.DurableFingerprint)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := counters.Fingerprinted.Load(); got != 4 {
		t.Fatalf("fingerprinted %d adverts, want 4", got)
	}
	// p-1: an absurd age and a phones entry that is no number; p-2: an
	// image that cannot be loaded and no text; p-4: an unreadable field.
	if got, want := counters.ProblemSummary(), "images 1, ages 1, phones entries 1, empty texts 1, unreadable fields 1"; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
}
