package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Draws of one trait each, for the persons of both styles.

// activeWindow draws a person's active window within period from start:
// a random beginning, a length of minShare to minShare+spread of the
// period, cut at its end (then at least 48 hours long).
func activeWindow(r *rand.Rand, start time.Time, period time.Duration, minShare, spread float64) (from, to time.Time) {
	from = start.Add(time.Duration(r.Int64N(int64(period))))
	length := time.Duration(float64(period) * (minShare + spread*r.Float64()))
	to = from.Add(length)
	if end := start.Add(period); to.After(end) {
		to = end
		if from.After(to.Add(-48 * time.Hour)) {
			from = to.Add(-48 * time.Hour)
		}
	}
	return from, to
}

// advertCounts shares ads adverts among n persons, at least one each,
// the rest drawn in proportion to log-normal weights exp(sigma·N(0,1)):
// the larger sigma, the longer the tail of persons who post often.
func advertCounts(r *rand.Rand, n, ads int, sigma float64) []int {
	weights := make([]float64, n)
	var cum []float64
	total := 0.0
	for i := range weights {
		weights[i] = math.Exp(sigma * r.NormFloat64())
		total += weights[i]
		cum = append(cum, total)
	}
	counts := make([]int, n)
	for i := range counts {
		counts[i] = 1
	}
	for range ads - n {
		x := r.Float64() * total
		i, _ := slices.BinarySearch(cum, x)
		counts[min(i, n-1)]++
	}
	return counts
}

func (g *gen) newPhone(origin string) string {
	for {
		p := newPhone(g.r, origin)
		if !g.used[p] {
			g.used[p] = true
			return p
		}
	}
}

func (g *gen) pickOrigin() string {
	total := 0
	for _, o := range origins {
		total += o.Weight
	}
	n := g.r.IntN(total)
	for _, o := range origins {
		if n < o.Weight {
			return o.Name
		}
		n -= o.Weight
	}
	return originSE
}

func (g *gen) pickCity() city {
	// Big cities are drawn more often: index ~ |N(0, 8)|.
	i := int(math.Abs(g.r.NormFloat64()) * 8)
	return cities[min(i, len(cities)-1)]
}

func (g *gen) pickName(gender, origin string) string {
	switch gender {
	case "man":
		return pick(g.r, namesM)
	case "transperson":
		return pick(g.r, namesT)
	}
	switch origin {
	case originPL:
		return pick(g.r, namesPL)
	case originRO:
		return pick(g.r, namesRO)
	case originUK:
		return pick(g.r, namesUK)
	case originNG:
		return pick(g.r, namesNG)
	case originIntl:
		return pick(g.r, namesIntl)
	}
	return pick(g.r, namesSE)
}

func (g *gen) pickLang(origin string) (*lang, bool) {
	x := g.r.Float64()
	switch origin {
	case originSE:
		return sv, x < 0.25
	case originIntl:
		if x < 0.3 {
			return sv, false
		}
		return en, x > 0.7
	}
	return en, x < 0.15
}

func (g *gen) newTpl(l *lang) textTpl {
	r := g.r
	t := textTpl{
		title: r.IntN(len(l.Titles)), intro: r.IntN(len(l.Intros)),
		closing: r.IntN(len(l.Closings)), phoneLine: r.IntN(len(l.PhoneLines)),
		agencyLine: r.IntN(len(l.AgencyLines)),
	}
	t.middles = r.Perm(len(l.Middles))[:3+r.IntN(3)]
	return t
}

func (g *gen) pickStyles(obfuscate bool) []int {
	r := g.r
	s := []int{r.IntN(numPlain), r.IntN(numPlain)}
	if obfuscate {
		s = append(s, numPlain+r.IntN(numStyles-numPlain), numPlain+r.IntN(numStyles-numPlain))
	}
	return s
}

func (g *gen) pickArenas(n int) []int {
	a := g.r.Perm(len(arenas))[:n]
	slices.Sort(a)
	return a
}
