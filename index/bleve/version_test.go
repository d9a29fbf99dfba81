package bleve_test

import (
	"context"
	"testing"
	"time"

	"adcensus/ad"
)

// A changed advert is placed anew by the cluster stage under its
// versioned id: the index follows the newest version's assignment, ignores
// later ones of the old content, and keeps the first fetch time.
func TestChangedAdvertFollowsItsNewVersion(t *testing.T) {
	ctx := context.Background()
	x := MustOpen(t, "")
	v0 := fp("a1", "blomstra", "Hej", "Första texten.", "Malmö", 30, "2026-03-02")
	v0.Ad.PostedAt = time.Time{}
	MustApply(t, x, []*ad.Fingerprinted{v0}, []ad.Assignment{{AdID: "a1", PersonID: "p1", NetworkID: "n1", Version: 10}})
	first, _, _ := x.Doc(ctx, "a1")

	v1 := fp("a1", "blomstra", "Hej", "Ny text, nytt nummer.", "Malmö", 30, "2026-03-16")
	v1.Ad.PostedAt = time.Time{}
	v1.Ad.Version = "0123456789ab"
	// The new content arrives; its assignment comes after, by its versioned id.
	MustApply(t, x, []*ad.Fingerprinted{v1}, nil)
	if d, _, _ := x.Doc(ctx, "a1"); d.PersonID != "p1" {
		t.Fatalf("before the new version's assignment: person %q, want p1 kept", d.PersonID)
	}
	MustApply(t, x, nil, []ad.Assignment{{AdID: ad.VersionedID("a1", v1.Ad.Version), PersonID: "p2", NetworkID: "n2", Version: 20}})
	d, _, _ := x.Doc(ctx, "a1")
	if d.PersonID != "p2" || d.Body != "Ny text, nytt nummer." {
		t.Fatalf("after: person %q body %q, want p2 and the new text", d.PersonID, d.Body)
	}
	if !d.FetchedAt.Equal(first.FetchedAt) || d.Week != first.Week {
		t.Errorf("fetched %v week %s, want the first fetch %v week %s", d.FetchedAt, d.Week, first.FetchedAt, first.Week)
	}
	// The old content's person changes later (a merge): not this advert's any more.
	MustApply(t, x, nil, []ad.Assignment{{AdID: "a1", PersonID: "p3", NetworkID: "n3", Version: 30}})
	if d, _, _ := x.Doc(ctx, "a1"); d.PersonID != "p2" {
		t.Fatalf("an assignment of the old content applied: person %q, want p2", d.PersonID)
	}

	// Assignment before advert works for versions too.
	y := MustOpen(t, "")
	MustApply(t, y, []*ad.Fingerprinted{v0}, []ad.Assignment{{AdID: "a1", PersonID: "p1", Version: 10}})
	MustApply(t, y, nil, []ad.Assignment{{AdID: ad.VersionedID("a1", v1.Ad.Version), PersonID: "p2", Version: 20}})
	if d, _, _ := y.Doc(ctx, "a1"); d.PersonID != "p1" {
		t.Fatalf("a version's assignment applied before its content: person %q", d.PersonID)
	}
	MustApply(t, y, []*ad.Fingerprinted{v1}, nil)
	if d, _, _ := y.Doc(ctx, "a1"); d.PersonID != "p2" {
		t.Fatalf("pending version assignment not taken: person %q, want p2", d.PersonID)
	}
}
