package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/synth"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
	"adcensus/pipeline/jetstream/jstest"
)

// adcensus ingest publishes a synthetic corpus on an external NATS; the
// fingerprint and cluster stages run over the stream then give the very
// assignments `adcensus dedup` gives offline on the same file with the
// same key.
func TestIngestThroughStagesEqualsOffline(t *testing.T) {
	dir := t.TempDir()
	o := synth.DefaultOptions()
	o.Persons, o.Ads = 16, 48
	if _, err := synth.Generate(context.Background(), o, filepath.Join(dir, "corpus")); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "corpus", synth.AdsFile)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	url := mustNATS(t)
	var stdout, stderr bytes.Buffer
	if err := cmdIngest(context.Background(), []string{"--in", in, "--nats", url, "--data", data}, &stdout, &stderr); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "published 48 ") || !strings.Contains(stdout.String(), "(0 failed)") {
		t.Fatalf("ingest said %q", stdout.String())
	}

	// The stages, on the stream.
	key, err := contact.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := jetstream.Open(context.Background(), jetstream.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	cl, err := cluster.Open(filepath.Join(dir, "cluster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	lim := imagehash.DefaultLimits()
	fps := &dedup.FingerprintStage{Workers: 2, FP: dedup.NewFingerprinter(contact.New(key), imagehash.FileOrHTTPLoader{MaxBytes: lim.MaxBytes}, lim)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- pipeline.Run(ctx, bus, fps, nil) }()
	go func() { done <- pipeline.Run(ctx, bus, &cluster.Stage{Cluster: cl}, nil) }()
	jstest.WaitIdle(t, bus, pipeline.DurableFingerprint, pipeline.DurableCluster)
	cancel()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var stream bytes.Buffer
	if err := cl.All(func(a ad.Assignment) error {
		_, err := fmt.Fprintf(&stream, "%s,%s,%s\n", a.AdID, a.PersonID, a.NetworkID)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Offline, same file, same key.
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var offline bytes.Buffer
	if _, err := dedup.Offline(context.Background(), f, filepath.Dir(in), contact.New(key), dir, &offline, nil); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimPrefix(offline.String(), "ad_id,person_id,network_id\n")
	if got := stream.String(); got != want {
		t.Fatalf("stream assignments differ from offline:\n%s\nwant\n%s", got, want)
	}
	if n := strings.Count(want, "\n"); n != 48 {
		t.Fatalf("%d assignments, want 48", n)
	}
}

// ingest refuses images on loopback addresses unless --allow-private,
// pseudonymises contacts, skips repeated ids and lines whose arena cannot
// name a subject, and counts them.
func TestIngestLimitsAndBadInput(t *testing.T) {
	photo, err := os.ReadFile(filepath.Join("..", "..", "internal", "synthetic", "photoset", "photos", "p001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(photo) }))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.jpg"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	lines := []string{
		`{"id":"a-1","arena":"a","name":"Anna","phones":["070-123 45 67"],"body":"Ring 070-123 45 67","images":["p.jpg","` + srv.URL + `/x.jpg"]}`,
		`{"id":"a-1","arena":"a","name":"Anna again"}`,
		`{"id":"a-2","arena":"a.b","name":"Bea"}`,
		`not json`,
	}
	in := filepath.Join(dir, "ads.jsonl")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow-private=%v", allow), func(t *testing.T) {
			url := mustNATS(t)
			args := []string{"--in", in, "--nats", url, "--data", dir}
			if allow {
				args = append(args, "--allow-private")
			}
			var stdout, stderr bytes.Buffer
			if err := cmdIngest(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("ingest: %v", err)
			}
			failed := 1
			if allow {
				failed = 0
			}
			if want := fmt.Sprintf("read 3 adverts (2 bad lines, 1 duplicate ids skipped); published 1 on %s with %d images hashed (%d failed)", url, 2-failed, failed); !strings.HasPrefix(stdout.String(), want) {
				t.Fatalf("ingest said %q, want %q…", stdout.String(), want)
			}
			if strings.Contains(stderr.String(), "123 45 67") {
				t.Fatalf("raw number in the log: %s", stderr.String())
			}
			bus, err := jetstream.Open(context.Background(), jetstream.Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer bus.Close()
			var got []*ad.Ad
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go bus.Consume(ctx, "test", []string{pipeline.SubjectAdsPrefix + ">"}, 10, func(_ context.Context, msgs []*pipeline.Msg) error {
				for _, m := range msgs {
					var a ad.Ad
					if err := json.Unmarshal(m.Data, &a); err != nil {
						return err
					}
					got = append(got, &a)
				}
				cancel()
				return nil
			})
			<-ctx.Done()
			if len(got) != 1 {
				t.Fatalf("%d adverts in the stream, want 1", len(got))
			}
			a := got[0]
			if raw, _ := json.Marshal(a); bytes.Contains(raw, []byte("123 45 67")) || len(a.Contacts) == 0 {
				t.Fatalf("advert not pseudonymised: %s", raw)
			}
			if len(a.ImageFPs) != 2 || a.ImageFPs[0].Hashes[imagehash.PHash] == "" {
				t.Fatalf("image fingerprints %+v", a.ImageFPs)
			}
			private := a.ImageFPs[1]
			if allow == (private.Err != "") || !allow && !strings.Contains(private.Err, "private") {
				t.Fatalf("allow-private=%v: loopback image %+v", allow, private)
			}
			if !slices.ContainsFunc(a.ImageFPs, func(fp ad.ImageFP) bool { return fp.Src == "p.jpg" && fp.Err == "" }) {
				t.Fatalf("local image not hashed: %+v", a.ImageFPs)
			}
		})
	}
}
