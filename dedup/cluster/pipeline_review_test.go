package cluster_test

import (
	"errors"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
)

// TestBeginFailedWithTailThenReaderAndBegin fails a commit while three
// batches are in flight (the last one a tail batch, its last chunk not
// yet added), then reads and begins again without waiting for them: the
// reader sees the committed state only, the new batch builds on the
// reloaded state, and every batch after the failed one fails.
func TestBeginFailedWithTailThenReaderAndBegin(t *testing.T) {
	defer cluster.SetChunkSize(64)()
	for _, read := range []bool{true, false} {
		t.Run(map[bool]string{true: "reader", false: "begin"}[read], func(t *testing.T) {
			testFailedWithTail(t, read)
		})
	}
}

// testFailedWithTail is TestBeginFailedWithTailThenReaderAndBegin, with
// or without the reader before the next Begin.
func testFailedWithTail(t *testing.T, read bool) {
	batches := pipelineCorpus(2500, 500)
	c := MustOpen(t, "")
	MustAdd(t, c, batches[0]...)
	after0 := MustAll(t, c)

	injected := errors.New("injected commit failure")
	release := make(chan struct{})
	var calls atomic.Int64
	restore := cluster.SetCommitHook(func(uint64) error {
		if calls.Add(1) == 1 {
			<-release
			return injected
		}
		return nil
	})
	defer restore()
	var pend []*cluster.Pending
	for _, fps := range batches[1:4] {
		p, err := c.Begin(fps)
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	close(release)
	// Wait for the first only: the third is still the tail.
	if _, err := pend[0].Wait(); !errors.Is(err, injected) {
		t.Fatalf("first batch: %v, want the injected failure", err)
	}
	if read {
		ads, _, _, err := c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if ads != len(after0) {
			t.Fatalf("a reader after the failure saw %d adverts, want the %d committed", ads, len(after0))
		}
	}
	p4, err := c.Begin(batches[4])
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range pend {
		if _, err := p.Wait(); !errors.Is(err, injected) {
			t.Fatalf("batch %d: %v, want the injected failure", k+1, err)
		}
	}
	got4, err := p4.Wait()
	if err != nil {
		t.Fatal(err)
	}
	restore()
	seq := MustOpen(t, "")
	MustAdd(t, seq, batches[0]...)
	want4 := MustAdd(t, seq, batches[4]...)
	if !reflect.DeepEqual(got4, want4) {
		t.Fatal("the batch begun after the failure gives other messages than on the committed state")
	}
	if !reflect.DeepEqual(MustAll(t, c), MustAll(t, seq)) {
		t.Fatal("the state after the failure differs from the committed batches")
	}
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
}

// TestBeginDuplicateIDsInFlight begins batches that repeat ids of the
// batches still in flight (the tail's last chunk, its first chunk, and
// the batch before) and within themselves: the messages and state equal
// one AddBatch after another.
func TestBeginDuplicateIDsInFlight(t *testing.T) {
	defer cluster.SetChunkSize(64)()
	base := pipelineCorpus(1200, 300)
	var batches [][]*ad.Fingerprinted
	for k, fps := range base {
		b := append([]*ad.Fingerprinted(nil), fps...)
		if k > 0 {
			prev := base[k-1]
			b = append(b, prev[len(prev)-1], prev[0], prev[len(prev)-70])
			b = append([]*ad.Fingerprinted{prev[len(prev)-2]}, b...)
		}
		if k > 1 {
			b = append(b, base[k-2][5])
		}
		b = append(b, fps[3])
		batches = append(batches, b)
	}
	seq := MustOpen(t, "")
	var want [][]ad.Assignments
	for _, fps := range batches {
		want = append(want, MustAdd(t, seq, fps...))
	}
	c := MustOpen(t, "")
	var pend []*cluster.Pending
	for _, fps := range batches {
		p, err := c.Begin(fps)
		if err != nil {
			t.Fatal(err)
		}
		pend = append(pend, p)
	}
	for k, p := range pend {
		got, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want[k]) {
			t.Fatalf("batch %d: messages differ from AddBatch's", k)
		}
	}
	if !reflect.DeepEqual(MustAll(t, c), MustAll(t, seq)) {
		t.Fatal("pipelined batches with repeated ids give other assignments")
	}
	if err := cluster.CheckReload(c); err != nil {
		t.Fatal(err)
	}
}

// TestCloseWithTail closes the state with a tail batch never waited for:
// Close adds and commits it, and the file holds it.
func TestCloseWithTail(t *testing.T) {
	defer cluster.SetChunkSize(64)()
	batches := pipelineCorpus(600, 300)
	path := filepath.Join(t.TempDir(), "cluster.db")
	c, err := cluster.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, fps := range batches {
		if _, err := c.Begin(fps); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	seq := MustOpen(t, "")
	for _, fps := range batches {
		MustAdd(t, seq, fps...)
	}
	re := MustOpen(t, path)
	if !reflect.DeepEqual(MustAll(t, re), MustAll(t, seq)) {
		t.Fatal("after Close with a batch in flight the file lacks it")
	}
}
