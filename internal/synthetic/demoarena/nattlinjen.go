package demoarena

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"adcensus/internal/synthetic/photoset"
)

const nattlinjenPerPage = 15

const nattlinjenRobots = `User-agent: *
Disallow: /admin/
Disallow: /account/
Disallow: /search
`

// A 1×1 transparent GIF, the placeholder of lazy-loaded images.
var blankGIF, _ = base64.StdEncoding.DecodeString("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

// nattlinjen is the English arena: /list/page/N, /ad/<slug>-<id>.html,
// re-encoded photos under /img/p/<id>.jpg.
type nattlinjen struct {
	c      *Corpus
	ads    []*Advert
	t      map[string]*template.Template
	images map[string]string // /img/p/<id>.jpg → photo
	byImg  map[*Advert][]string
}

type nattlinjenTile struct {
	Promo                        bool
	Href, Img, Title, Name, City string
	Date                         string
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

var (
	nattlinjenAdRe   = regexp.MustCompile(`^/ad/([a-z0-9-]+)-(\d+)\.html$`)
	nattlinjenPageRe = regexp.MustCompile(`^/list/page/(\d+)$`)
)

func newNattlinjen(c *Corpus) (*nattlinjen, error) {
	t, err := templates(Nattlinjen, "home", "listing", "detail", "page")
	if err != nil {
		return nil, err
	}
	n := &nattlinjen{c: c, ads: c.Listing(Nattlinjen), t: t, images: map[string]string{}, byImg: map[*Advert][]string{}}
	for _, a := range n.ads {
		for _, ph := range a.Photos {
			sum := sha256.Sum256([]byte("nattlinjen\x00" + a.Key + "\x00" + ph))
			p := "/img/p/" + hex.EncodeToString(sum[:6]) + ".jpg"
			n.images[p] = ph
			n.byImg[a] = append(n.byImg[a], p)
		}
	}
	for _, ph := range c.Extras {
		n.images["/img/promo/"+ph] = ph
	}
	// Make the re-encoded photos now rather than on the first request.
	if _, err := VariantJPEG(photoset.Names()[0]); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *nattlinjen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		n.home(w, r)
	case p == "/list" || p == "/list/":
		http.Redirect(w, r, "/list/page/1", http.StatusMovedPermanently)
	case nattlinjenPageRe.MatchString(p):
		n.listing(w, r, nattlinjenPageRe.FindStringSubmatch(p)[1])
	case nattlinjenAdRe.MatchString(p):
		m := nattlinjenAdRe.FindStringSubmatch(p)
		n.detail(w, r, m[2])
	case strings.HasPrefix(p, "/img/"):
		ph, ok := n.images[p]
		if !ok {
			n.notFound(w, r)
			return
		}
		data, err := VariantJPEG(ph)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		serveBytes(w, "image/jpeg", data)
	case p == "/assets/site.css":
		css, _ := webFS.ReadFile("web/nattlinjen/site.css")
		serveBytes(w, "text/css; charset=utf-8", css)
	case p == "/assets/blank.gif":
		serveBytes(w, "image/gif", blankGIF)
	case p == "/robots.txt":
		serveBytes(w, "text/plain; charset=utf-8", []byte(nattlinjenRobots))
	case strings.HasPrefix(p, "/admin/"), strings.HasPrefix(p, "/account/"):
		http.Error(w, "Forbidden", http.StatusForbidden)
	case p == "/premium":
		n.info(w, r, "Get featured", "Featured ads are shown at the top of every page for seven days.", "Contact sales@nattlinjen.invalid to book a slot.")
	case p == "/about":
		n.info(w, r, "About Nattlinjen", "Nattlinjen is a directory for independent adult advertisers in Sweden.", "We do not take part in any arrangement between advertisers and visitors.")
	case p == "/terms":
		n.info(w, r, "Terms", "You must be 18 or older to use this site.", "Advertisers confirm that they are adults and advertise of their own free will.")
	default:
		n.notFound(w, r)
	}
}

func (n *nattlinjen) tile(a *Advert) nattlinjenTile {
	t := nattlinjenTile{Href: a.Path, Title: a.Title, Name: a.Name, City: a.City, Date: a.Posted.Format("2 Jan")}
	if imgs := n.byImg[a]; len(imgs) > 0 {
		t.Img = imgs[0]
	}
	return t
}

func (n *nattlinjen) home(w http.ResponseWriter, r *http.Request) {
	var tiles []nattlinjenTile
	for _, a := range n.ads[:min(8, len(n.ads))] {
		tiles = append(tiles, n.tile(a))
	}
	render(w, n.t["home"], http.StatusOK, struct {
		pageBase
		Tiles []nattlinjenTile
	}{pageBase{Title: "Adult ads in Sweden", Canonical: canonical(r, "/")}, tiles})
}

func pageURL(k int) string { return "/list/page/" + strconv.Itoa(k) }

func (n *nattlinjen) listing(w http.ResponseWriter, r *http.Request, num string) {
	k, err := strconv.Atoi(num)
	total := pages(len(n.ads), nattlinjenPerPage)
	if err != nil || k < 1 || k > total || num != strconv.Itoa(k) {
		n.notFound(w, r)
		return
	}
	var tiles []nattlinjenTile
	for i, a := range n.ads[(k-1)*nattlinjenPerPage : min(k*nattlinjenPerPage, len(n.ads))] {
		if i == 4 && k%3 == 1 && len(n.c.Extras) > 0 {
			ph := n.c.Extras[len(n.c.Extras)-1-(k/3)%len(n.c.Extras)]
			tiles = append(tiles, nattlinjenTile{Promo: true, Img: "/img/promo/" + ph, Title: "Your ad here – get featured"})
		}
		tiles = append(tiles, n.tile(a))
	}
	data := struct {
		pageBase
		Page, Pages int
		Tiles       []nattlinjenTile
		PageLinks   []pageLink
	}{pageBase: pageBase{Title: fmt.Sprintf("All ads – page %d", k), Canonical: canonical(r, pageURL(k))}, Page: k, Pages: total, Tiles: tiles}
	for i := 1; i <= total; i++ {
		data.PageLinks = append(data.PageLinks, pageLink{N: i, URL: pageURL(i), Current: i == k})
	}
	if k > 1 {
		data.PrevURL = pageURL(k - 1)
	}
	if k < total {
		data.NextURL = pageURL(k + 1)
	}
	render(w, n.t["listing"], http.StatusOK, data)
}

var nattlinjenGender = map[string]string{Female: "Female", Male: "Male", Trans: "Trans"}

func (n *nattlinjen) detail(w http.ResponseWriter, r *http.Request, key string) {
	a, ok := n.c.Advert(Nattlinjen, key)
	if !ok {
		n.notFound(w, r)
		return
	}
	if r.URL.Path != a.Path {
		http.Redirect(w, r, a.Path, http.StatusMovedPermanently)
		return
	}
	render(w, n.t["detail"], http.StatusOK, struct {
		pageBase
		Ad             *Advert
		Images         []string
		Paragraphs     []string
		Gender         string
		DateTime, Date string
	}{
		pageBase:   pageBase{Title: a.Title, Canonical: canonical(r, a.Path)},
		Ad:         a,
		Images:     n.byImg[a],
		Paragraphs: paragraphs(a.Body),
		Gender:     nattlinjenGender[a.Gender],
		DateTime:   a.Posted.Format(time.RFC3339),
		Date:       a.Posted.Format("2 Jan 2006, 15:04"),
	})
}

func (n *nattlinjen) info(w http.ResponseWriter, r *http.Request, title string, paras ...string) {
	render(w, n.t["page"], http.StatusOK, struct {
		pageBase
		Paragraphs []string
	}{pageBase{Title: title, Canonical: canonical(r, r.URL.Path)}, paras})
}

func (n *nattlinjen) notFound(w http.ResponseWriter, r *http.Request) {
	render(w, n.t["page"], http.StatusNotFound, struct {
		pageBase
		Paragraphs []string
	}{pageBase{Title: "Not found"}, []string{"This ad has expired or the address is wrong.", "Browse the latest ads on the front page."}})
}
