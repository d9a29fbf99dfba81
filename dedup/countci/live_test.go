package countci

import (
	"path/filepath"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
)

// FromState reads the names and contacts from the cluster state as it is
// now: two adverts with the same name, city and age and different
// contacts are two persons and one candidate link; once an advert with
// both contacts and the same name joins them (a re-clustering of the
// first two), the state's persons are one and the evidence is gone. An
// advert the state does not hold keeps what the caller gave.
func TestFromStateFollowsTheState(t *testing.T) {
	cl, err := cluster.Open(filepath.Join(t.TempDir(), "cluster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fp := func(id string, contacts ...string) *ad.Fingerprinted {
		return &ad.Fingerprinted{Ad: ad.Ad{ID: id, Arena: "t", Name: "Anna", City: "Lund", Age: 25}, Name: "anna", Contacts: contacts}
	}
	if _, err := cl.AddBatch([]*ad.Fingerprinted{fp("a1", "tel:1111111111111111"), fp("a2", "tel:2222222222222222")}); err != nil {
		t.Fatal(err)
	}
	cal := &Calibration{Source: "test", Rates: map[string]Rate{KindNameCityAge: {Pairs: 1000, True: 1000}}, Residual: []float64{0}}
	adverts := func(ids ...string) []Advert {
		var out []Advert
		for _, id := range ids {
			as, ok, err := cl.Assignment(id)
			if err != nil {
				t.Fatal(err)
			}
			p := "ad:" + id
			if ok {
				p = as.PersonID
			}
			out = append(out, Advert{ID: id, Person: p, City: "Lund", Age: 25})
		}
		return out
	}
	iv, ev, err := FromState(cl, adverts("a2", "a1"), cal)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Persons != 2 || ev.Counts[KindNameCityAge] != 1 || iv.Low != 1 || iv.High != 1 {
		t.Fatalf("before: interval %+v, evidence %v", iv, ev.Counts)
	}
	// An advert unknown to the state, with the same name, city and age:
	// the caller's name counts.
	ads := adverts("a1", "a2", "x9")
	ads[2].Name = "anna"
	iv, ev, err = FromState(cl, ads, cal)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Persons != 3 || ev.Counts[KindNameCityAge] != 3 || iv.High != 1 {
		t.Fatalf("with an unknown advert: interval %+v, evidence %v", iv, ev.Counts)
	}

	if _, err := cl.AddBatch([]*ad.Fingerprinted{fp("a3", "tel:1111111111111111", "tel:2222222222222222")}); err != nil {
		t.Fatal(err)
	}
	iv, ev, err = FromState(cl, adverts("a1", "a2", "a3"), cal)
	if err != nil {
		t.Fatal(err)
	}
	if iv.Persons != 1 || len(ev.Links) != 0 || iv.Low != 1 || iv.High != 1 {
		t.Fatalf("after the join: interval %+v, evidence %v", iv, ev.Counts)
	}
}
