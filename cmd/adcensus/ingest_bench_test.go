package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

// BenchmarkIngestVsOffline runs the corpus named by INGEST_CORPUS (a
// JSON Lines file, e.g. `adcensus synth --out DIR` then DIR/ads.jsonl)
// both ways, alternately in the same process: `adcensus ingest` onto a
// NATS server with JetStream on 127.0.0.1 (file store) and the
// fingerprint and cluster stages over the stream until both are idle
// (stream), and `adcensus dedup` offline (offline). It reports the wall
// seconds of each and stream/offline. Without the variable it is skipped.
//
//	INGEST_CORPUS=/tmp/c/ads.jsonl go test -run '^$' -bench IngestVsOffline -benchtime 1x ./cmd/adcensus/
func BenchmarkIngestVsOffline(b *testing.B) {
	in := os.Getenv("INGEST_CORPUS")
	if in == "" {
		b.Skip("INGEST_CORPUS not set")
	}
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
		t0 := time.Now()
		if _, err := dedup.Offline(context.Background(), f, filepath.Dir(in), contact.New(k), dir, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
		f.Close()
		offline := time.Since(t0)

		// Ingest, then the stages on the stream.
		url := mustNATS(b)
		t1 := time.Now()
		var stdout, stderr bytes.Buffer
		if err := cmdIngest(context.Background(), []string{"--in", in, "--nats", url, "--data", dir}, &stdout, &stderr); err != nil {
			b.Fatalf("ingest: %v\n%s", err, stderr.String())
		}
		ingest := time.Since(t1)
		bus, err := jetstream.Open(context.Background(), jetstream.Options{URL: url})
		if err != nil {
			b.Fatal(err)
		}
		cl, err := cluster.Open(filepath.Join(dir, "cluster.db"))
		if err != nil {
			b.Fatal(err)
		}
		lim := imagehash.DefaultLimits()
		fps := &dedup.FingerprintStage{Workers: 2, FP: dedup.NewFingerprinter(contact.New(k), imagehash.FileOrHTTPLoader{MaxBytes: lim.MaxBytes}, lim)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 2)
		t2 := time.Now()
		go func() { done <- pipeline.Run(ctx, bus, fps, nil) }()
		go func() { done <- pipeline.Run(ctx, bus, &cluster.Stage{Cluster: cl}, nil) }()
		jstest.WaitIdle(b, bus, pipeline.DurableFingerprint, pipeline.DurableCluster)
		stages := time.Since(t2)
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		cl.Close()
		bus.Close()
		b.ReportMetric(offline.Seconds(), "offline-s")
		b.ReportMetric(ingest.Seconds(), "ingest-s")
		b.ReportMetric(stages.Seconds(), "stages-s")
		b.ReportMetric((ingest+stages).Seconds()/offline.Seconds(), "stream/offline")
		b.Logf("%s", stdout.String())
	}
}
