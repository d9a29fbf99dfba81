package index

import (
	"context"
	"encoding/json"
	"fmt"

	"adcensus/ad"
	"adcensus/pipeline"
)

// StageBatch is the most messages the index stage applies at once.
const StageBatch = 500

// Stage is the index stage (pipeline.Stage): it applies fingerprints and
// assignments to the Store, each assignment versioned by the stream
// sequence of its message, and publishes nothing. Index replicas each
// run one on their own durable consumer.
type Stage struct {
	Store Store
}

var _ pipeline.Stage = (*Stage)(nil)

// Spec implements pipeline.Stage.
func (s *Stage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Name:    "index",
		Durable: pipeline.DurableIndex,
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
