package dedup_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"adcensus/dedup"
)

// A file with the same advert in two contents (a stream dump of a changed
// advert: ad.Ad.Version set) keeps the first record, as for any repeated
// id, under its advert id: the assignments name the advert, not a
// versioned id, and it is one advert and one person.
func TestOfflineKeepsAdvertIDsOfVersions(t *testing.T) {
	in := strings.NewReader(`{"id":"a1","arena":"t","name":"Anna","body":"Hej","version":"00112233aabb"}
{"id":"a1","arena":"t","name":"Bea","body":"Hej då","version":"445566778899"}
`)
	var out bytes.Buffer
	st, err := dedup.Offline(context.Background(), in, t.TempDir(), newPseudo(), t.TempDir(), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "ad_id,person_id,network_id\na1,"; !strings.HasPrefix(got, want) || strings.Count(got, "\n") != 2 {
		t.Errorf("assignments:\n%s\nwant one row for a1", got)
	}
	if st.AdsWritten != 1 || st.Persons != 1 || st.Duplicates != 1 {
		t.Errorf("written %d, persons %d, duplicates %d; want 1, 1, 1", st.AdsWritten, st.Persons, st.Duplicates)
	}
}
