package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"adcensus/web/auth"
)

// OIDCConfig configures sign-in through an OpenID Connect identity
// provider (the access section of the main config; docs/ACCESS.md).
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer/.well-known/openid-configuration).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this server's /api/oidc/callback as the provider
	// knows it.
	RedirectURL string
	// Scopes besides openid (default: profile, email).
	Scopes []string
	// RoleClaim is the ID-token claim holding the user's groups (a string
	// or a list of strings), e.g. "groups".
	RoleClaim string
	// Roles maps a value of RoleClaim to adcensus roles; a user whose
	// values map to no role is refused.
	Roles map[string][]auth.Role
	// UserClaim names the user in the audit log (default: email, else
	// preferred_username, else sub).
	UserClaim string
}

// OIDC is a configured identity provider (NewOIDC).
type OIDC struct {
	cfg      OIDCConfig
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
}

// NewOIDC fetches the provider's discovery document; ctx bounds that
// fetch (and the client it uses later, through oidc.ClientContext).
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.RoleClaim == "" || len(cfg.Roles) == 0 {
		return nil, fmt.Errorf("oidc: issuer, client_id, redirect_url, role_claim and roles are required")
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"profile", "email"}
	}
	return &OIDC{
		cfg:      cfg,
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: cfg.RedirectURL, Scopes: append([]string{oidc.ScopeOpenID}, scopes...)},
	}, nil
}

// oidcCookie holds state, nonce and PKCE verifier between the redirect to
// the provider and its callback. SameSite=Lax: the callback is a
// top-level navigation from the provider's site.
const oidcCookie = "__Host-adcensus-oidc"

const oidcLoginTTL = 10 * time.Minute

func (s *server) oidcLogin(w http.ResponseWriter, r *http.Request) error {
	state, nonce, verifier := randomToken(), randomToken(), oauth2.GenerateVerifier()
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: "/",
		MaxAge: int(oidcLoginTTL / time.Second), Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	u := s.oidc.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	w.Header().Set("Location", u)
	w.WriteHeader(http.StatusFound)
	return nil
}

func (s *server) oidcCallback(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return fmt.Errorf("%w: sign-in with the identity provider expired or was not started here", errUnauthorized)
	}
	parts := strings.Split(c.Value, ".")
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		setWhat(r, "result", "failed")
		return fmt.Errorf("%w: the identity provider refused: %s", errUnauthorized, shortValue(e))
	}
	if len(parts) != 3 || q.Get("state") == "" || q.Get("state") != parts[0] {
		setWhat(r, "result", "failed")
		return fmt.Errorf("%w: state does not match the sign-in started here", errUnauthorized)
	}
	ctx := r.Context()
	tok, err := s.oidc.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(parts[2]))
	if err != nil {
		setWhat(r, "result", "failed")
		s.log.Warn("oidc code exchange failed", logKeyError, err)
		return fmt.Errorf("%w: the identity provider did not accept the sign-in code", errUnauthorized)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return fmt.Errorf("%w: the identity provider sent no ID token", errUnauthorized)
	}
	idt, err := s.oidc.verifier.Verify(ctx, raw)
	if err != nil {
		setWhat(r, "result", "failed")
		return fmt.Errorf("%w: ID token: %v", errUnauthorized, err)
	}
	if idt.Nonce != parts[1] {
		setWhat(r, "result", "failed")
		return fmt.Errorf("%w: ID token nonce does not match", errUnauthorized)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fmt.Errorf("%w: ID token claims: %v", errUnauthorized, err)
	}
	user := s.oidc.userName(claims, idt.Subject)
	info(r).who = &auth.Principal{Kind: "user", Name: user}
	setWhat(r, "user", user)
	roles := s.oidc.roles(claims)
	if len(roles) == 0 {
		setWhat(r, "result", "no role")
		return fmt.Errorf("%w: %s: the identity provider's %s give no adcensus role", errForbidden, user, s.oidc.cfg.RoleClaim)
	}
	return s.startSession(w, r, &auth.Principal{Kind: "user", Name: user, Roles: roles}, "oidc")
}

func (o *OIDC) userName(claims map[string]any, sub string) string {
	for _, k := range []string{o.cfg.UserClaim, "email", "preferred_username"} {
		if v, ok := claims[k].(string); ok && k != "" && v != "" {
			return "oidc:" + v
		}
	}
	return "oidc:" + sub
}

// roles maps the values of the role claim to roles.
func (o *OIDC) roles(claims map[string]any) []auth.Role {
	var values []string
	switch v := claims[o.cfg.RoleClaim].(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	var out []auth.Role
	for _, v := range values {
		for _, r := range o.cfg.Roles[v] {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
