package crawler

import "adcensus/internal/places"

// Place is a Swedish municipality and its county (places.Place).
type Place = places.Place

// Kommuner returns the municipalities of Sweden with their county.
func Kommuner() []Place { return places.Kommuner() }

// LookupPlace finds the Swedish municipality a city name belongs to
// (places.Lookup).
func LookupPlace(city string) (Place, bool) { return places.Lookup(city) }

// RegionOf returns the län of a city name, or "" when it is not a known
// Swedish municipality (places.RegionOf).
func RegionOf(city string) string { return places.RegionOf(city) }

// NormaliseRegion returns the canonical name of a län, or s with its
// white space folded when it is not one (places.NormaliseRegion).
func NormaliseRegion(s string) string { return places.NormaliseRegion(s) }
