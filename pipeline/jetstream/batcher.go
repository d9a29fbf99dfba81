package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

// Group commit for PublishAsync.
//
// With SyncAlways the embedded server writes and fsyncs every published
// message on its own before acknowledging it, however many are in flight:
// asynchronous publishing alone saves the publisher's wait, not the
// fsyncs, and the stream then stores one message per fsync. An atomic
// batch (ADR-50: headers Nats-Batch-Id, Nats-Batch-Sequence and, on its
// last message, Nats-Batch-Commit) is staged by the server and committed
// with a single fsync, all of it or nothing, and acknowledged by one
// PubAck. So PublishAsync queues messages for one batcher goroutine, which
// sends whatever has queued up (up to maxBatch messages, lingering briefly
// for more while they keep coming) as one atomic batch while at most
// maxBatchesInFlight batches wait for their acknowledgement: a busy
// publisher gets large batches, a lone message goes out at once as a plain
// asynchronous publish. Each atomic batch costs the embedded server a
// staging store of its own (a directory, files, fsyncs: ≈ 2 ms of CPU),
// so batch size, not batches in flight, sets the cost per message; the
// crawler keeps enough pages in flight (crawler.DefaultPublishWindow) for
// the linger not to hold its workers up. Durability is unchanged:
// done(nil) is called only after the server has fsynced the message.
//
// An atomic batch is rejected as a whole when one of its messages is a
// duplicate within the stream's duplicate window (a crawler republishing
// after a crash), and nothing of it is stored; the batch is then published
// again message by message, where duplicates are acknowledged as such.
const (
	maxBatch           = 512 // the server allows 1000
	maxBatchesInFlight = 1   // the server allows 50 per stream
	// A batch of more than one message but fewer than maxBatch waits up
	// to batchLinger for more, as long as they keep coming (no gap of
	// lingerGap): see runBatcher.
	batchLinger = 32 * time.Millisecond
	lingerGap   = time.Millisecond
)

// Headers of atomic batch publishing (ADR-50); nats.go has no constants
// for them yet.
const (
	batchIDHeader     = "Nats-Batch-Id"
	batchSeqHeader    = "Nats-Batch-Sequence"
	batchCommitHeader = "Nats-Batch-Commit"
)

// asyncMsg is one message given to PublishAsync.
type asyncMsg struct {
	m    *nats.Msg
	done func(error)
}

// PublishAsync implements pipeline.Bus; see the comment at the top of this
// file.
func (b *Bus) PublishAsync(ctx context.Context, subject, msgID string, data []byte, header map[string]string, done func(error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range header {
		m.Header.Set(k, v)
	}
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	am := &asyncMsg{m: m, done: done}
	// Close waits for senders between their check of closed and their send,
	// so that no message is left in the queue unanswered.
	b.sendMu.RLock()
	defer b.sendMu.RUnlock()
	select {
	case <-b.closed:
		return pipeline.ErrClosed
	default:
	}
	select {
	case b.queue <- am:
		return nil
	case <-b.closed:
		return pipeline.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runBatcher sends the queued messages until the bus is closed; messages
// still queued then fail with pipeline.ErrClosed.
func (b *Bus) runBatcher() {
	slots := make(chan struct{}, maxBatchesInFlight)
	for {
		var first *asyncMsg
		select {
		case first = <-b.queue:
		case <-b.closed:
			b.failQueued()
			return
		}
		// Wait for a free slot first: meanwhile more messages queue up and
		// join this batch.
		select {
		case slots <- struct{}{}:
		case <-b.closed:
			first.done(pipeline.ErrClosed)
			b.failQueued()
			return
		}
		batch := []*asyncMsg{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case am := <-b.queue:
				batch = append(batch, am)
			default:
				break drain
			}
		}
		// A busy publisher (more than one message waiting) gets a short
		// linger to fill the batch: each atomic batch costs the server a
		// staging store (directories, files, fsyncs), so fewer, larger
		// batches store more messages per CPU second. The linger ends
		// when the batch is full, after batchLinger, or when no message
		// came for lingerGap (the publisher has paused or finished). A
		// lone message goes out at once.
		if len(batch) > 1 && len(batch) < maxBatch {
			total, gap := time.NewTimer(batchLinger), time.NewTimer(lingerGap)
		linger:
			for len(batch) < maxBatch {
				select {
				case am := <-b.queue:
					batch = append(batch, am)
					gap.Reset(lingerGap)
				case <-gap.C:
					break linger
				case <-total.C:
					break linger
				case <-b.closed:
					break linger
				}
			}
			total.Stop()
			gap.Stop()
		}
		release := func() { <-slots }
		if len(batch) == 1 || !b.atomic {
			b.sendEach(batch, release)
		} else {
			b.sendBatch(batch, release)
		}
	}
}

func (b *Bus) failQueued() {
	for {
		select {
		case am := <-b.queue:
			am.done(pipeline.ErrClosed)
		default:
			return
		}
	}
}

// sendEach publishes messages one by one, asynchronously; release is
// called when all of them are acknowledged or failed.
func (b *Bus) sendEach(batch []*asyncMsg, release func()) {
	var left atomic.Int64
	left.Store(int64(len(batch)))
	for _, am := range batch {
		b.publishOne(am.m, func(err error) {
			am.done(err)
			if left.Add(-1) == 0 {
				release()
			}
		})
	}
}

// publishOne sends m with JetStream's asynchronous publish; done is called
// once with its outcome.
func (b *Bus) publishOne(m *nats.Msg, done func(error)) {
	// Registered first: the acknowledgement may arrive before
	// PublishMsgAsync returns.
	b.pending.Store(m, done)
	if _, err := b.js.PublishMsgAsync(m, jetstream.WithStallWait(asyncStallWait)); err != nil {
		b.resolve(m, fmt.Errorf("publish %s: %w", m.Subject, err))
	}
}

// sendBatch sends the messages as one atomic batch.
func (b *Bus) sendBatch(batch []*asyncMsg, release func()) {
	id := strings.TrimPrefix(nats.NewInbox(), "_INBOX.") // unique, 22 characters
	last := len(batch) - 1
	for i, am := range batch {
		am.m.Header.Set(batchIDHeader, id)
		am.m.Header.Set(batchSeqHeader, strconv.Itoa(i+1))
		if i == last {
			break
		}
		// No reply subject: only the commit is acknowledged, for the whole
		// batch. A message lost here makes the commit fail as incomplete.
		if err := b.nc.PublishMsg(am.m); err != nil {
			b.batchDone(batch, release, fmt.Errorf("publish %s: %w", am.m.Subject, err))
			return
		}
	}
	commit := batch[last].m
	commit.Header.Set(batchCommitHeader, "1")
	b.publishOne(commit, func(err error) { b.batchDone(batch, release, err) })
}

// batchDone settles a batch: on success every message is stored. A batch
// the stream refused (a duplicate message id, or the stream no longer
// accepting atomic batches) stored nothing, so its messages are published
// again one by one; other errors (timeout, connection lost) fail them all,
// and their publishers retry or report them. It may run in the
// connection's acknowledgement handler, so it does not block.
func (b *Bus) batchDone(batch []*asyncMsg, release func(), err error) {
	var apiErr *jetstream.APIError
	if err != nil && errors.As(err, &apiErr) {
		b.BatchesRefused.Add(1)
		b.log.Debug("atomic batch refused, publishing its messages one by one", "n", len(batch), "err", err)
		for _, am := range batch {
			am.m.Header.Del(batchIDHeader)
			am.m.Header.Del(batchSeqHeader)
			am.m.Header.Del(batchCommitHeader)
		}
		go b.sendEach(batch, release)
		return
	}
	if err == nil {
		b.AtomicBatches.Add(1)
		b.BatchedMsgs.Add(int64(len(batch)))
	}
	for _, am := range batch {
		am.done(err)
	}
	release()
}

// resolve calls the done callback of an asynchronously published message,
// once.
func (b *Bus) resolve(m *nats.Msg, err error) {
	if done, ok := b.pending.LoadAndDelete(m); ok {
		done.(func(error))(err)
	}
}
