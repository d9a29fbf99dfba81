package ad

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Sighting records that a crawl run found an advert live: every advert a
// run fetches gets one, whether or not its content changed. Hash is the
// advert's ContentHash; the advert itself is published only when the hash
// differs from the last one the crawler published, so an unchanged advert
// is never fingerprinted again.
type Sighting struct {
	AdID  string    `json:"ad"`
	Arena string    `json:"arena"`
	Run   string    `json:"run"`
	At    time.Time `json:"at"`
	Hash  string    `json:"hash"`
	// Changed is true when the advert was published with this sighting:
	// first seen, or its content changed since the last sighting.
	Changed bool `json:"changed,omitempty"`
}

// Empty-field names of a RunEnd's Empty counts.
const (
	FieldTitle    = "title"
	FieldBody     = "body"
	FieldName     = "name"
	FieldAge      = "age"
	FieldCity     = "city"
	FieldGender   = "gender"
	FieldContacts = "contacts"
	FieldImages   = "images"
	FieldPosted   = "posted_at"
)

// EmptyFields returns the advert fields (Field*) that are empty, in a
// fixed order: what a run whose selectors broke leaves out.
func EmptyFields(a *Ad) []string {
	var out []string
	add := func(empty bool, name string) {
		if empty {
			out = append(out, name)
		}
	}
	add(a.Title == "", FieldTitle)
	add(a.Body == "", FieldBody)
	add(a.Name == "", FieldName)
	add(a.Age == 0, FieldAge)
	add(a.City == "", FieldCity)
	add(a.Gender == "", FieldGender)
	add(len(a.Contacts) == 0 && len(a.Phones) == 0, FieldContacts)
	add(len(a.Images) == 0, FieldImages)
	add(a.PostedAt.IsZero(), FieldPosted)
	return out
}

// RunEnd closes one crawl run of one arena on the stream. Complete means
// the run walked its listing fully (every listing and sitemap page fetched
// and parsed, no page limit reached, not cancelled): then every advert of
// the arena it did not sight, and whose page did not fail (Failed), is gone
// at this run.
type RunEnd struct {
	Run      string    `json:"run"`
	Arena    string    `json:"arena"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Status   string    `json:"status"`
	Complete bool      `json:"complete"`
	// Why says what made an incomplete run incomplete.
	Why string `json:"why,omitempty"`
	// Sighted is the number of adverts sighted; Changed how many of them
	// were published (new or changed content).
	Sighted int `json:"sighted"`
	Changed int `json:"changed"`
	// Failed are the ids of adverts whose page failed in this run: they
	// are not marked gone.
	Failed []string `json:"failed,omitempty"`
	// Empty counts, per field (Field*), the sighted adverts that had it
	// empty: a run whose adverts dropped tells which fields came back
	// empty.
	Empty map[string]int `json:"empty,omitempty"`
	// Pages and Errors are the run's page counts.
	Pages  int `json:"pages"`
	Errors int `json:"errors,omitempty"`
}

// ContentHash is the hash of what an advert says: title, body, name, age,
// city, region, gender, contacts (pseudonyms), contact countries, the
// image hashes (or, for images not hashed, their URLs). It leaves out
// when and from which URL it was fetched and the posting date (a bump is
// not a change), so the same advert fetched again hashes the same. Contacts must be pseudonymised
// first (the crawler hashes after Pseudonymiser.Apply).
func ContentHash(a *Ad) string {
	type img struct {
		Src    string            `json:"s,omitempty"`
		Hashes map[string]string `json:"h,omitempty"`
	}
	c := struct {
		Title, Body, Name string
		Age               int
		City, Region, Sex string
		Contacts, Country []string
		Images            []img
	}{Title: a.Title, Body: a.Body, Name: a.Name, Age: a.Age, City: a.City, Region: a.Region, Sex: a.Gender,
		Contacts: slices.Sorted(slices.Values(a.Contacts)), Country: a.ContactCountries}
	for _, fp := range a.ImageFPs {
		if len(fp.Hashes) > 0 {
			c.Images = append(c.Images, img{Hashes: fp.Hashes})
		} else {
			c.Images = append(c.Images, img{Src: fp.Src})
		}
	}
	if len(a.ImageFPs) == 0 {
		for _, s := range a.Images {
			c.Images = append(c.Images, img{Src: s})
		}
	}
	b, _ := json.Marshal(c) // cannot fail: strings, ints, times
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// versionSep separates an advert id from its version in the id the
// cluster stage gives a changed advert.
const versionSep = "@v"

// VersionedID is the id under which the cluster stage places version v of
// advert id: id itself when v is empty or not 12 lower-case hex digits (a
// version from an input file is ignored), or when the result would be
// longer than MaxIDLen.
func VersionedID(id, v string) string {
	if !validVersion(v) || len(id)+len(versionSep)+len(v) > MaxIDLen {
		return id
	}
	return id + versionSep + v
}

func validVersion(v string) bool {
	if len(v) != 12 {
		return false
	}
	for _, r := range v {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// SplitVersion splits an id made by VersionedID into the advert id and the
// version; an id without a version suffix (12 lower-case hex digits after
// "@v") is returned whole with version "".
func SplitVersion(id string) (base, v string) {
	i := strings.LastIndex(id, versionSep)
	if i < 0 || !validVersion(id[i+len(versionSep):]) {
		return id, ""
	}
	return id[:i], id[i+len(versionSep):]
}
