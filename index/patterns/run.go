package patterns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"adcensus/index"
)

// Report is the result of running one pattern.
type Report struct {
	Pattern     string `json:"pattern"`
	Version     int    `json:"version"`
	Level       string `json:"level"`
	Description string `json:"description"`
	// Examined is the number of adverts the query selected.
	Examined int `json:"examined"`
	// Persons and Networks count the distinct persons and network ids in
	// all matches (an unassigned advert is its own person).
	Persons  int     `json:"persons"`
	Networks int     `json:"networks"`
	Matches  []Match `json:"matches"`
}

// Match is one person (levels advert and person) or one network (level
// network) that met every condition, with the evidence for each condition.
type Match struct {
	// Key is the person id, or for a network its (first) network id, else
	// its first person.
	Key      string     `json:"key"`
	Persons  []string   `json:"persons"`
	Networks []string   `json:"networks,omitempty"`
	AdIDs    []string   `json:"ad_ids"`
	Evidence []Evidence `json:"evidence"`
}

// Evidence says which adverts meet one condition and how.
type Evidence struct {
	Condition string   `json:"condition"`
	Detail    string   `json:"detail"`
	AdIDs     []string `json:"ad_ids"`
}

// Run runs p over store: the adverts its query selects (all when empty),
// kept when they meet the advert conditions, grouped by person or network
// and kept when the group meets the group conditions. ctx bounds the call.
func Run(ctx context.Context, store index.Store, p *Pattern) (*Report, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var ids map[string]bool
	if p.Query != "" {
		ids = map[string]bool{}
		for from := 0; ; from += index.MaxSize {
			res, err := store.Search(ctx, index.Query{Text: p.Query, Size: index.MaxSize, From: from, Scan: true})
			if err != nil {
				return nil, fmt.Errorf("pattern %s: %w", p.Name, err)
			}
			for _, h := range res.Hits {
				ids[h.ID] = true
			}
			if len(res.Hits) < index.MaxSize {
				break
			}
		}
	}
	rep := &Report{Pattern: p.Name, Version: p.Version, Level: p.Level, Description: p.Description, Matches: []Match{}}
	var kept []*kept
	err := store.ForEachDoc(ctx, func(d *index.Doc) error {
		if ids != nil && !ids[d.ID] {
			return nil
		}
		rep.Examined++
		if k := keep(p, d); k != nil {
			kept = append(kept, k)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pattern %s: %w", p.Name, err)
	}
	persons, networks := map[string]bool{}, map[string]bool{}
	for _, g := range group(p.Level, kept) {
		m, ok := p.match(g)
		if !ok {
			continue
		}
		for _, x := range m.Persons {
			persons[x] = true
		}
		for _, x := range m.Networks {
			networks[x] = true
		}
		rep.Matches = append(rep.Matches, m)
	}
	slices.SortFunc(rep.Matches, func(a, b Match) int {
		if len(a.Persons) != len(b.Persons) {
			return len(b.Persons) - len(a.Persons)
		}
		if len(a.AdIDs) != len(b.AdIDs) {
			return len(b.AdIDs) - len(a.AdIDs)
		}
		return strings.Compare(a.Key, b.Key)
	})
	rep.Persons, rep.Networks = len(persons), len(networks)
	return rep, nil
}

// kept is an advert that met the advert conditions, with why.
type kept struct {
	doc     *index.Doc
	reasons map[string][]string // condition → details (phrases, codes)
}

func keep(p *Pattern, d *index.Doc) *kept {
	k := &kept{doc: d, reasons: map[string][]string{}}
	if p.Query != "" {
		k.reasons[CondQuery] = []string{p.Query}
	}
	if len(p.TextAny) > 0 {
		m := index.MatchPhrases(d.Title+"\n"+d.Body, p.TextAny)
		if len(m) == 0 {
			return nil
		}
		k.reasons[CondTextAny] = m
	}
	if p.ForeignContact {
		var foreign []string
		for _, c := range index.NormaliseCountries(d.ContactCountries) {
			if c != HomeCountry {
				foreign = append(foreign, c)
			}
		}
		if len(foreign) == 0 {
			return nil
		}
		k.reasons[CondForeignContact] = foreign
	}
	if p.PossibleMinor {
		if !d.PossibleMinor {
			return nil
		}
		signs := index.SignsOfYouth(d.Title+"\n"+d.Body, d.Age)
		if len(signs) == 0 {
			signs = []string{"flagged when indexed"}
		}
		k.reasons[CondPossibleMinor] = signs
	}
	return k
}

// group groups kept adverts by person, or for level network by connected
// network ids, persons and shared contacts, in advert-id order.
func group(level string, ks []*kept) [][]*kept {
	parent := make([]int, len(ks))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	first := map[string]int{}
	link := func(key string, i int) {
		if j, ok := first[key]; ok {
			if a, b := find(i), find(j); a != b {
				parent[max(a, b)] = min(a, b)
			}
		} else {
			first[key] = i
		}
	}
	for i, k := range ks {
		link("p\x00"+k.doc.Person(), i)
		if level == LevelNetwork {
			if k.doc.NetworkID != "" {
				link("n\x00"+k.doc.NetworkID, i)
			}
			for _, c := range k.doc.Contacts {
				link("c\x00"+c, i)
			}
		}
	}
	byRoot := map[int][]*kept{}
	var roots []int
	for i, k := range ks {
		r := find(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], k)
	}
	out := make([][]*kept, 0, len(roots))
	for _, r := range roots {
		out = append(out, byRoot[r])
	}
	return out
}

// match tests the group conditions on g and builds the match.
func (p *Pattern) match(g []*kept) (Match, bool) {
	var m Match
	persons, networks := map[string]bool{}, map[string]bool{}
	for _, k := range g {
		m.AdIDs = append(m.AdIDs, k.doc.ID)
		persons[k.doc.Person()] = true
		if k.doc.NetworkID != "" {
			networks[k.doc.NetworkID] = true
		}
	}
	m.Persons, m.Networks = sortedKeys(persons), sortedKeys(networks)
	m.Key = m.Persons[0]
	if p.Level == LevelNetwork && len(m.Networks) > 0 {
		m.Key = m.Networks[0]
	}
	// Advert conditions: one evidence entry per condition.
	for _, cond := range []string{CondQuery, CondTextAny, CondForeignContact, CondPossibleMinor} {
		var ads []string
		details := map[string]bool{}
		for _, k := range g {
			if r, ok := k.reasons[cond]; ok {
				ads = append(ads, k.doc.ID)
				for _, x := range r {
					details[x] = true
				}
			}
		}
		if len(ads) > 0 {
			m.Evidence = append(m.Evidence, Evidence{Condition: cond, Detail: strings.Join(sortedKeys(details), ", "), AdIDs: ads})
		}
	}
	if p.MinAds > 0 {
		if len(g) < p.MinAds {
			return m, false
		}
		m.Evidence = append(m.Evidence, Evidence{Condition: CondMinAds, Detail: fmt.Sprintf("%d adverts (at least %d)", len(g), p.MinAds), AdIDs: m.AdIDs})
	}
	if p.MinCities > 0 {
		e, ok := touring(g, p.MinCities, time.Duration(p.WithinDays)*24*time.Hour)
		if !ok {
			return m, false
		}
		m.Evidence = append(m.Evidence, e)
	}
	if p.MinAdsPerDay > 0 {
		e, ok := busiestDay(g, p.MinAdsPerDay)
		if !ok {
			return m, false
		}
		m.Evidence = append(m.Evidence, e)
	}
	if p.MinPersonsPerContact > 0 {
		e, ok := sharedContact(g, p.MinPersonsPerContact)
		if !ok {
			return m, false
		}
		m.Evidence = append(m.Evidence, e)
	}
	return m, true
}

func advertTime(d *index.Doc) time.Time {
	if !d.PostedAt.IsZero() {
		return d.PostedAt
	}
	return d.FetchedAt
}

// touring finds a window of length within holding adverts in at least n
// distinct cities.
func touring(g []*kept, n int, within time.Duration) (Evidence, bool) {
	var ds []*index.Doc
	for _, k := range g {
		if k.doc.City != "" && !advertTime(k.doc).IsZero() {
			ds = append(ds, k.doc)
		}
	}
	slices.SortStableFunc(ds, func(a, b *index.Doc) int { return advertTime(a).Compare(advertTime(b)) })
	for i := range ds {
		cities := map[string]bool{}
		var ads []string
		for j := i; j < len(ds) && advertTime(ds[j]).Sub(advertTime(ds[i])) <= within; j++ {
			cities[ds[j].City] = true
			ads = append(ads, ds[j].ID)
		}
		if len(cities) >= n {
			days := int(within / (24 * time.Hour))
			return Evidence{Condition: CondMinCities, AdIDs: ads,
				Detail: fmt.Sprintf("%d cities within %d days from %s: %s", len(cities), days,
					advertTime(ds[i]).In(stockholm()).Format("2006-01-02"), strings.Join(sortedKeys(cities), ", "))}, true
		}
	}
	return Evidence{}, false
}

var stockholm = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
})

// busiestDay finds the Swedish calendar day with the most adverts, if it
// has at least n.
func busiestDay(g []*kept, n int) (Evidence, bool) {
	byDay := map[string][]string{}
	for _, k := range g {
		if t := advertTime(k.doc); !t.IsZero() {
			day := t.In(stockholm()).Format("2006-01-02")
			byDay[day] = append(byDay[day], k.doc.ID)
		}
	}
	best := ""
	for _, day := range sortedKeys(byDay) {
		if len(byDay[day]) > len(byDay[best]) {
			best = day
		}
	}
	if len(byDay[best]) < n {
		return Evidence{}, false
	}
	return Evidence{Condition: CondMinAdsPerDay, AdIDs: byDay[best],
		Detail: fmt.Sprintf("%d adverts on %s (at least %d)", len(byDay[best]), best, n)}, true
}

// sharedContact finds the contact used by the most persons, if at least n.
func sharedContact(g []*kept, n int) (Evidence, bool) {
	persons := map[string]map[string]bool{}
	ads := map[string][]string{}
	for _, k := range g {
		for _, c := range k.doc.Contacts {
			if persons[c] == nil {
				persons[c] = map[string]bool{}
			}
			persons[c][k.doc.Person()] = true
			ads[c] = append(ads[c], k.doc.ID)
		}
	}
	best := ""
	for _, c := range sortedKeys(persons) {
		if len(persons[c]) > len(persons[best]) {
			best = c
		}
	}
	if len(persons[best]) < n {
		return Evidence{}, false
	}
	return Evidence{Condition: CondMinPersonsPerContact, AdIDs: ads[best],
		Detail: fmt.Sprintf("contact %s used by %d persons (at least %d)", best, len(persons[best]), n)}, true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
