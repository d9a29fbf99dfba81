package demoarena

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

//go:embed web
var webFS embed.FS

// Demo is the demo arenas running on 127.0.0.1.
type Demo struct {
	urls     map[string]string
	forums   map[string]string                       // review forums (Forums)
	blomstra *lazyURL                                // the advert arena the forum links to
	handlers atomic.Pointer[map[string]http.Handler] // swapped by Show
	servers  []*http.Server
	requests atomic.Int64
	bytes    atomic.Int64 // body bytes sent
	done     chan struct{}
	once     sync.Once
	closeErr error
}

// Start serves every arena of the corpus on its own ephemeral port of
// 127.0.0.1 until Close is called or ctx ends.
func Start(ctx context.Context, c *Corpus) (*Demo, error) {
	d := &Demo{urls: map[string]string{}, forums: map[string]string{}, blomstra: &lazyURL{}, done: make(chan struct{})}
	if err := d.Show(c); err != nil {
		return nil, err
	}
	for _, name := range append(slices.Clone(arenaNames), forumNames...) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo arena %s: %w", name, err)
		}
		srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(*d.handlers.Load())[name].ServeHTTP(w, r)
		}))
		d.servers = append(d.servers, srv)
		if slices.Contains(forumNames, name) {
			d.forums[name] = "http://" + l.Addr().String()
		} else {
			d.urls[name] = "http://" + l.Addr().String()
		}
		go srv.Serve(l)
	}
	d.blomstra.set(d.urls[Blomstra])
	go func() {
		select {
		case <-ctx.Done():
			d.Close()
		case <-d.done:
		}
	}()
	return d, nil
}

// Show makes the running arenas publish corpus c from the next request
// on (Corpus.AtWeek: the demo's clock).
func (d *Demo) Show(c *Corpus) error {
	h, err := newHandlers(c, &d.requests, d.blomstra.get)
	if err != nil {
		return err
	}
	for name := range h {
		h[name] = etagged(h[name], &d.bytes)
	}
	d.handlers.Store(&h)
	return nil
}

// URL returns the base URL (http://127.0.0.1:port, no trailing slash) of an
// arena, or "" for an unknown arena.
func (d *Demo) URL(arena string) string {
	if u, ok := d.forums[arena]; ok {
		return u
	}
	return d.urls[arena]
}

// Forums lists the served review forums (arenas of kind: reviews), sorted;
// Arenas lists the advert arenas only.
func (d *Demo) Forums() []string {
	out := make([]string, 0, len(d.forums))
	for name := range d.forums {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Arenas lists the served arenas, sorted.
func (d *Demo) Arenas() []string {
	out := make([]string, 0, len(d.urls))
	for name := range d.urls {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Requests is the number of HTTP requests the arenas have answered.
func (d *Demo) Requests() int64 { return d.requests.Load() }

// Bytes is the number of body bytes the arenas have sent (a 304 sends
// none).
func (d *Demo) Bytes() int64 { return d.bytes.Load() }

// Close stops the servers. It is safe to call more than once.
func (d *Demo) Close() error {
	d.once.Do(func() {
		close(d.done)
		d.closeErr = shutdown(d.servers)
	})
	return d.closeErr
}

// ServeOn serves the arenas named in addrs (arena → host:port) until ctx
// ends, then stops them and returns nil. It returns an error at once for an
// unknown arena or an address it cannot listen on, and when a server fails.
func ServeOn(ctx context.Context, c *Corpus, addrs map[string]string) error {
	return ServeOnReady(ctx, c, addrs, nil)
}

// ServeOnReady is ServeOn calling ready, when not nil, once every address
// is bound and before serving, with the bound address of each arena (the
// port when addrs asked for port 0): a caller announces the servers only
// once they can be reached.
func ServeOnReady(ctx context.Context, c *Corpus, addrs map[string]string, ready func(bound map[string]string)) error {
	names := make([]string, 0, len(addrs))
	for name := range addrs {
		if !slices.Contains(arenaNames, name) && !slices.Contains(forumNames, name) {
			return fmt.Errorf("unknown demo arena %q (known: %s)", name, strings.Join(append(slices.Clone(arenaNames), forumNames...), ", "))
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var requests, sent atomic.Int64
	blomstra := &lazyURL{}
	blomstra.set("http://127.0.0.1:8081") // where demo serve puts it by default
	handlers, err := newHandlers(c, &requests, blomstra.get)
	if err != nil {
		return err
	}
	for name := range handlers {
		handlers[name] = etagged(handlers[name], &sent)
	}
	var servers []*http.Server
	var listeners []net.Listener
	for _, name := range names {
		l, err := net.Listen("tcp", addrs[name])
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("demo arena %s: %w", name, err)
		}
		listeners = append(listeners, l)
		servers = append(servers, newServer(handlers[name]))
		if name == Blomstra {
			blomstra.set("http://" + l.Addr().String())
		}
	}
	if ready != nil {
		bound := map[string]string{}
		for i, name := range names {
			bound[name] = listeners[i].Addr().String()
		}
		ready(bound)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case <-ctx.Done():
		return shutdown(servers)
	case err := <-errc:
		shutdown(servers)
		return err
	}
}

func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
}

func shutdown(servers []*http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
			if !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.DeadlineExceeded) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// newHandlers builds the handler of every arena; each counts its requests
// in n.
func newHandlers(c *Corpus, n *atomic.Int64, blomstraURL func() string) (map[string]http.Handler, error) {
	b, err := newBlomstra(c)
	if err != nil {
		return nil, err
	}
	nl, err := newNattlinjen(c)
	if err != nil {
		return nil, err
	}
	count := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Server", "demoarena")
			h.ServeHTTP(w, r)
		})
	}
	return map[string]http.Handler{Blomstra: count(b), Nattlinjen: count(nl), Omdomen: count(newForum(c, blomstraURL))}, nil
}

// pageBase holds what every page's layout needs.
type pageBase struct {
	Title     string
	Canonical string
	PrevURL   string
	NextURL   string
}

// templates parses the layout of an arena with each of its pages.
func templates(arena string, pages ...string) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"inc": func(i int) int { return i + 1 },
		// text and attr escape like a hand-written page would, leaving
		// "+" in phone numbers as is (html/template writes &#43;).
		"text": func(s string) template.HTML { return template.HTML(html.EscapeString(s)) },
		"attr": func(name, val string) template.HTMLAttr {
			return template.HTMLAttr(name + `="` + html.EscapeString(val) + `"`)
		},
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New(p).Funcs(funcs).ParseFS(webFS, "web/"+arena+"/layout.html", "web/"+arena+"/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("demo arena %s: %w", arena, err)
		}
		out[p] = t
	}
	return out, nil
}

// render writes a page; a template error is a 500.
func render(w http.ResponseWriter, t *template.Template, status int, data any) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		http.Error(w, "template error: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func serveBytes(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b)
}

// canonical is the absolute URL of path on the host the request came to.
func canonical(r *http.Request, path string) string { return "http://" + r.Host + path }

// paragraphs splits an advert body into its paragraphs.
func paragraphs(body string) []string { return strings.Split(body, "\n") }

var svMonths = []string{"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"}

func svDate(t time.Time, withTime bool) string {
	s := fmt.Sprintf("%d %s %d", t.Day(), svMonths[t.Month()-1], t.Year())
	if withTime {
		s += fmt.Sprintf(" kl. %02d:%02d", t.Hour(), t.Minute())
	}
	return s
}

func pages(n, per int) int { return max(1, (n+per-1)/per) }
