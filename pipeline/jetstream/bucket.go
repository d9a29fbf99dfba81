package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// bucketSetupWait bounds how long bucket waits for a cluster that is busy
// electing leaders (many processes starting at once): setup calls that
// time out are retried until then.
const bucketSetupWait = time.Minute

// bucket returns the key-value bucket cfg.Bucket, created with cfg when it
// does not exist, and kept for the bus's life. An existing bucket whose
// TTL or replicas differ from cfg's is updated to them once.
func (b *Bus) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	if kv, ok := b.buckets.Load(cfg.Bucket); ok {
		return kv.(jetstream.KeyValue), nil
	}
	deadline := time.Now().Add(bucketSetupWait)
	for {
		kv, err := b.openBucket(ctx, cfg)
		if err == nil {
			b.buckets.Store(cfg.Bucket, kv)
			return kv, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) || !retryable(err) {
			return nil, fmt.Errorf("bucket %s: %w", cfg.Bucket, err)
		}
		b.log.Warn("bucket setup, retrying", "bucket", cfg.Bucket, "err", err)
		sleep(ctx, time.Second)
	}
}

func (b *Bus) openBucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	kv, err := b.js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = b.js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = b.js.KeyValue(ctx, cfg.Bucket)
		}
		return kv, err
	}
	if err != nil {
		return nil, err
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, err
	}
	if js, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		c := js.StreamInfo().Config
		if c.MaxAge != cfg.TTL || c.Replicas != cfg.Replicas {
			return b.js.UpdateKeyValue(ctx, cfg)
		}
	}
	return kv, nil
}

// errCodeNoPeers is JetStream's "no suitable peers for placement"
// (JSClusterNoPeersErr), answered while a starting cluster has fewer
// nodes than the stream's replicas.
const errCodeNoPeers jetstream.ErrorCode = 10005

// JetStream's answers while a cluster is electing leaders or catching up
// (after a node or a partition came back): "JetStream system temporarily
// unavailable" (JSClusterNotAvailErr) and "expected last sequence per
// subject temporarily unavailable".
const (
	errCodeNotAvailable    jetstream.ErrorCode = 10008
	errCodeLastSeqNotReady jetstream.ErrorCode = 10163
)

// errStale is a read that a follower answered before it had caught up.
var errStale = errors.New("read not yet replicated")

// retryable reports whether a setup call failed for a reason that passes
// (a timeout, no responders while leaders are elected).
func retryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeNoPeers: // a cluster starting up: not every node has joined yet
			return true
		case errCodeNotAvailable, errCodeLastSeqNotReady:
			return true
		}
	}
	return errors.Is(err, errStale) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}

// Transient reports whether err is a JetStream call that failed for a
// reason that passes (a timeout, no responders, a read not yet
// replicated): what a cluster answers while it elects leaders after a node
// or a partition came back.
func Transient(err error) bool { return err != nil && retryable(err) }

// retry calls fn until it succeeds, fails for a reason that does not
// pass, ctx is cancelled or bucketSetupWait has passed: JetStream API
// calls time out while a cluster elects leaders after a node went away.
func (b *Bus) retry(ctx context.Context, what string, fn func() error) error {
	deadline := time.Now().Add(bucketSetupWait)
	for {
		err := fn()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) || !retryable(err) || b.ns != nil {
			return err
		}
		b.log.Warn(what+": stream not answering, retrying", "err", err)
		sleep(ctx, time.Second)
	}
}
