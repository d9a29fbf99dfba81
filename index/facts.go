package index

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Facts are what the index knows of one person or one network over all of
// its adverts (Store.Facts). Contacts are keyed-HMAC pseudonyms only, as in
// Doc; a raw number is never among them.
type Facts struct {
	// Ads is the number of adverts; Persons the distinct persons among
	// them (Doc.Person: 1 for a person, the network's size for a network).
	Ads     int `json:"ads"`
	Persons int `json:"persons"`
	// Arenas, Cities, Networks and Contacts count adverts per value, most
	// adverts first, ties by value. Cities holds the cities given (an
	// advert without one is left out), Networks the non-empty network ids.
	Arenas   []FacetCount `json:"arenas"`
	Cities   []FacetCount `json:"cities"`
	Networks []FacetCount `json:"networks"`
	Contacts []FacetCount `json:"contacts"`
	// Months counts adverts per month (Doc.Month, Swedish time), in month
	// order; MonthsActive is its length. Undated adverts are left out.
	Months       []FacetCount `json:"months"`
	MonthsActive int          `json:"months_active"`
	// FirstSeen and LastSeen are the earliest and latest advert time:
	// posted_at, or fetched_at for an advert without posted_at (the time
	// its week and month are taken from). Zero when no advert is dated.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// FactsBuilder gathers the Facts of the documents added to it. It is not
// safe for concurrent use.
type FactsBuilder struct {
	ads                    map[string]struct{}
	persons                map[string]struct{}
	arenas, cities, months map[string]int
	networks, contacts     map[string]int
	first, last            time.Time
}

// NewFactsBuilder returns an empty FactsBuilder.
func NewFactsBuilder() *FactsBuilder {
	return &FactsBuilder{
		ads: map[string]struct{}{}, persons: map[string]struct{}{},
		arenas: map[string]int{}, cities: map[string]int{}, months: map[string]int{},
		networks: map[string]int{}, contacts: map[string]int{},
	}
}

// Add counts one document; adding the same advert id again changes
// nothing. d may be reused by the caller after Add returns.
func (b *FactsBuilder) Add(d *Doc) {
	if _, ok := b.ads[d.ID]; ok {
		return
	}
	b.ads[d.ID] = struct{}{}
	b.persons[d.Person()] = struct{}{}
	b.arenas[d.Dimension(DimArena)]++
	if c := strings.TrimSpace(d.City); c != "" {
		b.cities[c]++
	}
	if d.NetworkID != "" {
		b.networks[d.NetworkID]++
	}
	for _, c := range slices.Compact(slices.Sorted(slices.Values(d.Contacts))) {
		b.contacts[c]++
	}
	if d.Month != "" {
		b.months[d.Month]++
	}
	t := d.PostedAt
	if t.IsZero() {
		t = d.FetchedAt
	}
	if !t.IsZero() {
		t = t.UTC()
		if b.first.IsZero() || t.Before(b.first) {
			b.first = t
		}
		if b.last.IsZero() || t.After(b.last) {
			b.last = t
		}
	}
}

// Facts returns the facts of the documents added so far.
func (b *FactsBuilder) Facts() *Facts {
	f := &Facts{
		Ads: len(b.ads), Persons: len(b.persons),
		Arenas: byCount(b.arenas), Cities: byCount(b.cities), Networks: byCount(b.networks),
		Contacts: byCount(b.contacts), Months: byTerm(b.months),
		FirstSeen: b.first, LastSeen: b.last,
	}
	f.MonthsActive = len(f.Months)
	return f
}

// byCount returns m's terms, most counted first, ties by term.
func byCount(m map[string]int) []FacetCount {
	out := byTerm(m)
	slices.SortStableFunc(out, func(a, b FacetCount) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// byTerm returns m's terms in term order (never nil).
func byTerm(m map[string]int) []FacetCount {
	out := make([]FacetCount, 0, len(m))
	for t, n := range m {
		out = append(out, FacetCount{Term: t, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int { return strings.Compare(a.Term, b.Term) })
	return out
}
