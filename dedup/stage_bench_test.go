package dedup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
)

// BenchmarkStages pushes adverts (text and a phone each, no images)
// through the fingerprint and cluster stages on an embedded JetStream
// (SyncAlways) and reports adverts per second from the first delivery to
// both stages being idle. Publishing the adverts is not timed.
func BenchmarkStages(b *testing.B) {
	const n = 5000
	for b.Loop() {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		bus, cl := mustBusAndCluster(b)
		for i := range n {
			a := ad.Ad{ID: fmt.Sprintf("b-%06d", i), Arena: "a", Name: fmt.Sprintf("n%d", i%700),
				Body:   fmt.Sprintf("Hej! Jag heter n%d och finns i Lund. Ring 070-%03d %02d %02d.", i%700, i%900, i%97, i%89),
				Phones: []string{fmt.Sprintf("070-%03d %02d %02d", i%900, i%97, i%89)}}
			data, _ := json.Marshal(a)
			if err := bus.Publish(ctx, pipeline.AdsSubject("a"), a.ID, data, nil); err != nil {
				b.Fatal(err)
			}
		}
		lim := imagehash.DefaultLimits()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		counters := &pipeline.Counters{}
		fps := &dedup.FingerprintStage{Workers: 2, Log: log,
			FP: dedup.NewFingerprinter(contact.New([]byte("bench key")), imagehash.FileOrHTTPLoader{MaxBytes: lim.MaxBytes}, lim)}
		cls := &cluster.Stage{Cluster: cl, Log: log}
		b.StartTimer()
		start := time.Now()
		done := make(chan error, 2)
		go func() { done <- pipeline.Run(ctx, bus, fps, counters) }()
		go func() { done <- pipeline.Run(ctx, bus, cls, counters) }()
		for counters.Clustered.Load() < n {
			time.Sleep(5 * time.Millisecond)
		}
		el := time.Since(start)
		b.StopTimer()
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n)/el.Seconds(), "adverts/s")
		b.StartTimer()
	}
}
