package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

// Leases: one holder at a time of a key in the lease bucket
// (pipeline.LeaseBucket), a JetStream key-value bucket whose entries
// expire LeaseTTL after they were last written.
//
// The holder takes the key with Create (which fails while the key
// exists) and renews it every ttl/4 with an Update conditional on the
// revision it last wrote. It counts itself the holder only until
// ttl/2 after it sent its last successful renewal, measured on its own
// monotonic clock: the server stores the renewal after it was sent, so
// the entry expires on the server at least ttl/2 after the holder's own
// deadline. When a renewal fails or the deadline passes, the lease's
// context is cancelled and the holder must stop writing; its publishes
// still in flight are fenced downstream by the epoch (see
// pipeline.HeaderEpoch). A process waiting for the lease polls Create
// every ttl/4, so it takes over at most 1.25 ttl after the holder's
// last renewal.

// DefaultLeaseTTL is the lease lifetime when Options.LeaseTTL is zero.
const DefaultLeaseTTL = 6 * time.Second

// LeaseInfo is what a lease entry holds.
type LeaseInfo struct {
	Holder string    `json:"holder"`
	Since  time.Time `json:"since"`
	// Renewed is when the holder last renewed the lease (its clock).
	Renewed time.Time `json:"renewed"`
	// Epoch is the writer epoch the holder publishes with (0 until it
	// has published its epoch marker).
	Epoch uint64 `json:"epoch,omitempty"`
}

// Lease is a lease held on one key.
type Lease struct {
	b      *Bus
	kv     jetstream.KeyValue
	key    string
	ttl    time.Duration
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	info LeaseInfo
	rev  uint64
	// tried are the renewals sent since the last one known to be stored,
	// oldest first: a renewal whose answer was lost (a timeout while the
	// cluster elects a leader) may have been stored all the same.
	tried []renewal
}

// renewal is a renewal sent: the entry's value and when it was sent.
type renewal struct {
	info LeaseInfo
	data []byte
	sent time.Time
}

// maxTried bounds Lease.tried.
const maxTried = 16

func (b *Bus) leaseBucket(ctx context.Context) (jetstream.KeyValue, error) {
	ttl := b.opts.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	kv, err := b.bucket(ctx, jetstream.KeyValueConfig{
		Bucket:   pipeline.LeaseBucket,
		TTL:      ttl,
		History:  1,
		Storage:  jetstream.FileStorage,
		Replicas: b.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	return kv, nil
}

// AcquireLease waits until it holds the lease on key as holder, or ctx
// is cancelled. The lease's Context is cancelled when it is lost or
// released; the caller must stop writing then.
func (b *Bus) AcquireLease(ctx context.Context, key, holder string) (*Lease, error) {
	kv, err := b.leaseBucket(ctx)
	if err != nil {
		return nil, err
	}
	ttl := b.opts.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	l := &Lease{b: b, kv: kv, key: key, ttl: ttl, log: b.log.With("lease", key, "holder", holder)}
	waiting := false
	for {
		now := time.Now()
		info := LeaseInfo{Holder: holder, Since: now.UTC(), Renewed: now.UTC()}
		data, _ := json.Marshal(info)
		rev, err := kv.Create(ctx, key, data)
		if err == nil {
			l.info, l.rev = info, rev
			l.start(now)
			l.log.Info("lease taken")
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			b.log.Warn("lease: take", "key", key, "err", err)
		} else if !waiting {
			waiting = true
			if cur, err := b.LeaseHolder(ctx, key); err == nil && cur != nil {
				l.log.Info("standby: lease held by another process", "by", cur.Holder)
			}
		}
		sleep(ctx, ttl/4)
	}
}

// LeaseHolder returns the current holder of key's lease, or nil when no
// one holds it.
func (b *Bus) LeaseHolder(ctx context.Context, key string) (*LeaseInfo, error) {
	kv, err := b.js.KeyValue(ctx, pipeline.LeaseBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info LeaseInfo
	if err := json.Unmarshal(e.Value(), &info); err != nil {
		return nil, fmt.Errorf("lease %s: %w", key, err)
	}
	return &info, nil
}

// start begins renewing the lease taken at sent.
func (l *Lease) start(sent time.Time) {
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		deadline := sent.Add(l.ttl / 2)
		tick := time.NewTicker(l.ttl / 4)
		defer tick.Stop()
		now := false // renew at once, not at the next tick
		for {
			if time.Now().After(deadline) {
				l.log.Warn("lease lost: not renewed in time; stopping writes")
				l.cancel()
				return
			}
			if !now {
				wait := time.NewTimer(time.Until(deadline))
				select {
				case <-l.ctx.Done():
					wait.Stop()
					return
				case <-wait.C:
					l.log.Warn("lease lost: not renewed in time; stopping writes")
					l.cancel()
					return
				case <-tick.C:
					wait.Stop()
				}
			}
			now = false
			sent := time.Now()
			if err := l.renew(sent, deadline); err != nil {
				if errors.Is(err, jetstream.ErrKeyExists) || isWrongRevision(err) {
					// Someone wrote the entry since our last known renewal:
					// maybe ourselves, with a renewal whose answer was lost.
					stored, ours, err := l.adopt(deadline)
					if err == nil && ours {
						l.log.Info("lease: a renewal thought lost was stored; renewing from it")
						deadline, now = stored.Add(l.ttl/2), true
						continue
					}
					if err == nil {
						l.log.Warn("lease lost: taken over; stopping writes")
						l.cancel()
						return
					}
					l.log.Warn("lease: renew failed, retrying", "err", err)
					continue
				}
				l.log.Warn("lease: renew failed, retrying", "err", err)
				continue
			}
			deadline = sent.Add(l.ttl / 2)
		}
	}()
}

// adopt reads the lease entry after a renewal was refused for a revision
// mismatch: when it holds one of the renewals this holder sent (stored,
// though its answer was lost), the holder adopts its revision and still
// holds the lease until ttl/2 after that renewal was sent (returned);
// ours is false when another process wrote the entry (the lease is lost).
func (l *Lease) adopt(deadline time.Time) (sent time.Time, ours bool, err error) {
	ctx, cancel := context.WithDeadline(l.ctx, deadline)
	defer cancel()
	value, rev, err := l.b.leaderGet(ctx, pipeline.LeaseBucket, l.key)
	if err != nil {
		return time.Time{}, false, err
	}
	if rev == 0 {
		return time.Time{}, false, nil // expired or released: not ours
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.tried) - 1; i >= 0; i-- {
		r := l.tried[i]
		if string(r.data) == string(value) {
			l.info.Renewed, l.rev = r.info.Renewed, rev
			l.tried = nil
			return r.sent, true, nil
		}
	}
	return time.Time{}, false, nil
}

// errCodeNoMessage is JetStream's "no message found" (JSNoMessageFoundErr).
const errCodeNoMessage = 10037

// leaderGet reads the last value of key in bucket from the leader of the
// bucket's stream, and its revision (0 when the key has none). A
// key-value Get may be answered by a replica that has not caught up (after
// a partition healed), which a lease holder must not go by.
func (b *Bus) leaderGet(ctx context.Context, bucket, key string) ([]byte, uint64, error) {
	req, _ := json.Marshal(map[string]string{"last_by_subj": "$KV." + bucket + "." + key})
	msg, err := b.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET.KV_"+bucket, req)
	if err != nil {
		return nil, 0, err
	}
	var resp struct {
		Message *struct {
			Seq  uint64 `json:"seq"`
			Data []byte `json:"data"`
		} `json:"message"`
		Error *struct {
			ErrCode     int    `json:"err_code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, 0, fmt.Errorf("lease %s: %w", key, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrCode == errCodeNoMessage:
		return nil, 0, nil
	case resp.Error != nil:
		return nil, 0, fmt.Errorf("lease %s: %s (%d)", key, resp.Error.Description, resp.Error.ErrCode)
	case resp.Message == nil:
		return nil, 0, fmt.Errorf("lease %s: empty answer", key)
	}
	return resp.Message.Data, resp.Message.Seq, nil
}

// errCodeWrongLastSeq is "wrong last sequence" without the sequence
// (JSStreamWrongLastSequenceConstantErr), which newer servers answer to a
// key-value update of a stale revision.
const errCodeWrongLastSeq jetstream.ErrorCode = 10164

func isWrongRevision(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == errCodeWrongLastSeq)
}

func (l *Lease) renew(sent, deadline time.Time) error {
	l.mu.Lock()
	info, rev := l.info, l.rev
	l.mu.Unlock()
	info.Renewed = sent.UTC()
	data, _ := json.Marshal(info)
	l.mu.Lock()
	l.tried = append(l.tried, renewal{info: info, data: data, sent: sent})
	if len(l.tried) > maxTried {
		l.tried = l.tried[1:]
	}
	l.mu.Unlock()
	ctx, cancel := context.WithDeadline(l.ctx, deadline)
	defer cancel()
	nrev, err := l.kv.Update(ctx, l.key, data, rev)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.info, l.rev, l.tried = info, nrev, nil
	l.mu.Unlock()
	return nil
}

// SetEpoch records the writer's epoch in the lease entry, for
// 'adcensus status'; it is written with the next renewal.
func (l *Lease) SetEpoch(epoch uint64) {
	l.mu.Lock()
	l.info.Epoch = epoch
	l.mu.Unlock()
}

// Context is cancelled when the lease is lost or released.
func (l *Lease) Context() context.Context { return l.ctx }

// Release stops renewing and deletes the entry, so that a standby takes
// over at once. It is safe to call more than once and after the lease
// was lost.
func (l *Lease) Release(ctx context.Context) {
	lost := l.ctx.Err() != nil
	l.cancel()
	<-l.done
	if lost {
		return
	}
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(rev)); err != nil {
		l.log.Warn("lease: release", "err", err)
		return
	}
	l.log.Info("lease released")
}

// Abandon stops renewing without releasing, as a crashed holder would:
// the lease expires after its TTL. For tests of failover.
func (l *Lease) Abandon() {
	l.cancel()
	<-l.done
}

// PutIfAbsent stores value under key in bucket (created with the stream's
// replicas and no expiry) unless the key holds a value already, and
// returns the value the key holds afterwards.
func (b *Bus) PutIfAbsent(ctx context.Context, bucket, key string, value []byte) ([]byte, error) {
	kv, err := b.bucket(ctx, jetstream.KeyValueConfig{
		Bucket: bucket, History: 1, Storage: jetstream.FileStorage, Replicas: b.replicas(),
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	var got []byte
	err = b.retry(ctx, "bucket "+bucket, func() error {
		if _, err := kv.Create(ctx, key, value); err == nil {
			got = value
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			// Created meanwhile but not yet on the replica that answered
			// (key-value reads may be served by a follower).
			return errStale
		}
		if err != nil {
			return err
		}
		got = e.Value()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	return got, nil
}
