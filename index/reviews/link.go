package reviews

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/internal/places"
)

// Evidence kinds, strongest first. The first three link a review to the
// person of an advert; name_city is weak evidence, reported separately and
// never counted as a reviewed person.
const (
	EvidenceAdvertURL = "advert_url" // the review links the advert
	EvidenceAdvertID  = "advert_id"  // the review quotes the advert's id
	EvidenceContact   = "contact"    // the same pseudonymised contact
	EvidenceNameCity  = "name_city"  // the same name and city within WeakWindow
)

// WeakWindow is how far apart a review and an advert with the same name
// and city may be in time for the weak name_city evidence.
const WeakWindow = 90 * 24 * time.Hour

// Evidence is one reason a review names a person.
type Evidence struct {
	Kind string `json:"kind"`
	// Ref is the review's reference: the advert URL or id, the contact's
	// pseudonym, or "name, city".
	Ref      string `json:"ref"`
	AdID     string `json:"ad_id"`
	PersonID string `json:"person_id"`
	Weak     bool   `json:"weak,omitempty"`
}

// Link is what the index says about whom a review reviews.
type Link struct {
	Review string `json:"review"`
	// Persons are the persons strong evidence names, sorted; Weak those
	// only weak evidence names (name + city + period), sorted.
	Persons  []string   `json:"persons,omitempty"`
	Weak     []string   `json:"weak,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Region is the review's region: its own reference's, else the region
	// of the first advert strong evidence names.
	Region string `json:"region,omitempty"`
}

// advert is what the linker keeps of an indexed advert.
type advert struct {
	id, person, region, month, week string
	at                              time.Time
}

// Linker links reviews to the persons of an index, as it was when the
// linker was built. It is safe for concurrent use once built.
type Linker struct {
	ads       map[string]*advert   // advert id →
	byURL     map[string][]*advert // normalised URL →
	byContact map[string][]*advert
	byName    map[string][]*advert // name \x00 kommun →
	// persons are the cells (month \x00 week \x00 region) each person
	// advertised in, for the share of advertised persons with a review.
	persons map[string]map[string]bool
	// counted memoises advertised by its arguments.
	mu      sync.Mutex
	counted map[string]int
}

// NewLinker reads every indexed advert once.
func NewLinker(ctx context.Context, idx index.Store) (*Linker, error) {
	l := &Linker{ads: map[string]*advert{}, byURL: map[string][]*advert{}, byContact: map[string][]*advert{},
		byName: map[string][]*advert{}, persons: map[string]map[string]bool{}, counted: map[string]int{}}
	err := idx.ForEachDoc(ctx, func(d *index.Doc) error {
		a := &advert{id: d.ID, person: d.Person(), region: d.Dimension(index.DimRegion), month: d.Dimension(index.DimMonth),
			week: d.Dimension(index.DimWeek), at: d.PostedAt}
		if a.at.IsZero() {
			a.at = d.FetchedAt
		}
		l.ads[d.ID] = a
		if u := normURL(d.URL); u != "" {
			l.byURL[u] = append(l.byURL[u], a)
		}
		for _, c := range d.Contacts {
			l.byContact[c] = append(l.byContact[c], a)
		}
		if k := nameKey(d.Name, d.City); k != "" {
			l.byName[k] = append(l.byName[k], a)
		}
		if l.persons[a.person] == nil {
			l.persons[a.person] = map[string]bool{}
		}
		l.persons[a.person][a.month+"\x00"+a.week+"\x00"+a.region] = true
		return nil
	})
	return l, err
}

// normURL is a URL as compared between a review and an advert: scheme and
// host-case ignored, fragment dropped.
func normURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return ""
	}
	s := strings.ToLower(u.Host) + u.EscapedPath()
	if u.RawQuery != "" {
		s += "?" + u.RawQuery
	}
	return s
}

// nameKey is the key of the weak evidence: the name normalised as the
// fingerprint stage does (lower case, spaces folded) and the kommun of the
// city (or the folded city when it is no known kommun).
func nameKey(name, city string) string {
	name = strings.Join(strings.Fields(strings.ToLower(name)), " ")
	city = strings.TrimSpace(city)
	if name == "" || city == "" {
		return ""
	}
	if p, ok := places.Lookup(city); ok {
		city = p.Kommun
	}
	return name + "\x00" + strings.ToLower(city)
}

// Link returns whom r reviews and why.
func (l *Linker) Link(r *ad.Review) Link {
	out := Link{Review: r.ID, Region: r.Refs.Region}
	strong := map[string]bool{}
	add := func(kind, ref string, as []*advert) {
		for _, a := range as {
			out.Evidence = append(out.Evidence, Evidence{Kind: kind, Ref: ref, AdID: a.id, PersonID: a.person})
			if !strong[a.person] {
				strong[a.person] = true
				out.Persons = append(out.Persons, a.person)
			}
			if out.Region == "" && a.region != index.Unknown {
				out.Region = a.region
			}
		}
	}
	for _, u := range r.Refs.AdvertURLs {
		add(EvidenceAdvertURL, u, l.byURL[normURL(u)])
	}
	for _, id := range r.Refs.AdvertIDs {
		if a := l.ads[id]; a != nil {
			add(EvidenceAdvertID, id, []*advert{a})
		}
	}
	for _, c := range r.Refs.Contacts {
		add(EvidenceContact, c, l.byContact[c])
	}
	if k := nameKey(r.Refs.Name, r.Refs.City); k != "" {
		at := r.Time()
		for _, a := range l.byName[k] {
			if !at.IsZero() && !a.at.IsZero() && (at.Sub(a.at) > WeakWindow || a.at.Sub(at) > WeakWindow) {
				continue
			}
			out.Evidence = append(out.Evidence, Evidence{Kind: EvidenceNameCity, Ref: r.Refs.Name + ", " + r.Refs.City, AdID: a.id, PersonID: a.person, Weak: true})
			if !strong[a.person] && !slices.Contains(out.Weak, a.person) {
				out.Weak = append(out.Weak, a.person)
			}
		}
	}
	slices.Sort(out.Persons)
	slices.Sort(out.Weak)
	return out
}

// cell is a group's period and region: index.All for any.
type cell struct{ month, week, region string }

// advertisedIn reports whether person advertised in the cell.
func (l *Linker) advertisedIn(person string, c cell) bool {
	for k := range l.persons[person] {
		parts := strings.SplitN(k, "\x00", 3)
		if (c.month == index.All || parts[0] == c.month) && (c.week == index.All || parts[1] == c.week) && (c.region == index.All || parts[2] == c.region) {
			return true
		}
	}
	return false
}

// advertised counts the persons that advertised in the cell.
func (l *Linker) advertised(c cell) int {
	key := c.month + "\x00" + c.week + "\x00" + c.region
	l.mu.Lock()
	defer l.mu.Unlock()
	if n, ok := l.counted[key]; ok {
		return n
	}
	n := 0
	for p := range l.persons {
		if l.advertisedIn(p, c) {
			n++
		}
	}
	l.counted[key] = n
	return n
}
