package index

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"

	"adcensus/ad"
	"adcensus/pipeline"
)

// StageBatch is the most messages the index stage applies at once.
const StageBatch = 500

// Stage is the index stage (pipeline.Stage): it applies fingerprints and
// assignments to the Store, each assignment versioned by the stream
// sequence of its message, and publishes nothing. Index replicas each
// run one on their own durable consumer (Durable).
//
// Fencing: an assignments message carries the lease epoch of the cluster
// writer that published it (pipeline.HeaderEpoch, 0 when absent). The
// stage drops assignments whose epoch is below the highest epoch it
// knows: the last epoch marker in the stream when it starts, raised by
// every message it applies. A writer that lost its lease may still have
// publishes in flight; the new writer publishes its epoch marker and
// then every assignment of its state (a snapshot) before anything else,
// so a stale message the stage applied before it knew the new epoch is
// overwritten by the snapshot, and one after is dropped.
type Stage struct {
	Store Store
	// Durable is the stage's consumer; "" is pipeline.DurableIndex.
	Durable string
	Log     *slog.Logger // nil: no log
	// Fenced counts the assignments messages dropped as stale.
	Fenced atomic.Int64

	epoch uint64 // the highest writer epoch known
}

var (
	_ pipeline.Stage   = (*Stage)(nil)
	_ pipeline.Starter = (*Stage)(nil)
)

// Start implements pipeline.Starter: it reads the epoch of the last
// writer lease taken.
func (s *Stage) Start(ctx context.Context, bus pipeline.Bus) error {
	last, err := bus.LastHeader(ctx, pipeline.SubjectEpochs, pipeline.HeaderEpoch)
	if err != nil {
		return fmt.Errorf("index: last writer epoch: %w", err)
	}
	if e, _ := strconv.ParseUint(last, 10, 64); e > s.epoch {
		s.epoch = e
	}
	return nil
}

// Spec implements pipeline.Stage.
func (s *Stage) Spec() pipeline.Spec {
	durable := s.Durable
	if durable == "" {
		durable = pipeline.DurableIndex
	}
	return pipeline.Spec{
		Name:    "index",
		Durable: durable,
		Inputs:  []string{pipeline.SubjectFingerprints, pipeline.SubjectAssignments},
		Batch:   StageBatch,
	}
}

// Process implements pipeline.Stage: one Store.Apply per batch. Done
// counts the fingerprints indexed.
func (s *Stage) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for _, m := range msgs {
		switch m.Subject {
		case pipeline.SubjectFingerprints:
			fp, err := pipeline.DecodeFingerprinted(m)
			if err != nil {
				m.Bad = err
				continue
			}
			fps = append(fps, fp)
		case pipeline.SubjectAssignments:
			epoch, _ := strconv.ParseUint(m.Header[pipeline.HeaderEpoch], 10, 64)
			if epoch < s.epoch {
				s.Fenced.Add(1)
				if s.Log != nil {
					s.Log.Warn("dropped assignments of a writer whose lease ended", "stage", "index", "seq", m.Seq, "epoch", epoch, "current", s.epoch)
				}
				continue
			}
			s.epoch = epoch
			var a ad.Assignments
			if err := json.Unmarshal(m.Data, &a); err != nil {
				m.Bad = fmt.Errorf("%s at stream seq %d: decode: %w", m.Subject, m.Seq, err)
				continue
			}
			for _, x := range a.Changed {
				x.Version = m.Seq
				asg = append(asg, x)
			}
		}
	}
	if err := s.Store.Apply(ctx, fps, asg); err != nil {
		return pipeline.Result{}, err
	}
	return pipeline.Result{Done: len(fps)}, nil
}
