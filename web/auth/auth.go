// Package auth holds who may use adcensus over HTTP: users with argon2id
// password hashes, API tokens stored only as hashes, browser sessions with
// their CSRF tokens, and the roles that decide what each may read
// (docs/ACCESS.md). Everything lives in one bbolt file in the data
// directory (access.db), opened for each operation so that the CLI
// ('adcensus user', 'adcensus token') and a running 'adcensus serve' can
// share it.
//
// Secrets never leave this package in stored form: a token or session id
// is shown once, when created, and kept as its SHA-256; a password is kept
// as an argon2id hash.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Role is what a principal may do.
type Role string

// The roles (docs/ACCESS.md has the table of endpoints).
const (
	// Admin manages users and tokens and reads the audit log.
	Admin Role = "admin"
	// Operator watches crawl runs.
	Operator Role = "operator"
	// Analyst searches adverts, persons, networks and patterns, and reads
	// the aggregate exports.
	Analyst Role = "analyst"
	// Researcher reads aggregate exports and estimates only: never an
	// advert, a person or a network.
	Researcher Role = "researcher"
)

// Roles returns every role, in the order of the docs.
func Roles() []Role { return []Role{Admin, Operator, Analyst, Researcher} }

// Errors of this package.
var (
	// ErrUnauthenticated: no credentials, or credentials that are unknown,
	// expired, revoked or of a disabled user.
	ErrUnauthenticated = errors.New("not signed in")
	// ErrBadCredentials: a sign-in with a wrong user name or password.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrExists: a user of that name exists already.
	ErrExists = errors.New("exists already")
	// ErrNotFound: no such user or token.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a malformed name, role, password or duration.
	ErrInvalid = errors.New("invalid")
)

// invalidError is a malformed input; errors.Is(err, ErrInvalid) holds.
type invalidError struct{ msg string }

func (e invalidError) Error() string        { return e.msg }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, a ...any) error { return invalidError{fmt.Sprintf(format, a...)} }

// ParseRoles parses a comma-separated list of roles ("analyst,researcher").
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		r := Role(p)
		if !slices.Contains(Roles(), r) {
			return nil, invalid("role %q: roles are admin, operator, analyst, researcher", p)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, invalid("no role given: roles are admin, operator, analyst, researcher")
	}
	slices.Sort(out)
	return out, nil
}

// Principal is who made a request.
type Principal struct {
	// Kind is "user" (signed in with a password or OIDC: a session) or
	// "token".
	Kind string `json:"kind"`
	// Name is the user name, or the token's name.
	Name string `json:"name"`
	// TokenID is the public id of the token (Kind "token").
	TokenID string `json:"token_id,omitempty"`
	Roles   []Role `json:"roles"`
	// Session is set for a browser session.
	Session *Session `json:"-"`
}

// Has reports whether p has any of roles.
func (p *Principal) Has(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// String names p for the audit log and error messages: "alice",
// "token:1a2b3c4d5e6f7a8b (nightly-export)".
func (p *Principal) String() string {
	if p == nil {
		return "anonymous"
	}
	if p.Kind == "token" {
		return "token:" + p.TokenID + " (" + p.Name + ")"
	}
	return p.Name
}

// validName is what a user or token name may look like.
func validName(s string) error {
	if s == "" || len(s) > 100 {
		return invalid("name %q: want 1 to 100 characters", s)
	}
	for _, c := range s {
		if !(c == '.' || c == '_' || c == '-' || c == '@' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return invalid("name %q: use letters, digits and . _ - @ :", s)
		}
	}
	return nil
}

// ParseTTL parses a token lifetime: a number with d (days), w (weeks) or
// any unit time.ParseDuration knows (36h).
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, invalid("no expiry given: want a duration like 90d, 12w or 36h")
	}
	mult := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		mult = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		mult = 7 * 24 * time.Hour
	}
	if mult != 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n <= 0 || n > 5*366 {
			return 0, invalid("expiry %q: want a duration like 90d, 12w or 36h", s)
		}
		return time.Duration(n) * mult, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, invalid("expiry %q: want a duration like 90d, 12w or 36h", s)
	}
	return d, nil
}
