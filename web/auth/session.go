package auth

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session defaults (SessionOptions).
const (
	DefaultSessionTTL  = 8 * time.Hour
	DefaultSessionIdle = 30 * time.Minute
	// touchEvery is how often a session's last use is written: not on
	// every request, which would make every read a write.
	touchEvery = time.Minute
)

// CookieName is the session cookie. The __Host- prefix makes browsers
// accept it only with Secure, Path=/ and no Domain.
const CookieName = "__Host-adcensus-session"

// CSRFHeader carries the session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// SessionOptions bound a browser session.
type SessionOptions struct {
	// TTL is the longest a session lasts (0: DefaultSessionTTL).
	TTL time.Duration
	// Idle ends a session not used for this long (0: DefaultSessionIdle).
	Idle time.Duration
}

func (o SessionOptions) withDefaults() SessionOptions {
	if o.TTL <= 0 {
		o.TTL = DefaultSessionTTL
	}
	if o.Idle <= 0 {
		o.Idle = DefaultSessionIdle
	}
	return o
}

// Session is a signed-in browser, stored under the SHA-256 of its id.
type Session struct {
	User  string `json:"user"`
	Roles []Role `json:"roles"`
	// Via is "password" or "oidc".
	Via      string    `json:"via"`
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	LastSeen time.Time `json:"last_seen"`
}

// NewSession starts a session for p (signed in via "password" or "oidc")
// and returns its id, to be set as the cookie and never stored. Expired
// sessions are removed on the way.
func (s *Store) NewSession(p *Principal, via string, opt SessionOptions, now time.Time) (string, *Session, error) {
	opt = opt.withDefaults()
	id := randomString(32)
	sess := &Session{User: p.Name, Roles: p.Roles, Via: via, CSRF: randomString(32),
		Created: now.UTC(), Expires: now.Add(opt.TTL).UTC(), LastSeen: now.UTC()}
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var old Session
			if err := jsonUnmarshal(v, &old); err != nil || !now.Before(old.Expires) || now.Sub(old.LastSeen) > opt.Idle {
				stale = append(stale, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return put(tx, bucketSessions, sha(id), sess)
	})
	if err != nil {
		return "", nil, err
	}
	return id, sess, nil
}

// Session returns the principal of a session id; ErrUnauthenticated when
// it is unknown, expired, idle too long, or its user was disabled.
func (s *Store) Session(id string, opt SessionOptions, now time.Time) (*Principal, error) {
	opt = opt.withDefaults()
	if id == "" || len(id) > 100 {
		return nil, fmt.Errorf("%w: no session", ErrUnauthenticated)
	}
	key := sha(id)
	c, err := s.snap()
	if err != nil {
		return nil, err
	}
	var user *User
	sess := c.sessions[string(key)]
	if sess != nil {
		cp := *sess // the snapshot is shared: never change it
		sess = &cp
		user = c.users[sess.User]
	}
	switch {
	case sess == nil:
		return nil, fmt.Errorf("%w: unknown session", ErrUnauthenticated)
	case !now.Before(sess.Expires):
		return nil, fmt.Errorf("%w: session expired", ErrUnauthenticated)
	case now.Sub(sess.LastSeen) > opt.Idle:
		return nil, fmt.Errorf("%w: session idle for more than %s", ErrUnauthenticated, opt.Idle)
	case user != nil && user.Disabled:
		return nil, fmt.Errorf("%w: user %s is disabled", ErrUnauthenticated, sess.User)
	case user == nil && sess.Via == "password":
		return nil, fmt.Errorf("%w: user %s no longer exists", ErrUnauthenticated, sess.User)
	}
	if now.Sub(sess.LastSeen) > touchEvery {
		sess.LastSeen = now.UTC()
		err := s.update(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketSessions).Get(key) == nil {
				return nil // signed out meanwhile
			}
			return put(tx, bucketSessions, key, sess)
		})
		if err != nil {
			return nil, err
		}
	}
	return &Principal{Kind: "user", Name: sess.User, Roles: sess.Roles, Session: sess}, nil
}

// EndSession signs a session out; an unknown id is not an error.
func (s *Store) EndSession(id string) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(sha(id)) })
}

func endSessionsOf(tx *bolt.Tx, user string) error {
	b := tx.Bucket(bucketSessions)
	var keys [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var sess Session
		if err := jsonUnmarshal(v, &sess); err != nil || sess.User == user {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// CheckCSRF reports whether token is the session's CSRF token.
func (sess *Session) CheckCSRF(token string) bool {
	return sess != nil && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.CSRF)) == 1
}

// SessionCookie is the cookie of a new session: Secure, HttpOnly,
// SameSite=Strict, Path=/, ending with the session.
func SessionCookie(id string, sess *Session) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: id, Path: "/", Expires: sess.Expires,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}

// ClearCookie removes the session cookie from a browser.
func ClearCookie() *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
}
