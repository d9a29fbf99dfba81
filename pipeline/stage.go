package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Spec is what a stage declares about itself: where it reads and writes
// in the stream, and how much it takes at once.
type Spec struct {
	// Name names the stage in logs and errors ("fingerprint").
	Name string
	// Durable is the stage's durable consumer (subjects.go); several
	// processes running one stage share it.
	Durable string
	// Inputs are the subjects the stage consumes (wildcards allowed).
	Inputs []string
	// Outputs are the full subjects it publishes on; publishing elsewhere
	// fails the batch.
	Outputs []string
	// Batch is the most messages handed to Process at once.
	Batch int
}

// Out is one message a stage publishes for the batch it was given. ID
// becomes the message id the stream de-duplicates republishing by, so it
// must be derived from the input (e.g. its stream sequence).
type Out struct {
	Subject string
	ID      string
	Data    []byte
	Header  map[string]string
}

// Result is what Process made of a batch.
type Result struct {
	// Out is published, in order, before the input is acknowledged.
	Out []Out
	// Done is the number of input messages processed, counted (with
	// Problems and the messages marked Bad) once Out is in the stream.
	Done int
	// Problems are the problems met in the batch's adverts
	// (ad.ProblemKind strings): the adverts flow on without what could
	// not be used.
	Problems []string
}

// Stage is one step of the pipeline: a function over a batch of messages.
// The same Stage runs in the embedded pipeline, in a stage process
// against a NATS cluster and (for the fingerprint and cluster stages) in
// the offline `adcensus dedup`.
type Stage interface {
	Spec() Spec
	// Process handles one batch. It sets Msg.Bad on a message that can
	// never be processed (malformed): that one is set aside and the rest
	// go on. An error means the whole batch is to be redelivered later
	// (a store failed, ctx was cancelled); Process is idempotent per
	// message, so redelivery never double-counts. ctx lives for the
	// batch. Calls never overlap.
	Process(ctx context.Context, batch []*Msg) (Result, error)
}

// Starter is a Stage that reads the stream once before its first batch
// (the cluster stage reads the last cause it published). An error from
// Start ends Run.
type Starter interface {
	Start(ctx context.Context, bus Bus) error
}

// Run runs stage on bus until ctx is cancelled, and then returns nil: it
// consumes the stage's inputs on its durable consumer in batches, calls
// Process, publishes the outputs (publishAll) and only then acknowledges
// the input, so nothing is lost; messages marked Bad are terminated and
// recorded on SubjectErrors by the Bus. counters (may be nil) counts
// what was processed, the problems met and the messages rejected. A
// Beginner on an OverlapBus runs with two batches in flight (overlap.go).
func Run(ctx context.Context, bus Bus, stage Stage, counters *Counters) error {
	spec := stage.Spec()
	if s, ok := stage.(Starter); ok {
		if err := s.Start(ctx, bus); err != nil {
			return err
		}
	}
	if b, ok := stage.(Beginner); ok {
		if ob, ok := bus.(OverlapBus); ok {
			return runOverlapped(ctx, bus, ob, b, spec, counters)
		}
	}
	return bus.Consume(ctx, spec.Durable, spec.Inputs, max(spec.Batch, 1), func(ctx context.Context, msgs []*Msg) error {
		res, err := stage.Process(ctx, msgs)
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
	})
}

// publishAll publishes a batch's output messages, in order, without
// waiting for each (Bus.PublishAsync: on JetStream they share atomic
// batches and so fsyncs), and returns once the stream has acknowledged
// every one, or with the first error. A stage acknowledges its input only
// after that, so nothing is lost; on an error the input is redelivered
// and the messages already stored are recognised as duplicates by their
// ids.
func publishAll(ctx context.Context, bus Bus, msgs []Out) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for _, m := range msgs {
		wg.Add(1)
		err := bus.PublishAsync(ctx, m.Subject, m.ID, m.Data, m.Header, func(err error) {
			if err != nil {
				fail(fmt.Errorf("publish %s %s: %w", m.Subject, m.ID, err))
			}
			wg.Done()
		})
		if err != nil {
			wg.Done()
			fail(fmt.Errorf("publish %s %s: %w", m.Subject, m.ID, err))
			break
		}
	}
	wg.Wait()
	return first
}
