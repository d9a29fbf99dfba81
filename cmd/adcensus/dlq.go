package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"adcensus/pipeline/jetstream"
)

const dlqUsage = `usage: adcensus dlq list [--nats URL | --data DIR] [--json]
       adcensus dlq replay (--all | SEQ...) [--nats URL | --data DIR]

Dead letters are messages whose processing failed on every delivery
(stream.max_deliver): they are set aside on adcensus.dlq so that the rest
flows on. 'list' shows them (SEQ is the dead letter's own sequence);
'replay' publishes them again on their original subject once the cause is
fixed (--all: every one not replayed yet).`

// cmdDLQ lists and replays dead letters.
func cmdDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		return usageError{dlqUsage}
	}
	sub := args[0]
	fs := newFlags("dlq "+sub, stderr)
	natsURL := fs.String("nats", "", "NATS URL (default: the embedded stream of --data, which no other process may be using)")
	dataDir := fs.String("data", "./data", "data directory (embedded stream only)")
	asJSON := fs.Bool("json", false, "list: print JSON")
	all := fs.Bool("all", false, "replay: every dead letter not replayed yet")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, p := range pos {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("dlq %s: %q is not a dead letter's sequence", sub, p)}
		}
		seqs = append(seqs, n)
	}
	if sub == "list" && len(seqs) > 0 || sub == "replay" && (*all == (len(seqs) > 0)) {
		return usageError{dlqUsage}
	}
	if *natsURL == "" {
		if _, err := os.Stat(*dataDir); err != nil {
			return fmt.Errorf("no --nats URL and no data directory: %w", err)
		}
	}
	bus, err := jetstream.Open(ctx, jetstream.Options{URL: *natsURL, DataDir: *dataDir, Logger: newLogger(stderr, levelFor(true))})
	if err != nil {
		return err
	}
	defer bus.Close()
	dls, err := bus.DeadLetters(ctx)
	if err != nil {
		return err
	}
	if sub == "list" {
		if *asJSON {
			return writeJSON(stdout, dls)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "seq\tat\tconsumer\tsubject\toriginal seq\tdeliveries\treplayed\terror")
		for _, d := range dls {
			replayed := "-"
			if d.Replayed > 0 {
				replayed = fmt.Sprintf("as %d", d.Replayed)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", d.Seq, d.At.UTC().Format(time.RFC3339), d.Consumer, d.Subject, d.OrigSeq, d.Deliveries, replayed, d.Error)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d dead letters\n", len(dls))
		return nil
	}
	bySeq := map[uint64]jetstream.DeadLetter{}
	for _, d := range dls {
		bySeq[d.Seq] = d
	}
	var todo []jetstream.DeadLetter
	if *all {
		for _, d := range dls {
			if d.Replayed == 0 {
				todo = append(todo, d)
			}
		}
	}
	for _, s := range seqs {
		d, ok := bySeq[s]
		if !ok {
			return fmt.Errorf("no dead letter at sequence %d ('adcensus dlq list' shows them)", s)
		}
		todo = append(todo, d)
	}
	for _, d := range todo {
		seq, err := bus.Replay(ctx, d)
		if err != nil {
			return fmt.Errorf("replay dead letter %d: %w", d.Seq, err)
		}
		fmt.Fprintf(stdout, "dead letter %d (%s seq %d) replayed as seq %d\n", d.Seq, d.Subject, d.OrigSeq, seq)
	}
	fmt.Fprintf(stdout, "%d replayed\n", len(todo))
	return nil
}
