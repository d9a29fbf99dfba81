package synth

import (
	"fmt"
	"slices"
	"strings"
)

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
