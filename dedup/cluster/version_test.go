package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
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

// An advert that changed twice is one advert: Stats counts it once and
// counts only the persons and networks holding a current content, and
// Explain explains its current content, names the version and lists the
// earlier ones with their persons; a versioned id explains that content.
// The same holds after the state is reopened from its file.
func TestVersionsAreOneAdvert(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	bus := jstest.MustBus(t, dir)
	path := filepath.Join(dir, "cluster.db")
	cl, err := cluster.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const v1, v2 = "00112233aabb", "445566778899"
	changed := func(id, name, contact, v string) *ad.Fingerprinted {
		fp := stageFP(id, name, contact)
		fp.Ad.Version = v
		return fp
	}
	bare := stageFP("a-3", "dora", "")
	bare.Contacts = nil
	fps := []*ad.Fingerprinted{
		stageFP("a-1", "anna", "tel:aa"),
		stageFP("a-2", "bea", "tel:bb"),
		changed("a-1", "bea", "tel:bb", v1),  // joins bea
		changed("a-1", "cleo", "tel:cc", v2), // then a person of its own
		bare,                                 // no contact, no photo
		changed("a-3", "dora", "tel:dd", v1), // now with a contact
	}
	for i, fp := range fps {
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
	person := func(id string) string {
		t.Helper()
		as, ok, err := cl.Assignment(id)
		if err != nil || !ok {
			t.Fatalf("%s not in the state: ok=%v err=%v", id, ok, err)
		}
		return as.PersonID
	}
	anna, bea, cleo := person("a-1"), person("a-2"), person(ad.VersionedID("a-1", v2))
	if person(ad.VersionedID("a-1", v1)) != bea || cleo == bea || anna == bea {
		t.Fatalf("placements: anna %s, bea %s, a-1@v1 %s, cleo %s", anna, bea, person(ad.VersionedID("a-1", v1)), cleo)
	}

	check := func(when string, cl *cluster.Cluster) {
		t.Helper()
		// Adverts a-1, a-2, a-3; persons bea (a-2), cleo (a-1 now) and
		// dora (a-3 now); networks tel:bb, tel:cc, tel:dd. Anna's person
		// and dora's first, bare one hold only earlier contents.
		ads, persons, networks, err := cl.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if ads != 3 || persons != 3 || networks != 3 {
			t.Errorf("%s: Stats = %d adverts, %d persons, %d networks; want 3, 3, 3", when, ads, persons, networks)
		}
		if n, err := cl.PersonsWithoutContactOrPhoto(); err != nil || n != 0 {
			t.Errorf("%s: PersonsWithoutContactOrPhoto = %d, %v; want 0 (the bare person is an earlier content)", when, n, err)
		}
		ex, err := cl.Explain("a-1")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Explained != ad.VersionedID("a-1", v2) || ex.Version != v2 || ex.PersonID != cleo || len(ex.Later) != 0 {
			t.Errorf("%s: explain a-1 explained %s (version %q, person %s, later %v), want the current %s in %s",
				when, ex.Explained, ex.Version, ex.PersonID, ex.Later, ad.VersionedID("a-1", v2), cleo)
		}
		want := []cluster.Version{{ID: "a-1", PersonID: anna}, {ID: ad.VersionedID("a-1", v1), Version: v1, PersonID: bea}}
		if fmt.Sprint(ex.Earlier) != fmt.Sprint(want) {
			t.Errorf("%s: earlier versions %v, want %v", when, ex.Earlier, want)
		}
		ex, err = cl.Explain(ad.VersionedID("a-1", v1))
		if err != nil {
			t.Fatal(err)
		}
		if ex.Version != v1 || ex.PersonID != bea || len(ex.Earlier) != 1 || len(ex.Later) != 1 || ex.Later[0].Version != v2 {
			t.Errorf("%s: explain a-1@v%s: version %q person %s earlier %v later %v", when, v1, ex.Version, ex.PersonID, ex.Earlier, ex.Later)
		}
		ex, err = cl.Explain("a-2")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Explained != "a-2" || ex.Version != "" || ex.Earlier != nil {
			t.Errorf("%s: explain of an unchanged advert: explained %s version %q earlier %v", when, ex.Explained, ex.Version, ex.Earlier)
		}
	}
	check("after the stage", cl)
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := cluster.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	check("reopened", re)
}
