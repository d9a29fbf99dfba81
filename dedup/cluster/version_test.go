package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream/jstest"
)

// A changed advert (ad.Ad.Version set by the crawler) is placed anew under
// its versioned id: with another contact and name it may join another
// person, and its assignments name the versioned id.
func TestClusterStagePlacesAChangedAdvertAnew(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus, cl := mustStageBusAndCluster(t)
	first := stageFP("a-1", "anna", "tel:aa")
	other := stageFP("a-2", "bea", "tel:bb")
	changed := stageFP("a-1", "bea", "tel:bb")
	changed.Ad.Version = "00112233aabb"
	for i, fp := range []*ad.Fingerprinted{first, other, changed} {
		data, _ := json.Marshal(fp)
		if err := bus.Publish(ctx, pipeline.SubjectFingerprints, fmt.Sprint("m", i), data, nil); err != nil {
			t.Fatal(err)
		}
	}
	stage := &cluster.Stage{Cluster: cl, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan error, 1)
	go func() { done <- pipeline.Run(ctx, bus, stage, &pipeline.Counters{}) }()
	jstest.WaitIdle(t, bus, pipeline.DurableCluster)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	vid := ad.VersionedID("a-1", "00112233aabb")
	old, _, err := cl.Assignment("a-1")
	if err != nil {
		t.Fatal(err)
	}
	now, ok, err := cl.Assignment(vid)
	if err != nil || !ok {
		t.Fatalf("versioned advert %s not in the state: ok=%v err=%v", vid, ok, err)
	}
	b, _, _ := cl.Assignment("a-2")
	if now.PersonID != b.PersonID || now.PersonID == old.PersonID {
		t.Fatalf("changed advert's person %s, want bea's %s (not anna's %s)", now.PersonID, b.PersonID, old.PersonID)
	}
	named := false
	for _, m := range readSubject(t, bus, pipeline.SubjectAssignments) {
		var a ad.Assignments
		if err := json.Unmarshal(m.Data, &a); err != nil {
			t.Fatal(err)
		}
		named = named || a.Cause == vid
	}
	if !named {
		t.Errorf("no assignments message caused by %s", vid)
	}
}
