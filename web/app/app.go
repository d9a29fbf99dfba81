// Package app is the web app of adcensus: plain JavaScript modules and CSS
// embedded in the binary (no CDN, no build step), served by 'adcensus
// serve' at / beside the JSON API it calls (web/api). It signs in with a
// browser session (the __Host- cookie and its CSRF token) and shows each
// role its pages: search, adverts, persons, networks and patterns
// (analysts), counts and downloads (researchers and analysts), crawl runs
// (operators) and the audit log, users and tokens (admins). See
// docs/WEBAPP.md.
//
// The app holds no data and no rights of its own: every page asks the API,
// which decides per route who may see what and writes the audit log. The
// page never builds HTML from strings (no innerHTML), so text from
// adverts cannot run as script; the API's Content-Security-Policy allows
// scripts and styles from this origin only.
package app

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// AssetsPrefix is the path the app's files are served under.
const AssetsPrefix = "/assets/"

// Handler serves the app: index.html at /, its files under /assets/, and a
// 404 page elsewhere. Pages are addressed by the fragment (/#/search), so
// the server needs no route per page.
func Handler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is always there
	}
	return handler{files: files}
}

type handler struct{ files fs.FS }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := ""
	switch {
	case r.URL.Path == "/" || r.URL.Path == "/index.html":
		name = "index.html"
	case strings.HasPrefix(r.URL.Path, AssetsPrefix):
		name = strings.TrimPrefix(path.Clean(r.URL.Path), AssetsPrefix)
	}
	body, err := fs.ReadFile(h.files, name)
	if name == "" || name == "index.html" && r.URL.Path != "/" && r.URL.Path != "/index.html" || err != nil {
		notFound(w)
		return
	}
	ct := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

const notFoundPage = `<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>404 – adcensus</title>
<link rel="stylesheet" href="/assets/app.css"></head>
<body><main id="main"><h1>404</h1><p>Sidan finns inte. / This page does not exist.</p>
<p><a href="/">adcensus</a></p></main></body></html>
`

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(notFoundPage))
}
