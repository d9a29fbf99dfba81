package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

// ConsumerState is one durable consumer's progress, for 'adcensus status'.
type ConsumerState struct {
	Name    string   `json:"name"`
	Filters []string `json:"filters"`
	// Pending are the messages not yet delivered, AckPending those
	// delivered and not yet acknowledged, Redelivered those delivered more
	// than once and not yet acknowledged.
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	// AckFloor is the stream sequence below which every message is
	// acknowledged.
	AckFloor uint64 `json:"ack_floor"`
	// Idle is Bus.Idle for this consumer.
	Idle bool `json:"idle"`
}

// StreamState is the stream's size and settings, for 'adcensus status'.
type StreamState struct {
	Name       string `json:"name"`
	Msgs       uint64 `json:"msgs"`
	Bytes      uint64 `json:"bytes"`
	FirstSeq   uint64 `json:"first_seq"`
	LastSeq    uint64 `json:"last_seq"`
	Replicas   int    `json:"replicas"`
	Leader     string `json:"leader,omitempty"`
	ClusterLen int    `json:"cluster_peers,omitempty"`
}

// Status returns the stream's state and every durable consumer's, sorted
// by name.
func (b *Bus) Status(ctx context.Context) (st StreamState, cs []ConsumerState, err error) {
	// While a cluster elects leaders (a node restarted, a partition
	// healed) JetStream answers "temporarily unavailable" for a moment.
	err = b.retry(ctx, "status", func() (err error) {
		st, cs, err = b.status(ctx)
		return err
	})
	return st, cs, err
}

func (b *Bus) status(ctx context.Context) (StreamState, []ConsumerState, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return StreamState{}, nil, fmt.Errorf("stream info: %w", err)
	}
	st := StreamState{Name: info.Config.Name, Msgs: info.State.Msgs, Bytes: info.State.Bytes,
		FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq, Replicas: info.Config.Replicas}
	if info.Cluster != nil {
		st.Leader = info.Cluster.Leader
		st.ClusterLen = len(info.Cluster.Replicas) + 1
	}
	names, err := b.ConsumerNames(ctx)
	if err != nil {
		return st, nil, err
	}
	sort.Strings(names)
	var cs []ConsumerState
	for _, name := range names {
		c, err := b.stream.Consumer(ctx, name)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			continue // removed since listed (a standby's, expired)
		}
		if err != nil {
			return st, nil, fmt.Errorf("consumer %s: %w", name, err)
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return st, nil, fmt.Errorf("consumer %s: %w", name, err)
		}
		filters := ci.Config.FilterSubjects
		if ci.Config.FilterSubject != "" {
			filters = append(filters, ci.Config.FilterSubject)
		}
		idle, err := b.Idle(ctx, name)
		if err != nil {
			return st, nil, err
		}
		cs = append(cs, ConsumerState{Name: name, Filters: filters, Pending: ci.NumPending, AckPending: ci.NumAckPending,
			Redelivered: ci.NumRedelivered, AckFloor: ci.AckFloor.Stream, Idle: idle})
	}
	return st, cs, nil
}

// HeartbeatTTL is how long a process's heartbeat stays after its last
// beat.
const HeartbeatTTL = 24 * time.Hour

func (b *Bus) heartbeats(ctx context.Context) (jetstream.KeyValue, error) {
	kv, err := b.bucket(ctx, jetstream.KeyValueConfig{
		Bucket: pipeline.HeartbeatBucket, TTL: HeartbeatTTL, History: 1,
		Storage: jetstream.FileStorage, Replicas: b.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("heartbeats: %w", err)
	}
	return kv, nil
}

// Beat records value as the heartbeat of the process key.
func (b *Bus) Beat(ctx context.Context, key string, value []byte) error {
	kv, err := b.heartbeats(ctx)
	if err != nil {
		return err
	}
	_, err = kv.Put(ctx, key, value)
	return err
}

// Heartbeats returns every process's last heartbeat by key.
func (b *Bus) Heartbeats(ctx context.Context) (map[string][]byte, error) {
	kv, err := b.js.KeyValue(ctx, pipeline.HeartbeatBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	keys, err := kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			continue // expired meanwhile
		}
		out[k] = e.Value()
	}
	return out, nil
}

// Progress returns the highest stream sequence delivered to durable and
// its ack floor; ok is false when the consumer does not exist.
func (b *Bus) Progress(ctx context.Context, durable string) (delivered, ackFloor uint64, ok bool, err error) {
	c, err := b.stream.Consumer(ctx, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	return info.Delivered.Stream, info.AckFloor.Stream, true, nil
}
