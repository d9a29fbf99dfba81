package demoarena

import (
	"fmt"
	"slices"

	"adcensus/internal/synthetic/photoset"
)

// people draws the persons of the corpus: who they are, the networks, a
// few shared names, their photos, and who changes phone or tours. Each step
// draws from g.r in turn, so their order is part of the corpus.
func (g *gen) people() []Person {
	ps := g.persons()
	inNetwork := g.networks(ps)
	g.nameCollisions(ps, inNetwork)
	order := g.photos(ps)
	g.changersAndTours(ps, order)
	return ps
}

// persons draws each person's id, gender, origin, name, age, home, language
// and own phone.
func (g *gen) persons() []Person {
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
	return ps
}

// networks gives the persons of each network (all women here) one agency
// phone; it returns person index → network number+1.
func (g *gen) networks(ps []Person) map[int]int {
	r := g.r
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
	return inNetwork
}

// nameCollisions gives a few persons who share no phone the name of
// another.
func (g *gen) nameCollisions(ps []Person, inNetwork map[int]int) {
	r := g.r
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
}

// photos hands out photos to all but numNoPhotos persons; it returns the
// random order of persons it drew (the first numNoPhotos have none).
func (g *gen) photos(ps []Person) []int {
	r := g.r
	photos := photoset.Names()
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
	return order
}

// changersAndTours gives numChangers persons with photos and no agency a
// second own phone, and numTouring persons a city they visit.
func (g *gen) changersAndTours(ps []Person, order []int) {
	r := g.r
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
}
