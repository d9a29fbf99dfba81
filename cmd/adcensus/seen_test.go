package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	indexbleve "adcensus/index/bleve"
	"adcensus/index/overlap"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic/synth"
)

// seenCorpus generates a labelled corpus and returns its adverts.
func seenCorpus(t *testing.T, dir string) []*ad.Ad {
	t.Helper()
	o := synth.DefaultOptions()
	o.Persons, o.Ads = 40, 160
	if _, err := synth.Generate(context.Background(), o, dir); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, synth.AdsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ads []*ad.Ad
	r := ad.NewReader(f)
	for {
		a, err := r.Next()
		if errors.Is(err, io.EOF) {
			return ads
		}
		if err != nil {
			t.Fatal(err)
		}
		ads = append(ads, a)
	}
}

// offlineSeen is `adcensus dedup --report` on ads: the interval offline.
func offlineSeen(t *testing.T, ads []*ad.Ad, base string, key []byte) *dedup.CountReport {
	t.Helper()
	var in bytes.Buffer
	for _, a := range ads {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(b, '\n'))
	}
	st, err := dedup.OfflineWith(context.Background(), &in, base, contact.New(key), t.TempDir(), io.Discard, nil, dedup.OfflineOptions{Report: true})
	if err != nil {
		t.Fatal(err)
	}
	return st.Count
}

// The interval that export counts and export overlap put beside the count
// is computed from the data directory's cluster state and index, and is
// the interval `adcensus dedup --report` gives for the same adverts, also
// after a second batch re-clustered persons of the first.
func TestSeenIntervalLiveEqualsOffline(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus")
	ads := seenCorpus(t, corpus)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := contact.LoadOrCreateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	feed := func(batch []*ad.Ad) { t.Helper(); feedData(t, data, corpus, key, batch) }
	check := func(n int) {
		t.Helper()
		want := offlineSeen(t, ads[:n], corpus, key)
		lo, hi := countBounds(want.Interval)
		js := runMain(t, "export", "counts", "--data", data, "--format", "json", "--min-cell", "0", "--basis", "posted")
		var counts struct {
			Rows []struct {
				Total       bool `json:"total"`
				Persons     *int `json:"persons"`
				PersonsLow  *int `json:"persons_low"`
				PersonsHigh *int `json:"persons_high"`
			} `json:"rows"`
			Seen *struct {
				Persons  int            `json:"persons"`
				Estimate float64        `json:"persons_estimate"`
				Evidence map[string]int `json:"evidence"`
			} `json:"seen"`
		}
		if err := json.Unmarshal([]byte(js), &counts); err != nil {
			t.Fatal(err)
		}
		tot := counts.Rows[len(counts.Rows)-1]
		if !tot.Total || tot.PersonsLow == nil || *tot.PersonsLow != lo || *tot.PersonsHigh != hi || *tot.Persons != want.Interval.Persons {
			t.Fatalf("%d adverts: total row %+v, want persons %d, %d–%d (offline)", n, tot, want.Interval.Persons, lo, hi)
		}
		if counts.Seen == nil || counts.Seen.Persons != want.Interval.Persons || len(counts.Seen.Evidence) != len(want.Evidence) {
			t.Fatalf("%d adverts: seen %+v, want evidence %v", n, counts.Seen, want.Evidence)
		}
		for k, v := range want.Evidence {
			if counts.Seen.Evidence[k] != v {
				t.Errorf("%d adverts: evidence %s = %d, offline %d", n, k, counts.Seen.Evidence[k], v)
			}
		}
		// Other rows carry no interval.
		for _, r := range counts.Rows[:len(counts.Rows)-1] {
			if r.PersonsLow != nil {
				t.Errorf("row %+v has an interval", r)
			}
		}
		csv := runMain(t, "export", "counts", "--data", data, "--min-cell", "0", "--basis", "posted")
		if !strings.HasPrefix(csv, "arena,ads,persons,persons_low,persons_high\n") {
			t.Errorf("csv header: %s", csv)
		}

		js = runMain(t, "export", "overlap", "--data", data, "--format", "json", "--min-cell", "0", "--replicates", "100", "--basis", "posted")
		var rep overlap.Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Seen == nil || rep.Seen.Low != lo || rep.Seen.High != hi {
			t.Fatalf("%d adverts: overlap seen %+v, want %d–%d", n, rep.Seen, lo, hi)
		}
		if rep.Estimate != nil && rep.Combined != nil {
			c := rep.Combined
			if !(c.Low <= c.Total && c.Total <= c.High) || c.High-c.Low < rep.Estimate.CIHigh-rep.Estimate.CILow-1e-9 || c.Replicates+c.Failed != combineDraws {
				t.Errorf("combined %+v, estimate %v–%v", c, rep.Estimate.CILow, rep.Estimate.CIHigh)
			}
		}
	}
	half := len(ads) / 2
	feed(ads[:half])
	check(half)
	feed(ads[half:])
	check(len(ads))

	// serve answers the same interval, twice (the second from its cache).
	want := offlineSeen(t, ads, corpus, key)
	lo, hi := countBounds(want.Interval)
	token := MustAccessToken(t, data, "researcher")
	base, stop := startServe(t, data, "--min-cell-floor", "0", "--replicates", "100")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	for range 2 {
		req, err := http.NewRequest(http.MethodGet, base+"/api/export/counts?by=arena&format=csv&min_cell=0&basis=posted", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if wantTail := fmt.Sprintf(",%d,%d,%d\n", want.Interval.Persons, lo, hi); res.StatusCode != http.StatusOK || !strings.HasSuffix(string(b), wantTail) {
			t.Fatalf("serve counts: %d %s, want the total row ending %q", res.StatusCode, b, wantTail)
		}
	}
}

// feedData runs the fingerprint and cluster stages and the index on a
// batch of adverts into the data directory, as the pipeline does: the
// index gets the fingerprints and every assignment the cluster stage
// published. Images are read relative to corpus.
func feedData(t testing.TB, data, corpus string, key []byte, batch []*ad.Ad) {
	t.Helper()
	lim := imagehash.DefaultLimits()
	fper := dedup.NewFingerprinter(contact.New(key), imagehash.FileOrHTTPLoader{BaseDir: corpus, MaxBytes: lim.MaxBytes}, lim)
	var fps []*ad.Fingerprinted
	for _, a := range batch {
		fp, err := fper.Process(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		fps = append(fps, fp)
	}
	cl, err := cluster.Open(filepath.Join(data, clusterStateFile))
	if err != nil {
		t.Fatal(err)
	}
	var asg []ad.Assignment
	for lo := 0; lo < len(fps); lo += 1000 {
		out, err := cl.AddBatch(fps[lo:min(lo+1000, len(fps))])
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			asg = append(asg, o.Changed...)
		}
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	// The latest assignment of each advert, as the index stage would
	// end up with.
	last := map[string]int{}
	for i, a := range asg {
		last[a.AdID] = i
	}
	kept := asg[:0]
	for i, a := range asg {
		if last[a.AdID] == i {
			kept = append(kept, a)
		}
	}
	asg = kept
	x, err := indexbleve.Open(filepath.Join(data, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
}
