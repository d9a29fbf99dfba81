package census

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"adcensus/ad"
	"adcensus/pipeline"
)

// StageBatch is the most messages the census stage applies at once.
const StageBatch = 500

// Stage is the census stage (pipeline.Stage): it applies sightings and run
// ends to the Store, in stream order, and publishes nothing.
type Stage struct {
	Store *Store
	// Durable is the stage's consumer; "" is pipeline.DurableCensus.
	Durable string
	Log     *slog.Logger // nil: no log
}

var _ pipeline.Stage = (*Stage)(nil)

// Spec implements pipeline.Stage.
func (s *Stage) Spec() pipeline.Spec {
	durable := s.Durable
	if durable == "" {
		durable = pipeline.DurableCensus
	}
	return pipeline.Spec{
		Name:    "census",
		Durable: durable,
		Inputs:  []string{pipeline.SubjectSightingsAll, pipeline.SubjectRunsAll},
		Batch:   StageBatch,
	}
}

// Process implements pipeline.Stage: one Store.Apply per batch. A message
// that does not decode, or lacks its ids, is marked Bad. Done counts the
// sightings applied.
func (s *Stage) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	var recs []Record
	n := 0
	for _, m := range msgs {
		var r Record
		var err error
		switch {
		case strings.HasPrefix(m.Subject, pipeline.SubjectSightingsPrefix):
			r.Sighting = &ad.Sighting{}
			err = json.Unmarshal(m.Data, r.Sighting)
			if err == nil && (r.Sighting.AdID == "" || r.Sighting.Run == "" || r.Sighting.Arena == "" || r.Sighting.At.IsZero()) {
				err = fmt.Errorf("no advert, arena, run or time")
			}
			n++
		case strings.HasPrefix(m.Subject, pipeline.SubjectRunsPrefix):
			r.RunEnd = &ad.RunEnd{}
			err = json.Unmarshal(m.Data, r.RunEnd)
			if err == nil && (r.RunEnd.Run == "" || r.RunEnd.Arena == "") {
				err = fmt.Errorf("no run or arena")
			}
		default:
			err = fmt.Errorf("not a census subject")
		}
		if err != nil {
			m.Bad = fmt.Errorf("%s at stream seq %d: %w", m.Subject, m.Seq, err)
			if r.Sighting != nil {
				n--
			}
			continue
		}
		recs = append(recs, r)
	}
	if len(recs) > 0 {
		if err := s.Store.Apply(ctx, recs); err != nil {
			return pipeline.Result{}, err
		}
	}
	if s.Log != nil {
		s.Log.Debug("census applied", "stage", "census", "records", len(recs))
	}
	return pipeline.Result{Done: n}, nil
}
