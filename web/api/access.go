package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"adcensus/web/audit"
	"adcensus/web/auth"
)

// maxBody bounds a request body (sign-in, user, token).
const maxBody = 64 << 10

// Sign-in throttling: after signInFailures failed sign-ins for one user
// name or from one address within signInWindow, further attempts are
// refused until the window has passed.
const (
	signInFailures = 5
	signInWindow   = 15 * time.Minute
)

type failures struct {
	mu sync.Mutex
	m  map[string][]time.Time
}

// blocked reports whether key has too many recent failures.
func (f *failures) blocked(key string, now time.Time) (bool, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var kept []time.Time
	for _, t := range f.m[key] {
		if now.Sub(t) < signInWindow {
			kept = append(kept, t)
		}
	}
	f.m[key] = kept
	if len(kept) >= signInFailures {
		return true, signInWindow - now.Sub(kept[0])
	}
	return false, 0
}

func (f *failures) add(now time.Time, keys ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) > 100_000 { // bound the memory an attacker can fill
		clear(f.m)
	}
	for _, k := range keys {
		f.m[k] = append(f.m[k], now)
	}
}

func readJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return badRequest("Content-Type must be application/json, not %q", ct)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body: %v", err)
	}
	return nil
}

// SessionResponse is the body of GET and POST /api/session.
type SessionResponse struct {
	User  string      `json:"user"`
	Kind  string      `json:"kind"`
	Roles []auth.Role `json:"roles"`
	// CSRFToken must be sent as X-CSRF-Token on every POST, PUT, PATCH
	// and DELETE of a browser session.
	CSRFToken string    `json:"csrf_token,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
}

func sessionResponse(p *auth.Principal) SessionResponse {
	out := SessionResponse{User: p.Name, Kind: p.Kind, Roles: p.Roles}
	if p.Session != nil {
		out.CSRFToken, out.Expires = p.Session.CSRF, p.Session.Expires
	}
	return out
}

func (s *server) session(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, sessionResponse(principal(r)))
	return nil
}

func (s *server) signIn(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		User     string `json:"user"`
		Password string `json:"password"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	setWhat(r, "user", in.User)
	info(r).who = &auth.Principal{Kind: "user", Name: in.User}
	now := s.now()
	for _, key := range []string{"user:" + in.User, "ip:" + remoteIP(r)} {
		if blocked, wait := s.failed.blocked(key, now); blocked {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			setWhat(r, "result", "throttled")
			return fmt.Errorf("%w: too many failed sign-ins; try again in %s", errTooMany, wait.Round(time.Minute))
		}
	}
	p, err := s.opt.Auth.CheckPassword(in.User, in.Password)
	if errors.Is(err, auth.ErrBadCredentials) {
		s.failed.add(now, "user:"+in.User, "ip:"+remoteIP(r))
		setWhat(r, "result", "failed")
		return err
	}
	if err != nil {
		return err
	}
	return s.startSession(w, r, p, "password")
}

// startSession creates a session for p, sets its cookie and answers with
// the session (the CSRF token included).
func (s *server) startSession(w http.ResponseWriter, r *http.Request, p *auth.Principal, via string) error {
	id, sess, err := s.opt.Auth.NewSession(p, via, s.opt.Sessions, s.now())
	if err != nil {
		return err
	}
	p.Session = sess
	info(r).who = p
	setWhat(r, "result", "ok")
	setWhat(r, "via", via)
	http.SetCookie(w, auth.SessionCookie(id, sess))
	if via == "oidc" {
		w.Header().Set("Location", "/")
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	writeJSON(w, http.StatusOK, sessionResponse(p))
	return nil
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(auth.CookieName); err == nil && principal(r).Session != nil {
		if err := s.opt.Auth.EndSession(c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, auth.ClearCookie())
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// UserRequest is the body of POST /api/users.
type UserRequest struct {
	Name     string `json:"name"`
	Roles    string `json:"roles"`
	Password string `json:"password"`
}

func (s *server) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.opt.Auth.Users()
	if err != nil {
		return err
	}
	setRows(r, len(users))
	writeJSON(w, http.StatusOK, nonNil(users))
	return nil
}

func accessError(err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalid), errors.Is(err, auth.ErrExists):
		return badRequest("%v", err)
	case errors.Is(err, auth.ErrNotFound):
		return fmt.Errorf("%w: %v", errNotFound, err)
	}
	return err
}

func (s *server) addUser(w http.ResponseWriter, r *http.Request) error {
	var in UserRequest
	if err := readJSON(r, &in); err != nil {
		return err
	}
	setWhat(r, "user", in.Name)
	setWhat(r, "roles", in.Roles)
	roles, err := auth.ParseRoles(in.Roles)
	if err != nil {
		return accessError(err)
	}
	if err := s.opt.Auth.AddUser(in.Name, roles, in.Password, s.now()); err != nil {
		return accessError(err)
	}
	writeJSON(w, http.StatusCreated, auth.User{Name: in.Name, Roles: roles, Created: s.now().UTC()})
	return nil
}

func (s *server) disableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, true)
}

func (s *server) enableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setDisabled(w, r, false)
}

func (s *server) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	name := r.PathValue("name")
	setWhat(r, "user", name)
	if err := s.opt.Auth.SetDisabled(name, disabled); err != nil {
		return accessError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// TokenRequest is the body of POST /api/tokens.
type TokenRequest struct {
	Name  string `json:"name"`
	Roles string `json:"roles"`
	// Expires is a duration: 90d, 12w, 36h.
	Expires string `json:"expires"`
}

// TokenResponse is the body of a created token: the secret is shown only
// here.
type TokenResponse struct {
	Token  string     `json:"token"`
	Stored auth.Token `json:"stored"`
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) error {
	tokens, err := s.opt.Auth.Tokens()
	if err != nil {
		return err
	}
	setRows(r, len(tokens))
	writeJSON(w, http.StatusOK, nonNil(tokens))
	return nil
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in TokenRequest
	if err := readJSON(r, &in); err != nil {
		return err
	}
	setWhat(r, "name", in.Name)
	setWhat(r, "roles", in.Roles)
	setWhat(r, "expires", in.Expires)
	roles, err := auth.ParseRoles(in.Roles)
	if err != nil {
		return accessError(err)
	}
	ttl, err := auth.ParseTTL(in.Expires)
	if err != nil {
		return accessError(err)
	}
	secret, tok, err := s.opt.Auth.CreateToken(in.Name, roles, ttl, principal(r).String(), s.now())
	if err != nil {
		return accessError(err)
	}
	setWhat(r, "id", tok.ID)
	writeJSON(w, http.StatusCreated, TokenResponse{Token: secret, Stored: tok})
	return nil
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setWhat(r, "id", id)
	if err := s.opt.Auth.RevokeToken(id, s.now()); err != nil {
		return accessError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// auditLog answers the audit log's entries since a time (default: the
// last 24 hours), at most limit (default 1000), newest last.
func (s *server) auditLog(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Audit == nil {
		return fmt.Errorf("audit: %w: this server keeps no audit log", errNotImplemented)
	}
	since := s.now().Add(-24 * time.Hour)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return badRequest("since=%q: want an RFC 3339 time", shortValue(v))
		}
		since = t
	}
	limit, err := intParam(r, "limit", 1000, 1, 10_000)
	if err != nil {
		return err
	}
	setWhat(r, "since", since.Format(time.RFC3339))
	var out []audit.Entry
	err = audit.Read(s.opt.Audit.Path(), since, func(_ int, e audit.Entry) error {
		out = append(out, e)
		if len(out) > limit {
			out = out[1:]
		}
		return nil
	})
	if err != nil && !isNotExist(err) {
		return err
	}
	setRows(r, len(out))
	writeJSON(w, http.StatusOK, nonNil(out))
	return nil
}

// runs answers the crawl runs (Options.Runs).
func (s *server) runs(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Runs == nil {
		return fmt.Errorf("runs: %w: this server was not given the crawl state", errNotImplemented)
	}
	runs, n, err := s.opt.Runs(r.Context())
	if err != nil {
		return err
	}
	setRows(r, n)
	writeJSON(w, http.StatusOK, runs)
	return nil
}
