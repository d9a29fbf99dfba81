package dedup_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/synth"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream/jstest"
)

// TestStreamingEqualsOffline checks issue 4's promise that the offline
// `adcensus dedup` and the streaming stages give the same assignments on
// the same adverts: a labelled synthetic corpus (real photos, phones,
// agencies, stock photos) is de-duplicated offline from its file, and
// streamed, in another order, through the fingerprint and cluster stages
// on an embedded JetStream. Person and network ids must agree advert by
// advert.
func TestStreamingEqualsOffline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus")
	opt := synth.Options{Seed: 11, Persons: 40, Ads: 180}
	if _, err := synth.Generate(ctx, opt, corpus); err != nil {
		t.Fatal(err)
	}
	key := []byte("a test key, not the one of any data dir")
	adsPath := filepath.Join(corpus, synth.AdsFile)

	// Offline, in file order.
	f, err := os.Open(adsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	st, err := dedup.Offline(ctx, f, corpus, contact.New(key), t.TempDir(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	offline := map[string][2]string{}
	for _, r := range rows[1:] {
		offline[r[0]] = [2]string{r[1], r[2]}
	}
	if st.Persons >= len(offline) || st.Networks >= st.Persons {
		t.Fatalf("trivial partition (%d adverts, %d persons, %d networks): the comparison would say little", len(offline), st.Persons, st.Networks)
	}

	// Streaming, shuffled, through both stages.
	bus, cl := mustBusAndCluster(t)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	r := ad.NewReader(f)
	var ads []*ad.Ad
	for {
		a, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ads = append(ads, a)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ads), func(i, j int) { ads[i], ads[j] = ads[j], ads[i] })
	for _, a := range ads {
		data, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := bus.Publish(ctx, pipeline.AdsSubject(a.Arena), a.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	lim := imagehash.DefaultLimits()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	counters := &pipeline.Counters{}
	fps := &dedup.FingerprintStage{Workers: 2, Log: log,
		FP: dedup.NewFingerprinter(contact.New(key), imagehash.FileOrHTTPLoader{BaseDir: corpus, MaxBytes: lim.MaxBytes}, lim)}
	cls := &cluster.Stage{Cluster: cl, Log: log}
	done := make(chan error, 2)
	go func() { done <- pipeline.Run(ctx, bus, fps, counters) }()
	go func() { done <- pipeline.Run(ctx, bus, cls, counters) }()
	jstest.WaitIdle(t, bus, pipeline.DurableFingerprint)
	jstest.WaitIdle(t, bus, pipeline.DurableCluster)
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	n := 0
	if err := cl.All(func(a ad.Assignment) error {
		n++
		want, ok := offline[a.AdID]
		switch {
		case !ok:
			t.Errorf("%s: streamed but not in the offline output", a.AdID)
		case want != [2]string{a.PersonID, a.NetworkID}:
			t.Errorf("%s: streaming %s/%s, offline %s/%s", a.AdID, a.PersonID, a.NetworkID, want[0], want[1])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != len(offline) {
		t.Fatalf("streaming state holds %d adverts, offline %d", n, len(offline))
	}
	t.Logf("%d adverts, %d persons, %d networks: the same from both paths", n, st.Persons, st.Networks)
}
