package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"adcensus/ad"
	"adcensus/pipeline"
)

// StageBatch is the most fingerprints the cluster stage adds to the state
// in one transaction when it runs on the stream.
const StageBatch = 256

// Stage is the cluster stage (pipeline.Stage): it reads fingerprints, adds
// them to the person/network state and publishes what changed on
// adcensus.assignments. It must be the only writer of its Cluster, and a
// Stage value serves one pipeline.Run at a time.
//
// Exactly-once effect: the state commit happens before the assignments are
// published, so a crash between the two is repaired on redelivery by
// republishing the advert's current network assignments. A state rebuilt
// from an empty file publishes nothing for fingerprints whose assignments
// are already in the stream (see pipeline.HeaderCauseSeq), so a replay
// never duplicates them.
type Stage struct {
	Cluster *Cluster
	Log     *slog.Logger // nil: no log
	// Epoch is the lease epoch of this writer on a NATS cluster (0: the
	// only writer, no lease): every assignments message carries it
	// (pipeline.HeaderEpoch) so that the index drops those of a writer
	// whose lease has ended.
	Epoch uint64
	// Follow makes the stage a standby: it adds fingerprints to its state
	// on its own durable (Durable) and publishes nothing.
	Follow  bool
	Durable string

	// published is the stream sequence of the last fingerprints message
	// whose assignments are in the stream (Start).
	published uint64
}

var (
	_ pipeline.Stage    = (*Stage)(nil)
	_ pipeline.Starter  = (*Stage)(nil)
	_ pipeline.Beginner = (*Stage)(nil)
)

// Spec implements pipeline.Stage.
func (s *Stage) Spec() pipeline.Spec {
	if s.Follow {
		return pipeline.Spec{Name: "cluster-standby", Durable: s.Durable, Inputs: []string{pipeline.SubjectFingerprints}, Batch: StageBatch}
	}
	return pipeline.Spec{
		Name:    "cluster",
		Durable: pipeline.DurableCluster,
		Inputs:  []string{pipeline.SubjectFingerprints},
		Outputs: []string{pipeline.SubjectAssignments},
		Batch:   StageBatch,
	}
}

// Start implements pipeline.Starter: it reads the cause of the last
// assignments message in the stream, below which Process publishes
// nothing new.
func (s *Stage) Start(ctx context.Context, bus pipeline.Bus) error {
	last, err := bus.LastHeader(ctx, pipeline.SubjectAssignments, pipeline.HeaderCauseSeq)
	if err != nil {
		return fmt.Errorf("cluster: last published assignment: %w", err)
	}
	s.published, _ = strconv.ParseUint(last, 10, 64)
	return nil
}

// Process implements pipeline.Stage: Begin, then Wait.
func (s *Stage) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	b, err := s.Begin(ctx, msgs)
	if err != nil {
		return pipeline.Result{}, err
	}
	if s.Follow {
		if _, err := b.pending.Wait(); err != nil {
			return pipeline.Result{}, err
		}
		return pipeline.Result{}, nil
	}
	return b.Wait()
}

// BeginBatch implements pipeline.Beginner: Begin, and the Wait of
// Process, so that pipeline.Run on a bus that allows it adds the next
// batch to the state while this one commits.
func (s *Stage) BeginBatch(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Waiter, error) {
	b, err := s.Begin(ctx, msgs)
	if err != nil {
		return nil, err
	}
	if s.Follow {
		return followWait{b}, nil
	}
	return b, nil
}

// followWait is the end of a standby's batch: durable, nothing to publish.
type followWait struct{ b *Begun }

func (f followWait) Wait() (pipeline.Result, error) {
	if _, err := f.b.pending.Wait(); err != nil {
		return pipeline.Result{}, err
	}
	return pipeline.Result{}, nil
}

// SnapshotChunk is the most assignments in one snapshot message.
const SnapshotChunk = 1000

// Snapshot publishes the assignment of every advert in the state, in
// messages of up to SnapshotChunk, with the stage's epoch: what a writer
// that has just taken the lease publishes before anything else, so the
// index holds exactly this state's assignments whatever the previous
// writer published or left unpublished. Start must have run. Message ids
// are per epoch, so a snapshot republished after a failure is stored once.
func (s *Stage) Snapshot(ctx context.Context, bus pipeline.Bus) (int, error) {
	var (
		chunk []ad.Assignment
		outs  []pipeline.Out
		n     int
	)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		data, err := json.Marshal(ad.Assignments{Changed: chunk})
		if err != nil {
			return err
		}
		outs = append(outs, pipeline.Out{
			Subject: pipeline.SubjectAssignments,
			ID:      fmt.Sprintf("snap-%d-%d", s.Epoch, len(outs)),
			Data:    data,
			Header:  s.header(s.published, map[string]string{pipeline.HeaderSnapshot: "1"}),
		})
		n += len(chunk)
		chunk = nil
		return nil
	}
	err := s.Cluster.All(func(a ad.Assignment) error {
		chunk = append(chunk, a)
		if len(chunk) == SnapshotChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return 0, fmt.Errorf("cluster snapshot: %w", err)
	}
	for _, o := range outs {
		if err := bus.Publish(ctx, o.Subject, o.ID, o.Data, o.Header); err != nil {
			return 0, fmt.Errorf("cluster snapshot: %w", err)
		}
	}
	return n, nil
}

// header returns the headers of an assignments message for the cause at
// stream sequence cause, with extra.
func (s *Stage) header(cause uint64, extra map[string]string) map[string]string {
	h := map[string]string{pipeline.HeaderCauseSeq: strconv.FormatUint(cause, 10)}
	if s.Epoch > 0 {
		h[pipeline.HeaderEpoch] = strconv.FormatUint(s.Epoch, 10)
	}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// Begun is a batch of the cluster stage begun (Stage.Begin) and maybe not
// yet durable.
type Begun struct {
	s       *Stage
	n       int                      // fingerprints in the batch
	seqOf   map[string]*pipeline.Msg // first message of each advert id
	pending *Pending
}

// Begin is the first half of Process, for a caller that pipelines
// batches as Cluster.Begin does (the offline `adcensus dedup`): it marks
// the messages that are not fingerprints of a valid advert id Bad and
// begins adding the rest to the state. Batches run in call order; the
// messages' fingerprints must not change before Wait.
func (s *Stage) Begin(_ context.Context, msgs []*pipeline.Msg) (*Begun, error) {
	var fps []*ad.Fingerprinted
	seqOf := map[string]*pipeline.Msg{}
	for _, m := range msgs {
		fp, err := pipeline.DecodeFingerprinted(m)
		if err != nil {
			m.Bad = err
			continue
		}
		// A changed advert is placed anew under its versioned id, so it
		// may join another person; the index follows the newest version.
		fp.Ad.ID = ad.VersionedID(fp.Ad.ID, fp.Ad.Version)
		if _, dup := seqOf[fp.Ad.ID]; !dup {
			seqOf[fp.Ad.ID] = m
		}
		fps = append(fps, fp)
	}
	p, err := s.Cluster.Begin(fps)
	if err != nil {
		return nil, err
	}
	return &Begun{s: s, n: len(fps), seqOf: seqOf, pending: p}, nil
}

// Wait is the second half of Process: it waits until the batch is
// durable and returns the assignments messages to publish, one per
// fingerprints message whose advert changed assignments (id "asg-N" and
// header pipeline.HeaderCauseSeq N for the fingerprints at stream
// sequence N), and one with the current network assignments for an
// advert the state already knew (redelivered after a crash between commit
// and publish, or fingerprinted again).
func (b *Begun) Wait() (pipeline.Result, error) {
	s := b.s
	outs, err := b.pending.Wait()
	if err != nil {
		return pipeline.Result{}, err
	}
	changed := map[string]bool{}
	var pub []pipeline.Out
	log := s.log()
	for _, o := range outs {
		changed[o.Cause] = true
		m := b.seqOf[o.Cause]
		if m == nil || m.Seq <= s.published {
			continue // already in the stream (replay)
		}
		if pub, err = s.appendAssignments(pub, m.Seq, o); err != nil {
			return pipeline.Result{}, err
		}
	}
	for id, m := range b.seqOf {
		if changed[id] || m.Seq <= s.published {
			continue
		}
		// Known to the state but its assignments are not known to be in
		// the stream: redelivered after a crash between commit and
		// publish (after a restart the delivery count starts again, so
		// it cannot tell), or the same advert fingerprinted again.
		// Republishing the current facts is idempotent downstream.
		asg, err := s.Cluster.NetworkAssignments(id)
		if err != nil {
			return pipeline.Result{}, err
		}
		log.Debug("republishing current assignments", "ad", id, "n", len(asg))
		if pub, err = s.appendAssignments(pub, m.Seq, ad.Assignments{Cause: id, Changed: asg}); err != nil {
			return pipeline.Result{}, err
		}
	}
	return pipeline.Result{Out: pub, Done: b.n}, nil
}

func (s *Stage) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log.With("stage", "cluster")
}

// appendAssignments appends the assignments message caused by the
// fingerprints message at stream sequence seq.
func (s *Stage) appendAssignments(pub []pipeline.Out, seq uint64, o ad.Assignments) ([]pipeline.Out, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return pub, err
	}
	return append(pub, pipeline.Out{
		Subject: pipeline.SubjectAssignments,
		ID:      "asg-" + strconv.FormatUint(seq, 10),
		Data:    data,
		Header:  s.header(seq, nil),
	}), nil
}
