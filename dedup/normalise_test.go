package dedup_test

import (
	"context"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/internal/imagehash"
)

func TestNormaliseCity(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Göteborg", "Göteborg"},
		{"Gothenburg", "Göteborg"},
		{" GOTEBORG ", "Göteborg"},
		{"Go\u0308teborg", "Göteborg"}, // decomposed ö
		{"Södermalm, Stockholm", "Stockholm"},
		{"Stockholms stad", "Stockholm"},
		{"Visby", "Gotland"}, // a town: its kommun
		{"malmo", "Malmö"},
		{"Oslo", "Oslo"}, // not Swedish: kept
		{"  Gamla   stan\u00a0", "Gamla stan"},
		{"", ""},
	} {
		if got := dedup.NormaliseCity(tc.in); got != tc.want {
			t.Errorf("NormaliseCity(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormaliseGender(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Kvinna", "kvinna"},
		{"tjej", "kvinna"},
		{"Female", "kvinna"},
		{"KILLE", "man"},
		{"Male", "man"},
		{"Transperson", "trans"},
		{"TS", "trans"},
		{"Couple", "par"},
		{" Icke-binär ", "icke-binär"}, // unknown: kept, lower case
		{"", ""},
	} {
		if got := dedup.NormaliseGender(tc.in); got != tc.want {
			t.Errorf("NormaliseGender(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The fingerprint stage writes the canonical city, region and gender into
// the advert it passes on.
func TestProcessNormalisesPlaceAndGender(t *testing.T) {
	f := dedup.NewFingerprinter(newPseudo(), nil, imagehash.Limits{})
	for _, tc := range []struct {
		in                   ad.Ad
		city, region, gender string
	}{
		{ad.Ad{ID: "n1", Body: "Hej", City: "Gothenburg", Gender: "Female"}, "Göteborg", "Västra Götalands län", "kvinna"},
		{ad.Ad{ID: "n2", Body: "Hej", City: "Visby", Region: "gotland", Gender: "tjej"}, "Gotland", "Gotlands län", "kvinna"},
		{ad.Ad{ID: "n3", Body: "Hej", City: "Oslo", Gender: "Kille"}, "Oslo", "", "man"},
	} {
		fp, err := f.Process(context.Background(), &tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if fp.Ad.City != tc.city || fp.Ad.Region != tc.region || fp.Ad.Gender != tc.gender {
			t.Errorf("%s: city %q region %q gender %q, want %q %q %q", tc.in.ID, fp.Ad.City, fp.Ad.Region, fp.Ad.Gender, tc.city, tc.region, tc.gender)
		}
	}
}
