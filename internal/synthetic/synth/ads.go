package synth

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"adcensus/ad"
)

// uploads are the image files of the corpus: one per upload of a base
// photo by an owner to an arena.
type uploads struct {
	variants []variantSpec
	index    map[variantKey]int // variant of each upload
	current  map[variantKey]int // current upload number per (base, arena, owner)
}

type variantKey struct{ base, arena, upload, owner int }

// makeAds draws every person's adverts in posting order, then numbers them
// per arena. It returns the adverts, the person of each and the image files
// to render.
func (g *gen) makeAds() ([]*ad.Ad, []*person, []variantSpec) {
	r := g.r
	type planned struct {
		a *ad.Ad
		p *person
		n int
	}
	var all []planned
	up := &uploads{index: map[variantKey]int{}, current: map[variantKey]int{}}
	for pi, p := range g.persons {
		times := make([]time.Time, p.ads)
		span := int64(p.to.Sub(p.from))
		for i := range times {
			times[i] = p.from.Add(time.Duration(r.Int64N(span + 1))).Truncate(time.Minute)
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for _, t := range times {
			all = append(all, planned{g.newAd(pi, t, up), p, len(all)})
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
	return ads, owners, up.variants
}

// newAd draws one advert of person pi posted at t: arena, city, name, age,
// price, numbers, text and photos (uploaded to up).
func (g *gen) newAd(pi int, t time.Time, up *uploads) *ad.Ad {
	r, p := g.r, g.persons[pi]
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
	var textName string
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

	textPhone := g.showNumbers(a, p, g.numbers(p, t, stop))
	// A blank advert (only drawn when asked for, so that the default
	// corpus stays as it was): no name, no photos.
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
	if !blank {
		for _, b := range g.photosShown(p) {
			owner := -1
			if p.stock == b {
				owner = pi // stock photos are uploaded by each user
			}
			a.Images = append(a.Images, imagesDir+"/"+g.upload(up, b, arena, owner))
		}
	}
	return a
}

// numbers draws the numbers an advert of p posted at t shows: the agency's
// and the person's own (the one in use at t, sometimes the previous one
// too, or the number bought for tour stop stop).
func (g *gen) numbers(p *person, t time.Time, stop int) []string {
	r := g.r
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
	return nums
}

// showNumbers writes nums into the advert's phones field, or into its text,
// or both, each in one of the person's spellings. It returns the spelling
// for the text, or "".
func (g *gen) showNumbers(a *ad.Ad, p *person, nums []string) (textPhone string) {
	r := g.r
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
	if inText {
		textPhone = g.spell(nums[0], style())
		g.phoneInText++
	}
	return textPhone
}

// photosShown draws the base photos an advert of p shows: some of the
// person's own, the main one usually among them, and the stock photo.
func (g *gen) photosShown(p *person) []int {
	r := g.r
	var show []int
	if len(p.photos) > 0 && !chance(r, 0.06) {
		k := 1 + r.IntN(len(p.photos))
		perm := r.Perm(len(p.photos))[:k]
		if chance(r, 0.8) && !slices.Contains(perm, 0) {
			perm[0] = 0
		}
		for _, j := range perm {
			show = append(show, p.photos[j])
		}
	}
	if p.stock >= 0 && (p.stockOnly || chance(r, 0.6)) {
		show = append(show, p.stock)
	}
	return show
}

// upload returns the image file of base photo b on an advert of arena by
// owner (-1: the photo's own person): the file of the current upload, or
// sometimes a new upload with edits of its own.
func (g *gen) upload(up *uploads, b, arena, owner int) string {
	r := g.r
	k := variantKey{base: b, arena: arena, owner: owner}
	if _, seen := up.current[k]; seen && chance(r, 0.2) {
		up.current[k]++
	}
	vk := k
	vk.upload = up.current[k]
	up.current[k] = vk.upload
	idx, ok := up.index[vk]
	if !ok {
		idx = len(up.variants)
		sum := sha256.Sum256(fmt.Appendf(nil, "synth/%d/image/%d", g.o.Seed, idx))
		name := hex.EncodeToString(sum[:8]) + ".jpg"
		if g.varied() {
			up.variants = append(up.variants, newVariantVaried(r, b, arena, name))
		} else {
			up.variants = append(up.variants, newVariant(r, b, arena, name))
		}
		up.index[vk] = idx
	}
	return up.variants[idx].name
}
