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
	"slices"
	"strconv"
	"strings"
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
	// Replicas of the stream and the key-value buckets on a NATS cluster
	// (default 1; the embedded server always has 1).
	Replicas int
	// LeaseTTL is how long a lease (AcquireLease) outlives its holder's
	// last renewal (default DefaultLeaseTTL).
	LeaseTTL time.Duration
	// MaxAge and Duplicates of the stream: zero keeps an existing
	// stream's and creates one with no age limit and
	// DefaultDuplicateWindow. Lowering an existing stream's replicas,
	// retention or duplicate window is refused unless AllowWeaken.
	MaxAge, Duplicates time.Duration
	AllowWeaken        bool
	// AckWait and MaxAckPending of every durable consumer (zero:
	// DefaultAckWait, DefaultMaxAckPending); existing consumers are
	// updated to them.
	AckWait       time.Duration
	MaxAckPending int
	// RetentionMaxAge is the longest the main config's retention section
	// lets a message stay (docs/PRIVACY.md): the stream's max_age is set to
	// at most this, and lowering it to this is not refused as a
	// weakening, since personal data past its retention must go. Zero: no
	// retention limit.
	RetentionMaxAge time.Duration
	// StandbyInactive is how long a standby cluster consumer
	// (pipeline.DurableStandbyPrefix) may go unread before the server
	// deletes it (default DefaultStandbyInactive): a standby whose node is
	// gone for good does not keep its consumer, and the stream's
	// messages for it, forever. A standby back after that replays the
	// fingerprints into its state, as a new one does.
	StandbyInactive time.Duration
}

// Defaults of the stream and consumer settings.
const (
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultAckWait         = 10 * time.Second
	DefaultMaxAckPending   = 10000
	DefaultStandbyInactive = 24 * time.Hour
)

// ErrWeaken is returned by Open when the options would lower an existing
// stream's replicas, retention or duplicate window.
var ErrWeaken = errors.New("refusing to weaken the existing stream")

// Bus is a connection to the stream.
type Bus struct {
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	log    *slog.Logger
	opts   Options

	// buckets caches the key-value buckets opened (bucket.go).
	buckets sync.Map

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

	// Terminated counts messages given up as malformed, DeadLettered
	// those set aside after MaxDeliver failed deliveries (dlq.go).
	Terminated, DeadLettered atomic.Int64
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
	if opts.AckWait == 0 {
		opts.AckWait = DefaultAckWait
	}
	if opts.MaxAckPending == 0 {
		opts.MaxAckPending = DefaultMaxAckPending
	}
	if opts.StandbyInactive == 0 {
		opts.StandbyInactive = DefaultStandbyInactive
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
	deadline := time.Now().Add(bucketSetupWait)
	for {
		b.stream, err = b.ensureStream(ctx)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) || !retryable(err) {
			break
		}
		b.log.Warn("stream setup, retrying", "err", err)
		sleep(ctx, time.Second)
	}
	if err != nil {
		b.Close()
		return nil, err
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

// ensureStream creates the stream with the options' settings, or updates
// an existing one to the settings given (see Options).
func (b *Bus) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	st, err := b.js.Stream(ctx, pipeline.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		dup := b.opts.Duplicates
		if dup == 0 {
			dup = DefaultDuplicateWindow
		}
		st, err = b.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:       pipeline.Stream,
			Subjects:   []string{pipeline.StreamSubjects},
			Storage:    jetstream.FileStorage,
			Retention:  jetstream.LimitsPolicy,
			Replicas:   b.replicas(),
			MaxAge:     b.retained(b.opts.MaxAge),
			Duplicates: dup,
			// Atomic batches let PublishAsync store many messages with
			// one fsync (batcher.go); a server older than 2.12 ignores
			// the field.
			AllowAtomicPublish: true,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return b.ensureStream(ctx) // another process created it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", pipeline.Stream, err)
	}
	cur := st.CachedInfo().Config
	want := cur
	want.Subjects = []string{pipeline.StreamSubjects}
	want.AllowAtomicPublish = true
	if b.ns == nil && b.opts.Replicas > 0 {
		want.Replicas = b.opts.Replicas
	}
	if b.opts.MaxAge > 0 {
		want.MaxAge = b.opts.MaxAge
	}
	want.MaxAge = b.retained(want.MaxAge)
	byRetention := b.opts.RetentionMaxAge > 0 && want.MaxAge == b.opts.RetentionMaxAge
	if b.opts.Duplicates > 0 {
		want.Duplicates = b.opts.Duplicates
	}
	var weaker []string
	if want.Replicas < cur.Replicas {
		weaker = append(weaker, fmt.Sprintf("replicas %d → %d", cur.Replicas, want.Replicas))
	}
	if want.MaxAge != 0 && (cur.MaxAge == 0 || want.MaxAge < cur.MaxAge) && !byRetention {
		weaker = append(weaker, fmt.Sprintf("max_age %s → %s", ageString(cur.MaxAge), want.MaxAge))
	}
	if want.Duplicates < cur.Duplicates {
		weaker = append(weaker, fmt.Sprintf("duplicate_window %s → %s", cur.Duplicates, want.Duplicates))
	}
	if len(weaker) > 0 && !b.opts.AllowWeaken {
		return nil, fmt.Errorf("stream %s: %w: %s (set these in the config's stream section, or allow_weaken: true to lower them)",
			pipeline.Stream, ErrWeaken, strings.Join(weaker, ", "))
	}
	if slices.Equal(want.Subjects, cur.Subjects) && want.AllowAtomicPublish == cur.AllowAtomicPublish && want.Replicas == cur.Replicas &&
		want.MaxAge == cur.MaxAge && want.Duplicates == cur.Duplicates {
		return st, nil
	}
	b.log.Info("updating stream settings", "replicas", want.Replicas, "max_age", want.MaxAge, "duplicates", want.Duplicates)
	st, err = b.js.UpdateStream(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("update stream %s: %w", pipeline.Stream, err)
	}
	return st, nil
}

// retained returns maxAge capped by the retention limit (0: unlimited).
func (b *Bus) retained(maxAge time.Duration) time.Duration {
	if r := b.opts.RetentionMaxAge; r > 0 && (maxAge == 0 || maxAge > r) {
		return r
	}
	return maxAge
}

func ageString(d time.Duration) string {
	if d == 0 {
		return "unlimited"
	}
	return d.String()
}

// reclaimInFlight makes messages that a previous process took but never
// acknowledged (it was killed) available at once, instead of after the ack
// wait. Only for the embedded server: no other process can be holding them.
// Each consumer with unacknowledged messages is recreated to start after its
// ack floor; the stages are idempotent, so a message acknowledged out of
// order and delivered again does no harm.
func (b *Bus) reclaimInFlight(ctx context.Context) error {
	for name := range b.stream.ConsumerNames(ctx).Name() {
		if err := b.Reclaim(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// Reclaim makes the messages of durable that were delivered but not
// acknowledged available again at once (see reclaimInFlight). Only for a
// consumer no other live process reads: the cluster writer's after it
// took the lease (the previous writer has stopped), an index replica's or
// a standby's own at start. A consumer that does not exist is left alone.
func (b *Bus) Reclaim(ctx context.Context, durable string) error {
	return b.retry(ctx, "reclaim "+durable, func() error { return b.reclaim(ctx, durable) })
}

func (b *Bus) reclaim(ctx context.Context, durable string) error {
	c, err := b.stream.Consumer(ctx, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reclaim %s: %w", durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return fmt.Errorf("reclaim %s: %w", durable, err)
	}
	if info.NumAckPending == 0 {
		return nil
	}
	cfg := info.Config
	cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	cfg.OptStartSeq = info.AckFloor.Stream + 1
	cfg.OptStartTime = nil
	if err := b.stream.DeleteConsumer(ctx, durable); err != nil {
		return fmt.Errorf("reclaim %s: %w", durable, err)
	}
	if _, err := b.stream.CreateConsumer(ctx, cfg); err != nil {
		return fmt.Errorf("reclaim %s: %w", durable, err)
	}
	b.log.Info("reclaimed unacknowledged messages", "consumer", durable, "n", info.NumAckPending, "from_seq", cfg.OptStartSeq)
	return nil
}

// Embedded reports whether the bus runs its own in-process server (no
// other process can reach the stream).
func (b *Bus) Embedded() bool { return b.ns != nil }

func (b *Bus) replicas() int {
	if b.ns != nil || b.opts.Replicas < 1 {
		return 1
	}
	return b.opts.Replicas
}

// ConsumerNames returns the names of the stream's durable consumers.
func (b *Bus) ConsumerNames(ctx context.Context) ([]string, error) {
	var names []string
	l := b.stream.ConsumerNames(ctx)
	for name := range l.Name() {
		names = append(names, name)
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return names, nil
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

// consumer returns the durable consumer, created if need be, with the
// options' ack wait, max-ack-pending and max-deliver (an existing one is
// updated to them).
func (b *Bus) consumer(ctx context.Context, durable string, subjects []string) (jetstream.Consumer, error) {
	var inactive time.Duration
	if strings.HasPrefix(durable, pipeline.DurableStandbyPrefix) {
		inactive = b.opts.StandbyInactive
	}
	c, err := b.stream.Consumer(ctx, durable)
	if err == nil {
		cfg := c.CachedInfo().Config
		if cfg.AckWait == b.opts.AckWait && cfg.MaxAckPending == b.opts.MaxAckPending && cfg.MaxDeliver == b.opts.MaxDeliver && cfg.InactiveThreshold == inactive {
			return c, nil
		}
		cfg.AckWait, cfg.MaxAckPending, cfg.MaxDeliver, cfg.InactiveThreshold = b.opts.AckWait, b.opts.MaxAckPending, b.opts.MaxDeliver, inactive
		return b.stream.UpdateConsumer(ctx, cfg)
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	return b.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:        durable,
		FilterSubjects: subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        b.opts.AckWait,
		MaxDeliver:     b.opts.MaxDeliver,
		MaxAckPending:  b.opts.MaxAckPending,
		// Zero for every consumer but a standby's: never removed.
		InactiveThreshold: inactive,
	})
}

// Consume implements pipeline.Bus. Messages are fetched in batches; a batch
// is acknowledged after the handler returns nil.
func (b *Bus) Consume(ctx context.Context, durable string, subjects []string, batch int, h pipeline.BatchHandler) error {
	f, err := b.newFetcher(ctx, durable, subjects, batch)
	if f == nil || err != nil {
		return err // nil: cancelled while the consumer was being set up
	}
	log := f.log
	for ctx.Err() == nil {
		raw, msgs, stop, err := f.next(ctx)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
		if len(msgs) == 0 {
			continue
		}
		// A batch that takes long tells the server it is still being
		// worked on, so it is not redelivered to another process after
		// the ack wait.
		stopBeat := b.heartbeat(raw)
		err = h(ctx, msgs)
		close(stopBeat)
		if err != nil {
			if ctx.Err() != nil {
				b.handBack(raw)
				return nil
			}
			log.Warn("batch failed, will be redelivered", "n", len(msgs), "err", err)
			b.settleFailed(ctx, durable, h, raw, msgs, err)
			continue
		}
		b.ackBatch(ctx, durable, raw, msgs)
	}
	return nil
}

// handBack gives messages taken and not acknowledged back to the consumer
// when the stage stops (SIGTERM, a lost lease), so they are delivered again
// at once instead of after the ack wait. A process killed cannot; its
// messages wait out the ack wait. Whatever the stage did with them is
// done again, which the stages' idempotence makes harmless.
func (b *Bus) handBack(raw []jetstream.Msg) {
	for _, m := range raw {
		_ = m.Nak()
	}
	if len(raw) > 0 {
		_ = b.nc.FlushTimeout(time.Second)
	}
}

// consumerCheckEvery is how often an idle Consume checks that its
// consumer still exists.
const consumerCheckEvery = 2 * time.Second

// consumerGone reports whether a fetch failed because the durable
// consumer no longer exists (deleted by an operator or a rebuild): the
// stage cannot go on, and its process exits non-zero to be restarted.
func consumerGone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound)
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
	var m *jetstream.RawStreamMsg
	err := b.retry(ctx, "last message of "+subject, func() (err error) {
		m, err = b.stream.GetLastMsgForSubject(ctx, subject)
		return err
	})
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
