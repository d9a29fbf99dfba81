package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"adcensus/dedup/cluster"
	"adcensus/index"
)

// checkExplainChanged runs 'adcensus explain' on the adverts whose content
// changed during the simulated weeks: each is explained by its current
// content (the version the index follows, in the index's person), and
// its earlier contents are listed, its first content first.
func checkExplainChanged(t *testing.T, dataDir string) {
	t.Helper()
	ix, err := openIndex(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var changed []*index.Doc
	err = ix.ForEachDoc(context.Background(), func(d *index.Doc) error {
		if d.Version != "" {
			changed = append(changed, d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The cluster state counts a changed advert once, by its current
	// content, as the index does.
	ads, persons, networks, err := ix.Stats(context.Background())
	ix.Close()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cluster.OpenReadOnly(filepath.Join(dataDir, clusterStateFile))
	if err != nil {
		t.Fatal(err)
	}
	cads, cpersons, cnetworks, err := cl.Stats()
	cl.Close()
	if err != nil {
		t.Fatal(err)
	}
	if cads != ads || cpersons != persons || cnetworks != networks {
		t.Errorf("cluster state counts %d adverts, %d persons, %d networks; the index %d, %d, %d", cads, cpersons, cnetworks, ads, persons, networks)
	}
	if len(changed) == 0 {
		t.Fatal("no advert changed content in the simulated weeks")
	}
	for _, d := range changed {
		var ex cluster.Explanation
		if err := json.Unmarshal([]byte(runMain(t, "explain", "--data", dataDir, d.ID)), &ex); err != nil {
			t.Fatal(err)
		}
		if ex.Explained != d.ClusterID() || ex.Version != d.Version || ex.PersonID != d.PersonID || ex.NetworkID != d.NetworkID {
			t.Errorf("explain %s: explained %s (version %q) in %s/%s; want the current %s in the index's %s/%s",
				d.ID, ex.Explained, ex.Version, ex.PersonID, ex.NetworkID, d.ClusterID(), d.PersonID, d.NetworkID)
		}
		if len(ex.Earlier) == 0 || ex.Earlier[0].ID != d.ID || ex.Earlier[0].Version != "" || len(ex.Later) != 0 {
			t.Errorf("explain %s: earlier contents %v, later %v; want the first content %s first and none later", d.ID, ex.Earlier, ex.Later, d.ID)
		}
	}
	t.Logf("explain: %d changed adverts explained by their current content", len(changed))
}
