package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

func mustOpen(tb testing.TB, dir string) *jetstream.Bus {
	tb.Helper()
	b, err := jetstream.Open(context.Background(), jetstream.Options{DataDir: dir, MaxDeliver: 3})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// checkFor polls f until it returns nil or the timeout passes.
func checkFor(tb testing.TB, timeout time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishConsumeDedupAndBadMessages(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := mustOpen(t, t.TempDir())
	for i := range 10 {
		if err := b.Publish(ctx, pipeline.AdsSubject("a"), fmt.Sprintf("m%d", i), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Republishing with the same message id is de-duplicated.
	if err := b.Publish(ctx, pipeline.AdsSubject("a"), "m3", []byte("3"), nil); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	failedOnce := false
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, "test", []string{pipeline.SubjectAdsAll}, 4, func(ctx context.Context, msgs []*pipeline.Msg) error {
			mu.Lock()
			defer mu.Unlock()
			if !failedOnce {
				failedOnce = true
				return errors.New("transient") // whole batch redelivered
			}
			for _, m := range msgs {
				if string(m.Data) == "7" {
					m.Bad = errors.New("malformed")
					continue
				}
				got = append(got, string(m.Data))
			}
			return nil
		})
	}()
	checkFor(t, 10*time.Second, func() error {
		idle, err := b.Idle(ctx, "test")
		if err != nil || !idle {
			return fmt.Errorf("not idle (err %v)", err)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 9 {
		t.Fatalf("handled %d messages %v, want 9 (10 distinct ids, the republished one dropped, minus the bad one)", len(got), got)
	}
	if b.Terminated.Load() != 1 {
		t.Fatalf("terminated %d, want 1", b.Terminated.Load())
	}
	v, err := b.LastHeader(context.Background(), pipeline.SubjectErrors, "Adcensus-Error")
	if err != nil || v != "malformed" {
		t.Fatalf("error record header = %q, %v; want malformed", v, err)
	}
}

func TestStreamSurvivesRestartAndConsumerReset(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, err := jetstream.Open(ctx, jetstream.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := b.Publish(ctx, pipeline.SubjectAssignments, "", []byte("x"), map[string]string{pipeline.HeaderCauseSeq: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()

	b = mustOpen(t, dir)
	v, err := b.LastHeader(ctx, pipeline.SubjectAssignments, pipeline.HeaderCauseSeq)
	if err != nil || v != "4" {
		t.Fatalf("after restart last header = %q, %v; want 4", v, err)
	}
	if v, err := b.LastHeader(ctx, pipeline.SubjectFingerprints, pipeline.HeaderCauseSeq); err != nil || v != "" {
		t.Fatalf("empty subject header = %q, %v", v, err)
	}
	count := func() int {
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		go func() {
			checkFor(t, 10*time.Second, func() error {
				if idle, _ := b.Idle(ctx, "replay"); !idle {
					return errors.New("not idle")
				}
				return nil
			})
			cancel()
		}()
		b.Consume(cctx, "replay", []string{pipeline.SubjectAssignments}, 10, func(_ context.Context, msgs []*pipeline.Msg) error {
			n += len(msgs)
			return nil
		})
		return n
	}
	if n := count(); n != 5 {
		t.Fatalf("first consume saw %d, want 5", n)
	}
	if err := b.ResetConsumer(ctx, "replay"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 5 {
		t.Fatalf("replay after reset saw %d, want 5", n)
	}
}

// Messages taken but not acknowledged by a process that died are delivered
// again as soon as the embedded server is restarted, not after the ack wait.
func TestUnacknowledgedMessagesReclaimedOnRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	b, err := jetstream.Open(ctx, jetstream.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := b.Publish(ctx, pipeline.SubjectFingerprints, fmt.Sprint(i), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	// Take everything, acknowledge the first batch of 2, "die" on the next.
	cctx, cancel := context.WithCancel(ctx)
	batches := 0
	b.Consume(cctx, "w", []string{pipeline.SubjectFingerprints}, 2, func(context.Context, []*pipeline.Msg) error {
		batches++
		if batches == 2 {
			cancel() // this batch stays unacknowledged
			return errors.New("killed")
		}
		return nil
	})
	b.Close()

	b = mustOpen(t, dir)
	var got []string
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	b.Consume(rctx, "w", []string{pipeline.SubjectFingerprints}, 10, func(_ context.Context, msgs []*pipeline.Msg) error {
		for _, m := range msgs {
			got = append(got, string(m.Data))
		}
		if len(got) >= 4 {
			rcancel()
		}
		return nil
	})
	if len(got) != 4 || got[0] != "2" {
		t.Fatalf("after restart got %v within 5s, want [2 3 4 5] (ack wait is 2 minutes)", got)
	}
}

// PublishAsync groups concurrent messages into atomic batches (one fsync
// each), calls done only after the stream has stored them, and
// de-duplicates republished messages: a batch refused for a duplicate is
// published again message by message.
func TestPublishAsyncBatchesAndDeduplicates(t *testing.T) {
	ctx := context.Background()
	b := mustOpen(t, t.TempDir())
	publish := func(ids []int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, len(ids))
		for _, i := range ids {
			wg.Add(1)
			err := b.PublishAsync(ctx, pipeline.AdsSubject("a"), fmt.Sprintf("m%d", i), []byte(fmt.Sprint(i)), map[string]string{"K": "v"}, func(err error) {
				errs <- err
				wg.Done()
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func() uint64 {
		t.Helper()
		n, _, err := b.StreamInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var ids []int
	for i := range 1000 {
		ids = append(ids, i)
	}
	publish(ids)
	if n := count(); n != 1000 {
		t.Fatalf("stream holds %d messages after 1000 were acknowledged, want 1000", n)
	}
	batches := b.AtomicBatches.Load()
	if batches == 0 || batches >= 500 {
		t.Errorf("%d atomic batches for 1000 messages published at once, want grouping", batches)
	}
	// Republished after a "crash": 300 known ids and 20 new ones.
	ids = ids[:0]
	for i := 400; i < 720; i++ {
		ids = append(ids, i+(i/700)*600) // 400..699 known, 1300..1319 new
	}
	publish(ids)
	if n := count(); n != 1020 {
		t.Fatalf("stream holds %d messages after republishing, want 1020", n)
	}
	if b.BatchesRefused.Load() == 0 {
		t.Error("no batch was refused for its duplicates")
	}
	// The stored messages are consumed as usual, with their headers.
	var mu sync.Mutex
	seen := map[string]bool{}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go b.Consume(cctx, "async", []string{pipeline.SubjectAdsAll}, 256, func(_ context.Context, msgs []*pipeline.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if m.Header["K"] != "v" {
				return fmt.Errorf("message %s lost its header", m.Data)
			}
			seen[string(m.Data)] = true
		}
		return nil
	})
	checkFor(t, 10*time.Second, func() error {
		idle, err := b.Idle(ctx, "async")
		if err != nil || !idle {
			return fmt.Errorf("not idle (err %v)", err)
		}
		return nil
	})
	cancel()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1020 {
		t.Fatalf("consumed %d distinct messages, want 1020", len(seen))
	}

	b.Close()
	if err := b.PublishAsync(ctx, pipeline.AdsSubject("a"), "late", nil, nil, func(error) {}); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("PublishAsync after Close: %v, want ErrClosed", err)
	}
}

// TestMaxAge: Open caps the stream's max_age at the retention limit, and
// lowering it to a shorter retention is not refused as a weakening; an
// Open without one (stages, rebuild) keeps it.
func TestMaxAge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		set, want time.Duration
	}{
		{30 * 24 * time.Hour, 30 * 24 * time.Hour},
		{0, 30 * 24 * time.Hour},
		{7 * 24 * time.Hour, 7 * 24 * time.Hour},
	} {
		b, err := jetstream.Open(ctx, jetstream.Options{DataDir: dir, RetentionMaxAge: c.set})
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.MaxAge(ctx)
		b.Close()
		if err != nil || got != c.want {
			t.Fatalf("Open with retention %s: stream max_age %s (%v), want %s", c.set, got, err, c.want)
		}
	}
}
