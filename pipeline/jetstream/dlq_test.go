package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"adcensus/pipeline"
)

// A message that fails on every delivery is set aside as a dead letter
// after MaxDeliver deliveries, without holding back the good messages of
// its batch or the consumer; once replayed (the cause fixed) it is
// processed.
func TestDeadLetterAndReplay(t *testing.T) {
	b := mustOpen(t, t.TempDir()) // MaxDeliver 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, data := range []string{"good-1", "poison", "good-2"} {
		if err := b.Publish(ctx, pipeline.SubjectFingerprints, fmt.Sprint("m", i), []byte(data), nil); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu     sync.Mutex
		done   = map[string]int{}
		healed bool
	)
	go b.Consume(ctx, "dlqtest", []string{pipeline.SubjectFingerprints}, 3, func(_ context.Context, msgs []*pipeline.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range msgs {
			if string(m.Data) == "poison" && !healed {
				return errors.New("cannot process poison")
			}
		}
		for _, m := range msgs {
			done[string(m.Data)]++
		}
		return nil
	})
	checkFor(t, 30*time.Second, func() error {
		idle, err := b.Idle(ctx, "dlqtest")
		if err != nil || !idle {
			return fmt.Errorf("not idle: %v", err)
		}
		return nil
	})
	dls, err := b.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].Consumer != "dlqtest" || dls[0].Subject != pipeline.SubjectFingerprints || dls[0].OrigSeq != 2 ||
		dls[0].Deliveries != 3 || dls[0].Error != "cannot process poison" || string(dls[0].Data) != "poison" {
		t.Fatalf("dead letters %+v", dls)
	}
	mu.Lock()
	if done["good-1"] == 0 || done["good-2"] == 0 || done["poison"] != 0 {
		t.Fatalf("processed %v", done)
	}
	healed = true
	mu.Unlock()
	if _, err := b.Replay(ctx, dls[0]); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if done["poison"] == 0 {
			return errors.New("replayed message not processed")
		}
		return nil
	})
	dls, err = b.DeadLetters(ctx)
	if err != nil || len(dls) != 1 || dls[0].Replayed == 0 {
		t.Fatalf("after replay: %+v, %v", dls, err)
	}
}
