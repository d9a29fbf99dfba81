// Package jstest gives the stages' tests a real embedded JetStream bus in
// a temporary folder, closed at cleanup, and a wait until durable
// consumers have handled everything in the stream.
package jstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// MustBus opens an embedded bus with its store in dir (tb.TempDir() when
// dir is ""), closed when the test ends, or fails tb.
func MustBus(tb testing.TB, dir string) *jetstream.Bus {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	bus, err := jetstream.Open(context.Background(), jetstream.Options{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { bus.Close() })
	return bus
}

// WaitIdle polls until every durable consumer has received and
// acknowledged every message on its subjects, or fails tb after a minute.
// It must be called from the test's goroutine; elsewhere use AwaitIdle.
func WaitIdle(tb testing.TB, b pipeline.Bus, durables ...string) {
	tb.Helper()
	if err := AwaitIdle(b, durables...); err != nil {
		tb.Fatal(err)
	}
}

// AwaitIdle is WaitIdle returning its failure, for goroutines other than
// the test's (where tb.Fatal must not be called).
func AwaitIdle(b pipeline.Bus, durables ...string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		idle, err := b.Idle(context.Background(), durables...)
		if err != nil {
			return err
		}
		if idle {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%v not idle after a minute", durables)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
