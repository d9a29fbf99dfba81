package jetstream

import (
	"context"
	"sync"
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
// batches in flight. The loop fetches and begins batches; a second
// goroutine ends them in order (the end waits for the batch to be
// durable and publishes its outputs) and acknowledges them, so batch k+1
// is fetched and begun while batch k ends. The loop hands a begun batch
// over only when the one before has been taken up, so at most two are
// begun and not yet ended. A batch whose end fails is settled as in
// Consume (each message handled again on its own, begin then end, and
// redelivered or dead-lettered when it fails again), never beside the
// loop's begin.
func (b *Bus) ConsumeOverlapped(ctx context.Context, durable string, subjects []string, batch int, h pipeline.BeginHandler) error {
	f, err := b.newFetcher(ctx, durable, subjects, batch)
	if f == nil || err != nil {
		return err // nil: cancelled while the consumer was being set up
	}
	log := f.log
	var beginMu sync.Mutex // the loop's begin and a settling's begins
	settle := func(raw []jetstream.Msg, msgs []*pipeline.Msg, err error) {
		if ctx.Err() != nil {
			b.handBack(raw) // stopping: delivered again at once, as in Consume
			return
		}
		log.Warn("batch failed, will be redelivered", "n", len(msgs), "err", err)
		beginMu.Lock()
		defer beginMu.Unlock()
		b.settleFailed(ctx, durable, h.Sync(), raw, msgs, err)
	}
	ends := make(chan *inFlight) // unbuffered: taken up before the next begins
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for f := range ends {
			err := f.end()
			close(f.beat)
			if err != nil {
				settle(f.raw, f.msgs, err)
				continue
			}
			b.ackBatch(ctx, durable, f.raw, f.msgs)
		}
	}()
	defer func() {
		close(ends)
		<-ended
	}()
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
		cur := &inFlight{raw: raw, msgs: msgs, beat: b.heartbeat(raw)}
		beginMu.Lock()
		cur.end, err = h(ctx, msgs)
		beginMu.Unlock()
		if err != nil {
			// Settled (and its heartbeat stopped) once the batch before
			// it has ended.
			cur.end = func() error { return err }
		}
		select {
		case ends <- cur:
		case <-ctx.Done():
			close(cur.beat)
			b.handBack(cur.raw) // begun, never ended
			return nil
		}
	}
	return nil
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
// are recorded and terminated, the others acknowledged (double acks,
// several at once: each waits for the server's reply). A batch that
// succeeded just as the stage was stopped is still settled: the acks
// outlive ctx (bounded by ackTimeout), else the finished work would wait
// out the ack wait and be done again.
func (b *Bus) ackBatch(ctx context.Context, durable string, raw []jetstream.Msg, msgs []*pipeline.Msg) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, ackersAtOnce)
	for i, m := range raw {
		if msgs[i].Bad != nil {
			b.recordBad(ctx, durable, msgs[i])
			_ = m.Term()
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := m.DoubleAck(ctx); err != nil && ctx.Err() == nil {
				b.log.Warn("ack", "consumer", durable, "seq", msgs[i].Seq, "err", err)
			}
		})
	}
	wg.Wait()
}

// ackersAtOnce is the most double acks of a batch in flight at once.
const ackersAtOnce = 32

// ackTimeout bounds the settling of one batch (acks, terminations and
// records of rejected messages) once its work is done.
const ackTimeout = 10 * time.Second
