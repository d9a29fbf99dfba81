package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// BenchmarkIngestVsOffline runs the corpus named by INGEST_CORPUS (a
// JSON Lines file, e.g. `adcensus synth --out DIR` then DIR/ads.jsonl)
// both ways, alternately in the same process: `adcensus ingest` onto a
// NATS server with JetStream on 127.0.0.1 (file store) and the
// fingerprint and cluster stages over the stream until both are idle
// (stream), and `adcensus dedup` offline (offline). It reports the wall
// and CPU seconds of each and stream/offline; then the cluster stage
// alone over the fingerprints in the stream, one batch at a time and
// with two batches in flight (pipeline.Beginner), each on a fresh state.
// Without the variable it is skipped.
//
//	INGEST_CORPUS=/tmp/c/ads.jsonl go test -run '^$' -bench IngestVsOffline -benchtime 1x ./cmd/adcensus/
//
// INGEST_WORKERS sets the fingerprint stage's workers (default 2); the
// adverts per second of each path and of the fingerprint stage alone are
// reported too.
func BenchmarkIngestVsOffline(b *testing.B) {
	in := os.Getenv("INGEST_CORPUS")
	if in == "" {
		b.Skip("INGEST_CORPUS not set")
	}
	workers := 2
	if w := os.Getenv("INGEST_WORKERS"); w != "" {
		n, err := strconv.Atoi(w)
		if err != nil || n < 1 {
			b.Fatalf("INGEST_WORKERS=%q: want a number of workers", w)
		}
		workers = n
	}
	data, err := os.ReadFile(in)
	if err != nil {
		b.Fatal(err)
	}
	ads := float64(bytes.Count(data, []byte("\n")))
	for b.Loop() {
		dir := b.TempDir()
		k, err := contact.LoadOrCreateKey(dir)
		if err != nil {
			b.Fatal(err)
		}
		// Offline.
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		t0, c0 := time.Now(), cpuTime()
		if _, err := dedup.Offline(context.Background(), f, filepath.Dir(in), contact.New(k), dir, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		f.Close()
		offline, offlineCPU := time.Since(t0), cpuTime()-c0
		fmt.Fprintf(os.Stderr, "offline %s for %.0f adverts\n", offline, ads)

		// Ingest, then the stages on the stream.
		url := mustNATS(b)
		t1, c1 := time.Now(), cpuTime()
		var stdout, stderr bytes.Buffer
		if err := cmdIngest(context.Background(), []string{"--in", in, "--nats", url, "--data", dir}, &stdout, &stderr); err != nil {
			b.Fatalf("ingest: %v\n%s", err, stderr.String())
		}
		ingest, ingestCPU := time.Since(t1), cpuTime()-c1
		fmt.Fprintf(os.Stderr, "ingest %s\n", ingest)
		bus, err := jetstream.Open(context.Background(), jetstream.Options{URL: url})
		if err != nil {
			b.Fatal(err)
		}
		cl, err := cluster.Open(filepath.Join(dir, "cluster.db"))
		if err != nil {
			b.Fatal(err)
		}
		lim := imagehash.DefaultLimits()
		fps := &dedup.FingerprintStage{Workers: workers, FP: dedup.NewFingerprinter(contact.New(k), imagehash.FileOrHTTPLoader{MaxBytes: lim.MaxBytes}, lim)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		t2, c2 := time.Now(), cpuTime()
		go func() { done <- pipeline.Run(ctx, bus, fps, nil) }()
		go func() { done <- pipeline.Run(ctx, bus, &cluster.Stage{Cluster: cl}, nil) }()
		waitIdle(b, bus, pipeline.DurableFingerprint)
		fingerprint := time.Since(t2)
		fmt.Fprintf(os.Stderr, "fingerprint stage idle after %s\n", fingerprint)
		waitIdle(b, bus, pipeline.DurableFingerprint, pipeline.DurableCluster)
		stages, stagesCPU := time.Since(t2), cpuTime()-c2
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		cl.Close()
		// The cluster stage alone over the fingerprints now all in the
		// stream, on a fresh state and durable each: one batch at a time
		// (Process), then with two batches in flight (BeginBatch).
		sync, syncCPU := clusterAlone(b, bus, filepath.Join(dir, "sync.db"), "bench-sync", true)
		overlap, overlapCPU := clusterAlone(b, bus, filepath.Join(dir, "overlap.db"), "bench-overlap", false)
		fmt.Fprintf(os.Stderr, "cluster stage alone: one batch at a time %s (%.1f CPU-s), overlapped %s (%.1f CPU-s)\n", sync, syncCPU.Seconds(), overlap, overlapCPU.Seconds())
		bus.Close()
		b.ReportMetric(sync.Seconds(), "cluster-sync-s")
		b.ReportMetric(overlap.Seconds(), "cluster-overlap-s")
		b.ReportMetric(overlap.Seconds()/sync.Seconds(), "overlap/sync")
		b.ReportMetric(syncCPU.Seconds(), "cluster-sync-cpu-s")
		b.ReportMetric(overlapCPU.Seconds(), "cluster-overlap-cpu-s")
		b.ReportMetric(offlineCPU.Seconds(), "offline-cpu-s")
		b.ReportMetric(ingestCPU.Seconds(), "ingest-cpu-s")
		b.ReportMetric(stagesCPU.Seconds(), "stages-cpu-s")
		b.ReportMetric((ingestCPU+stagesCPU).Seconds()/offlineCPU.Seconds(), "stream/offline-cpu")
		b.ReportMetric(offline.Seconds(), "offline-s")
		b.ReportMetric(ingest.Seconds(), "ingest-s")
		b.ReportMetric(stages.Seconds(), "stages-s")
		b.ReportMetric((ingest+stages).Seconds()/offline.Seconds(), "stream/offline")
		b.ReportMetric(ads/offline.Seconds(), "offline-ads/s")
		b.ReportMetric(ads/(ingest+stages).Seconds(), "stream-ads/s")
		b.ReportMetric(ads/fingerprint.Seconds(), "fingerprint-ads/s")
		b.ReportMetric(fingerprint.Seconds(), "fingerprint-s")
		b.Logf("%s", stdout.String())
	}
}

// waitIdle is jstest.WaitIdle without its minute's cap: a large corpus
// takes longer (at most half an hour here).
func waitIdle(b *testing.B, bus pipeline.Bus, durables ...string) {
	b.Helper()
	deadline := time.Now().Add(30 * time.Minute)
	for {
		idle, err := bus.Idle(context.Background(), durables...)
		if err != nil {
			b.Fatal(err)
		}
		if idle {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%v not idle after 30 minutes", durables)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterAlone runs the cluster stage on a new state file and durable
// until the durable is idle and returns how long it took; sync hides
// BeginBatch, so batches do not overlap. Neither reads the last
// published assignment (Start), so both publish every batch's messages
// (the stream drops them as duplicates by id).
func clusterAlone(b *testing.B, bus pipeline.Bus, file, durable string, sync bool) (time.Duration, time.Duration) {
	b.Helper()
	cl, err := cluster.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	st := &cluster.Stage{Cluster: cl}
	var stage pipeline.Stage = benchOverlap{st, durable}
	if sync {
		stage = benchSync{st, durable}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	t, c := time.Now(), cpuTime()
	go func() { done <- pipeline.Run(ctx, bus, stage, nil) }()
	waitIdle(b, bus, durable)
	d, cpu := time.Since(t), cpuTime()-c
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return d, cpu
}

// cpuTime is the CPU time (user + system) of this process so far (the
// NATS server of the benchmark runs in it too).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchSync is the cluster stage on its own durable, without BeginBatch
// or Start.
type benchSync struct {
	s       *cluster.Stage
	durable string
}

func (x benchSync) Spec() pipeline.Spec {
	sp := x.s.Spec()
	sp.Durable = x.durable
	return sp
}

func (x benchSync) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	return x.s.Process(ctx, msgs)
}

// benchOverlap is benchSync with BeginBatch.
type benchOverlap benchSync

func (x benchOverlap) Spec() pipeline.Spec { return benchSync(x).Spec() }

func (x benchOverlap) Process(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Result, error) {
	return x.s.Process(ctx, msgs)
}

func (x benchOverlap) BeginBatch(ctx context.Context, msgs []*pipeline.Msg) (pipeline.Waiter, error) {
	return x.s.BeginBatch(ctx, msgs)
}
