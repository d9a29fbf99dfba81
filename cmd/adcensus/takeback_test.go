package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// A fingerprint worker killed while it held adverts, restarted on its
// data directory: the new process sees its predecessor's last heartbeat
// is not a stopped one and resets the shared consumer to its ack floor, so
// the adverts are fingerprinted now, not after the ack wait (a minute
// here).
func TestRestartedFingerprintWorkerTakesBackItsBatch(t *testing.T) {
	url := mustNATS(t)
	dir := dataDirs(t, 1)[0]
	id, err := nodeID(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := jetstream.Options{URL: url, AckWait: time.Minute}
	obs, err := jetstream.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close()
	sink := &pipeline.BusSink{Bus: obs}
	for i := range 3 {
		a := &ad.Ad{ID: fmt.Sprintf("ad-%d", i), Arena: "demo", Title: "Hello", Body: fmt.Sprintf("advert number %d", i)}
		if err := sink.Publish(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// The predecessor: took the adverts, beat, and was killed.
	killed, err := jetstream.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go killed.Consume(ctx, pipeline.DurableFingerprint, []string{pipeline.SubjectAdsAll}, 10, func(ctx context.Context, msgs []*pipeline.Msg) error {
		got <- len(msgs)
		<-ctx.Done()
		return ctx.Err()
	})
	select {
	case <-got:
	case <-time.After(time.Minute):
		t.Fatal("no batch delivered")
	}
	data, _ := json.Marshal(beat{Node: id, PID: 1, Roles: []string{"fingerprint"}, At: time.Now().UTC()})
	if err := killed.Beat(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	killed.Close()

	start := time.Now()
	p := startProcOn(t, url, dir, []string{"fingerprint"}, "", streamSettings{AckWait: time.Minute}, false)
	deadline := time.Now().Add(40 * time.Second)
	for p.n.counters.Fingerprinted.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted worker fingerprinted %d of 3 adverts in 40s (ack wait 1m)", p.n.counters.Fingerprinted.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("taken back and fingerprinted %s after the restart", time.Since(start).Round(time.Millisecond))
	// A clean stop leaves a stopped beat: the next start resets nothing.
	p.stop()
	beats, err := obs.Heartbeats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var last beat
	if err := json.Unmarshal(beats[id], &last); err != nil || !last.Stopped {
		t.Errorf("last beat after a clean stop %+v (%v), want stopped", last, err)
	}
}
