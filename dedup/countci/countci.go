// Package countci puts an interval on the number of distinct persons that
// de-duplication counts, from the evidence the rules declined.
//
// The rules (dedup/cluster) link two adverts only on strong evidence, so a
// person can be split in two or more predicted persons (over-count), and
// now and then two persons are merged (under-count). Between predicted
// persons there is weaker evidence the rules did not act on: photos just
// beyond the image threshold, near-duplicate texts whose names disagree or
// are missing, the same name, city and age without a shared contact, a
// shared contact with another name. Each such pair of persons is a
// candidate link of a Kind; on labelled synthetic corpora a share of the
// candidate links of each kind joins two fragments of one true person
// (Rates: counts of candidate pairs and of true ones per kind, with their
// provenance). The count's distribution is simulated: in each replicate
// the rate of each kind is drawn from its Beta posterior, each candidate
// link is kept with that probability, the persons joined by kept links are
// counted (union-find), and what no evidence explains (splits without any
// near-miss, false merges) is removed as a share of the persons drawn from
// its spread across the calibration corpora. The point estimate is the
// median and the interval the 5 % and 95 % quantiles (90 %).
//
// Everything here is computed from the de-duplicated adverts' fingerprints
// (pseudonymised contacts, normalised names, image and text hashes) and
// the predicted persons; no raw contact is seen.
package countci

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"adcensus/dedup/cluster"
	"adcensus/internal/textsig"
)

// Advert is what the interval needs of one de-duplicated advert.
type Advert struct {
	ID       string
	Person   string // the predicted person
	Name     string // normalised, "" when none
	City     string
	Age      int // 0 when unknown
	Contacts []string
	Images   []cluster.ImageHash
	Text     *textsig.MinHash // nil when none
}

// Kinds of declined evidence between two predicted persons, strongest
// first; a pair of persons counts under the first kind it shows.
const (
	KindImage10     = "image_le10"       // photos at robust distance ≤ 10, not linked (stock photo, or uncorroborated at 10)
	KindImage12     = "image_12"         // photos at robust distance 11–12
	KindImage16     = "image_14_16"      // photos at robust distance 13–16
	KindTextNoName  = "text_near_noname" // near-duplicate texts (Jaccard ≥ 0.5), one advert without a name
	KindTextName    = "text_near"        // near-duplicate texts, names disagreeing (or a template)
	KindNameCityAge = "name_city_age"    // the same name, city and age, no shared contact
	KindContactNone = "contact_noname"   // a shared contact, one person without any name
	KindContact     = "contact_names"    // a shared contact, names disagreeing (same network)
	KindNameCity    = "name_city"        // the same name and city, no shared contact
	KindTextWeak    = "text_near_weak"   // texts in one LSH band, Jaccard 0.3–0.5
)

// Kinds lists the kinds in order of strength.
var Kinds = []string{KindImage10, KindImage12, KindImage16, KindTextNoName, KindTextName, KindNameCityAge, KindContactNone, KindContact, KindNameCity, KindTextWeak}

// MaxGroup is the most distinct persons a piece of evidence may connect
// before it says nothing: a photo near to the photos of more persons is a
// stock photo, a text near to more is a template, a name in a city
// shared by more is a common name, a contact shared by more is an
// agency's. Such evidence makes no candidate link.
const MaxGroup = 4

// Link is a candidate link between two predicted persons (indices into
// Evidence.Persons).
type Link struct {
	A, B int
	Kind string
}

// Evidence is the declined evidence of a set of adverts.
type Evidence struct {
	Persons []string       // predicted person ids, sorted
	Links   []Link         // one per pair of persons, under its strongest kind
	Counts  map[string]int // links per kind
	// ImagesCompared is false when there were more than MaxImages distinct
	// photos, so image near-misses were not looked for.
	ImagesCompared bool
}

// MaxImages bounds the photos compared pairwise (the comparison is
// quadratic): beyond it the image kinds are left out, and the interval
// says so.
const MaxImages = 40000

// Collect finds the candidate links between the predicted persons of ads.
// The result depends on the order of ads only through which copy of a
// photo a person posted several times is compared: pass them in a fixed
// order (Offline sorts them by id).
func Collect(ads []Advert) *Evidence {
	idx := map[string]int{}
	for _, a := range ads {
		idx[a.Person] = 0
	}
	ev := &Evidence{Counts: map[string]int{}}
	for p := range idx {
		ev.Persons = append(ev.Persons, p)
	}
	sort.Strings(ev.Persons)
	for i, p := range ev.Persons {
		idx[p] = i
	}
	person := make([]int, len(ads))
	for i, a := range ads {
		person[i] = idx[a.Person]
	}
	best := map[[2]int]int{} // pair -> index into Kinds
	add := func(a, b int, kind int) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		k := [2]int{a, b}
		if old, ok := best[k]; !ok || kind < old {
			best[k] = kind
		}
	}
	kindIdx := func(k string) int { return slices.Index(Kinds, k) }

	ev.ImagesCompared = imageLinks(ads, person, func(a, b int, k string) { add(a, b, kindIdx(k)) })
	textLinks(ads, person, func(a, b int, k string) { add(a, b, kindIdx(k)) })
	groupLinks(ads, person, func(a, b int, k string) { add(a, b, kindIdx(k)) })

	keys := make([][2]int, 0, len(best))
	for k := range best {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		kind := Kinds[best[k]]
		ev.Links = append(ev.Links, Link{A: k[0], B: k[1], Kind: kind})
		ev.Counts[kind]++
	}
	return ev
}

// imageLinks compares the distinct photos of different persons
// (cluster.RobustDistance, after a cheap bound on the 86 % centres) and
// reports near misses up to 16, leaving out photos near to more than
// MaxGroup persons (stock photos). It reports false
// when there are too many photos to compare.
func imageLinks(ads []Advert, person []int, add func(a, b int, kind string)) bool {
	type img struct {
		h *cluster.ImageHash
		p int
	}
	var imgs []img
	seen := map[[2]uint64]bool{} // (person, pHash): one copy of a photo per person
	for i := range ads {
		for j := range ads[i].Images {
			h := &ads[i].Images[j]
			if len(h.Scales) != 2*cluster.NumScales {
				continue
			}
			k := [2]uint64{uint64(person[i]), h.PHash}
			if seen[k] {
				continue
			}
			seen[k] = true
			imgs = append(imgs, img{h, person[i]})
		}
	}
	if len(imgs) > MaxImages {
		return false
	}
	type near struct {
		a, b int
		d    int
	}
	var found []near
	persons := make([]map[int]bool, len(imgs))
	for i := range imgs {
		for j := i + 1; j < len(imgs); j++ {
			if imgs[i].p == imgs[j].p {
				continue
			}
			// a cheap lower bound first: the 86 % centres, as they are
			if cluster.Hamming(imgs[i].h.Scales[2], imgs[j].h.Scales[2]) > 30 &&
				cluster.Hamming(imgs[i].h.Scales[2], imgs[j].h.Scales[3]) > 30 {
				continue
			}
			d, _ := cluster.RobustDistance(imgs[i].h, imgs[j].h)
			if d > 16 {
				continue
			}
			found = append(found, near{i, j, d})
			if d <= 12 {
				for _, x := range [2][2]int{{i, j}, {j, i}} {
					if persons[x[0]] == nil {
						persons[x[0]] = map[int]bool{}
					}
					persons[x[0]][imgs[x[1]].p] = true
				}
			}
		}
	}
	for _, n := range found {
		if len(persons[n.a]) >= MaxGroup || len(persons[n.b]) >= MaxGroup {
			continue // a stock photo: near to the photos of many persons
		}
		kind := KindImage16
		switch {
		case n.d <= 10:
			kind = KindImage10
		case n.d <= 12:
			kind = KindImage12
		}
		add(imgs[n.a].p, imgs[n.b].p, kind)
	}
	return true
}

// textLinks finds adverts of different persons whose texts share an LSH
// band key: near (Jaccard ≥ 0.5) with names missing or disagreeing, or
// weakly near (0.3–0.5). Texts near to more than MaxGroup persons are
// templates and make no link.
func textLinks(ads []Advert, person []int, add func(a, b int, kind string)) {
	buckets := map[uint64][]int{}
	keys := make([][textsig.Bands]uint64, len(ads))
	for i := range ads {
		if ads[i].Text == nil {
			continue
		}
		keys[i] = ads[i].Text.BandKeys()
		for _, k := range keys[i] {
			buckets[k] = append(buckets[k], i)
		}
	}
	type pair struct{ a, b int }
	cand := map[pair]bool{}
	for _, b := range buckets {
		if len(b) > 200 {
			continue // a template's bucket
		}
		for x := 0; x < len(b); x++ {
			for y := x + 1; y < len(b); y++ {
				i, j := b[x], b[y]
				if person[i] != person[j] {
					cand[pair{min(i, j), max(i, j)}] = true
				}
			}
		}
	}
	reach := make([]map[int]bool, len(ads))
	type hit struct {
		i, j int
		jac  float64
	}
	var hits []hit
	for c := range cand {
		jac := ads[c.a].Text.Jaccard(ads[c.b].Text)
		if jac < 0.3 {
			continue
		}
		hits = append(hits, hit{c.a, c.b, jac})
		for _, x := range [2][2]int{{c.a, c.b}, {c.b, c.a}} {
			if reach[x[0]] == nil {
				reach[x[0]] = map[int]bool{}
			}
			reach[x[0]][person[x[1]]] = true
		}
	}
	for _, h := range hits {
		if len(reach[h.i]) >= MaxGroup || len(reach[h.j]) >= MaxGroup {
			continue
		}
		// near texts the rules declined: names missing or disagreeing, or
		// (names agreeing) a text marked template
		kind := KindTextName
		switch {
		case h.jac < 0.5:
			kind = KindTextWeak
		case ads[h.i].Name == "" || ads[h.j].Name == "":
			kind = KindTextNoName
		}
		add(person[h.i], person[h.j], kind)
	}
}

// groupLinks links persons that share a name, city and age, a name and
// city, or a contact (with another name), in groups of at most MaxGroup
// persons.
func groupLinks(ads []Advert, person []int, add func(a, b int, kind string)) {
	contactsOf := map[int]map[string]bool{}
	for i, a := range ads {
		if contactsOf[person[i]] == nil {
			contactsOf[person[i]] = map[string]bool{}
		}
		for _, c := range a.Contacts {
			contactsOf[person[i]][c] = true
		}
	}
	shareContact := func(a, b int) bool {
		for c := range contactsOf[a] {
			if contactsOf[b][c] {
				return true
			}
		}
		return false
	}
	group := func(kind string, key func(a *Advert) (string, bool), needNoContact bool) {
		g := map[string]map[int]bool{}
		for i := range ads {
			k, ok := key(&ads[i])
			if !ok {
				continue
			}
			if g[k] == nil {
				g[k] = map[int]bool{}
			}
			g[k][person[i]] = true
		}
		for _, ps := range g {
			if len(ps) < 2 || len(ps) > MaxGroup {
				continue
			}
			var list []int
			for p := range ps {
				list = append(list, p)
			}
			sort.Ints(list)
			for x := range list {
				for y := x + 1; y < len(list); y++ {
					if needNoContact && shareContact(list[x], list[y]) {
						continue
					}
					add(list[x], list[y], kind)
				}
			}
		}
	}
	group(KindNameCityAge, func(a *Advert) (string, bool) {
		return a.Name + "\x00" + a.City + "\x00" + fmt.Sprint(a.Age), a.Name != "" && a.City != "" && a.Age > 0
	}, true)
	group(KindNameCity, func(a *Advert) (string, bool) {
		return a.Name + "\x00" + a.City, a.Name != "" && a.City != ""
	}, true)
	// a contact carried by 2..MaxGroup persons (who then have different
	// names, or the rules would have joined them)
	byContact := map[string]map[int]bool{}
	named := map[int]bool{} // persons with a named advert
	for i, a := range ads {
		if a.Name != "" {
			named[person[i]] = true
		}
		for _, c := range a.Contacts {
			if byContact[c] == nil {
				byContact[c] = map[int]bool{}
			}
			byContact[c][person[i]] = true
		}
	}
	for _, ps := range byContact {
		if len(ps) < 2 || len(ps) > MaxGroup {
			continue
		}
		var list []int
		for p := range ps {
			list = append(list, p)
		}
		sort.Ints(list)
		for x := range list {
			for y := x + 1; y < len(list); y++ {
				kind := KindContact
				if !named[list[x]] || !named[list[y]] {
					kind = KindContactNone
				}
				add(list[x], list[y], kind)
			}
		}
	}
}

// Rate is the calibration of one kind: candidate pairs seen on labelled
// corpora and how many of them joined two fragments of one true person.
type Rate struct {
	Pairs int `json:"pairs"`
	True  int `json:"true"`
}

// Calibration is what the interval needs from labelled corpora.
//
// Model "rates" (the default, also when empty): each kind's links are
// true at its pooled rate (Rates, Beta posterior) whatever the corpus, and
// Residual holds (persons left − true persons) / persons counted, per
// corpus.
//
// Model "background": the candidate links of a kind that do
// not join one true person are a background whose rate per person counted
// varies little between corpora (False, Persons), while the true ones grow
// with how split-prone a corpus is. In a replicate the background of each
// kind is drawn (rate from its Gamma posterior, count Poisson), the rest of
// the kind's links are true, and each link is kept with that share. What
// no evidence explains is taken in proportion to the true links found:
// Residual holds, per calibration corpus, (persons left after the kept
// links − true persons) / true links found. "background-persons" is the
// same with the residual as in "rates". The three were compared by
// leave-one-out on the calibration corpora (docs/DEDUP.md); "rates" gave
// the narrowest intervals at the same coverage.
type Calibration struct {
	Model string          `json:"model"`
	Rates map[string]Rate `json:"rates"`
	False map[string]int  `json:"false"` // background links per kind, pooled
	// Used are the kinds the background model uses: those whose pooled
	// share of true links is at least MinTrueShare. A kind buried in its
	// background (photos at 13–16, weak texts) only adds noise; its few
	// true links are left to the residual.
	Used     []string  `json:"used"`
	Persons  int       `json:"persons"` // persons counted on the calibration corpora
	Residual []float64 `json:"residual"`
	Source   string    `json:"source"`
}

// MinTrueShare is the least share of true links a kind needs on the
// calibration corpora for the background model to use it.
const MinTrueShare = 0.05

// Interval is the count's estimate with its 90 % interval.
type Interval struct {
	Persons     int     `json:"persons"`      // the rules' count
	Estimate    float64 `json:"estimate"`     // median of the simulation
	Low         float64 `json:"low"`          // 5 % quantile
	High        float64 `json:"high"`         // 95 % quantile
	Level       float64 `json:"level"`        // 0.9
	Replicates  int     `json:"replicates"`   // of the simulation
	LinkedMean  float64 `json:"linked_mean"`  // persons after kept links, mean, before the residual
	TrueLinks   float64 `json:"true_links"`   // true links found, mean
	ResidualAvg float64 `json:"residual_avg"` // mean residual factor used
}

// Simulate draws the count's distribution for ev under cal and returns the
// interval. Replicate r uses PCG(seed, r).
func Simulate(ev *Evidence, cal *Calibration, replicates int, seed uint64) Interval {
	return SimulateEach(ev, cal, replicates, seed, nil)
}

// SimulateEach is Simulate calling each (unless nil) after every
// replicate r with the persons joined in it (find maps a person, an index
// into ev.Persons, to the one it was joined into; valid during the call)
// and the residual persons the replicate removes from what the joins left
// (negative: adds). A replicate's count is the persons find leaves minus
// removed. Callers use it to carry the de-duplication's uncertainty into
// what they compute from the persons (the overlap's estimate).
func SimulateEach(ev *Evidence, cal *Calibration, replicates int, seed uint64, each func(r int, find func(int) int, removed float64)) Interval {
	n := len(ev.Persons)
	if replicates <= 0 {
		replicates = 1000
	}
	iv := Interval{Persons: n, Level: 0.9, Replicates: replicates}
	resMean, resSD := meanSD(cal.Residual)
	// predictive spread for a new corpus
	resSD *= math.Sqrt(1 + 1/math.Max(1, float64(len(cal.Residual))))
	iv.ResidualAvg = resMean
	background := cal.Model == "background" || cal.Model == "background-persons"
	out := make([]float64, replicates)
	parent := make([]int, n)
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	src := rand.NewPCG(0, 0)
	rng := rand.New(src)
	p := map[string]float64{}
	linked, trueLinks := 0.0, 0.0
	for r := range replicates {
		src.Seed(seed, uint64(r))
		found := 0.0
		for _, k := range Kinds {
			if background {
				nk := float64(ev.Counts[k])
				if nk == 0 || !slices.Contains(cal.Used, k) {
					p[k] = 0
					continue
				}
				rate := gammaRand(rng, float64(cal.False[k])+0.5) / math.Max(1, float64(cal.Persons))
				t := math.Max(0, nk-poissonRand(rng, rate*float64(n)))
				p[k] = t / nk
				found += t
				continue
			}
			rt := cal.Rates[k]
			p[k] = betaRand(rng, float64(rt.True)+0.5, float64(rt.Pairs-rt.True)+0.5)
			found += p[k] * float64(ev.Counts[k])
		}
		for i := range parent {
			parent[i] = i
		}
		count := n
		for _, l := range ev.Links {
			if rng.Float64() < p[l.Kind] {
				a, b := find(l.A), find(l.B)
				if a != b {
					parent[a] = b
					count--
				}
			}
		}
		linked += float64(count)
		trueLinks += found
		res := resMean + resSD*rng.NormFloat64()
		if cal.Model == "background" {
			out[r] = float64(count) - res*found
		} else {
			out[r] = float64(count) - res*float64(n)
		}
		if each != nil {
			each(r, find, float64(count)-out[r])
		}
	}
	iv.LinkedMean = linked / float64(replicates)
	iv.TrueLinks = trueLinks / float64(replicates)
	sort.Float64s(out)
	iv.Estimate = quantile(out, 0.5)
	iv.Low = quantile(out, 0.05)
	iv.High = quantile(out, 0.95)
	return iv
}

// poissonRand draws from Poisson(l): by inversion for small l, else the
// normal approximation (the background counts are large).
func poissonRand(r *rand.Rand, l float64) float64 {
	if l <= 0 {
		return 0
	}
	if l > 50 {
		return math.Max(0, math.Round(l+math.Sqrt(l)*r.NormFloat64()))
	}
	k, t := 0.0, math.Exp(-l)
	u := r.Float64()
	for cum := t; u > cum; cum += t {
		k++
		t *= l / k
		if t == 0 {
			break
		}
	}
	return k
}

func meanSD(x []float64) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	m := 0.0
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	if len(x) < 2 {
		return m, 0
	}
	s := 0.0
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return m, math.Sqrt(s / float64(len(x)-1))
}

// quantile is the type-7 quantile of sorted x.
func quantile(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	i := int(math.Floor(h))
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// betaRand draws from Beta(a, b) as a ratio of gamma variates.
func betaRand(r *rand.Rand, a, b float64) float64 {
	x, y := gammaRand(r, a), gammaRand(r, b)
	if x+y == 0 {
		return 0
	}
	return x / (x + y)
}

// gammaRand draws from Gamma(a, 1) (Marsaglia & Tsang; a < 1 by boosting).
func gammaRand(r *rand.Rand, a float64) float64 {
	if a < 1 {
		u := r.Float64()
		return gammaRand(r, a+1) * math.Pow(u, 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// LabelledLink is a candidate link with whether it joins two fragments of
// one true person (calibration).
type LabelledLink struct {
	A    int    `json:"a"`
	B    int    `json:"b"`
	Kind string `json:"kind"`
	True bool   `json:"true"`
}

// Label marks each link of ev true when the two predicted persons' most
// frequent true persons (truth: ad id -> true person) are the same, and
// returns the number of true persons among ads.
func Label(ev *Evidence, ads []Advert, truth map[string]string) ([]LabelledLink, int) {
	votes := make([]map[string]int, len(ev.Persons))
	idx := map[string]int{}
	for i, p := range ev.Persons {
		idx[p] = i
	}
	trueSet := map[string]bool{}
	for _, a := range ads {
		t, ok := truth[a.ID]
		if !ok {
			continue
		}
		trueSet[t] = true
		i := idx[a.Person]
		if votes[i] == nil {
			votes[i] = map[string]int{}
		}
		votes[i][t]++
	}
	major := make([]string, len(votes))
	for i, v := range votes {
		best := -1
		for t, c := range v {
			if c > best || (c == best && t < major[i]) {
				best, major[i] = c, t
			}
		}
	}
	out := make([]LabelledLink, len(ev.Links))
	for i, l := range ev.Links {
		out[i] = LabelledLink{A: l.A, B: l.B, Kind: l.Kind, True: major[l.A] != "" && major[l.A] == major[l.B]}
	}
	return out, len(trueSet)
}

// Corpus is one labelled corpus's evidence, as `adcensus dedup --report
// --truth` writes it: the calibration input.
type Corpus struct {
	Name        string         `json:"name,omitempty"`
	Persons     int            `json:"persons"`
	TruePersons int            `json:"true_persons"`
	Links       []LabelledLink `json:"links"`
}

// Calibrate pools the corpora (model as in Calibration: "background" or
// "rates") and computes each corpus's residual under the pooled values.
func Calibrate(corpora []Corpus, model, source string) *Calibration {
	cal := &Calibration{Model: model, Rates: map[string]Rate{}, False: map[string]int{}, Source: source}
	for _, c := range corpora {
		cal.Persons += c.Persons
		for _, l := range c.Links {
			r := cal.Rates[l.Kind]
			r.Pairs++
			if l.True {
				r.True++
			} else {
				cal.False[l.Kind]++
			}
			cal.Rates[l.Kind] = r
		}
	}
	for _, k := range Kinds {
		if r := cal.Rates[k]; r.Pairs > 0 && float64(r.True) >= MinTrueShare*float64(r.Pairs) {
			cal.Used = append(cal.Used, k)
		}
	}
	bare := *cal
	bare.Residual = []float64{0}
	for _, c := range corpora {
		iv := Simulate(c.Evidence(), &bare, 400, 1)
		excess := iv.LinkedMean - float64(c.TruePersons)
		if model != "background" {
			cal.Residual = append(cal.Residual, excess/float64(c.Persons))
		} else {
			cal.Residual = append(cal.Residual, excess/math.Max(1, iv.TrueLinks))
		}
	}
	return cal
}

// Evidence rebuilds the (unlabelled) evidence of a corpus.
func (c *Corpus) Evidence() *Evidence {
	ev := &Evidence{Persons: make([]string, c.Persons), Counts: map[string]int{}, ImagesCompared: true}
	for _, l := range c.Links {
		ev.Links = append(ev.Links, Link{A: l.A, B: l.B, Kind: l.Kind})
		ev.Counts[l.Kind]++
	}
	return ev
}
