// Package index is the search and counting stage of adcensus: it holds the
// indexed advert document (Doc), the search and count types (Query, Result,
// CountRow) and the Store interface the rest of the program uses. The
// technology lives in an adapter subpackage (index/bleve); this package has
// no I/O except the count writers (WriteCountsCSV, WriteCountsJSON).
//
// Every Store is a projection of the stream: it can be deleted and rebuilt
// by replaying adverts and assignments, and Apply is idempotent.
package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"adcensus/ad"
)

// Errors returned by Store implementations; callers branch with errors.Is.
var (
	// ErrBadQuery is returned by Search for a malformed query text, an
	// unknown facet field or a negative From.
	ErrBadQuery = errors.New("bad query")
	// ErrBadDimension is returned by Counts and NewCounter for an unknown or
	// repeated dimension.
	ErrBadDimension = errors.New("bad dimension")
	// ErrBadRecord is returned by Apply for an advert without id or an
	// assignment without ad id; nothing of that call is applied.
	ErrBadRecord = errors.New("bad record")
	// ErrTooBroad is returned by Search with GroupByPerson when the query
	// matches more than MaxGroupScan adverts.
	ErrTooBroad = errors.New("query too broad to group")
)

// Search limits.
const (
	DefaultSize      = 10
	MaxSize          = 1000
	DefaultFacetSize = 10
	// MaxGroupScan is the most matching adverts Search groups by person.
	MaxGroupScan = 100_000
	// MaxWindow bounds From+Size: deeper pages are refused (ErrBadQuery)
	// rather than collected; narrow the query instead.
	MaxWindow = 10_000
	// MaxFacetSize is the most terms a facet may ask for.
	MaxFacetSize = 1000
	// MaxQueryText is the longest query text, in bytes.
	MaxQueryText = 4096
	// MaxQueryTerms is the most terms (clauses) a query may have.
	MaxQueryTerms = 64
	// MaxExpensiveTerms is the most fuzzy, wildcard, prefix and regexp
	// terms a query may have: each is expanded over the term dictionary.
	MaxExpensiveTerms = 8
	// MaxFuzziness is the largest edit distance of a fuzzy term (term~2).
	MaxFuzziness = 2
)

// CheckWindow returns ErrBadQuery when the page asked for (From, Size,
// FacetSize) is negative or outside MaxWindow or MaxFacetSize. Size above
// MaxSize is refused too; Size 0 means DefaultSize.
func (q Query) CheckWindow() error {
	switch {
	case q.From < 0:
		return fmt.Errorf("%w: from %d is negative", ErrBadQuery, q.From)
	case q.Size < 0:
		return fmt.Errorf("%w: size %d is negative", ErrBadQuery, q.Size)
	case q.Size > MaxSize:
		return fmt.Errorf("%w: size %d is more than %d", ErrBadQuery, q.Size, MaxSize)
	case q.FacetSize < 0 || q.FacetSize > MaxFacetSize:
		return fmt.Errorf("%w: facet size %d is not between 1 and %d", ErrBadQuery, q.FacetSize, MaxFacetSize)
	case q.Scan && q.From > math.MaxInt32:
		return fmt.Errorf("%w: from %d is too large", ErrBadQuery, q.From)
	case !q.Scan && q.From > MaxWindow-max(q.Size, DefaultSize):
		return fmt.Errorf("%w: from %d with size %d goes past result %d: narrow the query instead of paging deeper", ErrBadQuery, q.From, max(q.Size, DefaultSize), MaxWindow)
	}
	return nil
}

// Store is the index as the rest of the program sees it. All methods are safe
// for concurrent use; ctx bounds only the call it is passed to.
type Store interface {
	// Apply indexes adverts and assignments in one atomic step. It is
	// idempotent, and an assignment may arrive before or after its advert.
	// It returns ErrBadRecord (and applies nothing) for a record without id.
	Apply(ctx context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error
	// Search runs a query; ErrBadQuery for a malformed one, ErrTooBroad
	// when grouping would scan more than MaxGroupScan adverts.
	Search(ctx context.Context, q Query) (*Result, error)
	// Counts returns distinct adverts and persons per group of the
	// dimensions in by, then a total row; ErrBadDimension for an unknown
	// dimension.
	Counts(ctx context.Context, by []string, opt CountOptions) ([]CountRow, error)
	// Stats returns the number of adverts, persons and networks indexed.
	Stats(ctx context.Context) (ads, persons, networks int, err error)
	// ForEachDoc calls fn for every stored document in advert-id order and
	// stops at the first error fn returns; fn must not write to the index.
	ForEachDoc(ctx context.Context, fn func(*Doc) error) error
	// Doc returns the stored document of an advert, and false if unknown.
	Doc(ctx context.Context, id string) (*Doc, bool, error)
	// ForEachFact calls fn for every advert, in advert-id order, with a
	// Doc holding only its count fields (ID, Arena, Week, Month, Region,
	// City, Gender, PersonID, NetworkID, PossibleMinor), without decoding
	// the full document; the Doc is reused between calls, so fn must not
	// keep it. It stops at the first error fn returns; fn must not write
	// to the index.
	ForEachFact(ctx context.Context, fn func(*Doc) error) error
	// Facts returns the facts of the person (field FieldPersonID) or the
	// network (FieldNetworkID) with the given id over all of its adverts;
	// Facts.Ads is 0 when it has none. It returns ErrBadQuery for another
	// field or an empty id, and ErrTooBroad when more than MaxGroupScan
	// adverts have the id.
	Facts(ctx context.Context, field, id string) (*Facts, error)
	// Close releases the store's files.
	Close() error
}

// Query is a search. Text uses the bleve query-string syntax (see
// docs/SEARCH.md); empty Text matches every advert.
type Query struct {
	Text string
	// Size is the number of hits (persons with GroupByPerson) to return:
	// 0 means DefaultSize; more than MaxSize is refused (ErrBadQuery).
	Size int
	// From is the number of hits to skip; From+Size may not pass MaxWindow
	// (see CheckWindow) unless Scan is set.
	From int
	// Scan lifts MaxWindow for a program that pages through every match
	// (patterns); requests from clients never set it.
	Scan bool
	// Facets names keyword fields (see FacetFields) to count terms of,
	// over all matching adverts; FacetSize terms each (0: DefaultFacetSize).
	Facets    []string
	FacetSize int
	// GroupByPerson returns one hit per person, best score first, with the
	// ids of that person's matching adverts in AdIDs; Total counts persons.
	GroupByPerson bool
	// Only, when not nil, restricts the search to these advert ids (the
	// adverts of a period, census.PeriodSource); empty matches nothing.
	Only []string
}

// Result is the answer to a Query.
type Result struct {
	// Total is the number of matching adverts, or of persons with
	// GroupByPerson.
	Total  uint64
	Hits   []Hit
	Facets map[string][]FacetCount
}

// Hit is one matching advert, or with GroupByPerson the best-scoring advert
// of one person with AdIDs listing all that person's matching adverts.
type Hit struct {
	ID        string    `json:"id"`
	Arena     string    `json:"arena"`
	Title     string    `json:"title,omitempty"`
	City      string    `json:"city,omitempty"`
	PersonID  string    `json:"person_id,omitempty"`
	NetworkID string    `json:"network_id,omitempty"`
	PostedAt  time.Time `json:"posted_at,omitzero"`
	Score     float64   `json:"score"`
	AdIDs     []string  `json:"ad_ids,omitempty"`
}

// FacetCount is the number of matching adverts with one term of a field.
type FacetCount struct {
	Term  string `json:"term"`
	Count int    `json:"count"`
}

// Field names of the index (see docs/SEARCH.md).
const (
	FieldID        = "id"
	FieldArena     = "arena"
	FieldTitle     = "title"
	FieldBody      = "body"
	FieldPlace     = "place"
	FieldAge       = "age"
	FieldCity      = "city"
	FieldRegion    = "region"
	FieldGender    = "gender"
	FieldContacts  = "contacts"
	FieldLang      = "lang"
	FieldPostedAt  = "posted_at"
	FieldFetchedAt = "fetched_at"
	FieldWeek      = "week"
	FieldMonth     = "month"
	FieldPersonID  = "person_id"
	FieldNetworkID = "network_id"
	// FieldContactCountries holds the calling codes ("+46") of the
	// advert's phone contacts (Doc.ContactCountries).
	FieldContactCountries = "contact_countries"
	// FieldPossibleMinor is "true" for an advert with a sign of youth
	// (Doc.PossibleMinor) and absent otherwise.
	FieldPossibleMinor = "possible_minor"
)

// FacetFields returns the keyword fields a Query may facet on.
func FacetFields() []string {
	return []string{
		FieldID, FieldArena, FieldCity, FieldRegion, FieldGender, FieldPersonID,
		FieldNetworkID, FieldLang, FieldContacts, FieldWeek, FieldMonth,
		FieldContactCountries, FieldPossibleMinor,
	}
}

// TextFields returns the analysed text fields; a term without a field
// searches all of them.
func TextFields() []string { return []string{FieldTitle, FieldBody, FieldPlace} }
