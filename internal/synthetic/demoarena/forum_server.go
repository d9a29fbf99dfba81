package demoarena

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

const forumThreadsPerPage = 5

const forumRobots = `# Omdömen
User-agent: *
Disallow: /konto/
Allow: /
`

// forum serves the review forum: /forum?sida=N lists threads,
// /trad/<id>?sida=N shows a thread's posts, ForumPostsPerPage a page.
type forum struct {
	f *Forum
	// blomstra returns the base URL of the blomstra arena the posts link
	// to (known once it listens).
	blomstra func() string
}

func newForum(c *Corpus, blomstra func() string) *forum {
	return &forum{f: c.Forum(), blomstra: blomstra}
}

func (h *forum) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, forumRobots)
	case p == "/" || p == "/forum":
		h.listing(w, r)
	case strings.HasPrefix(p, "/trad/"):
		h.thread(w, r, strings.TrimPrefix(p, "/trad/"))
	default:
		http.NotFound(w, r)
	}
}

// page reads ?sida=N (1 when absent); ok is false for a malformed one.
func page(r *http.Request) (int, bool) {
	s := r.URL.Query().Get("sida")
	if s == "" {
		return 1, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1
}

func (h *forum) listing(w http.ResponseWriter, r *http.Request) {
	n, ok := page(r)
	from := (n - 1) * forumThreadsPerPage
	if !ok || (from >= len(h.f.Threads) && n > 1) {
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Omdömen – trådar</title></head><body><h1>Omdömen</h1><p>Ett påhittat forum för demonstration. Endast vuxna.</p><ul class="tradar">`)
	for _, t := range h.f.Threads[from:min(from+forumThreadsPerPage, len(h.f.Threads))] {
		fmt.Fprintf(&b, `<li><a class="trad" href="/trad/%d">%s</a> (%d inlägg)</li>`, t.ID, html.EscapeString(t.Title), len(t.Posts))
	}
	b.WriteString(`</ul>`)
	if from+forumThreadsPerPage < len(h.f.Threads) {
		fmt.Fprintf(&b, `<a rel="next" href="/forum?sida=%d">Nästa</a>`, n+1)
	}
	b.WriteString(`</body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}

func (h *forum) thread(w http.ResponseWriter, r *http.Request, idText string) {
	id, err := strconv.Atoi(idText)
	n, ok := page(r)
	var t *ForumThread
	for i := range h.f.Threads {
		if h.f.Threads[i].ID == id {
			t = &h.f.Threads[i]
		}
	}
	from := (n - 1) * ForumPostsPerPage
	if err != nil || !ok || t == nil || from >= len(t.Posts) {
		http.NotFound(w, r)
		return
	}
	base := h.blomstra()
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>%s</title></head><body><h1 class="rubrik">%s</h1>`, html.EscapeString(t.Title), html.EscapeString(t.Title))
	if t.AdvertKey != "" {
		fmt.Fprintf(&b, `<p class="trad-lank">Tråden gäller <a href="%s/annons/%s">den här annonsen</a>.</p>`, base, t.AdvertKey)
	}
	if t.Name != "" {
		fmt.Fprintf(&b, `<p class="trad-person"><span class="namn">%s</span>, <span class="stad">%s</span></p>`, html.EscapeString(t.Name), html.EscapeString(t.City))
	}
	for _, p := range t.Posts[from:min(from+ForumPostsPerPage, len(t.Posts))] {
		ref := ""
		switch p.Ref {
		case RefAdvertURL:
			ref = fmt.Sprintf(` Annonsen finns <a class="annonslank" href="%s/annons/%s">här</a>.`, base, p.AdvertKey)
		case RefAdvertID:
			ref = fmt.Sprintf(` Annons-id <span class="annonsid">%s</span> på Blomstra.`, p.AdvertKey)
		case RefPhone:
			ref = fmt.Sprintf(` Nås på <span class="nummer">%s</span>.`, html.EscapeString(showPhone(p.Phone)))
		}
		fmt.Fprintf(&b, `<article class="inlagg" id="%s"><div class="forfattare">%s</div><time datetime="%s">%s</time><div class="text">%s%s</div></article>`,
			p.ID, html.EscapeString(p.Author), p.Posted.Format("2006-01-02T15:04:05Z07:00"), p.Posted.Format("2006-01-02 15:04"), html.EscapeString(p.Text), ref)
	}
	if from+ForumPostsPerPage < len(t.Posts) {
		fmt.Fprintf(&b, `<a class="nasta" href="/trad/%d?sida=%d">Nästa sida</a>`, t.ID, n+1)
	}
	b.WriteString(`</body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, b.String())
}

// showPhone writes an E.164 number as a Swedish page would: 070-174 06 12
// (foreign numbers with their country code).
func showPhone(e164 string) string {
	if d, ok := strings.CutPrefix(e164, "+46"); ok && len(d) == 9 {
		return "0" + d[:2] + "-" + d[2:5] + " " + d[5:7] + " " + d[7:]
	}
	if len(e164) > 6 {
		return e164[:3] + " " + e164[3:]
	}
	return e164
}

// lazyURL is a base URL set once its server listens.
type lazyURL struct {
	mu sync.Mutex
	u  string
}

func (l *lazyURL) set(u string) {
	l.mu.Lock()
	l.u = u
	l.mu.Unlock()
}

func (l *lazyURL) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.u
}
