// Package synth generates a labelled evaluation corpus for the
// de-duplication stage: adverts as a researcher's input file would hold
// them (ads.jsonl, with raw phone strings), their photos (images/*.jpg) and
// the true person and network of every advert (truth.csv).
//
// The corpus models what makes counting hard (docs/DEDUP.md, DOMAIN.md):
// reposts with edited text, changed and obfuscated phone numbers, photos
// re-encoded, rescaled, cropped, mirrored, colour-shifted and watermarked
// per arena, agencies whose phone and text template front several persons,
// touring, stock photos shared by strangers, persons without photos and
// common names shared by unrelated persons.
//
// Everything is synthetic, bland and about adults. Phone numbers are random
// mobile numbers (Swedish 070/072/073/076, Polish, Romanian, British and
// Nigerian): the Swedish fiction range is too small for a corpus this size,
// so a generated number may exist; the corpus is for local evaluation and
// must never be published. Photos are cut from the licensed landscape tiles
// shared by the fixtures (package photoset; see its photos/SOURCES.md).
//
// The same Options (Seed included) give byte-identical files.
package synth

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"adcensus/ad"
)

// File and folder names written by Generate.
const (
	AdsFile   = "ads.jsonl"
	TruthFile = "truth.csv"
	imagesDir = "images"
)

// Options shape the corpus. Zero fields take the defaults of
// DefaultOptions; a negative share means none.
type Options struct {
	Seed    int64 `json:"seed"`
	Persons int   `json:"persons"` // default 600
	Ads     int   `json:"ads"`     // default 4,000; at least Persons
	// NetworkShare is the share of persons managed by an agency: 3–8
	// persons with different names and photos share an agency phone and a
	// text template (default 0.2).
	NetworkShare float64 `json:"network_share"`
	// PhoneChangeShare is the share of persons who change phone number
	// during the period, once or twice (default 0.3).
	PhoneChangeShare float64 `json:"phone_change_share"`
	// ObfuscateShare is the share of persons who often obfuscate their
	// number ("O7O…", spelled digits, keycaps) (default 0.35).
	ObfuscateShare float64 `json:"obfuscate_share"`
	// TouringShare is the share of independent persons advertising in
	// several cities in turn (default 0.25; agencies tour twice as often).
	TouringShare float64 `json:"touring_share"`
	// NoPhotoShare is the share of persons with no photos (default 0.08).
	NoPhotoShare float64 `json:"no_photo_share"`
	// StockImages photos are shared by StockShare of the persons, who are
	// otherwise unrelated (defaults 6 and 0.06).
	StockImages int     `json:"stock_images"`
	StockShare  float64 `json:"stock_share"`
	// NameVariantShare is the share of persons who sometimes write their
	// name differently ("Anna K.") (default 0.1).
	NameVariantShare float64 `json:"name_variant_share"`
	// BlankShare is the share of adverts posted blank: no name and no
	// photos, a short "new in town, call" text on the person's or the
	// agency's number (default none; the default corpus has none).
	BlankShare float64 `json:"blank_share"`
	// Style chooses how the corpus is built: StyleDefault ("") or
	// StyleVaried, a corpus built differently (varied.go). The default
	// corpus does not depend on the code of the other styles.
	Style string `json:"style,omitempty"`
	// Start and Days bound the posting times (defaults 2026-01-05, 90).
	Start time.Time `json:"start"`
	Days  int       `json:"days"`
	// Workers render images (default GOMAXPROCS); the output does not
	// depend on it.
	Workers int `json:"-"`
}

// DefaultOptions returns the default corpus: 600 persons, 4,000 adverts.
func DefaultOptions() Options {
	return Options{
		Seed: 1, Persons: 600, Ads: 4000,
		NetworkShare: 0.2, PhoneChangeShare: 0.3, ObfuscateShare: 0.35,
		TouringShare: 0.25, NoPhotoShare: 0.08, StockImages: 6, StockShare: 0.06,
		NameVariantShare: 0.1,
		Start:            time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Days: 90,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	setI := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		switch {
		case *v == 0:
			*v = def
		case *v < 0:
			*v = 0
		}
	}
	setI(&o.Persons, d.Persons)
	setI(&o.Ads, max(d.Ads, o.Persons))
	setI(&o.Days, d.Days)
	if o.StockImages == 0 {
		o.StockImages = d.StockImages
	} else if o.StockImages < 0 {
		o.StockImages = 0
	}
	setF(&o.NetworkShare, d.NetworkShare)
	setF(&o.PhoneChangeShare, d.PhoneChangeShare)
	setF(&o.ObfuscateShare, d.ObfuscateShare)
	setF(&o.TouringShare, d.TouringShare)
	setF(&o.NoPhotoShare, d.NoPhotoShare)
	setF(&o.StockShare, d.StockShare)
	setF(&o.NameVariantShare, d.NameVariantShare)
	setF(&o.BlankShare, d.BlankShare)
	if o.Start.IsZero() {
		o.Start = d.Start
	}
	return o
}

// Validate checks the options after defaults are applied.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Persons < 1:
		return fmt.Errorf("persons: %d, want at least 1", o.Persons)
	case o.Ads < o.Persons:
		return fmt.Errorf("ads: %d, want at least persons (%d)", o.Ads, o.Persons)
	case o.Days < 1:
		return fmt.Errorf("days: %d, want at least 1", o.Days)
	case o.Style != StyleDefault && o.Style != StyleVaried:
		return fmt.Errorf("style: %q, want %q or %q", o.Style, StyleDefault, StyleVaried)
	}
	for name, v := range map[string]float64{
		"network_share": o.NetworkShare, "phone_change_share": o.PhoneChangeShare,
		"obfuscate_share": o.ObfuscateShare, "touring_share": o.TouringShare,
		"no_photo_share": o.NoPhotoShare, "stock_share": o.StockShare,
		"name_variant_share": o.NameVariantShare, "blank_share": o.BlankShare,
	} {
		if v > 1 {
			return fmt.Errorf("%s: %g, want at most 1", name, v)
		}
	}
	return nil
}

// Stats counts what Generate wrote.
type Stats struct {
	Ads     int `json:"ads"`
	Persons int `json:"persons"`
	// Networks counts the agencies (networks of 2 or more persons).
	// truth.csv gives every independent person a network of its own, so it
	// has TruthNetworks distinct network ids.
	Networks         int `json:"networks"`
	NetworkPersons   int `json:"network_persons"`
	TruthNetworks    int `json:"truth_networks"`
	Images           int `json:"images"`      // image files written
	BaseImages       int `json:"base_images"` // distinct photos before per-upload transforms, stock included
	StockImages      int `json:"stock_images"`
	ImageRefs        int `json:"image_refs"` // image entries over all adverts
	AdsWithoutImages int `json:"ads_without_images"`
	AdsWithPhones    int `json:"ads_with_phones"`   // adverts with a phones field
	AdsPhoneInText   int `json:"ads_phone_in_text"` // adverts with a number in the body
	Phones           int `json:"phones"`            // distinct numbers (own and agency)
	PhoneChangers    int `json:"phone_changers"`
	TouringPersons   int `json:"touring_persons"`
	NoPhotoPersons   int `json:"no_photo_persons"`
	StockPersons     int `json:"stock_persons"`
	// SharedNames counts names used by two or more persons.
	SharedNames int `json:"shared_names"`
	BlankAds    int `json:"blank_ads"` // adverts without name and photos (Options.BlankShare)
}

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

type gen struct {
	o       Options
	r       *rand.Rand
	used    map[string]bool
	persons []*person
	nets    []*network
	// phoneInText counts the adverts with a number in the body.
	phoneInText int
	blankAds    int
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

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

// Generate writes a corpus into dir: AdsFile, TruthFile and the images
// folder. dir is created if needed and must not already hold a corpus.
func Generate(ctx context.Context, opt Options, dir string) (Stats, error) {
	var st Stats
	if err := opt.Validate(); err != nil {
		return st, fmt.Errorf("synth options: %w", err)
	}
	o := opt.withDefaults()
	if o.Style == StyleVaried {
		o = o.variedDefaults()
	}
	for _, name := range []string{AdsFile, TruthFile, imagesDir} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return st, fmt.Errorf("synth: %s already exists in %s", name, dir)
		} else if !errors.Is(err, os.ErrNotExist) {
			return st, err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, imagesDir), 0o755); err != nil {
		return st, err
	}
	g := &gen{o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x73796e7468)), used: map[string]bool{}}
	if g.varied() {
		g.makePersonsVaried()
	} else {
		g.makePersons()
	}

	t, err := loadTiles()
	if err != nil {
		return st, err
	}
	need := o.StockImages
	for _, p := range g.persons {
		need += p.nPhotos
	}
	poolRand := rand.New(rand.NewPCG(uint64(o.Seed), 0x706f6f6c))
	bases, err := t.pool(ctx, poolRand, need, o.Workers)
	if err != nil {
		return st, err
	}
	g.assignPhotos(len(bases))

	ads, owners, variants := g.makeAds()
	if err := t.renderVariants(ctx, dir, bases, variants, o.Workers); err != nil {
		return st, err
	}
	if err := writeAds(filepath.Join(dir, AdsFile), ads); err != nil {
		return st, err
	}
	if err := writeTruth(filepath.Join(dir, TruthFile), ads, owners); err != nil {
		return st, err
	}

	st = g.stats(ads)
	st.Images = len(variants)
	st.BaseImages = len(bases)
	st.StockImages = o.StockImages
	return st, nil
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

func (g *gen) makePersons() {
	o, r := g.o, g.r
	n := o.Persons
	start := o.Start
	period := time.Duration(o.Days) * 24 * time.Hour

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

	// Ads per person: heavy-tailed weights, at least one each.
	counts := advertCounts(r, n, o.Ads, 1.1)

	netNames := map[int]map[string]bool{}
	for i := range n {
		p := &person{id: fmt.Sprintf("P%04d", i+1), netIdx: netOf[i], stock: -1, ads: counts[i]}
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
		p.age = 21 + int(math.Abs(r.NormFloat64())*8)
		p.age = min(p.age, 55)
		p.home = g.pickCity()
		p.price = fmt.Sprintf("%d kr", 1000+500*r.IntN(7))

		// Active window.
		p.from, p.to = activeWindow(r, start, period, 0.15, 0.85)

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
		if chance(r, touring) {
			for range 1 + r.IntN(4) {
				c := cities[r.IntN(len(cities))]
				if c != p.home {
					p.tour = append(p.tour, c)
				}
			}
		}
		// Own numbers: every independent person (5 % rely on the site's
		// messages) and some agency members.
		if (p.netIdx < 0 && !chance(r, 0.05)) || p.agencyOwn {
			p.phones = []string{g.newPhone(p.origin)}
			if chance(r, o.PhoneChangeShare) {
				for range 1 + r.IntN(2) {
					p.phones = append(p.phones, g.newPhone(p.origin))
				}
				span := p.to.Sub(p.from)
				for range len(p.phones) - 1 {
					p.switches = append(p.switches, p.from.Add(time.Duration(r.Int64N(int64(span)+1))))
				}
				slices.SortFunc(p.switches, func(a, b time.Time) int { return a.Compare(b) })
			}
		}
		p.phoneField = 0.5 + 0.5*r.Float64()
		p.phoneText = 0.2 + 0.6*r.Float64()

		// Photos: counts now, bases once the pool is cut.
		switch x := r.Float64(); {
		case x < o.NoPhotoShare:
			p.nPhotos = 0
		case x < o.NoPhotoShare+o.StockShare && o.StockImages > 0:
			p.stock = 0 // chosen in assignPhotos
			p.stockOnly = chance(r, 0.3)
			if !p.stockOnly {
				p.nPhotos = 1 + r.IntN(2)
			}
		default:
			p.nPhotos = pick(r, []int{1, 1, 1, 1, 2, 2, 2, 2, 3, 4})
		}
		g.persons = append(g.persons, p)
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

type variantKey struct{ base, arena, upload, owner int }

func (g *gen) makeAds() ([]*ad.Ad, []*person, []variantSpec) {
	r := g.r
	type planned struct {
		a *ad.Ad
		p *person
		n int
	}
	var all []planned
	var variants []variantSpec
	vIndex := map[variantKey]int{}
	upload := map[variantKey]int{} // current upload number per (base, arena, owner)
	for pi, p := range g.persons {
		times := make([]time.Time, p.ads)
		span := int64(p.to.Sub(p.from))
		for i := range times {
			times[i] = p.from.Add(time.Duration(r.Int64N(span + 1))).Truncate(time.Minute)
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for _, t := range times {
			a := &ad.Ad{PostedAt: t, Gender: p.gender}
			a.FetchedAt = t.Add(time.Duration(1+r.IntN(36)) * time.Hour)
			arena := pick(r, p.arenas)
			a.Arena = arenas[arena].Name

			// Touring: the window is cut into one segment per city.
			c := p.home
			stop := 0
			if len(p.tour) > 0 {
				stops := append([]city{p.home}, p.tour...)
				seg := int(float64(len(stops)) * float64(t.Sub(p.from)) / float64(p.to.Sub(p.from)+1))
				stop = min(seg, len(stops)-1)
				c = stops[stop]
			}
			a.City, a.Region = c.Name, c.Region
			textName := p.name
			if g.varied() {
				a.Name, textName = g.nameVaried(p, arena)
			} else {
				a.Name = p.name
				if p.nameVariant != "" && chance(r, 0.35) {
					a.Name = p.nameVariant
				}
				textName = a.Name
			}
			if !chance(r, 0.08) {
				a.Age = p.age
			}
			if chance(r, 0.7) {
				a.Attrs = map[string]string{"price": p.price}
			}

			// Numbers shown on this advert.
			var nums []string
			if p.netIdx >= 0 {
				nw := g.nets[p.netIdx]
				if len(p.phones) == 0 || chance(r, 0.6) {
					nums = append(nums, pick(r, nw.phones))
				}
			}
			if len(p.phones) > 0 && (p.netIdx < 0 || len(nums) == 0 || chance(r, 0.3)) {
				cur, prev := p.phoneAt(t)
				if stop > 0 && len(p.tourPhones) >= stop {
					// A touring number, bought for the stop.
					cur, prev = p.tourPhones[stop-1], ""
				}
				nums = append(nums, cur)
				if prev != "" && chance(r, 0.15) {
					nums = append(nums, prev)
				}
			}
			style := func() int {
				if chance(r, 0.1) {
					return r.IntN(g.numStyles())
				}
				return pick(r, p.styles)
			}
			inField := len(nums) > 0 && chance(r, p.phoneField)
			inText := len(nums) > 0 && (chance(r, p.phoneText) || (!inField && chance(r, 0.7)))
			if inField {
				for _, n := range nums {
					a.Phones = append(a.Phones, g.spell(n, style()))
				}
			}
			textPhone := ""
			if inText {
				textPhone = g.spell(nums[0], style())
				g.phoneInText++
			}
			// A blank advert (only drawn when asked for, so that the
			// default corpus stays as it was): no name, no photos.
			blank := g.o.BlankShare > 0 && chance(r, g.o.BlankShare)
			if blank {
				a.Name = ""
				a.Title, a.Body = g.blankText(p, c, textPhone)
				g.blankAds++
			} else if g.varied() {
				a.Title, a.Body = g.textVaried(p, c, a.Age, textName, textPhone)
			} else {
				a.Title, a.Body = g.text(p, c, a.Age, a.Name, textPhone)
			}

			// Photos.
			var show []int
			if blank {
				// none
			} else if len(p.photos) > 0 && !chance(r, 0.06) {
				k := 1 + r.IntN(len(p.photos))
				perm := r.Perm(len(p.photos))[:k]
				if chance(r, 0.8) && !slices.Contains(perm, 0) {
					perm[0] = 0
				}
				for _, j := range perm {
					show = append(show, p.photos[j])
				}
			}
			if !blank && p.stock >= 0 && (p.stockOnly || chance(r, 0.6)) {
				show = append(show, p.stock)
			}
			for _, b := range show {
				owner := -1
				if p.stock == b {
					owner = pi // stock photos are uploaded by each user
				}
				k := variantKey{base: b, arena: arena, owner: owner}
				if _, seen := upload[k]; seen && chance(r, 0.2) {
					upload[k]++
				}
				vk := k
				vk.upload = upload[k]
				upload[k] = vk.upload
				idx, ok := vIndex[vk]
				if !ok {
					idx = len(variants)
					sum := sha256.Sum256(fmt.Appendf(nil, "synth/%d/image/%d", g.o.Seed, idx))
					name := hex.EncodeToString(sum[:8]) + ".jpg"
					if g.varied() {
						variants = append(variants, newVariantVaried(r, b, arena, name))
					} else {
						variants = append(variants, newVariant(r, b, arena, name))
					}
					vIndex[vk] = idx
				}
				a.Images = append(a.Images, imagesDir+"/"+variants[idx].name)
			}
			all = append(all, planned{a, p, len(all)})
		}
	}
	slices.SortStableFunc(all, func(x, y planned) int {
		return cmp.Or(x.a.PostedAt.Compare(y.a.PostedAt), cmp.Compare(x.n, y.n))
	})
	counter := map[string]int{}
	ads := make([]*ad.Ad, len(all))
	owners := make([]*person, len(all))
	for i, pl := range all {
		counter[pl.a.Arena]++
		key := fmt.Sprintf("%d", 1000+counter[pl.a.Arena])
		pl.a.ID = ad.ContentID(pl.a.Arena, fmt.Sprintf("synth-%d/%s", g.o.Seed, key))
		pl.a.URL = "https://" + pl.a.Arena + ".example/annons/" + key
		ads[i], owners[i] = pl.a, pl.p
	}
	return ads, owners, variants
}

// blankText writes a blank advert's title and body: no name, the city,
// the closing and the number line of the person's language.
func (g *gen) blankText(p *person, c city, phone string) (string, string) {
	l := p.lng
	lines := []string{pick(g.r, l.Closings)}
	if phone != "" {
		lines = append(lines, l.PhoneLines[p.tpl.phoneLine])
	}
	rep := strings.NewReplacer("{C}", c.Name, "{T}", c.Name, "{P}", phone)
	return rep.Replace(pick(g.r, l.BlankTitles)), rep.Replace(strings.Join(lines, "\n"))
}

// text writes the title and body of one advert: the person's (or agency's)
// template with the edits of a repost.
func (g *gen) text(p *person, c city, age int, name, phone string) (string, string) {
	r := g.r
	l := p.lng
	tpl := p.tpl
	touring := c != p.home
	title := l.Titles[tpl.title]
	if chance(r, 0.15) {
		title = pick(r, l.Titles)
	}
	if touring && chance(r, 0.5) {
		title = l.TourTitle
	}
	middles := make([]string, 0, len(tpl.middles)+1)
	for _, m := range tpl.middles {
		middles = append(middles, l.Middles[m])
	}
	if chance(r, 0.4) {
		r.Shuffle(len(middles), func(i, j int) { middles[i], middles[j] = middles[j], middles[i] })
	}
	if len(middles) > 2 && chance(r, 0.25) {
		k := r.IntN(len(middles))
		middles = slices.Delete(middles, k, k+1)
	}
	if chance(r, 0.2) {
		middles = append(middles, pick(r, l.Middles))
	}
	lines := []string{l.Intros[tpl.intro]}
	lines = append(lines, middles...)
	if touring {
		lines = append(lines, l.Tour)
	}
	if p.netIdx >= 0 {
		lines = append(lines, l.AgencyLines[tpl.agencyLine])
	}
	lines = append(lines, l.Closings[tpl.closing])
	if phone != "" {
		lines = append(lines, l.PhoneLines[tpl.phoneLine])
	}
	if chance(r, 0.3) {
		x := pick(r, l.Extras)
		if chance(r, 0.5) {
			lines = append([]string{x}, lines...)
		} else {
			lines = append(lines, x)
		}
	}
	if p.bilingual {
		lines = append(lines, "", "English: "+pick(r, en.Intros), pick(r, en.Middles))
	}
	body := strings.Join(lines, "\n")
	if chance(r, 0.35) {
		for range 1 + r.IntN(2) {
			s := pick(r, l.Synonyms)
			body = strings.Replace(body, s[0], s[1], 1)
		}
	}
	ageS := fmt.Sprint(age)
	if age == 0 {
		ageS = fmt.Sprint(p.age)
	}
	rep := strings.NewReplacer("{N}", name, "{A}", ageS, "{C}", c.Name, "{T}", c.Name, "{P}", phone)
	return rep.Replace(title), rep.Replace(body)
}

func writeAds(path string, ads []*ad.Ad) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := ad.NewWriter(f)
	for _, a := range ads {
		if err := w.Write(a); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func writeTruth(path string, ads []*ad.Ad, owners []*person) error {
	rows := make([][]string, len(ads))
	for i, a := range ads {
		rows[i] = []string{a.ID, owners[i].id, owners[i].net}
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"ad_id", "person_id", "network_id"})
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func (g *gen) stats(ads []*ad.Ad) Stats {
	st := Stats{Ads: len(ads), Persons: len(g.persons), Networks: len(g.nets)}
	phones := map[string]bool{}
	for _, nw := range g.nets {
		for _, p := range nw.phones {
			phones[p] = true
		}
	}
	names := map[string]int{}
	for _, p := range g.persons {
		if p.netIdx >= 0 {
			st.NetworkPersons++
		}
		for _, n := range p.phones {
			phones[n] = true
		}
		for _, n := range p.tourPhones {
			phones[n] = true
		}
		if len(p.switches) > 0 {
			st.PhoneChangers++
		}
		if len(p.tour) > 0 {
			st.TouringPersons++
		}
		if len(p.photos) == 0 && p.stock < 0 {
			st.NoPhotoPersons++
		}
		if p.stock >= 0 {
			st.StockPersons++
		}
		names[strings.ToLower(p.name)]++
	}
	for _, c := range names {
		if c > 1 {
			st.SharedNames++
		}
	}
	st.Phones = len(phones)
	st.AdsPhoneInText = g.phoneInText
	st.BlankAds = g.blankAds
	st.TruthNetworks = len(g.nets) + len(g.persons) - st.NetworkPersons
	for _, a := range ads {
		st.ImageRefs += len(a.Images)
		if len(a.Images) == 0 {
			st.AdsWithoutImages++
		}
		if len(a.Phones) > 0 {
			st.AdsWithPhones++
		}
	}
	return st
}
