package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

func openURL(tb testing.TB, o jetstream.Options) (*jetstream.Bus, error) {
	tb.Helper()
	b, err := jetstream.Open(context.Background(), o)
	if err == nil {
		tb.Cleanup(func() { b.Close() })
	}
	return b, err
}

// The stream and consumers get exactly the settings given; settings left
// out keep what the stream has; lowering the duplicate window or the
// retention of an existing stream is refused unless allowed.
func TestStreamSettings(t *testing.T) {
	url := jstest.MustServer(t)
	ctx := context.Background()
	b, err := openURL(t, jetstream.Options{URL: url, Duplicates: 5 * time.Minute, MaxAge: time.Hour, AckWait: 20 * time.Second, MaxAckPending: 77})
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := b.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Replicas != 1 {
		t.Errorf("replicas %d, want 1", st.Replicas)
	}
	cctx, cancel := context.WithCancel(ctx)
	go b.Consume(cctx, "probe", []string{pipeline.SubjectFingerprints}, 1, func(context.Context, []*pipeline.Msg) error { return nil })
	checkFor(t, 10*time.Second, func() error {
		_, cs, err := b.Status(ctx)
		if err != nil || len(cs) != 1 {
			return errors.New("no consumer yet")
		}
		return nil
	})
	cancel()

	// Left out: kept.
	if _, err := openURL(t, jetstream.Options{URL: url}); err != nil {
		t.Fatalf("reopen without settings: %v", err)
	}
	for _, o := range []jetstream.Options{
		{URL: url, Duplicates: time.Minute},
		{URL: url, MaxAge: time.Minute * 30},
	} {
		if _, err := openURL(t, o); !errors.Is(err, jetstream.ErrWeaken) {
			t.Errorf("weakening %+v: err %v, want ErrWeaken", o, err)
		}
	}
	if _, err := openURL(t, jetstream.Options{URL: url, Duplicates: time.Minute, AllowWeaken: true}); err != nil {
		t.Fatalf("allowed weakening: %v", err)
	}
	// Raising is always allowed.
	if _, err := openURL(t, jetstream.Options{URL: url, MaxAge: 2 * time.Hour, Duplicates: 3 * time.Minute}); err != nil {
		t.Fatalf("strengthening: %v", err)
	}
	if _, err := openURL(t, jetstream.Options{URL: url, Replicas: 3}); err == nil {
		t.Error("3 replicas on a single server: no error")
	}
}

// A standby cluster consumer nobody reads any more (its node is gone) is
// removed by the server after StandbyInactive; the stage consumers are
// never removed, however long they wait.
func TestStandbyConsumerExpires(t *testing.T) {
	url := jstest.MustServer(t)
	ctx := context.Background()
	b, err := openURL(t, jetstream.Options{URL: url, StandbyInactive: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	standby := pipeline.DurableStandbyPrefix + "gone-node"
	for _, durable := range []string{standby, pipeline.DurableCluster} {
		cctx, cancel := context.WithCancel(ctx)
		go b.Consume(cctx, durable, []string{pipeline.SubjectFingerprints}, 1, func(context.Context, []*pipeline.Msg) error { return nil })
		checkFor(t, 10*time.Second, func() error {
			names, err := b.ConsumerNames(ctx)
			if err != nil {
				return err
			}
			if !slices.Contains(names, durable) {
				return fmt.Errorf("no consumer %s yet: %v", durable, names)
			}
			return nil
		})
		cancel()
	}
	checkFor(t, 20*time.Second, func() error {
		names, err := b.ConsumerNames(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(names, standby) {
			return fmt.Errorf("standby consumer still there: %v", names)
		}
		return nil
	})
	names, err := b.ConsumerNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, pipeline.DurableCluster) {
		t.Errorf("the cluster stage's consumer was removed too: %v", names)
	}
}

// One holder of a lease at a time: a second waits, and takes it when the
// first releases it or, abandoned as by a crash, when it expires.
func TestLease(t *testing.T) {
	url := jstest.MustServer(t)
	ctx := context.Background()
	o := jetstream.Options{URL: url, LeaseTTL: 2 * time.Second}
	a, err := openURL(t, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openURL(t, o)
	if err != nil {
		t.Fatal(err)
	}
	la, err := a.AcquireLease(ctx, "k", "a")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *jetstream.Lease, 1)
	go func() {
		l, err := b.AcquireLease(ctx, "k", "b")
		if err != nil {
			t.Error(err)
		}
		got <- l
	}()
	// Held through several renewals.
	time.Sleep(3 * time.Second)
	select {
	case <-got:
		t.Fatal("second holder while the first renews")
	default:
	}
	if h, err := a.LeaseHolder(ctx, "k"); err != nil || h == nil || h.Holder != "a" {
		t.Fatalf("holder %+v, %v; want a", h, err)
	}
	la.Release(ctx)
	var lb *jetstream.Lease
	select {
	case lb = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("not taken over within 5s of a release")
	}
	if la.Context().Err() == nil {
		t.Error("released lease's context not cancelled")
	}
	abandoned := time.Now()
	lb.Abandon()
	la2, err := a.AcquireLease(ctx, "k", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer la2.Release(ctx)
	if d := time.Since(abandoned); d < time.Second {
		t.Errorf("taken %s after an abandon, before the lease could expire", d)
	}
}
