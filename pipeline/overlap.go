package pipeline

import (
	"context"
	"fmt"
	"slices"
)

// Overlapping batches. A stage whose batch ends in a durable write (the
// cluster stage commits its state file, then publishes) would leave its
// core idle during that write if the next batch waited for it. A stage
// that can begin a batch before the one before it has ended (Beginner)
// and a bus that can acknowledge a batch after the next has begun
// (OverlapBus) let Run keep two batches in flight: batch k+1 is fetched
// and begun while batch k commits; batch k is then ended (its Result
// published) and acknowledged. A message is still acknowledged only once
// its outputs are in the stream.

// Waiter is a batch a stage has begun.
type Waiter interface {
	// Wait returns, once the batch is durable, what Process would have
	// returned for it.
	Wait() (Result, error)
}

// Beginner is a Stage whose batches may overlap. BeginBatch is the first
// half of Process: it marks Bad messages and begins the batch; the
// Waiter's Wait is the second half. Run calls BeginBatch of batch k+1
// while (or before) Wait of batch k runs: BeginBatch calls never overlap
// one another, nor do Wait calls, and both come in batch order; except
// that when batch k fails, its messages are handled again one by one
// (BeginBatch then Wait of each, never beside another BeginBatch) before
// the Wait of batch k+1. An error from either asks for redelivery of the
// batch, as from Process.
type Beginner interface {
	Stage
	BeginBatch(ctx context.Context, batch []*Msg) (Waiter, error)
}

// BeginHandler begins a batch and returns end, which ends it: end
// returning nil acknowledges every message not marked Bad, an error asks
// for redelivery of the batch (as a BatchHandler's result). An error
// from the BeginHandler itself is a failed batch, and end is nil.
type BeginHandler func(ctx context.Context, msgs []*Msg) (end func() error, err error)

// OverlapBus is a Bus that can keep two batches in flight.
type OverlapBus interface {
	// ConsumeOverlapped is Consume with a BeginHandler: it begins batch
	// k+1 while the end of batch k runs, calls the ends in order, and
	// acknowledges a batch only after its end returned nil. A batch is
	// never held back waiting for the next: its end is called as soon as
	// the end before it has returned.
	ConsumeOverlapped(ctx context.Context, durable string, subjects []string, batch int, h BeginHandler) error
}

// Sync turns a BeginHandler into a BatchHandler: begin, then end.
func (h BeginHandler) Sync() BatchHandler {
	return func(ctx context.Context, msgs []*Msg) error {
		end, err := h(ctx, msgs)
		if err != nil {
			return err
		}
		return end()
	}
}

// runOverlapped is Run for a Beginner on an OverlapBus.
func runOverlapped(ctx context.Context, bus Bus, ob OverlapBus, stage Beginner, spec Spec, counters *Counters) error {
	return ob.ConsumeOverlapped(ctx, spec.Durable, spec.Inputs, max(spec.Batch, 1), func(bctx context.Context, msgs []*Msg) (func() error, error) {
		w, err := stage.BeginBatch(bctx, msgs)
		if err != nil {
			return nil, err
		}
		return func() error {
			res, err := w.Wait()
			if err != nil {
				return err
			}
			for _, o := range res.Out {
				if !slices.Contains(spec.Outputs, o.Subject) {
					return fmt.Errorf("%s stage: publish on %s, which it does not declare", spec.Name, o.Subject)
				}
			}
			if err := publishAll(ctx, bus, res.Out); err != nil {
				return err
			}
			counters.count(spec.Durable, res, msgs)
			return nil
		}, nil
	})
}
