package demoarena

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

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
