package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/pipeline"
	"adcensus/pipeline/jetstream/jstest"
)

// Subjects of the fake stage: it reads adcensus.ads.> as the fingerprint
// stage does and writes upper-cased copies to adcensus.fingerprints.
const (
	fakeIn  = pipeline.SubjectAdsAll
	fakeOut = pipeline.SubjectFingerprints
)

// upperStage is a tiny stage: "bad…" messages are set aside, "problem…"
// ones carry a problem, the first failN batches fail, every other
// message is published upper-cased with the id "up-<seq>".
type upperStage struct {
	outputs []string // declared outputs (default: fakeOut)
	subject string   // subject to publish on (default: fakeOut)
	failN   atomic.Int64
	started atomic.Int64
	mu      sync.Mutex
	seen    []string // data of every message processed, in order
}

func (s *upperStage) Spec() pipeline.Spec {
	out := s.outputs
	if out == nil {
		out = []string{fakeOut}
	}
	return pipeline.Spec{Name: "upper", Durable: pipeline.DurableFingerprint, Inputs: []string{fakeIn}, Outputs: out, Batch: 3}
}

func (s *upperStage) Start(context.Context, pipeline.Bus) error {
	s.started.Add(1)
	return nil
}

func (s *upperStage) Process(_ context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	if len(msgs) > 3 {
		return pipeline.Result{}, fmt.Errorf("batch of %d, declared 3", len(msgs))
	}
	if s.failN.Add(-1) >= 0 {
		return pipeline.Result{}, errors.New("injected failure")
	}
	subject := s.subject
	if subject == "" {
		subject = fakeOut
	}
	var res pipeline.Result
	for _, m := range msgs {
		d := string(m.Data)
		s.mu.Lock()
		s.seen = append(s.seen, d)
		s.mu.Unlock()
		if strings.HasPrefix(d, "bad") {
			m.Bad = errors.New("bad by name")
			continue
		}
		if strings.HasPrefix(d, "problem") {
			res.Problems = append(res.Problems, "age 300 out of range: dropped")
		}
		res.Out = append(res.Out, pipeline.Out{Subject: subject, ID: fmt.Sprint("up-", m.Seq), Data: []byte(strings.ToUpper(d)), Header: map[string]string{"Up-Of": d}})
		res.Done++
	}
	return res, nil
}

// readAll returns the data of every message on subject, in stream order.
func readAll(t *testing.T, bus pipeline.Bus, subject string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	idle := make(chan error, 1)
	go func() {
		idle <- jstest.AwaitIdle(bus, "reader")
		cancel()
	}()
	err := bus.Consume(ctx, "reader", []string{subject}, 100, func(_ context.Context, msgs []*pipeline.Msg) error {
		for _, m := range msgs {
			got = append(got, string(m.Data)+"|"+m.Header["Up-Of"])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-idle; err != nil {
		t.Fatal(err)
	}
	return got
}

func publish(t *testing.T, bus pipeline.Bus, data ...string) {
	t.Helper()
	for i, d := range data {
		if err := bus.Publish(context.Background(), pipeline.AdsSubject("a"), fmt.Sprint("in-", i), []byte(d), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// runStage runs stage until its durable is idle and returns Run's error.
func runStage(t *testing.T, bus pipeline.Bus, stage pipeline.Stage, c *pipeline.Counters) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, bus, stage, c) }()
	jstest.WaitIdle(t, bus, stage.Spec().Durable)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The loop publishes what Process returns, in order and with its ids and
// headers, sets Bad messages aside (terminated, counted as rejected) and
// counts what the stage processed and the problems it met.
func TestRunPublishesCountsAndSetsAside(t *testing.T) {
	bus := jstest.MustBus(t, "")
	publish(t, bus, "a", "bad1", "b", "problem", "c", "bad2", "d")
	stage := &upperStage{}
	c := &pipeline.Counters{}
	runStage(t, bus, stage, c)

	if got, want := readAll(t, bus, fakeOut), []string{"A|a", "B|b", "PROBLEM|problem", "C|c", "D|d"}; !slices.Equal(got, want) {
		t.Fatalf("published %q, want %q", got, want)
	}
	if got := stage.started.Load(); got != 1 {
		t.Fatalf("Start called %d times, want 1", got)
	}
	if got, want := c.Fingerprinted.Load(), int64(5); got != want {
		t.Fatalf("processed %d, want %d", got, want)
	}
	if got, want := c.Rejected.Load(), int64(2); got != want {
		t.Fatalf("rejected %d, want %d", got, want)
	}
	if got, want := bus.Terminated.Load(), int64(2); got != want {
		t.Fatalf("terminated %d, want %d", got, want)
	}
	if got, want := c.ProblemSummary(), "ages 1"; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
	if c.Clustered.Load() != 0 || c.Indexed.Load() != 0 {
		t.Fatalf("counted on other stages: clustered %d, indexed %d", c.Clustered.Load(), c.Indexed.Load())
	}
}

// A batch whose Process fails is redelivered whole and counted once.
func TestRunRedeliversFailedBatch(t *testing.T) {
	bus := jstest.MustBus(t, "")
	publish(t, bus, "a", "b")
	stage := &upperStage{}
	stage.failN.Store(1)
	c := &pipeline.Counters{}
	runStage(t, bus, stage, c)
	// The failed batch comes again after the ones behind it when the
	// stream hands them out separately: the order is not the point.
	got := readAll(t, bus, fakeOut)
	slices.Sort(got)
	if want := []string{"A|a", "B|b"}; !slices.Equal(got, want) {
		t.Fatalf("published %q, want %q", got, want)
	}
	if got, want := c.Fingerprinted.Load(), int64(2); got != want {
		t.Fatalf("processed %d, want %d", got, want)
	}
}

// lossyBus loses the first n asynchronous publishes, as a stream that
// never stored them would.
type lossyBus struct {
	pipeline.Bus
	fail atomic.Int64
}

func (b *lossyBus) PublishAsync(ctx context.Context, subject, msgID string, data []byte, h map[string]string, done func(error)) error {
	if b.fail.Add(-1) >= 0 {
		go done(errors.New("injected publish failure"))
		return nil
	}
	return b.Bus.PublishAsync(ctx, subject, msgID, data, h, done)
}

// An output the stream did not store fails the batch before its input is
// acknowledged: the batch is redelivered, and what was stored already is
// recognised as a duplicate by its id.
func TestRunRedeliversOnLostOutput(t *testing.T) {
	bus := jstest.MustBus(t, "")
	publish(t, bus, "a", "b", "c")
	lossy := &lossyBus{Bus: bus}
	lossy.fail.Store(1)
	stage := &upperStage{}
	c := &pipeline.Counters{}
	runStage(t, lossy, stage, c)
	// Each output once, though the batch that lost one was processed
	// again (in one batch of three: B and C stored, A lost, then A stored
	// and B, C refused as duplicates; the stream may also hand the three
	// out in smaller batches, so neither order nor batch size is fixed).
	got := readAll(t, bus, fakeOut)
	slices.Sort(got)
	if want := []string{"A|a", "B|b", "C|c"}; !slices.Equal(got, want) {
		t.Fatalf("published %q, want %q", got, want)
	}
	stage.mu.Lock()
	defer stage.mu.Unlock()
	if got := len(stage.seen); got < 4 || got > 6 {
		t.Fatalf("processed %d messages, want 4 to 6 (the failed batch again)", got)
	}
	if n := slices.Index(stage.seen, "a"); n < 0 || slices.Index(stage.seen[n+1:], "a") < 0 {
		t.Fatalf("processed %q: the batch whose output was lost was not processed again", stage.seen)
	}
	if got, want := c.Fingerprinted.Load(), int64(3); got != want {
		t.Fatalf("counted %d, want %d", got, want)
	}
}

// Publishing on a subject the stage did not declare fails the batch.
func TestRunRefusesUndeclaredOutput(t *testing.T) {
	bus := jstest.MustBus(t, "")
	publish(t, bus, "a")
	stage := &upperStage{subject: pipeline.SubjectAssignments}
	c := &pipeline.Counters{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, bus, stage, c) }()
	deadline := time.Now().Add(time.Minute)
	for {
		stage.mu.Lock()
		n := len(stage.seen)
		stage.mu.Unlock()
		if n >= 2 { // tried, failed, redelivered
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("batch not redelivered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := c.Fingerprinted.Load(); got != 0 {
		t.Fatalf("counted %d, want 0", got)
	}
	if got := readAll(t, bus, pipeline.SubjectAssignments); len(got) != 0 {
		t.Fatalf("published %q on an undeclared subject", got)
	}
}

// DecodeFingerprinted names the subject, the stream sequence and what is
// wrong.
func TestDecodeFingerprinted(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{`{"ad":{"id":"a-1"}}`, ""},
		{`{not json`, "adcensus.fingerprints at stream seq 7: decode: invalid character 'n' looking for beginning of object key string"},
		{`{"ad":{"id":""}}`, "adcensus.fingerprints at stream seq 7: advert id invalid: empty"},
		{`{"ad":{"id":"a-\u0000"}}`, "adcensus.fingerprints at stream seq 7: advert id invalid: control character U+0000 at byte 2"},
	} {
		fp, err := pipeline.DecodeFingerprinted(&pipeline.Msg{Subject: pipeline.SubjectFingerprints, Seq: 7, Data: []byte(tc.data)})
		got := ""
		if err != nil {
			got = err.Error()
		} else if fp.Ad.ID != "a-1" {
			t.Errorf("%s: id %q", tc.data, fp.Ad.ID)
		}
		if got != tc.want {
			t.Errorf("%s: error %q, want %q", tc.data, got, tc.want)
		}
	}
}
