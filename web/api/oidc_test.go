package api_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/web/api"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

// issuer is a minimal OpenID Connect provider: discovery, JWKS, and a
// token endpoint that checks the PKCE verifier and returns an RS256-signed
// ID token with the groups the test set for the next code.
type issuer struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	groups []string
	codes  map[string]string // code → PKCE challenge
	nonce  string
}

func newIssuer(t *testing.T) *issuer {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{key: key, codes: map[string]string{}}
	mux := http.NewServeMux()
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	b64 := base64.RawURLEncoding
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": is.srv.URL, "authorization_endpoint": is.srv.URL + "/authorize",
			"token_endpoint": is.srv.URL + "/token", "jwks_uri": is.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
			"n": b64.EncodeToString(key.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		is.mu.Lock()
		challenge, ok := is.codes[r.Form.Get("code")]
		delete(is.codes, r.Form.Get("code"))
		groups, nonce := is.groups, is.nonce
		is.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || b64.EncodeToString(sum[:]) != challenge {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		now := time.Now()
		claims := map[string]any{"iss": is.srv.URL, "sub": "u-42", "aud": "adcensus", "email": "bo@agency.example",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": nonce, "groups": groups}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300,
			"id_token": is.sign(t, claims)})
	})
	return is
}

func (is *issuer) sign(t *testing.T, claims map[string]any) string {
	b64 := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	c, _ := json.Marshal(claims)
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, is.key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

// authorize plays the user signing in at the provider: it takes the
// redirect URL of /api/oidc/login and returns the callback query.
func (is *issuer) authorize(t *testing.T, loc string, groups []string) url.Values {
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" {
		t.Fatalf("authorize URL %s: want PKCE S256 and a nonce", loc)
	}
	is.mu.Lock()
	is.codes["code-1"] = q.Get("code_challenge")
	is.groups, is.nonce = groups, q.Get("nonce")
	is.mu.Unlock()
	return url.Values{"code": {"code-1"}, "state": {q.Get("state")}}
}

func TestOIDCSignIn(t *testing.T) {
	is := newIssuer(t)
	x := MustIndex(t)
	o, err := api.NewOIDC(context.Background(), api.OIDCConfig{Issuer: is.srv.URL, ClientID: "adcensus", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1/api/oidc/callback", RoleClaim: "groups",
		Roles: map[string][]auth.Role{"census-analysts": {auth.Analyst}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st, _ := auth.Open(dir)
	srv := MustServer(t, x, docSource(x), api.Options{Auth: st, OIDC: o, Audit: audit.Open(dir)})
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(path string, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-No-Auth", "1")
		for _, c := range cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	signIn := func(groups []string, tamper bool) (*http.Response, *http.Cookie) {
		res := get("/api/oidc/login")
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), is.srv.URL+"/authorize") {
			t.Fatalf("login: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		loginCookies := res.Cookies()
		q := is.authorize(t, res.Header.Get("Location"), groups)
		if tamper {
			q.Set("state", "forged")
		}
		res = get("/api/oidc/callback?"+q.Encode(), loginCookies...)
		for _, c := range res.Cookies() {
			if c.Name == auth.CookieName && c.Value != "" {
				return res, c
			}
		}
		return res, nil
	}

	res, session := signIn([]string{"census-analysts", "other"}, false)
	if res.StatusCode != http.StatusSeeOther || session == nil {
		t.Fatalf("callback: %d, session cookie %v", res.StatusCode, session)
	}
	if res := get("/api/search", session); res.StatusCode != http.StatusOK {
		t.Fatalf("search as the OIDC analyst: %d", res.StatusCode)
	}
	if res := get("/api/users", session); res.StatusCode != http.StatusForbidden {
		t.Fatalf("users as the OIDC analyst: %d", res.StatusCode)
	}
	if res, session := signIn([]string{"other"}, false); res.StatusCode != http.StatusForbidden || session != nil {
		t.Fatalf("no mapped group: %d, session %v", res.StatusCode, session)
	}
	if res, session := signIn([]string{"census-analysts"}, true); res.StatusCode != http.StatusUnauthorized || session != nil {
		t.Fatalf("forged state: %d, session %v", res.StatusCode, session)
	}
}
