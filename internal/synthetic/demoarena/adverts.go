package demoarena

import (
	"slices"
	"time"
)

// adverts draws the adverts of every person; a person's adverts are
// connected under the linking rule.
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
		own := g.advertsOf(&ps[i], single[i])
		connect(&ps[i], own)
		ads = append(ads, own...)
	}
	return ads
}

// advertsOf draws one person's adverts (only one when single): arenas, days,
// photos and phones.
func (g *gen) advertsOf(p *Person, single bool) []Advert {
	r := g.r
	n := 1
	if !single {
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
	var ads []Advert
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
	return ads
}
