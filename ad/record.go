package ad

import (
	"fmt"
	"strconv"
	"strings"
)

// Fingerprinted is an advert after the fingerprint stage: the pseudonymised
// advert plus everything the cluster stage compares. It is what flows on the
// subject adcensus.fingerprints.
type Fingerprinted struct {
	Ad Ad `json:"ad"`
	// Contacts are keyed-HMAC pseudonyms of every contact found in the
	// advert's fields and text, "tel:<hex>", "email:<hex>",
	// "handle:<service>:<hex>", sorted, unique.
	Contacts []string `json:"contacts,omitempty"`
	// ContactCountries are the country calling codes ("+46") of the phone
	// contacts, sorted, unique.
	ContactCountries []string `json:"contact_countries,omitempty"`
	// Name is the advertised name, normalised (lower case, folded spaces).
	Name string `json:"name,omitempty"`
	// Images are the fingerprints of the advert's images that could be
	// hashed; images that failed are listed in Problems.
	Images []ImageFP `json:"images,omitempty"`
	// TextMinHash is the MinHash signature of title and body for
	// near-duplicate texts, "mh128x16:<base64url>" (textsig.Parse);
	// empty for a text without words and in records written before it
	// existed. (Those records may carry "text_sig", a SimHash nothing
	// reads; it is ignored.)
	TextMinHash string `json:"text_minhash,omitempty"`
	// Problems lists what could not be used, with a reason each (for
	// example an undecodable image). The advert still flows on.
	Problems []string `json:"problems,omitempty"`
}

// Assignment places one advert in a person and a network.
type Assignment struct {
	AdID      string `json:"ad_id"`
	PersonID  string `json:"person_id"`
	NetworkID string `json:"network_id"`
	// Version orders assignments of one advert: a higher version is newer
	// (the stream sequence of the assignments message that carried it), so
	// a store that sees them out of order, after a redelivery, keeps the
	// newest. 0 means unversioned: applied in the order given.
	Version uint64 `json:"version,omitempty"`
}

// Assignments is the message on the subject adcensus.assignments: the
// assignments that changed when the cluster stage took in one advert.
type Assignments struct {
	Cause   string       `json:"cause"` // the advert id whose arrival caused the change
	Changed []Assignment `json:"changed"`
}

// ParseHashList parses a hash list value of an ImageFP (kinds holding
// several hashes, such as "phash_centres"): n 64-bit hashes of 16 hex digits
// each, concatenated.
func ParseHashList(s string, n int) ([]uint64, error) {
	if len(s) != 16*n {
		return nil, fmt.Errorf("hash list of %d hex digits, want %d", len(s), 16*n)
	}
	out := make([]uint64, n)
	for i := range out {
		v, err := strconv.ParseUint(s[16*i:16*i+16], 16, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Kinds of the problems in Fingerprinted.Problems, for counting. Every
// problem string starts with its kind's word (a phones entry with
// "phones[i]").
const (
	ProblemImage = "image" // an image that could not be loaded, decoded or hashed
	ProblemAge   = "age"   // an absurd age, dropped
	ProblemPhone = "phone" // a phones entry that is no phone number
	ProblemText  = "text"  // no words in title and body: no text signature
	ProblemOther = "other"
	// ProblemField (lenient.go): a field of another type that could not
	// be read, dropped.
)

// ProblemKind returns the kind of a problem string of Fingerprinted.Problems.
func ProblemKind(p string) string {
	word, _, _ := strings.Cut(p, " ")
	switch {
	case word == ProblemImage, word == ProblemAge, word == ProblemText, word == ProblemField:
		return word
	case strings.HasPrefix(word, "phones["):
		return ProblemPhone
	}
	return ProblemOther
}
