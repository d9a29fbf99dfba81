package demoarena

import (
	"slices"
	"strings"

	"adcensus/internal/synthetic"
)

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
	u := synthetic.NewUnionFind(len(ads))
	for i := range ads {
		for j := i + 1; j < len(ads); j++ {
			if linked(ads[i], ads[j]) {
				u.Union(i, j)
			}
		}
	}
	out := make([]int, len(ads))
	for i := range ads {
		out[i] = u.Find(i)
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

// setNetworks sets NetworkID: persons connected by a phone shown in any of
// their adverts are one network, named after its lowest person id.
func setNetworks(ps []Person, ads []Advert) {
	// Persons are 0…len(ps)-1 in id order (P001 …), phones follow.
	node := map[string]int{}
	for i := range ps {
		node[ps[i].ID] = i
	}
	for _, a := range ads {
		for _, ph := range a.Phones {
			if _, ok := node["tel:"+ph]; !ok {
				node["tel:"+ph] = len(node)
			}
		}
	}
	u := synthetic.NewUnionFind(len(node))
	for _, a := range ads {
		for _, ph := range a.Phones {
			u.Union(node[a.PersonID], node["tel:"+ph])
		}
	}
	// A set's root is its smallest member: the person with the lowest id.
	for i := range ps {
		ps[i].NetworkID = "N" + strings.TrimPrefix(ps[u.Find(i)].ID, "P")
	}
}
