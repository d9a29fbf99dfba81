package demoarena

import (
	"slices"
	"sort"
	"time"
)

// DefaultSeed is the seed of the corpus that `adcensus demo` serves.
const DefaultSeed int64 = 20260302

// The demo arenas.
const (
	Blomstra   = "blomstra"
	Nattlinjen = "nattlinjen"
)

var arenaNames = []string{Blomstra, Nattlinjen}

// Genders of persons, as the corpus stores them; each arena shows them in
// its own words.
const (
	Female = "female"
	Male   = "male"
	Trans  = "trans"
)

// Person is one advertised individual of the corpus.
type Person struct {
	ID        string // P001 …
	NetworkID string // persons connected by shared phones; a lone person is its own network
	Name      string
	Age       int
	Gender    string // Female, Male or Trans
	City      string // home city
	Region    string // its län
	Lang      string // "sv" or "en", the person's usual ad language
	Phone     string // own phone, E.164
	AltPhone  string // another own phone used instead of Phone in some ads, or ""
	Agency    string // the phone shared by the person's network in all its ads, or ""
	Photos    []string
	TourCity  string // a city visited in one ad, or ""
}

// Advert is one advert as an arena publishes it.
type Advert struct {
	Arena    string
	Key      string // the arena's advert key (capture group 1 of the detail URL pattern)
	Path     string // path of the detail page
	PersonID string
	Posted   time.Time
	Lang     string
	Title    string
	Body     string // paragraphs separated by "\n"
	Name     string
	Age      int
	Gender   string
	City     string
	Region   string
	// Phones are the advert's phones in E.164 form; Shown holds each the
	// way the page writes it (mildly obfuscated on nattlinjen).
	Phones []string
	Shown  []string
	Photos []string // photo names (see photoset.Names), in gallery order
	Price  string
}

// TruthRow places one advert in its person and network.
type TruthRow struct {
	Arena     string
	Key       string
	PersonID  string
	NetworkID string
}

// Corpus is a deterministic synthetic set of persons and their adverts on
// the two demo arenas.
type Corpus struct {
	Seed    int64
	People  []Person
	Adverts []Advert // sorted by arena, then posting time
	Extras  []string // photos no person uses (shown in promos)

	listing map[string][]int          // arena → advert indices, newest first
	byKey   map[string]map[string]int // arena → key → advert index
}

// Persons is the number of distinct persons.
func (c *Corpus) Persons() int { return len(c.People) }

// Ads is the number of adverts on all arenas.
func (c *Corpus) Ads() int { return len(c.Adverts) }

// Networks is the number of networks: groups of persons connected through
// shared phones, a person sharing none counting as a network of one.
func (c *Corpus) Networks() int {
	seen := map[string]bool{}
	for _, p := range c.People {
		seen[p.NetworkID] = true
	}
	return len(seen)
}

// Arenas lists the arena names.
func (c *Corpus) Arenas() []string { return slices.Clone(arenaNames) }

// ArenaAds is the number of adverts on one arena.
func (c *Corpus) ArenaAds(arena string) int { return len(c.listing[arena]) }

// ArenaPersons is the number of distinct persons advertised on one arena.
func (c *Corpus) ArenaPersons(arena string) int {
	seen := map[string]bool{}
	for _, i := range c.listing[arena] {
		seen[c.Adverts[i].PersonID] = true
	}
	return len(seen)
}

// ArenaNetworks is the number of distinct networks advertised on one arena.
func (c *Corpus) ArenaNetworks(arena string) int {
	net := map[string]string{}
	for _, p := range c.People {
		net[p.ID] = p.NetworkID
	}
	seen := map[string]bool{}
	for _, i := range c.listing[arena] {
		seen[net[c.Adverts[i].PersonID]] = true
	}
	return len(seen)
}

// Listing returns the adverts of one arena in listing order, newest first.
func (c *Corpus) Listing(arena string) []*Advert {
	out := make([]*Advert, 0, len(c.listing[arena]))
	for _, i := range c.listing[arena] {
		out = append(out, &c.Adverts[i])
	}
	return out
}

// Advert returns the advert of an arena by key.
func (c *Corpus) Advert(arena, key string) (*Advert, bool) {
	i, ok := c.byKey[arena][key]
	if !ok {
		return nil, false
	}
	return &c.Adverts[i], true
}

// Person returns a person by id.
func (c *Corpus) Person(id string) (*Person, bool) {
	for i := range c.People {
		if c.People[i].ID == id {
			return &c.People[i], true
		}
	}
	return nil, false
}

// Truth lists every advert with its person and network, sorted by arena and
// key.
func (c *Corpus) Truth() []TruthRow {
	net := map[string]string{}
	for _, p := range c.People {
		net[p.ID] = p.NetworkID
	}
	rows := make([]TruthRow, 0, len(c.Adverts))
	for _, a := range c.Adverts {
		rows = append(rows, TruthRow{Arena: a.Arena, Key: a.Key, PersonID: a.PersonID, NetworkID: net[a.PersonID]})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Arena != rows[j].Arena {
			return rows[i].Arena < rows[j].Arena
		}
		if len(rows[i].Key) != len(rows[j].Key) {
			return len(rows[i].Key) < len(rows[j].Key)
		}
		return rows[i].Key < rows[j].Key
	})
	return rows
}
