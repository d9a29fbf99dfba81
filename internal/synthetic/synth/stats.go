package synth

import (
	"strings"

	"adcensus/ad"
)

// Stats counts what Generate wrote.
type Stats struct {
	Ads     int `json:"ads"`
	Persons int `json:"persons"`
	// Networks counts the agencies (networks of 2 or more persons).
	// truth.csv gives every independent person a network of its own, so it
	// has TruthNetworks distinct network ids.
	Networks         int `json:"networks"`
	NetworkPersons   int `json:"network_persons"`
	TruthNetworks    int `json:"truth_networks"`
	Images           int `json:"images"`      // image files written
	BaseImages       int `json:"base_images"` // distinct photos before per-upload transforms, stock included
	StockImages      int `json:"stock_images"`
	ImageRefs        int `json:"image_refs"` // image entries over all adverts
	AdsWithoutImages int `json:"ads_without_images"`
	AdsWithPhones    int `json:"ads_with_phones"`   // adverts with a phones field
	AdsPhoneInText   int `json:"ads_phone_in_text"` // adverts with a number in the body
	Phones           int `json:"phones"`            // distinct numbers (own and agency)
	PhoneChangers    int `json:"phone_changers"`
	TouringPersons   int `json:"touring_persons"`
	NoPhotoPersons   int `json:"no_photo_persons"`
	StockPersons     int `json:"stock_persons"`
	// SharedNames counts names used by two or more persons.
	SharedNames int `json:"shared_names"`
	BlankAds    int `json:"blank_ads"` // adverts without name and photos (Options.BlankShare)
}

func (g *gen) stats(ads []*ad.Ad) Stats {
	st := Stats{Ads: len(ads), Persons: len(g.persons), Networks: len(g.nets)}
	phones := map[string]bool{}
	for _, nw := range g.nets {
		for _, p := range nw.phones {
			phones[p] = true
		}
	}
	names := map[string]int{}
	for _, p := range g.persons {
		if p.netIdx >= 0 {
			st.NetworkPersons++
		}
		for _, n := range p.phones {
			phones[n] = true
		}
		for _, n := range p.tourPhones {
			phones[n] = true
		}
		if len(p.switches) > 0 {
			st.PhoneChangers++
		}
		if len(p.tour) > 0 {
			st.TouringPersons++
		}
		if len(p.photos) == 0 && p.stock < 0 {
			st.NoPhotoPersons++
		}
		if p.stock >= 0 {
			st.StockPersons++
		}
		names[strings.ToLower(p.name)]++
	}
	for _, c := range names {
		if c > 1 {
			st.SharedNames++
		}
	}
	st.Phones = len(phones)
	st.AdsPhoneInText = g.phoneInText
	st.BlankAds = g.blankAds
	st.TruthNetworks = len(g.nets) + len(g.persons) - st.NetworkPersons
	for _, a := range ads {
		st.ImageRefs += len(a.Images)
		if len(a.Images) == 0 {
			st.AdsWithoutImages++
		}
		if len(a.Phones) > 0 {
			st.AdsWithPhones++
		}
	}
	return st
}
