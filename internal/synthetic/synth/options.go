package synth

import (
	"fmt"
	"math"
	"time"
)

// Options shape the corpus. Zero fields take the defaults of
// DefaultOptions; a negative share means none.
type Options struct {
	Seed    int64 `json:"seed"`
	Persons int   `json:"persons"` // default 600
	Ads     int   `json:"ads"`     // default 4,000; at least Persons
	// NetworkShare is the share of persons managed by an agency: 3–8
	// persons with different names and photos share an agency phone and a
	// text template (default 0.2).
	NetworkShare float64 `json:"network_share"`
	// PhoneChangeShare is the share of persons who change phone number
	// during the period, once or twice (default 0.3).
	PhoneChangeShare float64 `json:"phone_change_share"`
	// ObfuscateShare is the share of persons who often obfuscate their
	// number ("O7O…", spelled digits, keycaps) (default 0.35).
	ObfuscateShare float64 `json:"obfuscate_share"`
	// TouringShare is the share of independent persons advertising in
	// several cities in turn (default 0.25; agencies tour twice as often).
	TouringShare float64 `json:"touring_share"`
	// NoPhotoShare is the share of persons with no photos (default 0.08).
	NoPhotoShare float64 `json:"no_photo_share"`
	// StockImages photos are shared by StockShare of the persons, who are
	// otherwise unrelated (defaults 6 and 0.06).
	StockImages int     `json:"stock_images"`
	StockShare  float64 `json:"stock_share"`
	// NameVariantShare is the share of persons who sometimes write their
	// name differently ("Anna K.") (default 0.1).
	NameVariantShare float64 `json:"name_variant_share"`
	// BlankShare is the share of adverts posted blank: no name and no
	// photos, a short "new in town, call" text on the person's or the
	// agency's number (default none; the default corpus has none).
	BlankShare float64 `json:"blank_share"`
	// Style chooses how the corpus is built: StyleDefault ("") or
	// StyleVaried, a corpus built differently (varied.go). The default
	// corpus does not depend on the code of the other styles.
	Style string `json:"style,omitempty"`
	// Start and Days bound the posting times (defaults 2026-01-05, 90).
	Start time.Time `json:"start"`
	Days  int       `json:"days"`
	// Workers render images (default GOMAXPROCS); the output does not
	// depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the default corpus: 600 persons, 4,000 adverts.
func DefaultOptions() Options {
	return Options{
		Seed: 1, Persons: 600, Ads: 4000,
		NetworkShare: 0.2, PhoneChangeShare: 0.3, ObfuscateShare: 0.35,
		TouringShare: 0.25, NoPhotoShare: 0.08, StockImages: 6, StockShare: 0.06,
		NameVariantShare: 0.1,
		Start:            time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Days: 90,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	setI(&o.Persons, d.Persons)
	setI(&o.Ads, max(d.Ads, o.Persons))
	setI(&o.Days, d.Days)
	if o.StockImages == 0 {
		o.StockImages = d.StockImages
	} else if o.StockImages < 0 {
		o.StockImages = 0
	}
	setF(&o.NetworkShare, d.NetworkShare)
	setF(&o.PhoneChangeShare, d.PhoneChangeShare)
	setF(&o.ObfuscateShare, d.ObfuscateShare)
	setF(&o.TouringShare, d.TouringShare)
	setF(&o.NoPhotoShare, d.NoPhotoShare)
	setF(&o.StockShare, d.StockShare)
	setF(&o.NameVariantShare, d.NameVariantShare)
	setF(&o.BlankShare, d.BlankShare)
	if o.Start.IsZero() {
		o.Start = d.Start
	}
	return o
}

// period is the length of the posting window.
func (o Options) period() time.Duration { return time.Duration(o.Days) * 24 * time.Hour }

// Validate checks the options after defaults are applied.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Persons < 1:
		return fmt.Errorf("persons: %d, want at least 1", o.Persons)
	case o.Ads < o.Persons:
		return fmt.Errorf("ads: %d, want at least persons (%d)", o.Ads, o.Persons)
	case o.Days < 1:
		return fmt.Errorf("days: %d, want at least 1", o.Days)
	case o.Style != StyleDefault && o.Style != StyleVaried:
		return fmt.Errorf("style: %q, want %q or %q", o.Style, StyleDefault, StyleVaried)
	}
	for name, v := range map[string]float64{
		"network_share": o.NetworkShare, "phone_change_share": o.PhoneChangeShare,
		"obfuscate_share": o.ObfuscateShare, "touring_share": o.TouringShare,
		"no_photo_share": o.NoPhotoShare, "stock_share": o.StockShare,
		"name_variant_share": o.NameVariantShare, "blank_share": o.BlankShare,
	} {
		if v > 1 || math.IsNaN(v) {
			return fmt.Errorf("%s: %g, want at most 1", name, v)
		}
	}
	return nil
}
