package crawler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
)

// Session is how a crawl gets past what stands before the adverts
// (session:): cookies set before the first request, an age or consent gate
// (a form or button that sets a cookie) and a login. The crawl's cookies
// are kept per run (jar.go), so a resumed run keeps its session.
type Session struct {
	Cookies []CookieSpec `yaml:"cookies"`
	Gate    Gate         `yaml:"gate"`
	Login   Login        `yaml:"login"`
}

// CookieSpec is a cookie set on the start URLs' hosts before the crawl
// (a consent already given). Its value is not secret: it is in the config.
type CookieSpec struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
	Path  string `yaml:"path"` // default "/"
}

// Gate is an age or consent gate: a page showing Detect is the gate, not
// the page asked for; Submit is pressed (a button or input of a form, a
// form, or a link) and the page fetched again.
type Gate struct {
	Detect string `yaml:"detect"`
	Submit string `yaml:"submit"`

	detect, submit cascadia.Selector
}

// Login logs in with credentials read from the environment or a file,
// never from the config: the form Form on the page URL is filled in
// (UserField, PasswordField; its hidden inputs, such as a CSRF token,
// kept) and submitted. A page showing Detect is logged out: the crawler
// logs in (again) and fetches it again.
type Login struct {
	URL           string `yaml:"url"`
	Form          string `yaml:"form"`
	UserField     string `yaml:"user_field"`
	PasswordField string `yaml:"password_field"`
	User          Secret `yaml:"user"`
	Password      Secret `yaml:"password"`
	Detect        string `yaml:"detect"`

	form, detect cascadia.Selector
}

// Secret says where a credential is read when it is needed: an
// environment variable or a file (its content, without a final newline).
// The config holds only the reference.
type Secret struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// read returns the secret's value.
func (s Secret) read() (string, error) {
	if s.Env != "" {
		v, ok := os.LookupEnv(s.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.File)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", s.File, errors.Unwrap(err))
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// sessionKeys are the schema of session: for checkKeys.
func sessionKeys() map[string][]string {
	secret := []string{"env", "file"}
	return map[string][]string{
		"session":                {"cookies", "gate", "login"},
		"session.cookies":        {"name", "value", "path"},
		"session.gate":           {"detect", "submit"},
		"session.login":          {"url", "form", "user_field", "password_field", "user", "password", "detect"},
		"session.login.user":     secret,
		"session.login.password": secret,
	}
}

// validateSession checks and compiles the session section.
func (c *ArenaConfig) validateSession() error {
	s := &c.Session
	for i, ck := range s.Cookies {
		p := fmt.Sprintf("session.cookies[%d]", i)
		if ck.Name == "" || strings.ContainsAny(ck.Name, "=;, \t\r\n") {
			return c.bad(p+".name", "not a cookie name: %q", ck.Name)
		}
		if strings.ContainsAny(ck.Value, ";\r\n") {
			return c.bad(p+".value", "a cookie value cannot hold ; or a line break")
		}
		if ck.Path != "" && !strings.HasPrefix(ck.Path, "/") {
			return c.bad(p+".path", "must start with / (got %q)", ck.Path)
		}
	}
	sel := func(path, v string, required bool) (cascadia.Selector, error) {
		if v == "" {
			if required {
				return nil, c.bad(path, "required")
			}
			return nil, nil
		}
		cs, err := cascadia.Compile(v)
		if err != nil {
			return nil, c.bad(path, "bad CSS selector %q: %v", v, err)
		}
		return cs, nil
	}
	var err error
	if g := &s.Gate; g.Detect != "" || g.Submit != "" {
		if g.detect, err = sel("session.gate.detect", g.Detect, true); err != nil {
			return err
		}
		if g.submit, err = sel("session.gate.submit", g.Submit, true); err != nil {
			return err
		}
	}
	l := &s.Login
	if l.URL == "" && l.Form == "" && l.UserField == "" && l.PasswordField == "" && l.Detect == "" && l.User == (Secret{}) && l.Password == (Secret{}) {
		return nil
	}
	if l.URL == "" {
		return c.bad("session.login.url", "required: the login page")
	}
	if u, err := url.Parse(l.URL); err != nil || (u.IsAbs() && u.Scheme != "http" && u.Scheme != "https") {
		return c.bad("session.login.url", "not a URL or path: %q", l.URL)
	} else if u.IsAbs() && !c.hostAllowed(u.Host) {
		return c.bad("session.login.url", "%s is not one of the arena's hosts (start_urls, allowed_domains)", u.Host)
	}
	if l.form, err = sel("session.login.form", l.Form, true); err != nil {
		return err
	}
	if l.detect, err = sel("session.login.detect", l.Detect, true); err != nil {
		return err
	}
	if l.UserField == "" {
		return c.bad("session.login.user_field", "required: the name of the form's user name input")
	}
	if l.PasswordField == "" {
		return c.bad("session.login.password_field", "required: the name of the form's password input")
	}
	for _, f := range []struct {
		path string
		s    Secret
	}{{"session.login.user", l.User}, {"session.login.password", l.Password}} {
		if (f.s.Env == "") == (f.s.File == "") {
			return c.bad(f.path, "give exactly one of env (an environment variable) or file; credentials are never written in the config")
		}
	}
	return nil
}

// session gets a crawl past gates and logins: it fetches pages through
// the fetcher and, when a page is a gate or a login form, acts and fetches
// the page again. One session serves all workers of a run.
type session struct {
	cfg *ArenaConfig
	f   *fetcher
	jar *persistJar

	mu  sync.Mutex   // held while acting (submitting a gate, logging in)
	gen atomic.Int64 // actions done; a worker that saw an older one refetches
	// refused is the error of a login the site refused, or whose
	// credentials could not be read: it is not tried again in the run
	// (repeated failed logins lock accounts), every page behind the
	// login fails with it. Held under mu.
	refused error
}

// active reports whether the arena has a gate or a login to watch for.
func (c *ArenaConfig) sessionActive() bool {
	return c.Session.Gate.detect != nil || c.Session.Login.detect != nil
}

// fetch fetches a page like fetcher.fetchPage and, when the page shows
// the gate or the login form, passes it (once each) and fetches the page
// again. A page still behind the gate or logged out after that is an
// error of kind "gate" or "login".
func (s *session) fetch(ctx context.Context, u string, onRedirect func(string) error) (fetched, string, error) {
	return s.through(ctx, func() (fetched, string, error) { return s.f.fetchPage(ctx, u, onRedirect) })
}

// page is fetcher.page (a listing or advert page, rendered for fetch:
// browser) through the session: a rendered gate or login form is passed
// like a fetched one, over HTTP, and the page rendered again with the
// cookies it set (the browser's requests carry the crawl's cookies).
func (s *session) page(ctx context.Context, u string, kind PageKind, onRedirect func(string) error, trace *[]BrowserRequest) (fetched, string, error) {
	return s.through(ctx, func() (fetched, string, error) { return s.f.pageTrace(ctx, u, kind, onRedirect, trace) })
}

// through gets a page with get and, when it shows the gate or the login
// form, passes it (once each) and gets the page again.
func (s *session) through(ctx context.Context, get func() (fetched, string, error)) (fetched, string, error) {
	gen := s.gen.Load()
	res, kind, err := get()
	if err != nil || !s.cfg.sessionActive() {
		return res, kind, err
	}
	acted := map[string]bool{}
	for {
		if !strings.HasPrefix(http.DetectContentType(res.body), "text/") {
			return res, "", nil // an image, a gzipped sitemap: no gate in it
		}
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(res.body))
		if err != nil {
			return res, "", nil // not HTML: extraction reports it
		}
		what := ""
		switch {
		case s.cfg.Session.Gate.detect != nil && doc.FindMatcher(s.cfg.Session.Gate.detect).Length() > 0:
			what = "gate"
		case s.cfg.Session.Login.detect != nil && doc.FindMatcher(s.cfg.Session.Login.detect).Length() > 0:
			what = "login"
		default:
			return res, "", nil
		}
		if acted[what] {
			return fetched{}, what, fmt.Errorf("%s: still shown after it was passed", what)
		}
		acted[what] = true
		if err := s.act(ctx, what, gen, res.final, doc); err != nil {
			return fetched{}, what, err
		}
		gen = s.gen.Load()
		if res, kind, err = get(); err != nil {
			return res, kind, err
		}
	}
}

// act passes the gate or logs in, unless another worker did so since
// gen (then the page is only fetched again).
func (s *session) act(ctx context.Context, what string, gen int64, pageURL string, doc *goquery.Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen.Load() != gen {
		return nil
	}
	var err error
	if what == "gate" {
		err = s.passGate(ctx, pageURL, doc)
	} else if s.refused != nil {
		return s.refused
	} else if err = s.login(ctx); errors.Is(err, errLoginRefused) {
		s.refused = err
	}
	if err != nil {
		return err
	}
	s.gen.Add(1)
	s.f.log.Info("session: "+what+" passed", "page", pageURL)
	return nil
}

// passGate presses the gate's submit element on the gate page.
func (s *session) passGate(ctx context.Context, pageURL string, doc *goquery.Document) error {
	el := doc.FindMatcher(s.cfg.Session.Gate.submit).First()
	if el.Length() == 0 {
		return fmt.Errorf("gate: session.gate.submit %q matches nothing on %s", s.cfg.Session.Gate.Submit, pageURL)
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return err
	}
	if goquery.NodeName(el) == "a" {
		href, _ := el.Attr("href")
		target, err := base.Parse(href)
		if err != nil {
			return fmt.Errorf("gate: bad link %q", href)
		}
		_, err = s.submit(ctx, http.MethodGet, target.String(), nil)
		return err
	}
	form := el
	if goquery.NodeName(el) != "form" {
		form = el.Closest("form")
	}
	if form.Length() == 0 {
		return fmt.Errorf("gate: session.gate.submit %q is not a link, a form or in a form", s.cfg.Session.Gate.Submit)
	}
	method, target, values, err := formRequest(base, form)
	if err != nil {
		return fmt.Errorf("gate: %w", err)
	}
	if goquery.NodeName(el) != "form" {
		if n, ok := el.Attr("name"); ok && n != "" {
			v, _ := el.Attr("value")
			values.Set(n, v)
		}
	}
	_, err = s.submit(ctx, method, target, values)
	return err
}

// errLoginRefused is a login that cannot succeed in this run: refused by
// the site, or without credentials.
var errLoginRefused = errors.New("login: refused or no credentials")

// login fetches the login page, fills in its form and submits it; the
// login has failed when the answer still shows the login form.
func (s *session) login(ctx context.Context) error {
	l := &s.cfg.Session.Login
	user, err := l.User.read()
	if err != nil {
		return fmt.Errorf("%w: session.login.user: %v", errLoginRefused, err)
	}
	password, err := l.Password.read()
	if err != nil {
		return fmt.Errorf("%w: session.login.password: %v", errLoginRefused, err)
	}
	start, err := url.Parse(s.cfg.StartURLs[0])
	if err != nil {
		return err
	}
	loginURL, err := start.Parse(l.URL)
	if err != nil {
		return err
	}
	res, kind, err := s.f.fetchPage(ctx, loginURL.String(), nil)
	if err != nil {
		return fmt.Errorf("login: fetch %s (%s): %w", loginURL, kind, err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(res.body))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	form := doc.FindMatcher(l.form).First()
	if form.Length() == 0 {
		return fmt.Errorf("login: session.login.form %q matches nothing on %s", l.Form, res.final)
	}
	base, _ := url.Parse(res.final)
	method, target, values, err := formRequest(base, form)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	values.Set(l.UserField, user)
	values.Set(l.PasswordField, password)
	out, err := s.submit(ctx, method, target, values)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(out.body)); err == nil && doc.FindMatcher(l.detect).Length() > 0 {
		return fmt.Errorf("%w (the answer still shows session.login.detect): check the credentials", errLoginRefused)
	}
	return nil
}

// submit sends a form (or follows a link) through the fetcher: robots.txt,
// the host gate, redirects hop by hop; once, since a POST is not repeated.
func (s *session) submit(ctx context.Context, method, target string, values url.Values) (fetched, error) {
	if method == http.MethodGet && values != nil {
		u, err := url.Parse(target)
		if err != nil {
			return fetched{}, err
		}
		u.RawQuery = values.Encode()
		target, values = u.String(), nil
	}
	resp, final, err := s.f.followFrom(ctx, method, target, values, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("submit to %s: %w", target, err)
	}
	if resp == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		return fetched{}, fmt.Errorf("submit to %s: HTTP %d", final, code)
	}
	return fetched{body: resp.Body, final: final}, nil
}

// formRequest returns the method, absolute action URL and the values a
// browser would send for form without pressing a button: its named inputs
// (checkboxes and radios when checked), selects (the selected or first
// option) and textareas.
func formRequest(base *url.URL, form *goquery.Selection) (method, target string, values url.Values, err error) {
	method = strings.ToUpper(strings.TrimSpace(form.AttrOr("method", "GET")))
	if method != http.MethodGet && method != http.MethodPost {
		return "", "", nil, fmt.Errorf("form method %q", method)
	}
	action, err := base.Parse(form.AttrOr("action", ""))
	if err != nil {
		return "", "", nil, fmt.Errorf("form action %q", form.AttrOr("action", ""))
	}
	action.Fragment = ""
	values = url.Values{}
	form.Find("input[name], select[name], textarea[name]").Each(func(_ int, in *goquery.Selection) {
		name := in.AttrOr("name", "")
		switch goquery.NodeName(in) {
		case "textarea":
			values.Add(name, in.Text())
		case "select":
			opt := in.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = in.Find("option").First()
			}
			if opt.Length() > 0 {
				values.Add(name, opt.AttrOr("value", opt.Text()))
			}
		default:
			switch strings.ToLower(in.AttrOr("type", "text")) {
			case "submit", "button", "image", "reset", "file":
			case "checkbox", "radio":
				if _, ok := in.Attr("checked"); ok {
					values.Add(name, in.AttrOr("value", "on"))
				}
			default:
				values.Add(name, in.AttrOr("value", ""))
			}
		}
	})
	return method, action.String(), values, nil
}
