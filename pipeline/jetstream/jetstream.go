// Package jetstream adapts the pipeline's Bus to NATS JetStream: an embedded
// nats-server with file storage in the data directory by default, or an
// external NATS cluster.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

var _ pipeline.Bus = (*Bus)(nil)

// Options configure the connection.
type Options struct {
	// URL of an external NATS server; empty starts an embedded server with
	// its store under DataDir/nats.
	URL     string
	DataDir string
	// SyncAlways makes the embedded server fsync every write before
	// acknowledging it (default true: JetStream's default is to fsync every
	// two minutes, acknowledging before the data is on disk).
	SyncAlways *bool
	Logger     *slog.Logger
	// MaxDeliver is how often a message is delivered before it is given up
	// and recorded on adcensus.errors (default 5).
	MaxDeliver int
	// MaxAge is the stream's max_age: messages older than this are removed
	// by the server. The main config's retention section sets it
	// (docs/PRIVACY.md); Open applies it to the stream, so lowering it
	// removes older messages at once. 0 keeps the stream's current
	// max_age (none for a new stream); negative removes it.
	MaxAge time.Duration
}

// Bus is a connection to the stream.
type Bus struct {
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
	opts   Options

	// pending maps a message sent asynchronously (*nats.Msg) to its done
	// callback until the stream acknowledges it or it fails.
	pending sync.Map

	// PublishAsync hands messages to the batcher (batcher.go) through
	// queue; atomic is set when the stream accepts atomic batches.
	atomic    bool
	queue     chan *asyncMsg
	sendMu    sync.RWMutex
	closed    chan struct{}
	closeOnce sync.Once
	batcher   sync.WaitGroup

	// Terminated counts messages given up as malformed.
	Terminated atomic.Int64
	// AtomicBatches counts the atomic batches of PublishAsync the stream
	// stored (each with one fsync) and BatchedMsgs the messages in them;
	// BatchesRefused counts those it refused, whose messages were then
	// published one by one (batcher.go).
	AtomicBatches, BatchedMsgs, BatchesRefused atomic.Int64
}

// Async publishing: at most asyncMaxPending messages of a connection wait
// for their acknowledgement; a publisher beyond that waits up to
// asyncStallWait for room, and an acknowledgement not received within
// asyncAckTimeout fails its message (the caller retries or reports it).
const (
	asyncMaxPending = 4096
	asyncStallWait  = 30 * time.Second
	asyncAckTimeout = 30 * time.Second
)

// Open connects to (or starts) NATS and makes sure the stream exists.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxDeliver == 0 {
		opts.MaxDeliver = 5
	}
	b := &Bus{log: opts.Logger.With("stage", "bus"), opts: opts,
		queue: make(chan *asyncMsg, asyncMaxPending), closed: make(chan struct{})}
	var err error
	if opts.URL == "" {
		sync := true
		if opts.SyncAlways != nil {
			sync = *opts.SyncAlways
		}
		b.ns, err = server.NewServer(&server.Options{
			ServerName: "adcensus-embedded",
			JetStream:  true,
			StoreDir:   filepath.Join(opts.DataDir, "nats"),
			DontListen: true,
			SyncAlways: sync,
			NoSigs:     true,
			NoLog:      true,
		})
		if err != nil {
			return nil, fmt.Errorf("start embedded nats: %w", err)
		}
		b.ns.Start()
		if !b.ns.ReadyForConnections(30 * time.Second) {
			b.ns.Shutdown()
			return nil, errors.New("start embedded nats: not ready after 30s")
		}
		b.nc, err = nats.Connect("", nats.InProcessServer(b.ns), nats.Name("adcensus"))
	} else {
		b.nc, err = nats.Connect(opts.URL, nats.Name("adcensus"), nats.MaxReconnects(-1))
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("connect nats: %w", err)
	}
	b.js, err = jetstream.New(b.nc,
		jetstream.WithPublishAsyncMaxPending(asyncMaxPending),
		jetstream.WithPublishAsyncTimeout(asyncAckTimeout),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
			b.resolve(m, nil)
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			b.resolve(m, fmt.Errorf("publish %s: %w", m.Subject, err))
		}),
	)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	maxAge := opts.MaxAge
	if maxAge == 0 {
		// Keep the max_age another process (run with a retention) set.
		if st, err := b.js.Stream(ctx, pipeline.Stream); err == nil {
			maxAge = st.CachedInfo().Config.MaxAge
		}
	}
	b.stream, err = b.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       pipeline.Stream,
		Subjects:   []string{pipeline.StreamSubjects},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Duplicates: 2 * time.Minute,
		MaxAge:     max(maxAge, 0),
		// Atomic batches let PublishAsync store many messages with one
		// fsync (batcher.go); a server older than 2.12 ignores the field.
		AllowAtomicPublish: true,
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("create stream %s: %w", pipeline.Stream, err)
	}
	b.atomic = b.stream.CachedInfo().Config.AllowAtomicPublish
	b.batcher.Add(1)
	go func() {
		defer b.batcher.Done()
		b.runBatcher()
	}()
	if b.ns != nil {
		if err := b.reclaimInFlight(ctx); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// reclaimInFlight makes messages that a previous process took but never
// acknowledged (it was killed) available at once, instead of after the ack
// wait. Only for the embedded server: no other process can be holding them.
// Each consumer with unacknowledged messages is recreated to start after its
// ack floor; the stages are idempotent, so a message acknowledged out of
// order and delivered again does no harm.
func (b *Bus) reclaimInFlight(ctx context.Context) error {
	for name := range b.stream.ConsumerNames(ctx).Name() {
		c, err := b.stream.Consumer(ctx, name)
		if err != nil {
			return fmt.Errorf("reclaim %s: %w", name, err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			return fmt.Errorf("reclaim %s: %w", name, err)
		}
		if info.NumAckPending == 0 {
			continue
		}
		cfg := info.Config
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = info.AckFloor.Stream + 1
		cfg.OptStartTime = nil
		if err := b.stream.DeleteConsumer(ctx, name); err != nil {
			return fmt.Errorf("reclaim %s: %w", name, err)
		}
		if _, err := b.stream.CreateConsumer(ctx, cfg); err != nil {
			return fmt.Errorf("reclaim %s: %w", name, err)
		}
		b.log.Info("reclaimed unacknowledged messages", "consumer", name, "n", info.NumAckPending, "from_seq", cfg.OptStartSeq)
	}
	return nil
}

// Close closes the connection and stops the embedded server. Messages of
// PublishAsync still waiting for their acknowledgement fail with
// pipeline.ErrClosed (they may or may not have been stored).
func (b *Bus) Close() error {
	b.closeOnce.Do(func() { close(b.closed) })
	b.sendMu.Lock() // no PublishAsync is between its check of closed and its send
	b.sendMu.Unlock()
	b.batcher.Wait()
	b.failQueued()
	if b.nc != nil {
		b.nc.Close()
	}
	b.pending.Range(func(k, _ any) bool {
		b.resolve(k.(*nats.Msg), pipeline.ErrClosed)
		return true
	})
	if b.ns != nil {
		b.ns.Shutdown()
		b.ns.WaitForShutdown()
	}
	return nil
}

// Publish implements pipeline.Bus.
func (b *Bus) Publish(ctx context.Context, subject, msgID string, data []byte, header map[string]string) error {
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range header {
		m.Header.Set(k, v)
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	if _, err := b.js.PublishMsg(ctx, m, opts...); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}

func (b *Bus) consumer(ctx context.Context, durable string, subjects []string) (jetstream.Consumer, error) {
	if c, err := b.stream.Consumer(ctx, durable); err == nil {
		return c, nil
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	return b.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        durable,
		FilterSubjects: subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        2 * time.Minute,
		MaxDeliver:     b.opts.MaxDeliver,
		MaxAckPending:  10000,
	})
}

// Consume implements pipeline.Bus. Messages are fetched in batches; a batch
// is acknowledged after the handler returns nil.
func (b *Bus) Consume(ctx context.Context, durable string, subjects []string, batch int, h pipeline.BatchHandler) error {
	cons, err := b.consumer(ctx, durable, subjects)
	if err != nil {
		if ctx.Err() != nil {
			return nil // cancelled while the consumer was being set up
		}
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	log := b.log.With("consumer", durable)
	for ctx.Err() == nil {
		mb, err := cons.Fetch(batch, jetstream.FetchMaxWait(200*time.Millisecond))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("fetch", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var raw []jetstream.Msg
		var msgs []*pipeline.Msg
		for m := range mb.Messages() {
			md, err := m.Metadata()
			if err != nil {
				_ = m.Term()
				continue
			}
			pm := &pipeline.Msg{Subject: m.Subject(), Data: m.Data(), Seq: md.Sequence.Stream, Delivered: int(md.NumDelivered)}
			if hdr := m.Headers(); len(hdr) > 0 {
				pm.Header = map[string]string{}
				for k := range hdr {
					pm.Header[k] = hdr.Get(k)
				}
			}
			raw = append(raw, m)
			msgs = append(msgs, pm)
		}
		if len(msgs) == 0 {
			continue
		}
		if err := h(ctx, msgs); err != nil {
			if ctx.Err() != nil {
				return nil // unacknowledged messages are redelivered later
			}
			log.Warn("batch failed, will be redelivered", "n", len(msgs), "err", err)
			for _, m := range raw {
				_ = m.NakWithDelay(time.Second)
			}
			continue
		}
		for i, m := range raw {
			if msgs[i].Bad != nil {
				b.recordBad(ctx, durable, msgs[i])
				_ = m.Term()
				continue
			}
			if err := m.DoubleAck(ctx); err != nil && ctx.Err() == nil {
				log.Warn("ack", "seq", msgs[i].Seq, "err", err)
			}
		}
	}
	return nil
}

// recordBad keeps a malformed message inspectable on adcensus.errors.
func (b *Bus) recordBad(ctx context.Context, durable string, m *pipeline.Msg) {
	b.Terminated.Add(1)
	b.log.Warn("message rejected", "consumer", durable, "subject", m.Subject, "seq", m.Seq, "err", m.Bad)
	err := b.Publish(ctx, pipeline.SubjectErrors, "err-"+durable+"-"+strconv.FormatUint(m.Seq, 10), nil, map[string]string{
		"Adcensus-Consumer": durable,
		"Adcensus-Subject":  m.Subject,
		"Adcensus-Seq":      strconv.FormatUint(m.Seq, 10),
		"Adcensus-Error":    m.Bad.Error(),
	})
	if err != nil {
		b.log.Warn("record rejected message", "err", err)
	}
}

// LastHeader implements pipeline.Bus.
func (b *Bus) LastHeader(ctx context.Context, subject, key string) (string, error) {
	m, err := b.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return m.Header.Get(key), nil
}

// Idle implements pipeline.Bus. A consumer is idle when nothing is pending
// or unacknowledged and its ack floor has reached the last message on its
// subjects (a freshly created consumer may briefly report zero pending).
func (b *Bus) Idle(ctx context.Context, durables ...string) (bool, error) {
	for _, d := range durables {
		c, err := b.stream.Consumer(ctx, d)
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false, err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return false, nil
		}
		subjects := info.Config.FilterSubjects
		if info.Config.FilterSubject != "" {
			subjects = append(subjects, info.Config.FilterSubject)
		}
		for _, subj := range subjects {
			m, err := b.stream.GetLastMsgForSubject(ctx, subj)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				return false, err
			}
			if info.AckFloor.Stream < m.Sequence {
				return false, nil
			}
		}
	}
	return true, nil
}

// ResetConsumer implements pipeline.Bus.
func (b *Bus) ResetConsumer(ctx context.Context, durable string) error {
	err := b.stream.DeleteConsumer(ctx, durable)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("reset consumer %s: %w", durable, err)
	}
	return nil
}

// StreamInfo returns the number of messages and bytes in the stream.
func (b *Bus) StreamInfo(ctx context.Context) (msgs, bytes uint64, err error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	return info.State.Msgs, info.State.Bytes, nil
}

// MaxAge returns the stream's max_age as the server has it (0: none).
func (b *Bus) MaxAge(ctx context.Context) (time.Duration, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.Config.MaxAge, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
