package demoarena

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	Photos []string // photo names (see PhotoNames), in gallery order
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

// Sizes of the generated corpus.
const (
	numPersons   = 76
	numNoPhotos  = 8 // persons without photos
	numChangers  = 8 // persons who use another own phone in some ads
	numSingleAd  = 6 // persons with one advert only
	numTouring   = 9 // persons who visit another city in one advert
	numMale      = 6
	numTrans     = 4
	numUK        = 4
	numPL        = 3
	numRO        = 2
	windowDays   = 42
	maxPhotosPer = 3
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
	used := map[string]bool{}
	for _, p := range people {
		for _, ph := range p.Photos {
			used[ph] = true
		}
	}
	for _, n := range PhotoNames() {
		if !used[n] {
			c.Extras = append(c.Extras, n)
		}
	}
	c.listing = map[string][]int{}
	c.byKey = map[string]map[string]int{}
	for i, a := range ads {
		c.listing[a.Arena] = append(c.listing[a.Arena], i)
		if c.byKey[a.Arena] == nil {
			c.byKey[a.Arena] = map[string]int{}
		}
		c.byKey[a.Arena][a.Key] = i
	}
	for _, idx := range c.listing {
		slices.Reverse(idx) // newest first
	}
	return c
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

func (g *gen) people() []Person {
	r := g.r
	ps := make([]Person, numPersons)
	origin := make([]string, numPersons)
	perm := r.Perm(numPersons)
	for k, i := range perm {
		ps[i].ID = fmt.Sprintf("P%03d", i+1)
		switch {
		case k < numMale:
			ps[i].Gender = Male
		case k < numMale+numTrans:
			ps[i].Gender = Trans
		default:
			ps[i].Gender = Female
		}
	}
	perm = r.Perm(numPersons)
	for k, i := range perm {
		switch {
		case k < numUK:
			origin[i] = "uk"
		case k < numUK+numPL:
			origin[i] = "pl"
		case k < numUK+numPL+numRO:
			origin[i] = "ro"
		default:
			origin[i] = "se"
		}
	}

	pools := map[string]*[]string{}
	for k, v := range map[string][]string{
		"se": namesSwedishF, "intl": namesIntlF, "pl": namesPolishF, "ro": namesRomanianF,
		"uk": namesEnglishF, "male": namesM, "trans": namesTrans,
	} {
		c := slices.Clone(v)
		pools[k] = &c
	}
	for i := range ps {
		p := &ps[i]
		var pool string
		switch {
		case p.Gender == Male:
			pool = "male"
		case p.Gender == Trans:
			pool = "trans"
		case origin[i] != "se":
			pool = origin[i]
		case r.IntN(4) == 0:
			pool = "intl"
		default:
			pool = "se"
		}
		p.Name = take(r, pools[pool])
		if p.Name == "" {
			p.Name = take(r, pools["intl"])
		}
		p.Age = 21 + (r.IntN(25)+r.IntN(25)+1)/2
		home := g.pickCity()
		p.City, p.Region = home.Name, home.Region
		p.Lang = "en"
		if origin[i] == "se" && r.IntN(7) != 0 {
			p.Lang = "sv"
		}
		p.Phone = g.phone(origin[i])
	}

	// Networks: persons sharing one agency phone, all women here.
	var women []int
	for i := range ps {
		if ps[i].Gender == Female {
			women = append(women, i)
		}
	}
	r.Shuffle(len(women), func(a, b int) { women[a], women[b] = women[b], women[a] })
	inNetwork := map[int]int{} // person index → network number+1
	next := 0
	for n, size := range networkSizes {
		agency := g.phone([]string{"se", "pl", "uk"}[n%3])
		names := map[string]bool{}
		for added := 0; added < size; next++ {
			i := women[next]
			if names[ps[i].Name] {
				continue // names within a network are distinct
			}
			names[ps[i].Name] = true
			ps[i].Agency = agency
			inNetwork[i] = n + 1
			added++
		}
	}

	// A few deliberate name collisions between persons who share no phone.
	collisions := 0
	for _, a := range r.Perm(numPersons) {
		if collisions == 3 {
			break
		}
		for _, b := range r.Perm(numPersons) {
			pa, pb := &ps[a], &ps[b]
			if a == b || pa.Gender != pb.Gender || pa.Name == pb.Name || pb.Agency != "" || pa.Agency != "" && inNetwork[a] == inNetwork[b] {
				continue
			}
			dup := false
			for k := range ps {
				if ps[k].Name == pa.Name && k != a {
					dup = true
				}
			}
			if dup {
				continue
			}
			pb.Name = pa.Name
			collisions++
			break
		}
	}

	// Photos.
	photos := PhotoNames()
	r.Shuffle(len(photos), func(a, b int) { photos[a], photos[b] = photos[b], photos[a] })
	order := r.Perm(numPersons)
	noPhotos := map[int]bool{}
	for _, i := range order[:numNoPhotos] {
		noPhotos[i] = true
	}
	for i := range ps {
		if noPhotos[i] {
			continue
		}
		n := 1
		switch x := r.IntN(100); {
		case x >= 65:
			n = 3
		case x >= 30:
			n = 2
		}
		if len(photos) < n {
			panic("demoarena: not enough photos")
		}
		ps[i].Photos, photos = photos[:n:n], photos[n:]
	}

	// Phone changers (with photos) and touring persons.
	changers := 0
	for _, i := range order[numNoPhotos:] {
		if changers == numChangers {
			break
		}
		if ps[i].Agency != "" {
			continue
		}
		ps[i].AltPhone = g.phone(originOf(ps[i].Phone))
		changers++
	}
	for _, i := range r.Perm(numPersons)[:numTouring] {
		for {
			c := g.pickCity()
			if c.Name != ps[i].City {
				ps[i].TourCity = c.Name
				break
			}
		}
	}
	return ps
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

func (g *gen) adverts(ps []Person) []Advert {
	r := g.r
	single := map[int]bool{}
	for _, i := range r.Perm(len(ps)) {
		if len(single) == numSingleAd {
			break
		}
		if ps[i].AltPhone == "" && ps[i].TourCity == "" {
			single[i] = true
		}
	}
	var ads []Advert
	for i := range ps {
		p := &ps[i]
		n := 1
		if !single[i] {
			switch x := r.IntN(100); {
			case x < 25:
				n = 2
			case x < 58:
				n = 3
			case x < 82:
				n = 4
			default:
				n = 5
			}
		}
		// Arenas: most persons on both, some on one only.
		arenas := make([]string, n)
		one := r.IntN(8) == 0
		first := r.IntN(2)
		for k := range arenas {
			switch {
			case one:
				arenas[k] = arenaNames[first]
			case k < 2:
				arenas[k] = arenaNames[(first+k)%2]
			case r.IntN(100) < 55:
				arenas[k] = Blomstra
			default:
				arenas[k] = Nattlinjen
			}
		}
		days := r.Perm(windowDays)[:n]
		slices.Sort(days)
		showsOwn := len(p.Photos) == 0 || r.IntN(2) == 0
		changed := map[int]bool{}
		if p.AltPhone != "" {
			changed[1+r.IntN(n-1)] = true
			if n > 3 && r.IntN(2) == 0 {
				changed[n-1] = true
			}
		}
		tourAd := -1
		if p.TourCity != "" {
			tourAd = 1 + r.IntN(n-1)
		}
		start := len(ads)
		for k := 0; k < n; k++ {
			a := Advert{
				Arena:    arenas[k],
				PersonID: p.ID,
				Posted:   windowStart.Add(time.Duration(days[k])*24*time.Hour + time.Duration(8+r.IntN(15))*time.Hour + time.Duration(5*r.IntN(12))*time.Minute),
				Name:     p.Name,
				Age:      p.Age,
				Gender:   p.Gender,
				City:     p.City,
				Region:   p.Region,
			}
			if k == tourAd {
				a.City, a.Region = p.TourCity, regionOf(p.TourCity)
			}
			// Photos: usually the main photo, plus some of the others.
			if len(p.Photos) > 0 {
				for j, ph := range p.Photos {
					if (j == 0 && r.IntN(10) < 7) || (j > 0 && r.IntN(2) == 0) {
						a.Photos = append(a.Photos, ph)
					}
				}
				if len(a.Photos) == 0 {
					a.Photos = []string{pick(r, p.Photos)}
				}
				if r.IntN(3) == 0 {
					r.Shuffle(len(a.Photos), func(x, y int) { a.Photos[x], a.Photos[y] = a.Photos[y], a.Photos[x] })
				}
			}
			// Phones.
			switch {
			case p.Agency != "":
				a.Phones = []string{p.Agency}
				if showsOwn || r.IntN(10) < 3 {
					a.Phones = append(a.Phones, p.Phone)
				}
			case changed[k]:
				a.Phones = []string{p.AltPhone}
			default:
				a.Phones = []string{p.Phone}
			}
			ads = append(ads, a)
		}
		connect(p, ads[start:])
	}
	return ads
}

// linked is the first-cut de-duplicator's rule: two adverts are the same
// person when they share a photo, or a phone and the name.
func linked(a, b *Advert) bool {
	for _, x := range a.Photos {
		if slices.Contains(b.Photos, x) {
			return true
		}
	}
	if !strings.EqualFold(a.Name, b.Name) {
		return false
	}
	for _, x := range a.Phones {
		if slices.Contains(b.Phones, x) {
			return true
		}
	}
	return false
}

// components groups adverts by the linking rule; it returns the component
// number of each advert.
func components(ads []*Advert) []int {
	parent := make([]int, len(ads))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range ads {
		for j := i + 1; j < len(ads); j++ {
			if linked(ads[i], ads[j]) {
				parent[find(i)] = find(j)
			}
		}
	}
	out := make([]int, len(ads))
	for i := range ads {
		out[i] = find(i)
	}
	return out
}

// connect makes a person's adverts one component under the linking rule, by
// adding the main photo (or the own phone, for a person without photos)
// where needed.
func connect(p *Person, ads []Advert) {
	ptrs := make([]*Advert, len(ads))
	for i := range ads {
		ptrs[i] = &ads[i]
	}
	for {
		comp := components(ptrs)
		other := -1
		for i := range comp {
			if comp[i] != comp[0] {
				other = i
				break
			}
		}
		if other < 0 {
			return
		}
		if len(p.Photos) > 0 {
			for _, i := range []int{0, other} {
				if !slices.Contains(ads[i].Photos, p.Photos[0]) {
					ads[i].Photos = append([]string{p.Photos[0]}, ads[i].Photos...)
				}
			}
		} else {
			for _, i := range []int{0, other} {
				if !slices.Contains(ads[i].Phones, p.Phone) {
					ads[i].Phones = append(ads[i].Phones, p.Phone)
				}
			}
		}
	}
}

// assignKeys numbers the adverts of each arena in posting order.
func (g *gen) assignKeys(ads []Advert) {
	idx := make([]int, len(ads))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ads[idx[a]].Posted.Before(ads[idx[b]].Posted) })
	next := map[string]int{Blomstra: 481_207, Nattlinjen: 20_418}
	for _, i := range idx {
		a := &ads[i]
		switch a.Arena {
		case Blomstra:
			next[Blomstra] += 3 + g.r.IntN(37)
			a.Key = strconv.Itoa(next[Blomstra])
			a.Path = "/annons/" + a.Key
		case Nattlinjen:
			next[Nattlinjen] += 2 + g.r.IntN(23)
			a.Key = strconv.Itoa(next[Nattlinjen])
			a.Path = fmt.Sprintf("/ad/%s-%s.html", slug(fmt.Sprintf("%s %d %s", a.Name, a.Age, a.City)), a.Key)
		}
	}
}

var slugFold = strings.NewReplacer("å", "a", "ä", "a", "ö", "o", "é", "e", "ü", "u", "Å", "a", "Ä", "a", "Ö", "o")

func slug(s string) string {
	s = slugFold.Replace(strings.ToLower(s))
	var b strings.Builder
	dash := false
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// texts writes title, body, price and the shown phones of every advert.
func (g *gen) texts(ps []Person, ads []Advert) {
	r := g.r
	byID := map[string]*Person{}
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	for i := range ads {
		a := &ads[i]
		p := byID[a.PersonID]
		a.Lang = p.Lang
		if a.Arena == Nattlinjen && (p.Lang == "en" || r.IntN(100) < 65) {
			a.Lang = "en"
		}
		titles, intros, middles, closings, tour, phoneTxt := svTitles, svIntros, svMiddles, svClosings, svTour, svPhoneTxt
		if a.Lang == "en" {
			titles, intros, middles, closings, tour, phoneTxt = enTitles, enIntros, enMiddles, enClosings, enTour, enPhoneTxt
		}
		fill := func(s string) string {
			return strings.NewReplacer("{N}", a.Name, "{A}", strconv.Itoa(a.Age), "{C}", p.City, "{T}", a.City).Replace(s)
		}
		a.Title = fill(pick(r, titles))
		if a.City != p.City {
			a.Title = fill(strings.ReplaceAll(pick(r, titles), "{C}", "{T}"))
		}
		paras := []string{fill(pick(r, intros))}
		var mid []string
		for _, k := range r.Perm(len(middles))[:1+r.IntN(3)] {
			mid = append(mid, middles[k])
		}
		paras = append(paras, strings.Join(mid, " "))
		if a.City != p.City {
			paras = append(paras, fill(tour))
		}
		paras = append(paras, pick(r, closings))
		for _, ph := range a.Phones {
			switch a.Arena {
			case Blomstra:
				a.Shown = append(a.Shown, formatPhone(ph, 0))
			case Nattlinjen:
				a.Shown = append(a.Shown, formatPhone(ph, 1+r.IntN(7)))
				// The text repeats the number in another spelling.
				paras = append(paras, strings.ReplaceAll(pick(r, phoneTxt), "{P}", formatPhone(ph, r.IntN(8))))
			}
		}
		a.Body = strings.Join(paras, "\n")
		switch {
		case a.Arena == Blomstra && r.IntN(3) == 0:
			a.Price = fmt.Sprintf("från %s kr", []string{"1 000", "1 500", "2 000", "2 500"}[r.IntN(4)])
		case a.Arena == Blomstra:
			a.Price = "enligt överenskommelse"
		case r.IntN(3) == 0:
			a.Price = fmt.Sprintf("from %d SEK", 1000+500*r.IntN(4))
		default:
			a.Price = "on request"
		}
	}
}

// formatPhone writes an E.164 number in one of several spellings that a
// page might use; style 0 is the plain national (or international) form.
func formatPhone(e164 string, style int) string {
	switch originOf(e164) {
	case "se":
		nat := "0" + e164[3:] // 0701740605
		a, b, c, d := nat[:3], nat[3:6], nat[6:8], nat[8:10]
		in := nat[1:3]
		return [...]string{
			a + "-" + b + " " + c + " " + d,
			a + " " + b + " " + c + " " + d,
			"+46 " + in + " " + b + " " + c + " " + d,
			"+46 " + in + "-" + b + " " + c + " " + d,
			"0046 " + in + " " + b + c + d,
			"0046" + nat[1:],
			a + "-" + b + c + d,
			nat,
		}[style%8]
	case "uk":
		s := e164[3:] // 7700900123
		return [...]string{
			"+44 " + s[:4] + " " + s[4:],
			"+44 " + s[:4] + " " + s[4:7] + " " + s[7:],
			"0044 " + s[:4] + " " + s[4:7] + " " + s[7:],
			"+44-" + s[:4] + "-" + s[4:7] + "-" + s[7:],
			"+44" + s,
			"0044" + s,
			"+44 " + s[:4] + "-" + s[4:],
			"+44 " + s[:4] + " " + s[4:],
		}[style%8]
	default: // +48 and +40: nine digits after the country code
		cc, s := e164[:3], e164[3:]
		return [...]string{
			cc + " " + s[:3] + " " + s[3:6] + " " + s[6:],
			cc + " " + s[:3] + "-" + s[3:6] + "-" + s[6:],
			"00" + cc[1:] + " " + s[:3] + " " + s[3:6] + " " + s[6:],
			cc + "-" + s[:3] + "-" + s[3:6] + "-" + s[6:],
			cc + s,
			"00" + cc[1:] + s,
			cc + " " + s,
			cc + " " + s[:3] + " " + s[3:6] + " " + s[6:],
		}[style%8]
	}
}

// setNetworks sets NetworkID: persons connected by a phone shown in any of
// their adverts are one network, named after its lowest person id.
func setNetworks(ps []Person, ads []Advert) {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == "" || parent[x] == x {
			parent[x] = x
			return x
		}
		root := find(parent[x])
		parent[x] = root
		return root
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra == rb {
			return
		}
		if ra < rb {
			parent[rb] = ra
		} else {
			parent[ra] = rb
		}
	}
	for _, a := range ads {
		for _, ph := range a.Phones {
			union(a.PersonID, "tel:"+ph)
		}
	}
	// Roots are the smallest member: person ids sort before "tel:".
	for i := range ps {
		ps[i].NetworkID = "N" + strings.TrimPrefix(find(ps[i].ID), "P")
	}
}
