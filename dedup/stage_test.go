package dedup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

// mustBusAndCluster opens an embedded bus and a cluster state in a temporary
// directory, both closed at cleanup.
func mustBusAndCluster(t testing.TB) (*jetstream.Bus, *cluster.Cluster) {
	t.Helper()
	dir := t.TempDir()
	bus := jstest.MustBus(t, dir)
	cl, err := cluster.Open(filepath.Join(dir, "cluster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return bus, cl
}

// The fingerprint stage counts the problems of the adverts it passes on,
// by kind; the adverts themselves flow on.
func TestFingerprintStageCountsProblems(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, _ := mustBusAndCluster(t)
	for _, a := range []ad.Ad{
		{ID: "p-1", Arena: "a", Body: "Hej från Lund", Age: 300, Phones: []string{"12"}},
		{ID: "p-2", Arena: "a", Images: []string{"missing.jpg"}},
		{ID: "p-3", Arena: "a", Body: "Hej från Malmö", Age: 30},
	} {
		data, _ := json.Marshal(a)
		if err := bus.Publish(ctx, pipeline.AdsSubject(a.Arena), a.ID, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A producer that types a field differently: the age is dropped, the
	// advert kept.
	if err := bus.Publish(ctx, pipeline.AdsSubject("a"), "p-4", []byte(`{"id":"p-4","arena":"a","age":"tjugo","body":"Hej"}`), nil); err != nil {
		t.Fatal(err)
	}
	lim := imagehash.DefaultLimits()
	counters := &pipeline.Counters{}
	stage := &dedup.FingerprintStage{Workers: 2, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		FP: dedup.NewFingerprinter(contact.New([]byte("test key")), imagehash.FileOrHTTPLoader{BaseDir: t.TempDir(), MaxBytes: lim.MaxBytes}, lim)}
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, bus, stage, counters) }()
	jstest.WaitIdle(t, bus, pipeline.DurableFingerprint)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := counters.Fingerprinted.Load(); got != 4 {
		t.Fatalf("fingerprinted %d adverts, want 4", got)
	}
	// p-1: an absurd age and a phones entry that is no number; p-2: an
	// image that cannot be loaded and no text; p-4: an unreadable field.
	if got, want := counters.ProblemSummary(), "images 1, ages 1, phones entries 1, empty texts 1, unreadable fields 1"; got != want {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

// Offline and the stream refuse the same advert ids (ad.ValidID): an id
// that the fingerprint stage sets aside is a bad line offline, and the
// other way round.
func TestOfflineAndStreamRefuseTheSameIDs(t *testing.T) {
	lines := []string{
		`{"id":"ok-1","arena":"a","body":"Hej från Lund"}`,
		`{"id":"a\tb","arena":"a","body":"Hej"}`,
		`{"id":"a\u0000b","arena":"a","body":"Hej"}`,
		`{"id":"","arena":"a","body":"Hej"}`,
		`{"id":"x\u0085y","arena":"a","body":"Hej"}`,
		`{"id":"` + strings.Repeat("l", ad.MaxIDLen+1) + `","arena":"a","body":"Hej"}`,
		`{"id":"ok-2","arena":"a","body":"Hej från Malmö"}`,
	}
	var out bytes.Buffer
	st, err := dedup.Offline(context.Background(), strings.NewReader(strings.Join(lines, "\n")), t.TempDir(), newPseudo(), t.TempDir(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Read != 2 || st.BadLines != 5 || st.AdsWritten != 2 {
		t.Fatalf("offline read %d, bad lines %d, wrote %d; want 2, 5, 2", st.Read, st.BadLines, st.AdsWritten)
	}

	stage := &dedup.FingerprintStage{FP: dedup.NewFingerprinter(newPseudo(), nil, imagehash.DefaultLimits()), Workers: 2}
	var msgs []*pipeline.Msg
	for i, l := range lines {
		msgs = append(msgs, &pipeline.Msg{Subject: pipeline.AdsSubject("a"), Data: []byte(l), Seq: uint64(i + 1)})
	}
	res, err := stage.Process(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	var bad []uint64
	for _, m := range msgs {
		if m.Bad != nil {
			bad = append(bad, m.Seq)
		}
	}
	if res.Done != 2 || len(res.Out) != 2 || fmt.Sprint(bad) != "[2 3 4 5 6]" {
		t.Fatalf("stream fingerprinted %d (%d out), set aside %v; want 2, 2, [2 3 4 5 6]", res.Done, len(res.Out), bad)
	}
	for i, o := range res.Out {
		if want := []string{"fp-1", "fp-7"}[i]; o.ID != want || o.Subject != pipeline.SubjectFingerprints || o.Header[pipeline.HeaderAd] != []string{"ok-1", "ok-2"}[i] {
			t.Fatalf("output %d: %s %s %v", i, o.Subject, o.ID, o.Header)
		}
	}
}
