package cluster_test

import (
	"errors"
	"testing"

	"adcensus/dedup/cluster"
)

// Images gives an advert's own image fingerprints, with nothing of other
// adverts (names, contacts), and ErrNotFound for an unknown advert.
func TestImages(t *testing.T) {
	c := MustOpen(t, "")
	MustAdd(t, c,
		fp("a1", "anna", nil, img{h1, h3}, img{h2, 0}),
		fp("a2", "bea", nil, img{flip(h1, 8), 0}),
		fp("a3", "cia", nil),
	)
	got, err := c.Images("a1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].PHash != h1 || got[0].Mirror != h3 || !got[0].HasMirror || got[1].PHash != h2 || got[1].HasMirror {
		t.Errorf("Images(a1) = %+v", got)
	}
	for _, im := range got {
		if im.SeenNames != nil || im.SeenContacts != nil {
			t.Errorf("Images(a1) gives other adverts' names or contacts: %+v", im)
		}
	}
	if got, err := c.Images("a3"); err != nil || len(got) != 0 {
		t.Errorf("Images(a3) = %+v, %v; want none", got, err)
	}
	if _, err := c.Images("nope"); !errors.Is(err, cluster.ErrNotFound) {
		t.Errorf("Images(nope): %v, want ErrNotFound", err)
	}
}
