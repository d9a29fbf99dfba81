package demoarena

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"adcensus/internal/synthetic/photoset"
)

// Sizes of the generated corpus.
const (
	numPersons  = 76
	numNoPhotos = 8 // persons without photos
	numChangers = 8 // persons who use another own phone in some ads
	numSingleAd = 6 // persons with one advert only
	numTouring  = 9 // persons who visit another city in one advert
	numMale     = 6
	numTrans    = 4
	numUK       = 4
	numPL       = 3
	numRO       = 2
	windowDays  = 42
)

var (
	networkSizes = []int{3, 4, 5}
	windowStart  = time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
)

type gen struct {
	r        *rand.Rand
	sePhones []string // unused numbers of the Swedish range reserved for fiction
	used     map[string]bool
}

// Generate builds the corpus for a seed. The same seed always gives the same
// corpus.
func Generate(seed int64) *Corpus {
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), 0x6164636e73757321)), used: map[string]bool{}}
	// PTS keeps 070-174 06 05 … 070-174 06 99 for use in fiction.
	for n := 5; n <= 99; n++ {
		g.sePhones = append(g.sePhones, fmt.Sprintf("+467017406%02d", n))
	}
	g.r.Shuffle(len(g.sePhones), func(i, j int) { g.sePhones[i], g.sePhones[j] = g.sePhones[j], g.sePhones[i] })

	c := &Corpus{Seed: seed}
	people := g.people()
	ads := g.adverts(people)
	g.assignKeys(ads)
	g.texts(people, ads)
	setNetworks(people, ads)

	c.People = people
	sort.SliceStable(ads, func(i, j int) bool {
		if ads[i].Arena != ads[j].Arena {
			return ads[i].Arena < ads[j].Arena
		}
		return ads[i].Posted.Before(ads[j].Posted)
	})
	c.Adverts = ads
	c.reindex()
	used := map[string]bool{}
	for _, p := range people {
		for _, ph := range p.Photos {
			used[ph] = true
		}
	}
	for _, n := range photoset.Names() {
		if !used[n] {
			c.Extras = append(c.Extras, n)
		}
	}
	return c
}

// reindex builds the listing and key lookups of c.Adverts (sorted by
// arena, then posting time).
func (c *Corpus) reindex() {
	c.listing = map[string][]int{}
	c.byKey = map[string]map[string]int{}
	for i, a := range c.Adverts {
		c.listing[a.Arena] = append(c.listing[a.Arena], i)
		if c.byKey[a.Arena] == nil {
			c.byKey[a.Arena] = map[string]int{}
		}
		c.byKey[a.Arena][a.Key] = i
	}
	for _, idx := range c.listing {
		slices.Reverse(idx) // newest first
	}
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// take removes and returns a random element of *xs, or zero if empty.
func take(r *rand.Rand, xs *[]string) string {
	if len(*xs) == 0 {
		return ""
	}
	i := r.IntN(len(*xs))
	v := (*xs)[i]
	*xs = append((*xs)[:i], (*xs)[i+1:]...)
	return v
}

func (g *gen) pickCity() city {
	// The three big cities five times as likely, the next seven twice.
	total := 3*5 + 7*2 + (len(cities) - 10)
	n := g.r.IntN(total)
	for i := range cities {
		w := 1
		switch {
		case i < 3:
			w = 5
		case i < 10:
			w = 2
		}
		if n < w {
			return cities[i]
		}
		n -= w
	}
	return cities[0]
}

// phone returns a new phone number of the given origin ("se", "uk", "pl",
// "ro") in E.164 form. Swedish numbers come from the PTS range for fiction,
// British ones from Ofcom's range for drama (07700 900xxx); Polish and
// Romanian ones are random.
func (g *gen) phone(origin string) string {
	for {
		var p string
		switch origin {
		case "se":
			if len(g.sePhones) == 0 {
				panic("demoarena: out of fictional Swedish numbers")
			}
			p, g.sePhones = g.sePhones[0], g.sePhones[1:]
		case "uk":
			p = fmt.Sprintf("+447700900%03d", g.r.IntN(1000))
		case "pl":
			p = fmt.Sprintf("+48%d%08d", 5+g.r.IntN(3), g.r.IntN(100_000_000))
		case "ro":
			p = fmt.Sprintf("+407%d%07d", 2+g.r.IntN(7), g.r.IntN(10_000_000))
		}
		if !g.used[p] {
			g.used[p] = true
			return p
		}
	}
}

func originOf(e164 string) string {
	switch {
	case strings.HasPrefix(e164, "+46"):
		return "se"
	case strings.HasPrefix(e164, "+44"):
		return "uk"
	case strings.HasPrefix(e164, "+48"):
		return "pl"
	default:
		return "ro"
	}
}

func regionOf(cityName string) string {
	for _, c := range cities {
		if c.Name == cityName {
			return c.Region
		}
	}
	return ""
}
