package dedup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/countci"
)

// With Report, Offline computes the count's interval from the evidence the
// rules declined: two adverts of one true person with the same name, city
// and age but no contact and different texts are two persons for the rules
// and one candidate link; with a calibration that says such links are
// always true, the interval is the true count.
func TestOfflineCountInterval(t *testing.T) {
	var in bytes.Buffer
	add := func(a ad.Ad) {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(b, '\n'))
	}
	add(ad.Ad{ID: "a1", Arena: "t", Name: "Anna", City: "Lund", Age: 25, Body: "Hello from the south, nice to meet you"})
	add(ad.Ad{ID: "a2", Arena: "u", Name: "Anna", City: "Lund", Age: 25, Body: "New pictures this week and a quiet flat"})
	add(ad.Ad{ID: "a3", Arena: "t", Name: "Bea", City: "Umeå", Phones: []string{"070-111 22 33"}, Body: "Bea here"})
	add(ad.Ad{ID: "a4", Arena: "t", Name: "Cia", City: "Umeå", Phones: []string{"070-111 22 33"}, Body: "Cia here"})
	truth := map[string]string{"a1": "T1", "a2": "T1", "a3": "T3", "a4": "T4"}
	cal := &countci.Calibration{Source: "test", Rates: map[string]countci.Rate{
		countci.KindNameCityAge: {Pairs: 1000, True: 1000}, countci.KindContact: {Pairs: 1000, True: 0},
	}, Residual: []float64{0}}
	var out bytes.Buffer
	st, err := dedup.OfflineWith(context.Background(), &in, t.TempDir(), newPseudo(), t.TempDir(), &out, nil,
		dedup.OfflineOptions{Report: true, Truth: truth, Calibration: cal})
	if err != nil {
		t.Fatal(err)
	}
	if st.Persons != 4 || st.Count == nil {
		t.Fatalf("persons %d, count %+v", st.Persons, st.Count)
	}
	c := st.Count
	if c.Evidence[countci.KindNameCityAge] != 1 || c.Evidence[countci.KindContact] != 1 || len(c.Evidence) != 2 {
		t.Errorf("evidence %v", c.Evidence)
	}
	if c.Interval.Estimate != 3 || c.Interval.Low != 3 || c.Interval.High != 3 || c.Interval.Persons != 4 {
		t.Errorf("interval %+v", c.Interval)
	}
	if c.Labelled == nil || c.Labelled.TruePersons != 3 || len(c.Labelled.Links) != 2 {
		t.Fatalf("labelled %+v", c.Labelled)
	}
	for _, l := range c.Labelled.Links {
		if l.True != (l.Kind == countci.KindNameCityAge) {
			t.Errorf("link %+v", l)
		}
	}
	if c.Calibration != "test" {
		t.Errorf("calibration %q", c.Calibration)
	}
}
