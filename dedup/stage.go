package dedup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"golang.org/x/sync/errgroup"

	"adcensus/ad"
	"adcensus/pipeline"
)

// FingerprintBatch is the most adverts the fingerprint stage takes at once.
const FingerprintBatch = 64

// FingerprintStage is the fingerprint stage (pipeline.Stage): it reads
// adverts (ad.Ad JSON, decoded leniently) and turns each into its
// fingerprints (ad.Fingerprinted JSON) on adcensus.fingerprints. It is
// stateless; several may run on one durable consumer.
type FingerprintStage struct {
	FP *Fingerprinter
	// Workers is how many adverts of a batch are fingerprinted at once
	// (at least 1).
	Workers int
	Log     *slog.Logger // nil: no log
}

var _ pipeline.Stage = (*FingerprintStage)(nil)

// Spec implements pipeline.Stage.
func (s *FingerprintStage) Spec() pipeline.Spec {
	return pipeline.Spec{
		Name:    "fingerprint",
		Durable: pipeline.DurableFingerprint,
		Inputs:  []string{pipeline.SubjectAdsAll},
		Outputs: []string{pipeline.SubjectFingerprints},
		Batch:   FingerprintBatch,
	}
}

// Process implements pipeline.Stage. A message that is not an advert is
// marked Bad; what cannot be used in an advert (fields of another type,
// bad phones, images, ages) is listed in its Problems and in the
// Result's, and the advert flows on. The error is non-nil only when ctx
// is done. The fingerprints message of the input at stream sequence N has
// id "fp-N", so a redelivered advert is not published twice.
func (s *FingerprintStage) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("stage", "fingerprint")
	out := make([][]byte, len(msgs))
	ids := make([]string, len(msgs))
	problems := make([][]string, len(msgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(s.Workers, 1))
	for i, m := range msgs {
		a, fieldProblems, err := ad.Decode(m.Data)
		if err != nil {
			m.Bad = fmt.Errorf("decode advert: %w", err)
			continue
		}
		g.Go(func() error {
			fp, err := s.FP.Process(gctx, a)
			if err != nil {
				return err
			}
			fp.Problems = append(fieldProblems, fp.Problems...)
			for _, p := range fp.Problems {
				log.Debug("advert problem", "ad", a.ID, "problem", p)
			}
			data, err := json.Marshal(fp)
			if err != nil {
				return err
			}
			out[i], ids[i], problems[i] = data, a.ID, fp.Problems
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return pipeline.Result{}, err
	}
	var res pipeline.Result
	for i, m := range msgs {
		if out[i] == nil {
			continue
		}
		res.Out = append(res.Out, pipeline.Out{
			Subject: pipeline.SubjectFingerprints,
			ID:      "fp-" + strconv.FormatUint(m.Seq, 10),
			Data:    out[i],
			Header:  map[string]string{pipeline.HeaderAd: ids[i]},
		})
		res.Done++
		res.Problems = append(res.Problems, problems[i]...)
	}
	return res, nil
}
