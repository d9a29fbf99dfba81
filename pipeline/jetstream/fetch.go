package jetstream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

// fetcher fetches the batches of one durable consumer for Consume and
// ConsumeOverlapped, which share what a fetch can go through: errors,
// a consumer deleted (fatal) or only said to be (after a partition heals
// the cluster may move it and answer "deleted" for a moment: used on), a
// fetch on a closed connection that never ends, and an idle consumer
// deleted between fetches.
type fetcher struct {
	b         *Bus
	cons      jetstream.Consumer
	durable   string
	batch     int
	log       *slog.Logger
	lastCheck time.Time
}

// newFetcher sets up the durable consumer (retrying while the stream
// does not answer); nil and no error when ctx was cancelled meanwhile.
func (b *Bus) newFetcher(ctx context.Context, durable string, subjects []string, batch int) (*fetcher, error) {
	var cons jetstream.Consumer
	err := b.retry(ctx, "consumer "+durable, func() (err error) {
		cons, err = b.consumer(ctx, durable, subjects)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, fmt.Errorf("consumer %s: %w", durable, err)
	}
	return &fetcher{b: b, cons: cons, durable: durable, batch: batch, log: b.log.With("consumer", durable), lastCheck: time.Now()}, nil
}

// next returns the next batch, possibly empty (nothing pending, or a
// transient error logged and waited out); stop is true when ctx was
// cancelled (what was read is handed back); err is set when the consumer
// is gone and the stage cannot go on.
func (f *fetcher) next(ctx context.Context) (raw []jetstream.Msg, msgs []*pipeline.Msg, stop bool, err error) {
	mb, err := f.cons.Fetch(f.batch, jetstream.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, true, nil
		}
		// A consumer deleted is fatal; one that is there again (created
		// anew by a reclaim, or a fetch told "deleted" while the cluster
		// moved it after a partition healed) is used on.
		if err := f.gone(ctx); err != nil {
			return nil, nil, false, err
		}
		f.log.Warn("fetch", "err", err)
		sleep(ctx, time.Second)
		return nil, nil, false, nil
	}
	raw, msgs, ok := readBatch(ctx, mb)
	if !ok {
		f.b.handBack(raw)
		return nil, nil, true, nil
	}
	if err := mb.Error(); err != nil && len(msgs) == 0 && ctx.Err() == nil && consumerGone(err) {
		if err := f.gone(ctx); err != nil {
			return nil, nil, false, err
		}
		f.log.Warn("fetch", "err", err)
		sleep(ctx, time.Second)
		return nil, nil, false, nil
	}
	if len(msgs) == 0 && time.Since(f.lastCheck) > consumerCheckEvery && ctx.Err() == nil {
		// A fetch on a consumer deleted between two fetches may just
		// come back empty (no one answers the pull): look it up now and
		// then.
		f.lastCheck = time.Now()
		if err := f.gone(ctx); err != nil {
			return nil, nil, false, err
		}
	}
	return raw, msgs, false, nil
}

// gone returns an error when a lookup confirms the consumer no longer
// exists.
func (f *fetcher) gone(ctx context.Context) error {
	if _, err := f.b.stream.Consumer(ctx, f.durable); consumerGone(err) {
		return fmt.Errorf("consumer %s: %w", f.durable, err)
	}
	return nil
}

// readBatch reads a fetched batch until it ends; ok is false when ctx was
// cancelled first (a fetch on a connection closed under it never ends
// its batch), with what was read so far. Messages without metadata are
// terminated.
func readBatch(ctx context.Context, mb jetstream.MessageBatch) (raw []jetstream.Msg, msgs []*pipeline.Msg, ok bool) {
	ch := mb.Messages()
	for {
		var m jetstream.Msg
		select {
		case <-ctx.Done():
			return raw, msgs, false
		case mm, open := <-ch:
			if !open {
				return raw, msgs, true
			}
			m = mm
		}
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
}
