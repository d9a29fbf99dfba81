package synth

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Corpus styles (Options.Style).
const (
	// StyleDefault is the corpus the scores in docs/DEDUP.md were measured
	// on; its files do not change with the other styles.
	StyleDefault = ""
	// StyleVaried builds the corpus differently, as another team might:
	// far more skewed adverts per person (many persons with one advert, a
	// few with a hundred), agencies of 2 to 25 persons, touring persons
	// who buy a number per city, harsher photo edits (a side cropped by up
	// to a fifth, the aspect ratio changed, a slight rotation, a text
	// banner across the photo, strong JPEG compression, colour shifts),
	// texts written short or long, in capitals, with emoji, with their
	// sentences reordered or Swedish and English mixed, shared text
	// templates copied by strangers, names written in capitals, with
	// emoji or a second work name on one arena, adverts without a name,
	// more phone spellings, and more stock photos. The truth has the same
	// meaning: a person is one advertiser, a network an agency's persons.
	StyleVaried = "varied"
)

func (g *gen) varied() bool { return g.o.Style == StyleVaried }

// variedDefaults moves the shares a caller left at their defaults to the
// varied style's.
func (o Options) variedDefaults() Options {
	d := DefaultOptions()
	set := func(v *float64, def, varied float64) {
		if *v == def {
			*v = varied
		}
	}
	set(&o.NetworkShare, d.NetworkShare, 0.25)
	set(&o.TouringShare, d.TouringShare, 0.3)
	set(&o.NoPhotoShare, d.NoPhotoShare, 0.12)
	set(&o.StockShare, d.StockShare, 0.1)
	set(&o.NameVariantShare, d.NameVariantShare, 0.12)
	if o.StockImages == d.StockImages {
		o.StockImages = 12
	}
	return o
}

// variedPerson is how a person of the varied style writes.
type variedPerson struct {
	caps   bool    // writes everything in capitals
	emoji  bool    // adds emoji to lines and sometimes to the name
	length int     // 0 as the template, 1 short, 2 long
	mixed  bool    // mixes Swedish and English sentences
	noName float64 // share of adverts with an empty name field
	// alias is a second work name, used on the arena aliasArena.
	alias      string
	aliasArena int
}

var (
	emojis       = []string{"✨", "🌸", "❤️", "☕", "🌹", "😊", "💫", "🌷"}
	bannerTexts  = []string{"NYA BILDER", "NEW IN TOWN", "100% ÄKTA BILDER", "VERIFIED", "NY I STAN", "REAL PHOTOS"}
	nameDecorate = []string{"%s ❤️", "✨%s✨", "%s 🌸", "*%s*", "~ %s ~", "❤️ %s ❤️"}
)

// Phone spellings added by the varied style (after numStyles).
const (
	stParen     = numStyles + iota // (070) 123 45 67 / +48 (512) 345 678
	stSlash                        // 070/123 45 67 / +48 512/345/678
	stPlusZero                     // +46 (0)70-123 45 67
	stPairs                        // 07 01 23 45 67 / +48 51 23 45 67 8
	stSpacedOut                    // 0 7 0 1 2 3 4 5 6 7 (obfuscated)
	numStylesVaried
)

func (g *gen) numStyles() int {
	if g.varied() {
		return numStylesVaried
	}
	return numStyles
}

// spell writes a number in a style of the corpus.
func (g *gen) spell(e164 string, style int) string {
	if style < numStyles {
		return spell(g.r, e164, style)
	}
	national, cc, gs := groups(e164)
	all := strings.Join(gs, "")
	switch style {
	case stParen:
		if national {
			return "(" + gs[0] + ") " + strings.Join(gs[1:], " ")
		}
		return cc + " (" + gs[0] + ") " + strings.Join(gs[1:], " ")
	case stSlash:
		if national {
			return gs[0] + "/" + strings.Join(gs[1:], " ")
		}
		return cc + " " + strings.Join(gs, "/")
	case stPlusZero:
		if national {
			return cc + " (0)" + gs[0][1:] + "-" + strings.Join(gs[1:], " ")
		}
		return cc + " " + strings.Join(gs, " ")
	case stPairs:
		var ps []string
		for i := 0; i < len(all); i += 2 {
			ps = append(ps, all[i:min(i+2, len(all))])
		}
		if national {
			return strings.Join(ps, " ")
		}
		return cc + " " + strings.Join(ps, " ")
	case stSpacedOut:
		ds := strings.Split(all, "")
		if national {
			return strings.Join(ds, " ")
		}
		return cc + " " + strings.Join(ds, " ")
	}
	panic(fmt.Sprintf("synth: unknown phone style %d", style))
}

func (g *gen) pickStylesVaried(obfuscate bool) []int {
	r := g.r
	plain := []int{stDashed, stSpaced, stCompact, stIntl, stIntlComp, stZeroZero, stDotted, stParen, stSlash, stPlusZero, stPairs}
	obf := []int{stLetterO, stWordsSV, stWordsEN, stMixed, stKeycap, stSpacedOut}
	s := []int{pick(r, plain), pick(r, plain)}
	if obfuscate {
		s = append(s, pick(r, obf), pick(r, obf))
	}
	return s
}

// makePersonsVaried draws the persons of the varied style.
func (g *gen) makePersonsVaried() {
	r := g.r
	netOf := g.makeNetworksVaried()

	// Adverts per person: log-normal weights with a longer tail, so many
	// persons post once and a few post a hundred times.
	counts := advertCounts(r, g.o.Persons, g.o.Ads, 1.5)

	// Text templates copied from a common source by unrelated persons.
	shared := map[*lang][]textTpl{}
	for _, l := range []*lang{sv, en} {
		for range 3 {
			shared[l] = append(shared[l], g.newTpl(l))
		}
	}

	netNames := map[int]map[string]bool{}
	for i := range g.o.Persons {
		g.persons = append(g.persons, g.newPersonVaried(i, netOf[i], counts[i], netNames, shared))
	}
}

// makeNetworksVaried draws agencies of 2 to 25 persons, most small (Pareto
// sizes); it returns each person's network index, -1 for an independent
// person.
func (g *gen) makeNetworksVaried() []int {
	o, r := g.o, g.r
	n := o.Persons
	perm := r.Perm(n)
	inNet := int(math.Round(o.NetworkShare * float64(n)))
	netOf := make([]int, n)
	for i := range netOf {
		netOf[i] = -1
	}
	for k := 0; k+2 <= inNet; {
		size := min(25, 1+int(math.Pow(1-r.Float64(), -1/1.2)))
		if rest := inNet - k - size; rest < 2 {
			size = inNet - k
		}
		nw := &network{id: fmt.Sprintf("N%03d", len(g.nets)+1)}
		origin := g.pickOrigin()
		nw.phones = []string{g.newPhone(origin)}
		for range r.IntN(3) {
			nw.phones = append(nw.phones, g.newPhone(origin))
		}
		nw.arenas = g.pickArenas(1 + r.IntN(4))
		nw.lng, _ = g.pickLang(origin)
		nw.tpl = g.newTpl(nw.lng)
		nw.styles = g.pickStylesVaried(chance(r, o.ObfuscateShare))
		for _, i := range perm[k : k+size] {
			netOf[i] = len(g.nets)
		}
		g.nets = append(g.nets, nw)
		k += size
	}
	return netOf
}

// newPersonVaried draws person i of the varied style (see newPerson);
// shared holds the text templates that unrelated persons copy.
func (g *gen) newPersonVaried(i, netIdx, ads int, netNames map[int]map[string]bool, shared map[*lang][]textTpl) *person {
	o, r := g.o, g.r
	p := g.newIdentity(i, netIdx, ads, netNames)
	v := &p.varied
	v.caps = chance(r, 0.08)
	v.emoji = chance(r, 0.2)
	switch x := r.Float64(); {
	case x < 0.25:
		v.length = 1
	case x < 0.45:
		v.length = 2
	}
	if chance(r, 0.2) {
		v.noName = 0.1 + 0.4*r.Float64()
	}
	g.drawAgeHomePrice(p)
	p.from, p.to = activeWindow(r, o.Start, o.period(), 0.1, 0.9)

	touring := o.TouringShare
	if p.netIdx >= 0 {
		nw := g.nets[p.netIdx]
		p.net = nw.id
		p.lng = nw.lng
		p.tpl = nw.tpl
		p.arenas = nw.arenas
		p.styles = nw.styles
		p.agencyOwn = chance(r, 0.3)
		touring = min(1, 2*touring)
	} else {
		p.net = "solo-" + p.id
		p.lng, p.bilingual = g.pickLang(p.origin)
		p.tpl = g.newTpl(p.lng)
		if chance(r, 0.1) {
			p.tpl = pick(r, shared[p.lng])
		}
		p.arenas = g.pickArenas(1 + r.IntN(4))
		p.obfuscate = chance(r, o.ObfuscateShare)
		p.styles = g.pickStylesVaried(p.obfuscate)
	}
	v.mixed = p.bilingual && chance(r, 0.6)
	g.drawAlias(p, netNames)
	g.drawTour(p, touring, 5)
	// Half the touring persons with own numbers buy a local number per city.
	if g.drawOwnPhones(p, 3) && len(p.tour) > 0 && chance(r, 0.5) {
		for range p.tour {
			p.tourPhones = append(p.tourPhones, g.newPhone(originSE))
		}
	}
	p.phoneField = 0.3 + 0.7*r.Float64()
	p.phoneText = 0.1 + 0.8*r.Float64()
	g.drawPhotos(p, 3, []int{1, 1, 1, 1, 2, 2, 2, 3, 3, 4})
	return p
}

// drawAlias gives a few persons on several arenas a second work name for
// one of them, not taken in their network.
func (g *gen) drawAlias(p *person, netNames map[int]map[string]bool) {
	r, v := g.r, &p.varied
	if len(p.arenas) > 1 && chance(r, 0.06) {
		taken := func(n string) bool {
			return n == "" || n == p.name || (p.netIdx >= 0 && netNames[p.netIdx][n])
		}
		for tries := 0; tries < 20 && taken(v.alias); tries++ {
			v.alias = g.pickName(p.gender, g.pickOrigin())
		}
		if p.netIdx >= 0 {
			netNames[p.netIdx][v.alias] = true
		}
		v.aliasArena = pick(r, p.arenas)
	}
}

// nameVaried returns the name field of one advert and the name its text
// uses.
func (g *gen) nameVaried(p *person, arena int) (field, text string) {
	r, v := g.r, &p.varied
	text = p.name
	switch {
	case v.alias != "" && arena == v.aliasArena:
		text = v.alias
	case p.nameVariant != "" && chance(r, 0.35):
		text = p.nameVariant
	}
	if v.noName > 0 && chance(r, v.noName) {
		return "", text
	}
	field = text
	switch x := r.Float64(); {
	case v.caps || x < 0.1:
		field = strings.ToUpper(field)
	case x < 0.15:
		field = strings.ToLower(field)
	}
	if v.emoji && chance(r, 0.5) {
		field = fmt.Sprintf(pick(r, nameDecorate), field)
	}
	return field, text
}

// textVaried writes an advert's text as textPhone does, then as the
// person writes: shorter or longer, sentences reordered, languages mixed,
// emoji, capitals.
func (g *gen) textVaried(p *person, c city, age int, name, phone string) (string, string) {
	r, v := g.r, &p.varied
	title, body := g.text(p, c, age, name, phone)
	lines := strings.Split(body, "\n")
	other := en
	if p.lng == en {
		other = sv
	}
	switch v.length {
	case 1: // the first line, one more, and the number
		keep := []string{lines[0]}
		if len(lines) > 2 {
			keep = append(keep, lines[1+r.IntN(len(lines)-2)])
		}
		if phone != "" && strings.Contains(lines[len(lines)-1], phone) {
			keep = append(keep, lines[len(lines)-1])
		}
		lines = keep
	case 2:
		for range 2 + r.IntN(3) {
			lines = slices.Insert(lines, 1+r.IntN(len(lines)-1), pick(r, p.lng.Middles))
		}
	}
	if v.mixed {
		for i := 1; i < len(lines); i++ {
			if chance(r, 0.35) && !strings.Contains(lines[i], phone) {
				lines[i] = pick(r, other.Middles)
			}
		}
	}
	if chance(r, 0.3) {
		r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	}
	if v.emoji {
		for i := range lines {
			if chance(r, 0.4) {
				lines[i] += " " + pick(r, emojis)
			}
		}
		title = pick(r, emojis) + " " + title
	}
	body = strings.Join(lines, "\n")
	if v.caps {
		title, body = strings.ToUpper(title), strings.ToUpper(body)
	}
	return title, body
}

// newVariantVaried is newVariant with harsher edits.
func newVariantVaried(r *rand.Rand, base, arena int, name string) variantSpec {
	v := variantSpec{base: base, arena: arena, name: name}
	for i := range v.crop {
		if r.IntN(2) == 0 {
			v.crop[i] = 0.06 * r.Float64()
		}
	}
	if r.IntN(3) == 0 { // one side cut hard
		v.crop[r.IntN(4)] = 0.10 + 0.10*r.Float64()
	}
	v.scale = 0.6 + 0.8*r.Float64()
	if r.IntN(5) < 2 { // stretched or squeezed
		v.scaleY = v.scale * (0.88 + 0.24*r.Float64())
	}
	v.mirror = r.IntN(7) == 0
	if r.IntN(5) < 3 {
		v.bright = 0.3*r.Float64() - 0.15
		for i := range v.tint {
			v.tint[i] = 0.16*r.Float64() - 0.08
		}
	}
	if r.IntN(4) == 0 {
		v.rotate = 4*r.Float64() - 2
	}
	if r.IntN(5) == 0 {
		v.banner = pick(r, bannerTexts)
		v.bannerY = 0.3 + 0.45*r.Float64()
		v.bannerAlpha = uint8(140 + r.IntN(80))
	}
	v.quality = 30 + r.IntN(46)
	return v
}

// rotateCover rotates img by deg degrees about its centre and zooms just
// enough that no corner is left empty, as photo editors crop a rotation.
func rotateCover(img *image.RGBA, deg float64) *image.RGBA {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Abs(math.Sin(th))
	zoom := c + s*max(w/h, h/w)
	cx, cy := w/2, h/2
	cos, sin := math.Cos(-th)/zoom, math.Sin(-th)/zoom
	dst := image.NewRGBA(b)
	at := func(x, y int) []uint8 {
		x = min(max(x, 0), b.Dx()-1)
		y = min(max(y, 0), b.Dy()-1)
		i := y*img.Stride + 4*x
		return img.Pix[i : i+4]
	}
	for y := range b.Dy() {
		for x := range b.Dx() {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			sx := cx + dx*cos - dy*sin - 0.5
			sy := cy + dx*sin + dy*cos - 0.5
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			p00, p10, p01, p11 := at(x0, y0), at(x0+1, y0), at(x0, y0+1), at(x0+1, y0+1)
			o := y*dst.Stride + 4*x
			for k := range 4 {
				val := (1-fx)*(1-fy)*float64(p00[k]) + fx*(1-fy)*float64(p10[k]) +
					(1-fx)*fy*float64(p01[k]) + fx*fy*float64(p11[k])
				dst.Pix[o+k] = uint8(min(255, max(0, math.Round(val))))
			}
		}
	}
	return dst
}

// drawBanner draws a translucent band across the photo at height y
// (fraction) with a short text in its middle.
func drawBanner(img *image.RGBA, text string, y float64, alpha uint8) {
	b := img.Bounds()
	bh := max(14, b.Dy()/8)
	y0 := b.Min.Y + int(y*float64(b.Dy())) - bh/2
	band := image.Rect(b.Min.X, y0, b.Max.X, y0+bh).Intersect(b)
	draw.Draw(img, band, image.NewUniform(color.NRGBA{20, 20, 20, alpha}), image.Point{}, draw.Over)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.NRGBA{255, 255, 255, 255}), Face: basicfont.Face7x13}
	tw := d.MeasureString(text).Round()
	d.Dot = fixed.P(b.Min.X+(b.Dx()-tw)/2, y0+(bh+10)/2)
	d.DrawString(text)
}
