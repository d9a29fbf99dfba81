// Package pipeline is how the stages of adcensus talk and run: the
// durable stream (Bus) that carries
// crawler → adcensus.ads.<arena> → fingerprint → adcensus.fingerprints →
// cluster → adcensus.assignments → index, its names (subjects.go), and the
// one stage loop (Run) that drives every stage's Process over batches of
// messages. The stream is the source of truth: every store the stages
// keep is a projection that a replay rebuilds.
//
// It imports no stage: the stages (dedup, dedup/cluster, index) import it
// for Msg, Out and the subjects, and cmd/adcensus wires them to a Bus.
// The package is technology-neutral; pipeline/jetstream adapts it to NATS
// JetStream (embedded by default).
package pipeline

import (
	"context"
	"errors"
)

// Msg is one stream message handed to a stage.
type Msg struct {
	Subject   string
	Data      []byte
	Seq       uint64 // stream sequence
	Delivered int    // delivery attempt, 1 on first delivery
	Header    map[string]string

	// Bad is set by a handler for a message that can never be processed
	// (malformed). It is terminated, not redelivered, and recorded on
	// SubjectErrors; the rest of the batch is acknowledged.
	Bad error
}

// BatchHandler processes a batch of messages. Returning nil acknowledges
// every message not marked Bad; returning an error asks for redelivery of
// the whole batch (handlers are idempotent per message).
type BatchHandler func(ctx context.Context, msgs []*Msg) error

// Bus is the durable stream the stages talk through.
type Bus interface {
	// Publish stores one message and returns once the stream has
	// acknowledged it. msgID de-duplicates republishing within the stream's
	// duplicate window.
	Publish(ctx context.Context, subject, msgID string, data []byte, header map[string]string) error
	// PublishAsync sends one message without waiting for the stream, so
	// that many messages are in flight at once. done is called exactly
	// once, from another goroutine, with nil after the stream has
	// acknowledged (durably stored, or recognised as a duplicate by msgID)
	// the message, or with the error that lost it; done must not block.
	// When PublishAsync itself returns an error the message was not sent
	// and done is not called. It may block while too many messages are in
	// flight.
	PublishAsync(ctx context.Context, subject, msgID string, data []byte, header map[string]string, done func(error)) error
	// Consume delivers batches of up to batch messages on subjects from the
	// durable consumer until ctx is cancelled; it returns nil then.
	Consume(ctx context.Context, durable string, subjects []string, batch int, h BatchHandler) error
	// LastHeader returns a header of the last message on subject, or "" when
	// the subject has no message.
	LastHeader(ctx context.Context, subject, key string) (string, error)
	// Idle reports whether every durable consumer has received and
	// acknowledged every message on its subjects.
	Idle(ctx context.Context, durables ...string) (bool, error)
	// ResetConsumer deletes a durable consumer so the next Consume starts
	// from the first message (used to rebuild a store by replay).
	ResetConsumer(ctx context.Context, durable string) error
}

// ErrClosed is returned by a stage used after Close.
var ErrClosed = errors.New("pipeline closed")
