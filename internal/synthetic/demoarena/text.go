package demoarena

import (
	"fmt"
	"strconv"
	"strings"
)

// texts writes title, body, price and the shown phones of every advert.
func (g *gen) texts(ps []Person, ads []Advert) {
	r := g.r
	byID := map[string]*Person{}
	for i := range ps {
		byID[ps[i].ID] = &ps[i]
	}
	for i := range ads {
		a := &ads[i]
		p := byID[a.PersonID]
		a.Lang = p.Lang
		if a.Arena == Nattlinjen && (p.Lang == "en" || r.IntN(100) < 65) {
			a.Lang = "en"
		}
		w := svWords
		if a.Lang == "en" {
			w = enWords
		}
		titles, intros, middles, closings, tour, phoneTxt := w.titles, w.intros, w.middles, w.closings, w.tour, w.phoneTxt
		fill := func(s string) string {
			return strings.NewReplacer("{N}", a.Name, "{A}", strconv.Itoa(a.Age), "{C}", p.City, "{T}", a.City).Replace(s)
		}
		a.Title = fill(pick(r, titles))
		if a.City != p.City {
			a.Title = fill(strings.ReplaceAll(pick(r, titles), "{C}", "{T}"))
		}
		paras := []string{fill(pick(r, intros))}
		var mid []string
		for _, k := range r.Perm(len(middles))[:1+r.IntN(3)] {
			mid = append(mid, middles[k])
		}
		paras = append(paras, strings.Join(mid, " "))
		if a.City != p.City {
			paras = append(paras, fill(tour))
		}
		paras = append(paras, pick(r, closings))
		for _, ph := range a.Phones {
			switch a.Arena {
			case Blomstra:
				a.Shown = append(a.Shown, formatPhone(ph, 0))
			case Nattlinjen:
				a.Shown = append(a.Shown, formatPhone(ph, 1+r.IntN(7)))
				// The text repeats the number in another spelling.
				paras = append(paras, strings.ReplaceAll(pick(r, phoneTxt), "{P}", formatPhone(ph, r.IntN(8))))
			}
		}
		a.Body = strings.Join(paras, "\n")
		switch {
		case a.Arena == Blomstra && r.IntN(3) == 0:
			a.Price = fmt.Sprintf("från %s kr", []string{"1 000", "1 500", "2 000", "2 500"}[r.IntN(4)])
		case a.Arena == Blomstra:
			a.Price = "enligt överenskommelse"
		case r.IntN(3) == 0:
			a.Price = fmt.Sprintf("from %d SEK", 1000+500*r.IntN(4))
		default:
			a.Price = "on request"
		}
	}
}

// formatPhone writes an E.164 number in one of several spellings that a
// page might use; style 0 is the plain national (or international) form.
func formatPhone(e164 string, style int) string {
	switch originOf(e164) {
	case "se":
		nat := "0" + e164[3:] // 0701740605
		a, b, c, d := nat[:3], nat[3:6], nat[6:8], nat[8:10]
		in := nat[1:3]
		return [...]string{
			a + "-" + b + " " + c + " " + d,
			a + " " + b + " " + c + " " + d,
			"+46 " + in + " " + b + " " + c + " " + d,
			"+46 " + in + "-" + b + " " + c + " " + d,
			"0046 " + in + " " + b + c + d,
			"0046" + nat[1:],
			a + "-" + b + c + d,
			nat,
		}[style%8]
	case "uk":
		s := e164[3:] // 7700900123
		return [...]string{
			"+44 " + s[:4] + " " + s[4:],
			"+44 " + s[:4] + " " + s[4:7] + " " + s[7:],
			"0044 " + s[:4] + " " + s[4:7] + " " + s[7:],
			"+44-" + s[:4] + "-" + s[4:7] + "-" + s[7:],
			"+44" + s,
			"0044" + s,
			"+44 " + s[:4] + "-" + s[4:],
			"+44 " + s[:4] + " " + s[4:],
		}[style%8]
	default: // +48 and +40: nine digits after the country code
		cc, s := e164[:3], e164[3:]
		return [...]string{
			cc + " " + s[:3] + " " + s[3:6] + " " + s[6:],
			cc + " " + s[:3] + "-" + s[3:6] + "-" + s[6:],
			"00" + cc[1:] + " " + s[:3] + " " + s[3:6] + " " + s[6:],
			cc + "-" + s[:3] + "-" + s[3:6] + "-" + s[6:],
			cc + s,
			"00" + cc[1:] + s,
			cc + " " + s,
			cc + " " + s[:3] + " " + s[3:6] + " " + s[6:],
		}[style%8]
	}
}
