package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"adcensus/pipeline"
)

// TestConsumeOverlapped: the next batch is begun while the one before
// ends, ends come in order, every message is handled exactly once by a
// successful end (a failed end's messages again one by one), a Bad one is
// terminated, and the consumer ends idle: everything acknowledged.
func TestConsumeOverlapped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := mustOpen(t, t.TempDir())
	const n = 40
	for i := range n {
		if err := b.Publish(ctx, pipeline.AdsSubject("a"), fmt.Sprintf("m%d", i), []byte(fmt.Sprint(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		events  []string
		handled = map[string]int{}
		begun   int
		failed  bool
		single  = map[int]bool{} // batches of one message (the retries)
		begun1  = make(chan struct{})
	)
	done := make(chan error, 1)
	go func() {
		done <- b.ConsumeOverlapped(ctx, "ov", []string{pipeline.SubjectAdsAll}, 4, func(_ context.Context, msgs []*pipeline.Msg) (func() error, error) {
			mu.Lock()
			defer mu.Unlock()
			k := begun
			begun++
			single[k] = len(msgs) == 1
			events = append(events, fmt.Sprintf("begin %d", k))
			for _, m := range msgs {
				if string(m.Data) == "7" {
					m.Bad = errors.New("malformed")
				}
			}
			if k == 1 {
				close(begun1)
			}
			return func() error {
				if k == 0 {
					// Batch 1 is begun while batch 0 ends.
					select {
					case <-begun1:
					case <-time.After(5 * time.Second):
					}
				}
				mu.Lock()
				defer mu.Unlock()
				events = append(events, fmt.Sprintf("end %d", k))
				if k == 1 && !failed {
					failed = true
					return errors.New("commit failed") // settled one by one
				}
				for _, m := range msgs {
					if m.Bad == nil {
						handled[string(m.Data)]++
					}
				}
				return nil
			}, nil
		})
	}()
	checkFor(t, 20*time.Second, func() error {
		idle, err := b.Idle(ctx, "ov")
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
	for i := range n {
		want := 1
		if i == 7 {
			want = 0
		}
		if got := handled[fmt.Sprint(i)]; got != want {
			t.Errorf("message %d handled %d times by a successful end, want %d", i, got, want)
		}
	}
	if b.Terminated.Load() != 1 {
		t.Errorf("terminated %d, want 1 (the bad message)", b.Terminated.Load())
	}
	// Ends in begin order (but for the failed batch's retries, one
	// message each, ended at once); batch 1 begun before batch 0 ends.
	var ends []int
	for _, e := range events {
		var k int
		if _, err := fmt.Sscanf(e, "end %d", &k); err == nil && !single[k] {
			ends = append(ends, k)
		}
	}
	if !slices.IsSorted(ends) {
		t.Errorf("ends out of order: %v", events)
	}
	if i, j := slices.Index(events, "begin 1"), slices.Index(events, "end 0"); i < 0 || j < 0 || i > j {
		t.Errorf("batch 1 not begun before batch 0 ended: %v", events)
	}
	if !failed {
		t.Error("the failing end was never called")
	}
}
