package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"adcensus/ad"
	"adcensus/crawler"
)

// newGrinden serves the Grinden arena (testdata/arenas/grind.yml): every
// page but robots.txt is an age gate until the form is posted with
// svar=ja, which sets the cookie alder=ja and redirects back (303).
func newGrinden(t *testing.T) (*httptest.Server, *recorder, *sync.Map) {
	return newGrindenMode(t, false)
}

// newGrindenMode serves Grinden; with link, the gate is grind-lank.yml's:
// pages without the cookie redirect to /alder, whose "Ja" link sets it.
func newGrindenMode(t *testing.T, link bool) (*httptest.Server, *recorder, *sync.Map) {
	t.Helper()
	var langs sync.Map // Accept-Language values seen
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	mux.HandleFunc("POST /alder", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("svar") != "ja" || r.FormValue("tillbaka") == "" {
			http.Error(w, "bad gate answer", http.StatusBadRequest)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "alder", Value: "ja", Path: "/", MaxAge: 3600})
		http.Redirect(w, r, r.FormValue("tillbaka"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /alder", func(w http.ResponseWriter, r *http.Request) {
		back := r.URL.Query().Get("tillbaka")
		fmt.Fprintf(w, `<div class="aldersfraga">Är du 18? <a class="nej" href="https://example.org/">Nej</a> <a class="ja" href="/alder/ja?tillbaka=%s">Ja</a></div>`, url.QueryEscape(back))
	})
	mux.HandleFunc("GET /alder/ja", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "alder", Value: "ja", Path: "/"})
		http.Redirect(w, r, r.URL.Query().Get("tillbaka"), http.StatusFound)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		langs.Store(r.Header.Get("Accept-Language"), true)
		if c, err := r.Cookie("alder"); link && (err != nil || c.Value != "ja") {
			http.Redirect(w, r, "/alder?tillbaka="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
			return
		}
		if c, err := r.Cookie("alder"); err != nil || c.Value != "ja" {
			fmt.Fprintf(w, `<h1>Välkommen</h1><form id="aldersgrind" method="post" action="/alder">
<input type="hidden" name="tillbaka" value="%s"><button name="svar" value="nej">Lämna</button>
<button name="svar" value="ja">Jag är 18 år eller äldre</button></form>`, r.URL.RequestURI())
			return
		}
		var id int
		switch {
		case r.URL.Path == "/lista":
			for _, a := range siteAds[:5] {
				fmt.Fprintf(w, `<a class="annons" href="/annons/%d">%s</a>`, a.id, a.name)
			}
		case func() bool {
			_, err := fmt.Sscanf(r.URL.Path, "/annons/%d", &id)
			return err == nil && id >= 1 && id <= 5
		}():
			writeAdvert(w, siteAdByID(id), "", "")
		default:
			http.NotFound(w, r)
		}
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec, &langs
}

// TestArenaAgeGate crawls Grinden: the gate is passed once, every advert
// is read, the arena's Accept-Language goes with every request; then an
// interrupted crawl resumes with its cookie (no second pass of the gate).
func TestArenaAgeGate(t *testing.T) {
	srv, rec, langs := newGrinden(t)
	_, sink := crawlFile(t, "testdata/arenas/grind.yml", srv, nil, crawler.Options{})
	want := map[string]siteAd{}
	for _, a := range siteAds[:5] {
		want[fmt.Sprintf("/annons/%d", a.id)] = a
	}
	checkAdverts(t, srv, sink.ads, want)
	if n := rec.count("/alder"); n != 1 {
		t.Errorf("gate posted %d times, want once", n)
	}
	langs.Range(func(k, _ any) bool {
		if k != "sv-SE,sv;q=0.9" {
			t.Errorf("a request had Accept-Language %q", k)
		}
		return true
	})

	t.Run("link", func(t *testing.T) {
		srv, rec, _ := newGrindenMode(t, true)
		_, sink := crawlFile(t, "testdata/arenas/grind-lank.yml", srv, nil, crawler.Options{})
		checkAdverts(t, srv, sink.ads, want)
		if n := len(rec.of("/alder/ja?tillbaka=%2Flista")); n != 1 {
			t.Errorf("gate link followed %d times, want once", n)
		}
	})

	t.Run("resume", func(t *testing.T) {
		srv, rec, _ := newGrinden(t)
		store := mustStore(t, t.TempDir())
		cfg, err := crawler.LoadArena("testdata/arenas/grind.yml")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Rebase(srv.URL)
		cfg.Limits.Concurrency = 1
		ctx, cancel := context.WithCancel(context.Background())
		first := &cancelSink{after: 2, cancel: cancel}
		c, _ := crawler.New(cfg, crawler.Options{Store: store, Sink: first, Pseudo: testPseudo, AutoResume: true})
		if _, err := c.Run(ctx); err == nil {
			t.Fatal("interrupted run returned no error")
		}
		second := &memSink{}
		c, _ = crawler.New(cfg, crawler.Options{Store: store, Sink: second, Pseudo: testPseudo, AutoResume: true})
		run, err := c.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if run.Resumed != 1 {
			t.Fatalf("run resumed %d times, want 1", run.Resumed)
		}
		all := append(first.all(), second.ads...)
		ids := map[string]bool{}
		for _, a := range all {
			ids[a.URL] = true
		}
		if len(ids) != 5 {
			t.Errorf("%d adverts over both runs, want 5", len(ids))
		}
		if n := rec.count("/alder"); n != 1 {
			t.Errorf("gate posted %d times over the interrupted and the resumed run, want once (the cookie is kept)", n)
		}
	})
}

// cancelSink stores adverts and cancels the crawl after the after'th.
type cancelSink struct {
	mu     sync.Mutex
	ads    []*ad.Ad
	after  int
	cancel func()
}

func (s *cancelSink) Publish(_ context.Context, a *ad.Ad) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ads = append(s.ads, a)
	if len(s.ads) == s.after {
		s.cancel()
	}
	return nil
}

func (s *cancelSink) all() []*ad.Ad {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*ad.Ad(nil), s.ads...)
}

const (
	klubbenUser     = "granskare"
	klubbenPassword = "hemligt-lösen-7"
)

// newKlubben serves the Klubben arena (testdata/arenas/klubben.yml): the
// listing is public, an advert needs a session (cookie sess) from a login
// (POST /logga-in with the form's CSRF token, the user and the password);
// a session expires after expireAfter advert pages.
func newKlubben(t *testing.T, expireAfter int) (*httptest.Server, *recorder) {
	t.Helper()
	var mu sync.Mutex
	sessions := map[string]int{} // session → adverts shown
	n := 0
	mux := http.NewServeMux()
	mux.HandleFunc("/robots.txt", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "User-agent: *\nDisallow: /konto/\n") })
	loginForm := `<form id="login" method="post" action="/logga-in"><input type="hidden" name="csrf" value="tok123">
<input name="anvandarnamn"><input type="password" name="losenord"><input type="submit" value="Logga in"></form>`
	mux.HandleFunc("GET /logga-in", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<h1>Logga in</h1>"+loginForm) })
	mux.HandleFunc("POST /logga-in", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("samtycke"); err != nil || c.Value != "ja" {
			http.Error(w, "no consent cookie", http.StatusBadRequest)
			return
		}
		if r.FormValue("csrf") != "tok123" || r.FormValue("anvandarnamn") != klubbenUser || r.FormValue("losenord") != klubbenPassword {
			fmt.Fprint(w, "<p>Fel användarnamn eller lösenord</p>"+loginForm)
			return
		}
		mu.Lock()
		n++
		sess := fmt.Sprintf("s%d", n)
		sessions[sess] = 0
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sess", Value: sess, Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/lista", http.StatusSeeOther)
	})
	mux.HandleFunc("/lista", func(w http.ResponseWriter, r *http.Request) {
		for _, a := range siteAds[:4] {
			fmt.Fprintf(w, `<a class="annons" href="/annons/%d">%s</a>`, a.id, a.name)
		}
	})
	mux.HandleFunc("/annons/", func(w http.ResponseWriter, r *http.Request) {
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, "/annons/%d", &id); err != nil || id < 1 || id > 4 {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		c, err := r.Cookie("sess")
		ok := err == nil
		if ok {
			var seen int
			seen, ok = sessions[c.Value]
			ok = ok && seen < expireAfter
			if ok {
				sessions[c.Value]++
			}
		}
		mu.Unlock()
		if !ok {
			fmt.Fprint(w, "<h1>Logga in för att se annonsen</h1>"+loginForm)
			return
		}
		writeAdvert(w, siteAdByID(id), "", "")
	})
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(mux))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestArenaLogin crawls Klubben with the user from the environment and the
// password from a file: every advert is read, the crawler logs in again
// when the session expires, and the password is in no log line.
func TestArenaLogin(t *testing.T) {
	srv, rec := newKlubben(t, 2)
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(klubbenPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KLUBBEN_USER", klubbenUser)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	run, sink := crawlFile(t, "testdata/arenas/klubben.yml", srv, func(c *crawler.ArenaConfig) { c.Session.Login.Password.File = pwFile },
		crawler.Options{Logger: logger})
	want := map[string]siteAd{}
	for _, a := range siteAds[:4] {
		want[fmt.Sprintf("/annons/%d", a.id)] = a
	}
	checkAdverts(t, srv, sink.ads, want)
	// Four adverts, two per session: a login before the first and one
	// when the session expired before the third.
	if n := len(rec.of("/logga-in")); n != 4 { // GET + POST, twice
		t.Errorf("/logga-in requested %d times, want 4 (two logins)", n)
	}
	if run.ErrorCount() != 0 {
		t.Errorf("errors %v", run.Errors)
	}
	if strings.Contains(logs.String(), klubbenPassword) || strings.Contains(logs.String(), klubbenUser) {
		t.Errorf("credentials in the log:\n%s", logs.String())
	}

	t.Run("concurrent", func(t *testing.T) {
		// Three workers meet the login form at once: one logs in, the
		// others wait and fetch their page again.
		srv, rec := newKlubben(t, 100)
		_, sink := crawlFile(t, "testdata/arenas/klubben.yml", srv, func(c *crawler.ArenaConfig) {
			c.Session.Login.Password.File = pwFile
			c.Limits.Concurrency = 3
		}, crawler.Options{})
		checkAdverts(t, srv, sink.ads, want)
		if n := len(rec.of("/logga-in")); n != 2 {
			t.Errorf("/logga-in requested %d times, want 2 (one login)", n)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		// Refused once, the login is not tried again (failed logins
		// lock accounts): every advert fails with the refusal.
		srv, rec := newKlubben(t, 100)
		if err := os.WriteFile(pwFile, []byte("fel"), 0o600); err != nil {
			t.Fatal(err)
		}
		run, sink := crawlFile(t, "testdata/arenas/klubben.yml", srv, func(c *crawler.ArenaConfig) { c.Session.Login.Password.File = pwFile }, crawler.Options{})
		if len(sink.ads) != 0 || run.Errors["login"] != 4 {
			t.Errorf("%d adverts, errors %v; want none and login=4", len(sink.ads), run.Errors)
		}
		if n := len(rec.of("/logga-in")); n != 2 {
			t.Errorf("/logga-in requested %d times, want 2 (one refused login)", n)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		srv, _ := newKlubben(t, 100)
		t.Setenv("KLUBBEN_USER", "")
		run, _ := crawlFile(t, "testdata/arenas/klubben.yml", srv, func(c *crawler.ArenaConfig) { c.Session.Login.Password.File = pwFile }, crawler.Options{})
		if run.Errors["login"] != 4 {
			t.Errorf("errors %v, want login=4", run.Errors)
		}
	})
}

// TestCheckPassesGate: arena check goes through the age gate as a crawl
// does.
func TestCheckPassesGate(t *testing.T) {
	srv, rec, _ := newGrinden(t)
	cfg, err := crawler.LoadArena("testdata/arenas/grind.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Rebase(srv.URL)
	rep, err := crawler.Check(context.Background(), cfg, crawler.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ad == nil || rep.Ad.Name != "Anna" || len(rep.Listing.Details) != 5 {
		t.Fatalf("check read %+v", rep)
	}
	if n := rec.count("/alder"); n != 1 {
		t.Errorf("gate posted %d times, want once", n)
	}
}
