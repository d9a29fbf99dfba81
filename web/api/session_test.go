package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/web/api"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

type sessionClient struct {
	t      *testing.T
	srv    *httptest.Server
	cookie *http.Cookie
	csrf   string
}

func (c *sessionClient) do(method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-No-Auth", "1")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// A browser signs in, gets a Secure, HttpOnly, SameSite=Strict cookie and
// a CSRF token; reads need the cookie, writes the token too; sign-out and
// expiry end the session; failed sign-ins are throttled; everything is in
// the audit log.
func TestBrowserSession(t *testing.T) {
	x := MustIndex(t)
	dir := t.TempDir()
	st, err := auth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	if err := st.AddUser("alice", []auth.Role{auth.Admin, auth.Analyst}, "correct horse battery", now); err != nil {
		t.Fatal(err)
	}
	log := audit.Open(dir)
	srv := MustServer(t, x, docSource(x), api.Options{Auth: st, Audit: log, Now: clock,
		Sessions: auth.SessionOptions{TTL: 8 * time.Hour, Idle: 30 * time.Minute}})
	c := &sessionClient{t: t, srv: srv}

	res, body := c.do("POST", "/api/session", `{"user":"alice","password":"wrong password!"}`, nil)
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("wrong password: %d %s", res.StatusCode, body)
	}
	res, body = c.do("POST", "/api/session", `{"user":"alice","password":"correct horse battery"}`, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == auth.CookieName {
			c.cookie = &http.Cookie{Name: ck.Name, Value: ck.Value}
			if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
				t.Fatalf("cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/", ck)
			}
		}
	}
	if c.cookie == nil {
		t.Fatal("no session cookie")
	}
	var sess api.SessionResponse
	if err := json.Unmarshal(body, &sess); err != nil || sess.CSRFToken == "" || sess.User != "alice" {
		t.Fatalf("session %s: %v", body, err)
	}
	c.csrf = sess.CSRFToken

	if res, body = c.do("GET", "/api/search?q=Lund", "", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("search with the cookie: %d %s", res.StatusCode, body)
	}
	// A write without the CSRF token, with a wrong one, and cross-site.
	newToken := `{"name":"nightly","roles":"researcher","expires":"30d"}`
	if res, body = c.do("POST", "/api/tokens", newToken, nil); res.StatusCode != http.StatusForbidden || !bytes.Contains(body, []byte("X-CSRF-Token")) {
		t.Fatalf("no CSRF token: %d %s", res.StatusCode, body)
	}
	if res, _ = c.do("POST", "/api/tokens", newToken, map[string]string{auth.CSRFHeader: "x" + c.csrf}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong CSRF token: %d", res.StatusCode)
	}
	if res, _ = c.do("POST", "/api/tokens", newToken, map[string]string{auth.CSRFHeader: c.csrf, "Sec-Fetch-Site": "cross-site"}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site: %d", res.StatusCode)
	}
	res, body = c.do("POST", "/api/tokens", newToken, map[string]string{auth.CSRFHeader: c.csrf})
	if res.StatusCode != http.StatusCreated || !bytes.Contains(body, []byte(`"token":"adc_`)) {
		t.Fatalf("token with CSRF: %d %s", res.StatusCode, body)
	}
	// Idle too long: the session ends.
	mu.Lock()
	now = now.Add(31 * time.Minute)
	mu.Unlock()
	if res, _ = c.do("GET", "/api/session", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("idle session: %d", res.StatusCode)
	}
	// Sign in again and out.
	c.cookie = nil
	res, body = c.do("POST", "/api/session", `{"user":"alice","password":"correct horse battery"}`, nil)
	for _, ck := range res.Cookies() {
		c.cookie = &http.Cookie{Name: ck.Name, Value: ck.Value}
	}
	json.Unmarshal(body, &sess)
	if res, _ = c.do("DELETE", "/api/session", "", map[string]string{auth.CSRFHeader: sess.CSRFToken}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if res, _ = c.do("GET", "/api/search", "", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after sign-out: %d", res.StatusCode)
	}
	// Five failures lock the name out, even with the right password.
	c.cookie = nil
	for range 5 {
		c.do("POST", "/api/session", `{"user":"alice","password":"wrong password!"}`, nil)
	}
	if res, _ = c.do("POST", "/api/session", `{"user":"alice","password":"correct horse battery"}`, nil); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures: %d", res.StatusCode)
	}

	var actions []string
	err = audit.Read(log.Path(), time.Time{}, func(_ int, e audit.Entry) error {
		actions = append(actions, e.Action+":"+e.What["result"])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"signIn:failed", "signIn:ok", "search:", "createToken:", "signOut:", "signIn:throttled"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit %s: no %s", got, want)
		}
	}
	if _, _, err := audit.Verify(log.Path()); err != nil {
		t.Fatal(err)
	}
}

// Security headers are on every answer, and a foreign Host is refused.
func TestSecurityHeadersAndHost(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{AllowedHosts: []string{"127.0.0.1", "localhost"}})
	r := MustGet(t, srv, "/api/search")
	wantStatus(t, r, "search", http.StatusOK)
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "Referrer-Policy": "no-referrer",
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
	} {
		if !strings.Contains(r.header.Get(k), want) {
			t.Errorf("%s: %q, want %q", k, r.header.Get(k), want)
		}
	}
	if strings.Contains(r.header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Error("CSP allows inline scripts")
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/search", nil)
	req.Host = "attacker.example:80"
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("foreign host: %d", res.StatusCode)
	}
}

// The rate limit answers 429 with Retry-After once a token's burst is
// spent.
func TestRateLimit(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{RateLimit: 0.01, RateBurst: 3})
	codes := map[int]int{}
	for range 6 {
		r := MustGet(t, srv, "/api/export/counts")
		codes[r.status]++
		if r.status == http.StatusTooManyRequests && r.header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if codes[http.StatusOK] != 3 || codes[http.StatusTooManyRequests] != 3 {
		t.Fatalf("statuses %v, want 3 ok and 3 429", codes)
	}
}

// Requests with a wrong token are limited by address like any other.
func TestRateLimitOnRefusedTokens(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{RateLimit: 0.01, RateBurst: 3})
	codes := map[int]int{}
	for range 6 {
		req, _ := http.NewRequest("GET", srv.URL+"/api/search", nil)
		req.Header.Set("Authorization", "Bearer adc_0000000000000000_"+strings.Repeat("x", 43))
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		codes[res.StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 3 || codes[http.StatusTooManyRequests] != 3 {
		t.Fatalf("statuses %v, want 3 401 and 3 429", codes)
	}
}

// Behind a trusted proxy the client is the right-most address of
// X-Forwarded-For that is not a proxy; from anyone else the header is
// ignored.
func TestTrustedProxy(t *testing.T) {
	x := MustIndex(t)
	for _, tc := range []struct {
		trusted []netip.Prefix
		xff     string
		want    string
	}{
		{nil, "203.0.113.9", "127.0.0.1"},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.9", "203.0.113.9"},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "1.2.3.4, 203.0.113.9", "203.0.113.9"},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.7, 10.1.2.3", "198.51.100.7"},
		{[]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "garbage", "127.0.0.1"},
	} {
		dir := t.TempDir()
		log := audit.Open(dir)
		srv := MustServer(t, x, docSource(x), api.Options{TrustedProxies: tc.trusted, Audit: log})
		req, _ := http.NewRequest("GET", srv.URL+"/api/export/counts", nil)
		req.Header.Set("X-Forwarded-For", tc.xff)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		var got string
		audit.Read(log.Path(), time.Time{}, func(_ int, e audit.Entry) error { got = e.Remote; return nil })
		if got != tc.want {
			t.Errorf("trusted %v, X-Forwarded-For %q: client %q, want %q", tc.trusted, tc.xff, got, tc.want)
		}
	}
}

// When the audit line cannot be written, nothing is returned.
func TestNoAnswerWithoutAudit(t *testing.T) {
	x := MustIndex(t)
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, audit.FileName), 0o700); err != nil { // a directory: appends fail
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{Audit: audit.Open(dir)})
	r := MustGet(t, srv, "/api/search?q=Lund")
	wantStatus(t, r, "search", http.StatusServiceUnavailable)
	if strings.Contains(string(r.body), "hits") || strings.Contains(string(r.body), "Lund") {
		t.Fatalf("data returned without an audit line: %s", r.body)
	}
}
