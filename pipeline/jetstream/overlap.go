package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

var _ pipeline.OverlapBus = (*Bus)(nil)

// inFlight is a batch begun and not yet acknowledged.
type inFlight struct {
	raw  []jetstream.Msg
	msgs []*pipeline.Msg
	end  func() error
	beat chan struct{} // closed to stop the heartbeat
}

// ConsumeOverlapped implements pipeline.OverlapBus: Consume with two
// batches in flight. While a batch is in flight the next is fetched
// without waiting (FetchNoWait): if none is ready the batch in flight is
// ended and acknowledged at once. A batch whose end fails is settled as
// in Consume (each message handled again on its own, begin then end,
// and redelivered or dead-lettered when it fails again).
func (b *Bus) ConsumeOverlapped(ctx context.Context, durable string, subjects []string, batch int, h pipeline.BeginHandler) error {
	var cons jetstream.Consumer
	err := b.retry(ctx, "consumer "+durable, func() (err error) {
		cons, err = b.consumer(ctx, durable, subjects)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil // cancelled while the consumer was being set up
		}
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	log := b.log.With("consumer", durable)
	var prev *inFlight
	defer func() {
		if prev != nil { // cancelled: it is redelivered later
			close(prev.beat)
		}
	}()
	finish := func(f *inFlight) {
		err := f.end()
		close(f.beat)
		if err != nil {
			if ctx.Err() != nil {
				return // unacknowledged messages are redelivered later
			}
			log.Warn("batch failed, will be redelivered", "n", len(f.msgs), "err", err)
			b.settleFailed(ctx, durable, h.Sync(), f.raw, f.msgs, err)
			return
		}
		b.ackBatch(ctx, durable, f.raw, f.msgs)
	}
	lastCheck := time.Now()
	for ctx.Err() == nil {
		var mb jetstream.MessageBatch
		if prev != nil {
			mb, err = cons.FetchNoWait(batch)
		} else {
			mb, err = cons.Fetch(batch, jetstream.FetchMaxWait(200*time.Millisecond))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if consumerGone(err) {
				return fmt.Errorf("consumer %s: %w", durable, err)
			}
			if _, cerr := b.stream.Consumer(ctx, durable); consumerGone(cerr) {
				return fmt.Errorf("consumer %s: %w", durable, cerr)
			}
			log.Warn("fetch", "err", err)
			if prev != nil {
				finish(prev)
				prev = nil
			}
			sleep(ctx, time.Second)
			continue
		}
		raw, msgs, ok := readBatch(ctx, mb)
		if !ok {
			return nil
		}
		if err := mb.Error(); err != nil && len(msgs) == 0 && ctx.Err() == nil && consumerGone(err) {
			return fmt.Errorf("consumer %s: %w", durable, err)
		}
		if len(msgs) == 0 {
			if prev != nil {
				finish(prev)
				prev = nil
				continue
			}
			// A fetch on a consumer deleted between two fetches may just
			// come back empty (no one answers the pull): look it up now
			// and then.
			if time.Since(lastCheck) > consumerCheckEvery && ctx.Err() == nil {
				lastCheck = time.Now()
				if _, err := b.stream.Consumer(ctx, durable); consumerGone(err) {
					return fmt.Errorf("consumer %s: %w", durable, err)
				}
			}
			continue
		}
		cur := &inFlight{raw: raw, msgs: msgs, beat: b.heartbeat(raw)}
		cur.end, err = h(ctx, msgs)
		if err != nil {
			// The batch before ends first (its messages are older).
			if prev != nil {
				finish(prev)
				prev = nil
			}
			close(cur.beat)
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("batch failed, will be redelivered", "n", len(msgs), "err", err)
			b.settleFailed(ctx, durable, h.Sync(), raw, msgs, err)
			continue
		}
		if prev != nil {
			finish(prev)
		}
		prev = cur
	}
	return nil
}

// readBatch reads a fetched batch until it ends; ok is false when ctx was
// cancelled first (a fetch on a connection closed under it never ends
// its batch). Messages without metadata are terminated.
func readBatch(ctx context.Context, mb jetstream.MessageBatch) (raw []jetstream.Msg, msgs []*pipeline.Msg, ok bool) {
	ch := mb.Messages()
	for {
		var m jetstream.Msg
		select {
		case <-ctx.Done():
			return nil, nil, false
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

// heartbeat tells the server, every third of the ack wait, that the
// messages are still being worked on, so they are not redelivered to
// another process meanwhile, until the returned channel is closed.
func (b *Bus) heartbeat(raw []jetstream.Msg) chan struct{} {
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(b.opts.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, m := range raw {
					_ = m.InProgress()
				}
			}
		}
	}()
	return stop
}

// ackBatch settles a batch whose handler succeeded: messages marked Bad
// are recorded and terminated, the others acknowledged.
func (b *Bus) ackBatch(ctx context.Context, durable string, raw []jetstream.Msg, msgs []*pipeline.Msg) {
	for i, m := range raw {
		if msgs[i].Bad != nil {
			b.recordBad(ctx, durable, msgs[i])
			_ = m.Term()
			continue
		}
		if err := m.DoubleAck(ctx); err != nil && ctx.Err() == nil {
			b.log.Warn("ack", "consumer", durable, "seq", msgs[i].Seq, "err", err)
		}
	}
}
