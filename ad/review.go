package ad

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReviewSchemaVersion is the version of the review record (docs/FORMAT-reviews.md).
// Readers accept records without "v" as version 1 and refuse newer ones.
const ReviewSchemaVersion = 1

// AuthorPrefix starts the keyed-HMAC pseudonym of a review's author handle:
// "author:<32 hex>". The pseudonym is taken over the forum (arena) and the
// handle, so one handle on two forums gives two unrelated pseudonyms: a
// reviewer is never linked across forums by handle.
const AuthorPrefix = "author:"

// Review is one post of a buyer review forum (an arena of kind reviews):
// a buyer's report of a person met, with the references it carries to that
// person. The crawler fills it from the arena config and pseudonymises it
// before it is stored: Author is a pseudonym, Phones is empty, and the
// numbers, e-mail addresses and messaging handles in Text are replaced by
// "[tel]", "[email]", "[handle]" with their pseudonyms in Contacts.
type Review struct {
	V int `json:"v,omitempty"`
	// ID is ReviewID(arena, thread, post): stable across crawls.
	ID    string `json:"id"`
	Arena string `json:"arena"`
	// Thread is the forum's own thread key (detail.match's capture group);
	// Post the post's own id (reviews.fields.id) or, when the forum shows
	// none, "p<page URL>#<position>".
	Thread string `json:"thread"`
	Post   string `json:"post"`
	// URL is the canonical URL of the thread page the post was read on.
	URL       string    `json:"url,omitempty"`
	FetchedAt time.Time `json:"fetched_at,omitzero"`
	PostedAt  time.Time `json:"posted_at,omitzero"`
	// Author is the pseudonym of the author's handle (AuthorPrefix);
	// empty when the post shows none.
	Author string `json:"author,omitempty"`
	// Title is the thread's title; Text the post's text, contacts replaced.
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"`
	// Refs are the references to the reviewed person the post carries
	// (or its thread, when the post itself names none).
	Refs ReviewRefs `json:"refs,omitzero"`
	// Phones holds raw phone strings only between extraction and
	// pseudonymisation; it is never stored, published or logged.
	Phones []string `json:"phones,omitempty"`
}

// ReviewRefs are what a review says about who was reviewed.
type ReviewRefs struct {
	// AdvertURLs are canonical URLs of adverts the review links to.
	AdvertURLs []string `json:"advert_urls,omitempty"`
	// AdvertIDs are advert ids (ad.ContentID of the advert arena and the
	// key the review quotes), as the advert record carries them.
	AdvertIDs []string `json:"advert_ids,omitempty"`
	// Contacts are keyed-HMAC pseudonyms of the contacts the review gives
	// (tel:, email:, handle:), as in ad.Ad.Contacts.
	Contacts []string `json:"contacts,omitempty"`
	// Name and City are the reviewed person's name and city as written:
	// weak evidence only (docs/FORMAT-reviews.md).
	Name   string `json:"name,omitempty"`
	City   string `json:"city,omitempty"`
	Region string `json:"region,omitempty"`
}

// IsZero reports whether the review carries no reference.
func (r ReviewRefs) IsZero() bool {
	return len(r.AdvertURLs) == 0 && len(r.AdvertIDs) == 0 && len(r.Contacts) == 0 && r.Name == "" && r.City == "" && r.Region == ""
}

// Time returns the review's time for period grouping: PostedAt when known,
// otherwise FetchedAt.
func (r *Review) Time() time.Time {
	if !r.PostedAt.IsZero() {
		return r.PostedAt
	}
	return r.FetchedAt
}

// ReviewID derives the stable id of a post from its forum, thread and post
// key: "<arena>-r<16 hex>", so a post read twice (or on a resumed crawl) is
// stored once.
func ReviewID(arena, thread, post string) string {
	id := ContentID(arena, "review\x00"+thread+"\x00"+post)
	return arena + "-r" + strings.TrimPrefix(id, arena+"-")
}

// ErrBadReview is returned by CheckReview for a record that may not be stored.
var ErrBadReview = errors.New("bad review")

// CheckReview returns nil for a review that may be stored: a valid id, an
// arena, a version this program reads, no raw phones and an author that is
// a pseudonym (or empty).
func CheckReview(r *Review) error {
	switch {
	case r == nil:
		return fmt.Errorf("%w: nil", ErrBadReview)
	case CheckID(r.ID) != nil:
		return fmt.Errorf("%w: %v", ErrBadReview, CheckID(r.ID))
	case r.Arena == "":
		return fmt.Errorf("%w %s: no arena", ErrBadReview, r.ID)
	case r.V > ReviewSchemaVersion:
		return fmt.Errorf("%w %s: version %d is newer than this program reads (%d)", ErrBadReview, r.ID, r.V, ReviewSchemaVersion)
	case len(r.Phones) > 0:
		return fmt.Errorf("%w %s: raw phones not pseudonymised", ErrBadReview, r.ID)
	case r.Author != "" && !strings.HasPrefix(r.Author, AuthorPrefix):
		return fmt.Errorf("%w %s: author is not a pseudonym", ErrBadReview, r.ID)
	}
	return nil
}
