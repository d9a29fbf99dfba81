package index_test

import (
	"context"
	"errors"
	"testing"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/pipeline"
)

// applyStore records what the index stage applies; its other methods are
// not used by the stage.
type applyStore struct {
	index.Store
	fps  []*ad.Fingerprinted
	asg  []ad.Assignment
	fail error
}

func (s *applyStore) Apply(_ context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error {
	if s.fail != nil {
		return s.fail
	}
	s.fps, s.asg = append(s.fps, fps...), append(s.asg, asg...)
	return nil
}

// The index stage applies a batch's fingerprints and assignments in one
// call, versions each assignment by its message's stream sequence, sets
// malformed messages aside with what is wrong and where, counts the
// fingerprints and publishes nothing.
func TestStageProcess(t *testing.T) {
	st := &applyStore{}
	stage := &index.Stage{Store: st}
	if got := stage.Spec(); got.Durable != pipeline.DurableIndex || len(got.Outputs) != 0 || got.Batch != index.StageBatch {
		t.Fatalf("spec %+v", got)
	}
	msgs := []*pipeline.Msg{
		{Subject: pipeline.SubjectFingerprints, Seq: 1, Data: []byte(`{"ad":{"id":"a-1"}}`)},
		{Subject: pipeline.SubjectAssignments, Seq: 2, Data: []byte(`{"cause":"a-1","changed":[{"ad_id":"a-1","person_id":"P1","network_id":"N1"}]}`)},
		{Subject: pipeline.SubjectFingerprints, Seq: 3, Data: []byte(`{"ad":{"id":""}}`)},
		{Subject: pipeline.SubjectAssignments, Seq: 4, Data: []byte(`[`)},
		{Subject: pipeline.SubjectFingerprints, Seq: 5, Data: []byte(`{"ad":{"id":"a-2"}}`)},
	}
	res, err := stage.Process(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Done != 2 || len(res.Out) != 0 {
		t.Fatalf("done %d, out %d; want 2, 0", res.Done, len(res.Out))
	}
	if len(st.fps) != 2 || st.fps[0].Ad.ID != "a-1" || st.fps[1].Ad.ID != "a-2" {
		t.Fatalf("applied fingerprints %+v", st.fps)
	}
	if len(st.asg) != 1 || st.asg[0].AdID != "a-1" || st.asg[0].PersonID != "P1" || st.asg[0].Version != 2 {
		t.Fatalf("applied assignments %+v", st.asg)
	}
	for i, want := range []string{"", "", "adcensus.fingerprints at stream seq 3: advert id invalid: empty", "adcensus.assignments at stream seq 4: decode: unexpected end of JSON input", ""} {
		got := ""
		if msgs[i].Bad != nil {
			got = msgs[i].Bad.Error()
		}
		if got != want {
			t.Errorf("message %d: bad %q, want %q", i, got, want)
		}
	}

	// A store that fails fails the batch, for redelivery.
	st.fail = errors.New("disk full")
	if _, err := stage.Process(context.Background(), msgs[:1]); !errors.Is(err, st.fail) {
		t.Fatalf("err %v, want %v", err, st.fail)
	}
}

// lastHeaderBus answers LastHeader from a map; the index stage calls
// nothing else at Start.
type lastHeaderBus struct {
	pipeline.Bus
	last map[string]string
}

func (b lastHeaderBus) LastHeader(_ context.Context, subject, key string) (string, error) {
	return b.last[subject+" "+key], nil
}

// Fencing: assignments of a writer whose lease epoch is below the highest
// known (the last epoch marker at Start, or a newer message applied) are
// dropped and counted; those without an epoch are epoch 0. Each replica
// has its own durable.
func TestStageFencesStaleEpochs(t *testing.T) {
	st := &applyStore{}
	stage := &index.Stage{Store: st, Durable: pipeline.IndexDurable("r1")}
	if got := stage.Spec().Durable; got != "index-r1" {
		t.Fatalf("durable %q, want index-r1", got)
	}
	bus := lastHeaderBus{last: map[string]string{pipeline.SubjectEpochs + " " + pipeline.HeaderEpoch: "2"}}
	if err := stage.Start(context.Background(), bus); err != nil {
		t.Fatal(err)
	}
	asg := func(seq uint64, epoch, person string) *pipeline.Msg {
		m := &pipeline.Msg{Subject: pipeline.SubjectAssignments, Seq: seq,
			Data: []byte(`{"cause":"a-1","changed":[{"ad_id":"a-1","person_id":"` + person + `","network_id":"N"}]}`)}
		if epoch != "" {
			m.Header = map[string]string{pipeline.HeaderEpoch: epoch}
		}
		return m
	}
	msgs := []*pipeline.Msg{asg(10, "1", "stale"), asg(11, "", "legacy"), asg(12, "2", "P2"), asg(13, "3", "P3"), asg(14, "2", "stale2")}
	if _, err := stage.Process(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range st.asg {
		got = append(got, a.PersonID)
	}
	if len(got) != 2 || got[0] != "P2" || got[1] != "P3" {
		t.Fatalf("applied %q, want [P2 P3]", got)
	}
	if n := stage.Fenced.Load(); n != 3 {
		t.Fatalf("fenced %d, want 3", n)
	}
}
