package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"adcensus/pipeline"
)

// ResetToAckFloor makes every message of durable that was delivered and
// not acknowledged deliverable again at once (the server's consumer reset
// to its ack floor, nats-server 2.14+), without deleting the consumer, so
// the other processes reading it go on. For a shared consumer whose
// reader was killed: its messages come back now instead of after the ack
// wait. The live readers' unacknowledged messages come back too and are
// processed twice, which the stages' idempotence makes harmless. It
// returns the stream sequence delivery starts again from.
func (b *Bus) ResetToAckFloor(ctx context.Context, durable string) (uint64, error) {
	// Asked once: a server older than 2.14 does not answer, and the
	// messages then come back after the ack wait as they would anyway.
	var seq uint64
	err := func() error {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		msg, err := b.nc.RequestWithContext(ctx, fmt.Sprintf("$JS.API.CONSUMER.RESET.%s.%s", pipeline.Stream, durable), []byte("{}"))
		if err != nil {
			return fmt.Errorf("reset %s: %w", durable, err)
		}
		var resp struct {
			ResetSeq uint64 `json:"reset_seq"`
			Error    *struct {
				Code        int    `json:"code"`
				ErrCode     int    `json:"err_code"`
				Description string `json:"description"`
			} `json:"error"`
		}
		if err := json.Unmarshal(msg.Data, &resp); err != nil {
			return fmt.Errorf("reset %s: %w", durable, err)
		}
		if resp.Error != nil {
			return fmt.Errorf("reset %s: %s (%d)", durable, resp.Error.Description, resp.Error.ErrCode)
		}
		seq = resp.ResetSeq
		return nil
	}()
	if err != nil {
		return 0, err
	}
	b.log.Info("consumer reset to its ack floor: unacknowledged messages delivered again", "consumer", durable, "from_seq", seq)
	return seq, nil
}

// AckWait is the consumers' ack wait (Options.AckWait or its default).
func (b *Bus) AckWait() time.Duration { return b.opts.AckWait }
