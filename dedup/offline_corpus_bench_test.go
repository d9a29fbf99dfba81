package dedup_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"adcensus/dedup"
	"adcensus/internal/contact"
)

// BenchmarkOfflineCorpus runs `adcensus dedup` (dedup.Offline) on the
// JSON Lines corpus named by DEDUP_CORPUS (e.g. one written by `adcensus
// synth`), so a profile of the whole offline path can be taken:
//
//	DEDUP_CORPUS=/tmp/c/ads.jsonl go test -run '^$' -bench OfflineCorpus -benchtime 1x -cpuprofile cpu.out ./dedup/
//
// Without the variable it is skipped.
func BenchmarkOfflineCorpus(b *testing.B) {
	path := os.Getenv("DEDUP_CORPUS")
	if path == "" {
		b.Skip("DEDUP_CORPUS not set")
	}
	p := contact.New([]byte("bench key"))
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		st, err := dedup.Offline(context.Background(), f, filepath.Dir(path), p, b.TempDir(), io.Discard, nil)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(t0).Seconds(), "s/run")
		b.Logf("%d adverts: %d persons, %d networks", st.AdsWritten, st.Persons, st.Networks)
	}
}
