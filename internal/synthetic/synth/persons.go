package synth

import (
	"fmt"
	"math"
	"slices"
	"time"
)

type person struct {
	id, net     string
	netIdx      int // -1: independent
	name        string
	nameVariant string
	age         int
	gender      string
	origin      string
	lng         *lang
	bilingual   bool
	home        city
	tour        []city
	arenas      []int
	phones      []string // own numbers, in order of use
	switches    []time.Time
	tourPhones  []string // StyleVaried: a number per tour stop, or none
	agencyOwn   bool     // an agency member who also shows an own number
	obfuscate   bool
	styles      []int
	phoneField  float64
	phoneText   float64
	nPhotos     int
	photos      []int // base indices
	stock       int   // base index of a stock photo, -1 none
	varied      variedPerson
	stockOnly   bool
	tpl         textTpl
	price       string
	from, to    time.Time
	ads         int
}

type textTpl struct {
	title, intro, closing, phoneLine, agencyLine int
	middles                                      []int
}

type network struct {
	id     string
	phones []string
	arenas []int
	lng    *lang
	tpl    textTpl
	styles []int
}

// makePersons draws the persons of the default style: the agencies first,
// then every person in turn.
func (g *gen) makePersons() {
	netOf := g.makeNetworks()
	// Ads per person: heavy-tailed weights, at least one each.
	counts := advertCounts(g.r, g.o.Persons, g.o.Ads, 1.1)
	netNames := map[int]map[string]bool{}
	for i := range g.o.Persons {
		g.persons = append(g.persons, g.newPerson(i, netOf[i], counts[i], netNames))
	}
}

// makeNetworks draws the agencies of 3 to 8 persons; it returns each
// person's network index, -1 for an independent person.
func (g *gen) makeNetworks() []int {
	o, r := g.o, g.r
	n := o.Persons
	// Agencies take the first persons of a random order.
	perm := r.Perm(n)
	inNet := int(math.Round(o.NetworkShare * float64(n)))
	netOf := make([]int, n)
	for i := range netOf {
		netOf[i] = -1
	}
	for k := 0; k+3 <= inNet; {
		size := 3 + r.IntN(6)
		if rest := inNet - k - size; rest < 3 {
			size = inNet - k
			if size > 8 { // split the remainder in two networks
				size = size / 2
			}
		}
		nw := &network{id: fmt.Sprintf("N%03d", len(g.nets)+1)}
		origin := g.pickOrigin()
		nw.phones = []string{g.newPhone(origin)}
		if chance(r, 0.25) {
			nw.phones = append(nw.phones, g.newPhone(origin))
		}
		nw.arenas = g.pickArenas(2 + r.IntN(2))
		nw.lng, _ = g.pickLang(origin)
		nw.tpl = g.newTpl(nw.lng)
		nw.styles = g.pickStyles(chance(r, o.ObfuscateShare))
		for _, i := range perm[k : k+size] {
			netOf[i] = len(g.nets)
		}
		g.nets = append(g.nets, nw)
		k += size
	}
	return netOf
}

// newPerson draws person i of the default style, member of network netIdx
// (-1: independent), with ads adverts. netNames holds the names taken in
// each network.
func (g *gen) newPerson(i, netIdx, ads int, netNames map[int]map[string]bool) *person {
	o, r := g.o, g.r
	p := g.newIdentity(i, netIdx, ads, netNames)
	g.drawAgeHomePrice(p)
	p.from, p.to = activeWindow(r, o.Start, o.period(), 0.15, 0.85)

	touring := o.TouringShare
	if p.netIdx >= 0 {
		nw := g.nets[p.netIdx]
		p.net = nw.id
		p.lng = nw.lng
		p.tpl = nw.tpl
		p.arenas = nw.arenas
		p.styles = nw.styles
		p.agencyOwn = chance(r, 0.4)
		touring = min(1, 2*touring)
	} else {
		p.net = "solo-" + p.id
		p.lng, p.bilingual = g.pickLang(p.origin)
		p.tpl = g.newTpl(p.lng)
		p.arenas = g.pickArenas(1 + r.IntN(3))
		p.obfuscate = chance(r, o.ObfuscateShare)
		p.styles = g.pickStyles(p.obfuscate)
	}
	g.drawTour(p, touring, 4)
	g.drawOwnPhones(p, 2)
	p.phoneField = 0.5 + 0.5*r.Float64()
	p.phoneText = 0.2 + 0.6*r.Float64()
	g.drawPhotos(p, 2, []int{1, 1, 1, 1, 2, 2, 2, 2, 3, 4})
	return p
}

// newIdentity starts person i: origin, gender and a name that no other
// member of its network has (netNames), sometimes written differently.
func (g *gen) newIdentity(i, netIdx, ads int, netNames map[int]map[string]bool) *person {
	o, r := g.o, g.r
	p := &person{id: fmt.Sprintf("P%04d", i+1), netIdx: netIdx, stock: -1, ads: ads}
	p.origin = g.pickOrigin()
	switch x := r.Float64(); {
	case x < 0.86:
		p.gender = "kvinna"
	case x < 0.94:
		p.gender = "man"
	default:
		p.gender = "transperson"
	}
	p.name = g.pickName(p.gender, p.origin)
	if p.netIdx >= 0 {
		used := netNames[p.netIdx]
		if used == nil {
			used = map[string]bool{}
			netNames[p.netIdx] = used
		}
		for tries := 0; used[p.name] && tries < 50; tries++ {
			p.name = g.pickName(p.gender, g.pickOrigin())
		}
		used[p.name] = true
	}
	if chance(r, o.NameVariantShare) {
		p.nameVariant = p.name + " " + string(rune('A'+r.IntN(26))) + "."
	}
	return p
}

// drawAgeHomePrice draws a person's age (21–55), home city and price.
func (g *gen) drawAgeHomePrice(p *person) {
	r := g.r
	p.age = 21 + int(math.Abs(r.NormFloat64())*8)
	p.age = min(p.age, 55)
	p.home = g.pickCity()
	p.price = fmt.Sprintf("%d kr", 1000+500*r.IntN(7))
}

// drawTour makes a share of the persons tour 1 to maxStops other cities.
func (g *gen) drawTour(p *person, share float64, maxStops int) {
	r := g.r
	if chance(r, share) {
		for range 1 + r.IntN(maxStops) {
			c := cities[r.IntN(len(cities))]
			if c != p.home {
				p.tour = append(p.tour, c)
			}
		}
	}
}

// drawOwnPhones gives own numbers to every independent person (5 % rely on
// the site's messages) and to the agency members who show one; a share of
// them change number 1 to maxChanges times. It reports whether the person
// has own numbers.
func (g *gen) drawOwnPhones(p *person, maxChanges int) bool {
	o, r := g.o, g.r
	if !((p.netIdx < 0 && !chance(r, 0.05)) || p.agencyOwn) {
		return false
	}
	p.phones = []string{g.newPhone(p.origin)}
	if chance(r, o.PhoneChangeShare) {
		for range 1 + r.IntN(maxChanges) {
			p.phones = append(p.phones, g.newPhone(p.origin))
		}
		span := p.to.Sub(p.from)
		for range len(p.phones) - 1 {
			p.switches = append(p.switches, p.from.Add(time.Duration(r.Int64N(int64(span)+1))))
		}
		slices.SortFunc(p.switches, func(a, b time.Time) int { return a.Compare(b) })
	}
	return true
}

// drawPhotos draws how many photos a person has (counts: a bag to pick
// from) or whether the person uses a stock photo, alone or with 1 to
// maxWithStock own ones. The bases are handed out once the pool is cut
// (assignPhotos).
func (g *gen) drawPhotos(p *person, maxWithStock int, counts []int) {
	o, r := g.o, g.r
	switch x := r.Float64(); {
	case x < o.NoPhotoShare:
		p.nPhotos = 0
	case x < o.NoPhotoShare+o.StockShare && o.StockImages > 0:
		p.stock = 0 // chosen in assignPhotos
		p.stockOnly = chance(r, 0.3)
		if !p.stockOnly {
			p.nPhotos = 1 + r.IntN(maxWithStock)
		}
	default:
		p.nPhotos = pick(r, counts)
	}
}

// assignPhotos hands out the base photos: the first StockImages are stock.
func (g *gen) assignPhotos(nBases int) {
	next := g.o.StockImages
	for _, p := range g.persons {
		if p.stock >= 0 {
			p.stock = g.r.IntN(g.o.StockImages)
		}
		for range p.nPhotos {
			p.photos = append(p.photos, next)
			next++
		}
	}
	if next != nBases {
		panic(fmt.Sprintf("synth: %d base photos assigned, %d cut", next, nBases))
	}
}

// phoneAt returns the own number in use at t.
func (p *person) phoneAt(t time.Time) (cur string, prev string) {
	k := 0
	for _, s := range p.switches {
		if !t.Before(s) {
			k++
		}
	}
	if k > 0 {
		prev = p.phones[k-1]
	}
	return p.phones[k], prev
}
