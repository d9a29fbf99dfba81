package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"adcensus/pipeline"
)

// Dead letters: a message whose processing fails MaxDeliver times is set
// aside on pipeline.SubjectDeadLetter (with its consumer, subject,
// sequence, delivery count, error and data) and terminated, so that one
// message that cannot be processed does not hold its consumer back for
// ever. A batch that fails is first retried message by message, so that
// one bad message does not take the rest of its batch with it.
// 'adcensus dlq list' shows them and 'adcensus dlq replay' publishes them
// again.

// Headers of a dead letter.
const (
	HeaderDLQConsumer  = "Adcensus-Consumer"
	HeaderDLQSubject   = "Adcensus-Subject"
	HeaderDLQSeq       = "Adcensus-Seq"
	HeaderDLQError     = "Adcensus-Error"
	HeaderDLQDelivered = "Adcensus-Delivered"
)

// settleFailed settles a batch whose handler failed with err: each
// message is handled again on its own; one that succeeds is
// acknowledged, one that fails is redelivered later or, after MaxDeliver
// deliveries, dead-lettered.
func (b *Bus) settleFailed(ctx context.Context, durable string, h pipeline.BatchHandler, raw []jetstream.Msg, msgs []*pipeline.Msg, err error) {
	for i, m := range raw {
		pm := msgs[i]
		if len(raw) > 1 {
			pm.Bad = nil
			err = h(ctx, []*pipeline.Msg{pm})
			if ctx.Err() != nil {
				return // redelivered later
			}
			if err == nil {
				if pm.Bad != nil {
					b.recordBad(ctx, durable, pm)
					_ = m.Term()
					continue
				}
				_ = m.DoubleAck(ctx)
				continue
			}
		}
		if pm.Delivered >= b.opts.MaxDeliver {
			if derr := b.deadLetter(ctx, durable, pm, err); derr != nil {
				b.log.Warn("dead letter", "consumer", durable, "seq", pm.Seq, "err", derr)
				_ = m.NakWithDelay(time.Second)
				continue
			}
			_ = m.Term()
			continue
		}
		_ = m.NakWithDelay(time.Second)
	}
}

func (b *Bus) deadLetter(ctx context.Context, durable string, m *pipeline.Msg, cause error) error {
	b.DeadLettered.Add(1)
	b.log.Error("message failed on every delivery: set aside as a dead letter ('adcensus dlq list')", "consumer", durable,
		"subject", m.Subject, "seq", m.Seq, "deliveries", m.Delivered, "err", cause)
	return b.Publish(ctx, pipeline.SubjectDeadLetter, "dlq-"+durable+"-"+strconv.FormatUint(m.Seq, 10), m.Data, map[string]string{
		HeaderDLQConsumer:  durable,
		HeaderDLQSubject:   m.Subject,
		HeaderDLQSeq:       strconv.FormatUint(m.Seq, 10),
		HeaderDLQError:     cause.Error(),
		HeaderDLQDelivered: strconv.Itoa(m.Delivered),
	})
}

// DeadLetter is one message set aside.
type DeadLetter struct {
	Seq        uint64    `json:"seq"` // of the dead letter itself
	Consumer   string    `json:"consumer"`
	Subject    string    `json:"subject"`
	OrigSeq    uint64    `json:"original_seq"`
	Deliveries int       `json:"deliveries"`
	Error      string    `json:"error"`
	At         time.Time `json:"at"`
	Data       []byte    `json:"-"`
	// Replayed is the stream sequence of its replay, 0 if none.
	Replayed uint64 `json:"replayed,omitempty"`
}

// DeadLetters returns the dead letters in the stream, oldest first, with
// whether each was replayed.
func (b *Bus) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	var out []DeadLetter
	replayed := map[uint64]uint64{}
	err := b.each(ctx, []string{pipeline.SubjectDeadLetter, pipeline.SubjectDeadLetterReplayed}, func(m jetstream.Msg, seq uint64, at time.Time) {
		h := m.Headers()
		if m.Subject() == pipeline.SubjectDeadLetterReplayed {
			of, _ := strconv.ParseUint(h.Get(HeaderDLQSeq), 10, 64)
			to, _ := strconv.ParseUint(h.Get("Adcensus-Replay-Seq"), 10, 64)
			replayed[of] = to
			return
		}
		orig, _ := strconv.ParseUint(h.Get(HeaderDLQSeq), 10, 64)
		n, _ := strconv.Atoi(h.Get(HeaderDLQDelivered))
		out = append(out, DeadLetter{Seq: seq, Consumer: h.Get(HeaderDLQConsumer), Subject: h.Get(HeaderDLQSubject), OrigSeq: orig,
			Deliveries: n, Error: h.Get(HeaderDLQError), At: at, Data: m.Data()})
	})
	for i := range out {
		out[i].Replayed = replayed[out[i].Seq]
	}
	return out, err
}

// Replay publishes the dead letter d again on its original subject, where
// its stage consumes it anew, and records the replay.
func (b *Bus) Replay(ctx context.Context, d DeadLetter) (uint64, error) {
	id := "replay-" + strconv.FormatUint(d.Seq, 10)
	seq, err := b.PublishSeq(ctx, d.Subject, id, d.Data, map[string]string{"Adcensus-Replay-Of": strconv.FormatUint(d.OrigSeq, 10)})
	if err != nil {
		return 0, err
	}
	err = b.Publish(ctx, pipeline.SubjectDeadLetterReplayed, id+"-done", nil, map[string]string{
		HeaderDLQSeq: strconv.FormatUint(d.Seq, 10), "Adcensus-Replay-Seq": strconv.FormatUint(seq, 10),
	})
	return seq, err
}

// each calls fn for every message on subjects, in stream order, with an
// ordered consumer (no durable state).
func (b *Bus) each(ctx context.Context, subjects []string, fn func(m jetstream.Msg, seq uint64, at time.Time)) error {
	c, err := b.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
	if err != nil {
		return err
	}
	for {
		info, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending == 0 {
			return nil
		}
		mb, err := c.Fetch(int(min(info.NumPending, 500)), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return err
		}
		n := 0
		for m := range mb.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			fn(m, md.Sequence.Stream, md.Timestamp)
			n++
		}
		if err := mb.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return err
		}
		if n == 0 {
			return fmt.Errorf("read %v: no progress", subjects)
		}
	}
}

// PublishSeq is Publish returning the stream sequence the message was
// stored at (for a duplicate within the window: where it was stored
// before).
func (b *Bus) PublishSeq(ctx context.Context, subject, msgID string, data []byte, header map[string]string) (uint64, error) {
	m := nats.NewMsg(subject)
	m.Data = data
	for k, v := range header {
		m.Header.Set(k, v)
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ack, err := b.js.PublishMsg(ctx, m, opts...)
	if err != nil {
		return 0, fmt.Errorf("publish %s: %w", subject, err)
	}
	return ack.Sequence, nil
}
