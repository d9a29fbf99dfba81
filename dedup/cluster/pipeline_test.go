package cluster_test

import (
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
)

// pipelineCorpus is a corpus of n adverts in batches of size.
func pipelineCorpus(n, size int) [][]*ad.Fingerprinted {
	g := newCorpus(n, 5, false)
	g.texts = true
	var out [][]*ad.Fingerprinted
	for done := 0; done < n; done += size {
		out = append(out, g.next(min(size, n-done)))
	}
	return out
}

// TestBeginEqualsAddBatch begins every batch before the one before is
// durable and checks the messages, the assignments and the file against
// one AddBatch after another, while readers run beside the pipeline.
func TestBeginEqualsAddBatch(t *testing.T) {
	defer cluster.SetChunkSize(64)()
	batches := pipelineCorpus(4000, 400)
	seq := MustOpen(t, "")
	var want [][]ad.Assignments
	for _, fps := range batches {
		want = append(want, MustAdd(t, seq, fps...))
	}
	c := MustOpen(t, "")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	wg.Go(func() {
		for last := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			ads, _, _, err := c.Stats()
			if err != nil {
				t.Error(err)
				return
			}
			// Committed state only: whole batches, never fewer than seen.
			if ads%400 != 0 || ads < last {
				t.Errorf("a reader saw %d adverts after %d", ads, last)
				return
			}
			last = ads
			reads.Add(1)
		}
	})
	var pend []*cluster.Pending
	for _, fps := range batches {
		p, err := c.Begin(fps)
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
		// Keep up to three in flight.
		if len(pend) >= 3 {
			got, err := pend[len(pend)-3].Wait()
			if err != nil {
				t.Fatal(err)
			}
			if k := len(pend) - 3; !reflect.DeepEqual(got, want[k]) {
				t.Fatalf("batch %d: pipelined messages differ from AddBatch's", k)
			}
		}
	}
	for k := max(0, len(pend)-2); k < len(pend); k++ {
		got, err := pend[k].Wait()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[k]) {
			t.Fatalf("batch %d: pipelined messages differ from AddBatch's", k)
		}
	}
	close(stop)
	wg.Wait()
	if !reflect.DeepEqual(MustAll(t, c), MustAll(t, seq)) {
		t.Fatal("pipelined batches give other assignments")
	}
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reads beside the pipeline", reads.Load())
}

// TestFailedCommitInFlight fails the commit of a batch while the batch
// after it is in flight: both fail, the state reloads from the file
// (the first batch only), and adding both again gives the assignments of
// a clean run.
func TestFailedCommitInFlight(t *testing.T) {
	defer cluster.SetChunkSize(64)()
	batches := pipelineCorpus(1500, 500)
	clean := MustOpen(t, "")
	for _, fps := range batches {
		MustAdd(t, clean, fps...)
	}
	c := MustOpen(t, "")
	MustAdd(t, c, batches[0]...)
	after0 := MustAll(t, c)

	injected := errors.New("injected commit failure")
	release := make(chan struct{})
	var calls atomic.Int64
	restore := cluster.SetCommitHook(func(uint64) error {
		if calls.Add(1) == 1 {
			<-release // until the next batch is in flight
			return injected
		}
		return nil
	})
	p1, err := c.Begin(batches[1])
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Begin(batches[2]) // runs on batch 1's state in memory
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	_, err1 := p1.Wait()
	_, err2 := p2.Wait()
	restore()
	if !errors.Is(err1, injected) || !errors.Is(err2, injected) {
		t.Fatalf("errors %v and %v, want both to be the injected failure", err1, err2)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d commits tried, want 1 (the batch after a failed one is not written)", n)
	}
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
	if got := MustAll(t, c); !reflect.DeepEqual(got, after0) {
		t.Fatalf("after the failure the state has %d adverts, want the %d of the first batch", len(got), len(after0))
	}
	MustAdd(t, c, batches[1]...)
	MustAdd(t, c, batches[2]...)
	if !reflect.DeepEqual(MustAll(t, c), MustAll(t, clean)) {
		t.Fatal("adding again after the failure gives other assignments than a clean run")
	}
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
}
