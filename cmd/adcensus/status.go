package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// heartbeatEvery is how often a stage process records its heartbeat on a
// NATS cluster.
const heartbeatEvery = 5 * time.Second

// staleBeat is the age past which 'adcensus status' marks a heartbeat
// stale: three beats missed.
const staleBeat = 3 * heartbeatEvery

// beat is a stage process's heartbeat (pipeline.HeartbeatBucket).
type beat struct {
	Node          string    `json:"node"`
	Host          string    `json:"host"`
	PID           int       `json:"pid"`
	Roles         []string  `json:"roles"`
	At            time.Time `json:"at"`
	Fingerprinted int64     `json:"fingerprinted"`
	Clustered     int64     `json:"clustered"`
	Indexed       int64     `json:"indexed"`
	Rejected      int64     `json:"rejected"`
	// Fenced counts the assignments an index replica dropped as
	// published by a writer whose lease had ended.
	Fenced int64 `json:"fenced"`
	// Stopped is set by the last beat of a process that stopped cleanly
	// (a killed one leaves a beat without it).
	Stopped bool `json:"stopped,omitempty"`
}

// heartbeat records the node's heartbeat every heartbeatEvery until ctx is
// cancelled (only on a NATS cluster).
func (n *node) heartbeat(ctx context.Context) {
	if n.has("fingerprint") {
		n.takeBackFromKilledPredecessor(ctx)
	}
	host, _ := os.Hostname()
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		b := beat{Node: n.id, Host: host, PID: os.Getpid(), Roles: n.roles, At: time.Now().UTC(),
			Fingerprinted: n.counters.Fingerprinted.Load(), Clustered: n.counters.Clustered.Load(),
			Indexed: n.counters.Indexed.Load(), Rejected: n.counters.Rejected.Load()}
		if ix := n.indexStage.Load(); ix != nil {
			b.Fenced = ix.Fenced.Load()
		}
		bctx := ctx
		if ctx.Err() != nil {
			// The last beat says the process stopped cleanly.
			b.Stopped = true
			var cancel context.CancelFunc
			bctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
		}
		data, _ := json.Marshal(b)
		if err := n.bus.Beat(bctx, n.id, data); err != nil && ctx.Err() == nil {
			n.log.Warn("heartbeat", "err", err)
		}
		if b.Stopped {
			return
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// takeBackFromKilledPredecessor: when the process that used this data
// directory before ran the fingerprint role and was killed (its last
// heartbeat is not a stopped one) recently enough that the messages it
// held may still wait for the ack wait, the shared fingerprint consumer is
// reset to its ack floor, so they are delivered again now. The other
// workers' unacknowledged messages are delivered again too (fingerprinted
// twice, which counts nothing twice: docs/RELIABILITY.md).
func (n *node) takeBackFromKilledPredecessor(ctx context.Context) {
	// Bounded: the first heartbeat waits for it.
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	beats, err := n.bus.Heartbeats(ctx)
	if err != nil || beats[n.id] == nil {
		return
	}
	var prev beat
	if json.Unmarshal(beats[n.id], &prev) != nil || prev.Stopped || !slices.Contains(prev.Roles, "fingerprint") ||
		time.Since(prev.At) > heartbeatEvery+n.bus.AckWait() {
		return
	}
	delivered, floor, ok, err := n.bus.Progress(ctx, pipeline.DurableFingerprint)
	if err != nil || !ok || delivered <= floor {
		return
	}
	n.log.Info("the previous fingerprint process of this data directory was killed: taking back what it held",
		"pid", prev.PID, "last_beat", prev.At)
	if _, err := n.bus.ResetToAckFloor(ctx, pipeline.DurableFingerprint); err != nil && ctx.Err() == nil {
		n.log.Warn("take back the killed process's messages (they come back after the ack wait)", "err", err)
	}
}

// errNotDrained is returned by 'adcensus status' when some consumer has
// messages left to process (exit status 1).
var errNotDrained = errors.New("not drained: some stage has messages left to process")

// statusReport is what 'adcensus status --json' prints.
type statusReport struct {
	Stream     jetstream.StreamState     `json:"stream"`
	Consumers  []jetstream.ConsumerState `json:"consumers"`
	Lease      *jetstream.LeaseInfo      `json:"cluster_lease,omitempty"`
	Heartbeats []beat                    `json:"heartbeats"`
	Drained    bool                      `json:"drained"`
}

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status", stderr)
	natsURL := fs.String("nats", "", "NATS URL (default: nats_url of --config; without one, the embedded stream of --data, which no other process may be using)")
	cfgPath := fs.String("config", "", "main config (for nats_url)")
	dataDir := fs.String("data", "./data", "data directory (embedded stream only)")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	var stream streamSettings
	if *cfgPath != "" {
		cfg, _, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		if *natsURL == "" {
			*natsURL = cfg.NATSURL
		}
		stream = cfg.Stream
	}
	if *natsURL == "" {
		if _, err := os.Stat(*dataDir); err != nil {
			return fmt.Errorf("no --nats URL and no data directory: %w", err)
		}
	}
	bo := stream.busOptions()
	bo.URL, bo.DataDir, bo.Logger = *natsURL, *dataDir, newLogger(stderr, levelFor(true))
	bus, err := jetstream.Open(ctx, bo)
	if err != nil {
		return err
	}
	defer bus.Close()
	var r statusReport
	if r.Stream, r.Consumers, err = bus.Status(ctx); err != nil {
		return err
	}
	if r.Lease, err = bus.LeaseHolder(ctx, pipeline.LeaseCluster); err != nil {
		return err
	}
	beats, err := bus.Heartbeats(ctx)
	if err != nil {
		return err
	}
	for _, data := range beats {
		var b beat
		if json.Unmarshal(data, &b) == nil {
			r.Heartbeats = append(r.Heartbeats, b)
		}
	}
	sort.Slice(r.Heartbeats, func(i, j int) bool { return r.Heartbeats[i].Node < r.Heartbeats[j].Node })
	r.Drained = true
	for _, c := range r.Consumers {
		if !c.Idle && !strings.HasPrefix(c.Name, pipeline.DurableStandbyPrefix) {
			r.Drained = false
		}
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return err
		}
	} else {
		printStatus(stdout, r, time.Now())
	}
	if !r.Drained {
		return errNotDrained
	}
	return nil
}

func printStatus(w io.Writer, r statusReport, now time.Time) {
	s := r.Stream
	fmt.Fprintf(w, "stream %s: %d messages (%d bytes), seq %d..%d, %d replicas", s.Name, s.Msgs, s.Bytes, s.FirstSeq, s.LastSeq, s.Replicas)
	if s.Leader != "" {
		fmt.Fprintf(w, ", leader %s", s.Leader)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "consumer\tpending\tack pending\tredelivered\tack floor\tstate")
	for _, c := range r.Consumers {
		state := "busy"
		if c.Idle {
			state = "drained"
		}
		if strings.HasPrefix(c.Name, pipeline.DurableStandbyPrefix) {
			state += " (standby)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", c.Name, c.Pending, c.AckPending, c.Redelivered, c.AckFloor, state)
	}
	tw.Flush()
	if l := r.Lease; l != nil {
		fmt.Fprintf(w, "cluster writer: %s, epoch %d, since %s, renewed %s ago\n", l.Holder, l.Epoch, l.Since.Format(time.RFC3339), now.Sub(l.Renewed).Round(100*time.Millisecond))
	} else {
		fmt.Fprintln(w, "cluster writer: none holds the lease")
	}
	if len(r.Heartbeats) > 0 {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "process\thost\tpid\troles\tlast heartbeat\tfingerprinted\tclustered\tindexed\trejected\tfenced")
		for _, b := range r.Heartbeats {
			age := now.Sub(b.At)
			last := age.Round(time.Second).String() + " ago"
			if age > staleBeat {
				last += " (stale: gone or cut off?)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", b.Node, b.Host, b.PID, strings.Join(b.Roles, ","),
				last, b.Fingerprinted, b.Clustered, b.Indexed, b.Rejected, b.Fenced)
		}
		tw.Flush()
	}
	if r.Drained {
		fmt.Fprintln(w, "drained: every stage has processed the whole stream")
	} else {
		fmt.Fprintln(w, "not drained: some stage has messages left to process")
	}
}
