package demoarena

import (
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"adcensus/internal/synthetic/photoset"
)

const blomstraPerPage = 20

const blomstraRobots = `# Blomstra
User-agent: *
Disallow: /admin/
Disallow: /sok
Allow: /
`

// blomstra is the Swedish arena: /annonser?sida=N, /annons/<id>.
type blomstra struct {
	c      *Corpus
	ads    []*Advert
	t      map[string]*template.Template
	images map[string]string // /img/a/<key>-<n>.jpg and /img/reklam/<name> → photo
}

type blomstraCard struct {
	Promo                  bool
	Href, Img, Title, City string
	DateTime, Date         string
}

func newBlomstra(c *Corpus) (*blomstra, error) {
	t, err := templates(Blomstra, "home", "listing", "detail", "page")
	if err != nil {
		return nil, err
	}
	b := &blomstra{c: c, ads: c.Listing(Blomstra), t: t, images: map[string]string{}}
	for _, a := range b.ads {
		for i, ph := range a.Photos {
			b.images[b.imagePath(a, i)] = ph
		}
	}
	for _, ph := range c.Extras {
		b.images["/img/reklam/"+ph] = ph
	}
	return b, nil
}

func (b *blomstra) imagePath(a *Advert, i int) string {
	return fmt.Sprintf("/img/a/%s-%d.jpg", a.Key, i+1)
}

func (b *blomstra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		b.home(w, r)
	case p == "/annonser":
		b.listing(w, r)
	case strings.HasPrefix(p, "/annons/"):
		b.detail(w, r, strings.TrimPrefix(p, "/annons/"))
	case strings.HasPrefix(p, "/img/"):
		ph, ok := b.images[p]
		if !ok {
			b.notFound(w, r)
			return
		}
		data, err := photoset.JPEG(ph)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serveBytes(w, "image/jpeg", data)
	case p == "/static/blomstra.css":
		css, _ := webFS.ReadFile("web/blomstra/blomstra.css")
		serveBytes(w, "text/css; charset=utf-8", css)
	case p == "/robots.txt":
		serveBytes(w, "text/plain; charset=utf-8", []byte(blomstraRobots))
	case strings.HasPrefix(p, "/admin"):
		http.Error(w, "Åtkomst nekad", http.StatusForbidden)
	case p == "/annonsera":
		b.info(w, r, "Annonsera hos Blomstra", "Vill du synas hos oss? Skapa ett konto och lägg upp din annons på några minuter.", "Alla annonser granskas manuellt innan de publiceras. Annonsören måste vara minst 18 år.")
	case p == "/om":
		b.info(w, r, "Om Blomstra", "Blomstra är en annonsplats för vuxna. Vi tar inte del av några överenskommelser mellan annonsörer och besökare.", "Kontakt: support@blomstra.invalid")
	case p == "/villkor":
		b.info(w, r, "Villkor", "Genom att använda webbplatsen intygar du att du är minst 18 år.", "Annonser som bryter mot villkoren tas bort.")
	default:
		b.notFound(w, r)
	}
}

func (b *blomstra) card(a *Advert) blomstraCard {
	c := blomstraCard{Href: a.Path, Title: a.Title, City: a.City, DateTime: a.Posted.Format(time.RFC3339), Date: svDate(a.Posted, false)}
	if len(a.Photos) > 0 {
		c.Img = b.imagePath(a, 0)
	}
	return c
}

func (b *blomstra) home(w http.ResponseWriter, r *http.Request) {
	var cards []blomstraCard
	for _, a := range b.ads[:min(6, len(b.ads))] {
		cards = append(cards, b.card(a))
	}
	render(w, b.t["home"], http.StatusOK, struct {
		pageBase
		Cards []blomstraCard
	}{pageBase{Title: "Annonser för vuxna", Canonical: canonical(r, "/")}, cards})
}

func (b *blomstra) pageURL(n int) string {
	if n == 1 {
		return "/annonser"
	}
	return "/annonser?sida=" + strconv.Itoa(n)
}

func (b *blomstra) listing(w http.ResponseWriter, r *http.Request) {
	n := 1
	if s := r.URL.Query().Get("sida"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.notFound(w, r)
			return
		}
	}
	total := pages(len(b.ads), blomstraPerPage)
	if n < 1 || n > total {
		b.notFound(w, r)
		return
	}
	var cards []blomstraCard
	for i, a := range b.ads[(n-1)*blomstraPerPage : min(n*blomstraPerPage, len(b.ads))] {
		if i == 7 && n%2 == 1 && len(b.c.Extras) > 0 {
			ph := b.c.Extras[(n/2)%len(b.c.Extras)]
			cards = append(cards, blomstraCard{Promo: true, Img: "/img/reklam/" + ph, Title: "Synas här? Annonsera hos Blomstra"})
		}
		cards = append(cards, b.card(a))
	}
	data := struct {
		pageBase
		Page, Pages, Total int
		Cards              []blomstraCard
	}{pageBase: pageBase{Title: fmt.Sprintf("Annonser – sida %d", n), Canonical: canonical(r, b.pageURL(n))}, Page: n, Pages: total, Total: len(b.ads), Cards: cards}
	if n > 1 {
		data.PrevURL = b.pageURL(n - 1)
	}
	if n < total {
		data.NextURL = b.pageURL(n + 1)
	}
	render(w, b.t["listing"], http.StatusOK, data)
}

var blomstraGender = map[string]string{Female: "Kvinna", Male: "Man", Trans: "Transperson"}

func (b *blomstra) detail(w http.ResponseWriter, r *http.Request, key string) {
	a, ok := b.c.Advert(Blomstra, key)
	if !ok {
		b.notFound(w, r)
		return
	}
	var imgs []string
	for i := range a.Photos {
		imgs = append(imgs, b.imagePath(a, i))
	}
	render(w, b.t["detail"], http.StatusOK, struct {
		pageBase
		Ad             *Advert
		Images         []string
		Paragraphs     []string
		Gender         string
		DateTime, Date string
	}{
		pageBase:   pageBase{Title: a.Title, Canonical: canonical(r, a.Path)},
		Ad:         a,
		Images:     imgs,
		Paragraphs: paragraphs(a.Body),
		Gender:     blomstraGender[a.Gender],
		DateTime:   a.Posted.Format(time.RFC3339),
		Date:       svDate(a.Posted, true),
	})
}

func (b *blomstra) info(w http.ResponseWriter, r *http.Request, title string, paras ...string) {
	render(w, b.t["page"], http.StatusOK, struct {
		pageBase
		Paragraphs []string
	}{pageBase{Title: title, Canonical: canonical(r, r.URL.Path)}, paras})
}

func (b *blomstra) notFound(w http.ResponseWriter, r *http.Request) {
	render(w, b.t["page"], http.StatusNotFound, struct {
		pageBase
		Paragraphs []string
	}{pageBase{Title: "Sidan finns inte"}, []string{"Annonsen kan ha tagits bort eller så är adressen fel."}})
}
