// Package jstest gives the stages' tests a real embedded JetStream bus in
// a temporary folder, closed at cleanup, and a wait until durable
// consumers have handled everything in the stream.
package jstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

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

// MustServer starts a NATS server with JetStream listening on 127.0.0.1
// (what separate processes of a deployment connect to by URL), with its
// store in tb.TempDir(), shut down when the test ends, and returns its URL.
func MustServer(tb testing.TB) string {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: tb.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		tb.Fatal("nats server not ready after 10s")
	}
	tb.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns.ClientURL()
}
