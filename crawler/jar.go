package crawler

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/publicsuffix"
)

// persistJar is a run's cookie jar (net/http/cookiejar underneath) that
// remembers every cookie set, so that the jar can be saved with the run's
// state and rebuilt on resume: the session (age gate passed, logged in)
// survives an interruption. Each arena's run has its own jar.
type persistJar struct {
	jar *cookiejar.Jar

	mu    sync.Mutex
	set   map[string]savedCookie // by domain|path|name: the latest setting
	dirty bool
}

// savedCookie is one cookie as set, with an absolute expiry.
type savedCookie struct {
	URL     string    `json:"url"` // scheme://host/path it was set from
	Name    string    `json:"name"`
	Value   string    `json:"value"`
	Domain  string    `json:"domain,omitempty"`
	Path    string    `json:"path,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
	Secure  bool      `json:"secure,omitempty"`
	HTTP    bool      `json:"http_only,omitempty"`
}

func newPersistJar() *persistJar {
	j, _ := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List}) // never fails
	return &persistJar{jar: j, set: map[string]savedCookie{}}
}

// SetCookies implements http.CookieJar.
func (p *persistJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	p.jar.SetCookies(u, cookies)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cookies {
		s := savedCookie{URL: (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String(), Name: c.Name, Value: c.Value,
			Domain: c.Domain, Path: c.Path, Expires: c.Expires, Secure: c.Secure, HTTP: c.HttpOnly}
		switch {
		case c.MaxAge > 0:
			s.Expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		case c.MaxAge < 0:
			s.Expires = time.Unix(1, 0)
		}
		key := c.Domain + "|" + u.Host + "|" + c.Path + "|" + c.Name
		if !s.Expires.IsZero() && !s.Expires.After(now) {
			delete(p.set, key) // a deletion: nothing to restore
		} else {
			p.set[key] = s
		}
		p.dirty = true
	}
}

// Cookies implements http.CookieJar.
func (p *persistJar) Cookies(u *url.URL) []*http.Cookie { return p.jar.Cookies(u) }

// snapshot returns the jar's cookies as JSON when they changed since the
// last snapshot, nil otherwise.
func (p *persistJar) snapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dirty {
		return nil
	}
	p.dirty = false
	list := make([]savedCookie, 0, len(p.set))
	for _, s := range p.set {
		list = append(list, s)
	}
	data, _ := json.Marshal(list) // plain values: never fails
	return data
}

// restore sets the cookies of a snapshot (expired ones are dropped).
func (p *persistJar) restore(data []byte) error {
	var list []savedCookie
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	now := time.Now()
	for _, s := range list {
		if !s.Expires.IsZero() && !s.Expires.After(now) {
			continue
		}
		u, err := url.Parse(s.URL)
		if err != nil {
			continue
		}
		p.SetCookies(u, []*http.Cookie{{Name: s.Name, Value: s.Value, Domain: s.Domain, Path: s.Path,
			Expires: s.Expires, Secure: s.Secure, HttpOnly: s.HTTP}})
	}
	p.mu.Lock()
	p.dirty = false
	p.mu.Unlock()
	return nil
}

// seedCookies sets the config's session.cookies on the start URLs' hosts.
func (p *persistJar) seedCookies(cfg *ArenaConfig) {
	if len(cfg.Session.Cookies) == 0 {
		return
	}
	for _, h := range cfg.Hosts() {
		for _, scheme := range []string{"http", "https"} {
			u := &url.URL{Scheme: scheme, Host: h, Path: "/"}
			var cs []*http.Cookie
			for _, c := range cfg.Session.Cookies {
				path := c.Path
				if path == "" {
					path = "/"
				}
				cs = append(cs, &http.Cookie{Name: c.Name, Value: c.Value, Path: path})
			}
			p.jar.SetCookies(u, cs) // from the config: not saved with the run
		}
	}
}
