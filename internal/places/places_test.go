package places_test

import (
	"testing"

	"adcensus/internal/places"
)

func TestKommunerList(t *testing.T) {
	ks := places.Kommuner()
	if got, want := len(ks), 290; got != want {
		t.Fatalf("%d kommuner, want %d", got, want)
	}
	lan := map[string]int{}
	for _, k := range ks {
		lan[k.Lan]++
	}
	if got, want := len(lan), 21; got != want {
		t.Fatalf("%d län, want %d: %v", got, want, lan)
	}
	for l, want := range map[string]int{"Stockholms län": 26, "Skåne län": 33, "Västra Götalands län": 49, "Gotlands län": 1, "Norrbottens län": 14} {
		if lan[l] != want {
			t.Errorf("%s has %d kommuner, want %d", l, lan[l], want)
		}
	}
	// Every kommun finds itself.
	for _, k := range ks {
		if got := places.RegionOf(k.Kommun); got != k.Lan {
			t.Errorf("RegionOf(%q) = %q, want %q", k.Kommun, got, k.Lan)
		}
	}
}

func TestRegionOf(t *testing.T) {
	for _, tc := range []struct{ city, want string }{
		{"Göteborg", "Västra Götalands län"},
		{"Gothenburg", "Västra Götalands län"},
		{"GOTEBORG", "Västra Götalands län"},
		{"Goeteborg", "Västra Götalands län"},
		{"Umeå", "Västerbottens län"},
		{"umea", "Västerbottens län"},
		{"Gotland", "Gotlands län"},
		{"Visby", "Gotlands län"},
		{"Malmo", "Skåne län"},
		{"Malmö stad", "Skåne län"},
		{"Stockholms stad", "Stockholms län"},
		{"Södermalm, Stockholm", "Stockholms län"},
		{"Upplands Bro", "Stockholms län"},
		{"malung salen", "Dalarnas län"},
		{"Örebro", "Örebro län"},
		{"Habo", "Jönköpings län"},
		{"Håbo", "Uppsala län"},
		{"Kiruna kommun", "Norrbottens län"},
		{"Oslo", ""},
		{"", ""},
	} {
		if got := places.RegionOf(tc.city); got != tc.want {
			t.Errorf("RegionOf(%q) = %q, want %q", tc.city, got, tc.want)
		}
	}
}

func TestNormaliseRegion(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Skåne", "Skåne län"},
		{"skane lan", "Skåne län"},
		{"Västra Götaland", "Västra Götalands län"},
		{"Stockholms län", "Stockholms län"},
		{"Nordland", "Nordland"},
	} {
		if got := places.NormaliseRegion(tc.in); got != tc.want {
			t.Errorf("NormaliseRegion(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
