// Package ad holds the advert record that every stage of adcensus shares,
// and its public JSON Lines form (see docs/FORMAT-ads.md).
package ad

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SchemaVersion is the version of the JSON Lines advert record. It is written
// in the "v" field of every record; readers accept records without it as v1.
const SchemaVersion = 1

// Ad is one advert as published on an arena.
//
// Phones holds raw strings as shown on the page. It is only ever filled
// between extraction and pseudonymisation (or in a researcher's input file):
// the crawler replaces raw phones with keyed-HMAC pseudonyms in Contacts and
// clears Phones before anything is stored, published or logged.
type Ad struct {
	V         int       `json:"v,omitempty"`
	ID        string    `json:"id"`
	Arena     string    `json:"arena"`
	URL       string    `json:"url,omitempty"`
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	PostedAt  time.Time `json:"posted_at,omitzero"`
	Title     string    `json:"title,omitempty"`
	Body      string    `json:"body,omitempty"`
	Name      string    `json:"name,omitempty"`
	Age       int       `json:"age,omitempty"`
	City      string    `json:"city,omitempty"`
	Region    string    `json:"region,omitempty"`
	Gender    string    `json:"gender,omitempty"`
	Phones    []string  `json:"phones,omitempty"`
	Contacts  []string  `json:"contacts,omitempty"`
	// ContactCountries are the country calling codes ("+46", "+48") of the
	// phone contacts, sorted, unique: they identify no one.
	ContactCountries []string          `json:"contact_countries,omitempty"`
	Images           []string          `json:"images,omitempty"`
	ImageFPs         []ImageFP         `json:"image_fps,omitempty"`
	Attrs            map[string]string `json:"attrs,omitempty"`
	// Version is set by the crawler on an advert republished because its
	// content changed (the first 12 hex digits of its ad.ContentHash):
	// the cluster stage then places this version anew (VersionedID), so
	// a changed advert may change person. Empty for a first version.
	Version string `json:"version,omitempty"`
}

// ImageFP is the fingerprint of one advert image. Hashes maps a hash kind
// (for example "phash", "dhash") to its value in hex: hashes of different
// kinds or libraries are not comparable, so the kind travels with the value.
// Err is set, and Hashes empty, when the image could not be fetched or decoded.
type ImageFP struct {
	Src    string            `json:"src"`
	Hashes map[string]string `json:"hashes,omitempty"`
	Err    string            `json:"err,omitempty"`
}

// Time returns the advert's time for period grouping: PostedAt when known,
// otherwise FetchedAt.
func (a *Ad) Time() time.Time {
	if !a.PostedAt.IsZero() {
		return a.PostedAt
	}
	return a.FetchedAt
}

// ContentID derives a stable advert id from the arena and the arena's own
// advert key (an id taken from the URL, or the canonical URL). The same advert
// fetched twice gets the same id, so republishing never double-counts.
func ContentID(arena, key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(arena) + "\x00" + key))
	return arena + "-" + hex.EncodeToString(sum[:8])
}

// MaxIDLen is the longest advert id the stores accept.
const MaxIDLen = 1024

// ValidID reports whether id can identify an advert in every store: not
// empty, at most MaxIDLen bytes, valid UTF-8, no control characters.
func ValidID(id string) bool { return CheckID(id) == nil }

// CheckID returns nil for an id ValidID accepts, else an error saying why
// it is refused: "advert id invalid: empty".
func CheckID(id string) error {
	why := ""
	switch {
	case id == "":
		why = "empty"
	case len(id) > MaxIDLen:
		why = fmt.Sprintf("too long (%d bytes, at most %d)", len(id), MaxIDLen)
	case !utf8.ValidString(id):
		why = "not valid UTF-8"
	default:
		for i, r := range id {
			if unicode.IsControl(r) {
				why = fmt.Sprintf("control character %U at byte %d", r, i)
				break
			}
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("advert id invalid: %s", why)
}
