package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/internal/boltfile"
)

// FileName is the store's file in the data directory.
const FileName = "access.db"

var (
	bucketUsers    = []byte("users")
	bucketTokens   = []byte("tokens")
	bucketSessions = []byte("sessions")
)

// TokenPrefix starts every API token: "adc_<id>_<secret>".
const TokenPrefix = "adc_"

// User is a person who signs in with a password.
type User struct {
	Name     string    `json:"name"`
	Roles    []Role    `json:"roles"`
	Hash     string    `json:"hash,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
}

// Token is an API token as stored: its secret only as a SHA-256.
type Token struct {
	// ID is public: it names the token in lists, revocation and the
	// audit log.
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Roles   []Role    `json:"roles"`
	Hash    []byte    `json:"hash,omitempty"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Revoked time.Time `json:"revoked,omitzero"`
	// CreatedBy is who made the token.
	CreatedBy string `json:"created_by,omitempty"`
}

// Active reports whether the token may be used at now.
func (t Token) Active(now time.Time) bool { return t.Revoked.IsZero() && now.Before(t.Expires) }

// Store is the access file of one data directory. Each method opens the
// file for its own transaction, so several processes share it (bbolt's
// file lock serialises writers; boltfile.LockWait bounds the wait).
type Store struct {
	path string

	mu    sync.Mutex
	cache *snapshot
}

// snapshot is the store's users, tokens and sessions in memory: a token
// or session check reads it instead of opening the file (an open maps the
// file, which serialises on the process's memory map under concurrent
// requests). It is reloaded when the file changes, after this process
// writes, and at least every snapshotTTL.
type snapshot struct {
	users    map[string]*User
	tokens   map[string]*Token
	sessions map[string]*Session // by string(sha(id))
	stamp    fileStamp
	loaded   time.Time
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// snapshotTTL bounds how stale a snapshot may be when the file's stamp did
// not change (two writes within one tick of the file system's clock).
const snapshotTTL = time.Second

// Open returns the store of dataDir; the file is created on the first
// write. The directory must exist.
func Open(dataDir string) (*Store, error) {
	st, err := os.Stat(dataDir)
	if err != nil {
		return nil, fmt.Errorf("access store: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("access store: %s is not a directory", dataDir)
	}
	return &Store{path: filepath.Join(dataDir, FileName)}, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// view runs fn in a read transaction; a store that does not exist yet is
// empty (fn gets a nil tx).
func (s *Store) view(fn func(tx *bolt.Tx) error) error {
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
		return fn(nil)
	}
	db, err := boltfile.Open(s.path, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(fn)
}

// snap returns the current snapshot, loading it when stale.
func (s *Store) snap() (*snapshot, error) {
	var stamp fileStamp
	st, err := os.Stat(s.path)
	switch {
	case err == nil:
		stamp = fileStamp{st.ModTime(), st.Size()}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("access store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cache; c != nil && c.stamp == stamp && time.Since(c.loaded) < snapshotTTL {
		return c, nil
	}
	c := &snapshot{users: map[string]*User{}, tokens: map[string]*Token{}, sessions: map[string]*Session{}, stamp: stamp, loaded: time.Now()}
	err = s.view(func(tx *bolt.Tx) error {
		users, err := all[User](tx, bucketUsers)
		if err != nil {
			return err
		}
		for i := range users {
			c.users[users[i].Name] = &users[i]
		}
		tokens, err := all[Token](tx, bucketTokens)
		if err != nil {
			return err
		}
		for i := range tokens {
			c.tokens[tokens[i].ID] = &tokens[i]
		}
		if tx == nil || tx.Bucket(bucketSessions) == nil {
			return nil
		}
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var sess Session
			if err := json.Unmarshal(v, &sess); err != nil {
				return nil // an unreadable session is no session
			}
			c.sessions[string(k)] = &sess
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	s.cache = c
	return c, nil
}

func (s *Store) update(fn func(tx *bolt.Tx) error) error {
	defer func() {
		s.mu.Lock()
		s.cache = nil
		s.mu.Unlock()
	}()
	db, err := boltfile.Open(s.path, nil)
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketUsers, bucketTokens, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	return errors.Join(err, db.Close())
}

func get[T any](tx *bolt.Tx, bucket, key []byte) (*T, error) {
	if tx == nil {
		return nil, nil
	}
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, nil
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	var out T
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fmt.Errorf("access store: %s/%s: %w", bucket, key, err)
	}
	return &out, nil
}

func put(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, b)
}

func all[T any](tx *bolt.Tx, bucket []byte) ([]T, error) {
	if tx == nil || tx.Bucket(bucket) == nil {
		return nil, nil
	}
	var out []T
	err := tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		var t T
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("access store: %s/%s: %w", bucket, k, err)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// Empty reports whether the store has no active user and no active token:
// then nobody can sign in (see docs/ACCESS.md, the first admin).
func (s *Store) Empty(now time.Time) (bool, error) {
	users, err := s.Users()
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if !u.Disabled {
			return false, nil
		}
	}
	tokens, err := s.Tokens()
	if err != nil {
		return false, err
	}
	for _, t := range tokens {
		if t.Active(now) {
			return false, nil
		}
	}
	return true, nil
}

// AddUser adds a user with roles and a password (at least
// MinPasswordLength characters).
func (s *Store) AddUser(name string, roles []Role, password string, now time.Time) error {
	if err := validName(name); err != nil {
		return err
	}
	if len(roles) == 0 {
		return invalid("user %s: no role", name)
	}
	if err := checkPasswordPolicy(password); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		if u, err := get[User](tx, bucketUsers, []byte(name)); err != nil {
			return err
		} else if u != nil {
			return fmt.Errorf("user %s: %w", name, ErrExists)
		}
		return put(tx, bucketUsers, []byte(name), User{Name: name, Roles: slices.Clone(roles), Hash: hash, Created: now.UTC()})
	})
}

// SetPassword replaces a user's password and ends the user's sessions.
func (s *Store) SetPassword(name, password string) error {
	if err := checkPasswordPolicy(password); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		u, err := get[User](tx, bucketUsers, []byte(name))
		if err != nil {
			return err
		}
		if u == nil {
			return fmt.Errorf("user %s: %w", name, ErrNotFound)
		}
		u.Hash = hash
		if err := put(tx, bucketUsers, []byte(name), u); err != nil {
			return err
		}
		return endSessionsOf(tx, name)
	})
}

// SetDisabled disables (or enables again) a user; disabling ends the
// user's sessions at once.
func (s *Store) SetDisabled(name string, disabled bool) error {
	return s.update(func(tx *bolt.Tx) error {
		u, err := get[User](tx, bucketUsers, []byte(name))
		if err != nil {
			return err
		}
		if u == nil {
			return fmt.Errorf("user %s: %w", name, ErrNotFound)
		}
		u.Disabled = disabled
		if err := put(tx, bucketUsers, []byte(name), u); err != nil {
			return err
		}
		if disabled {
			return endSessionsOf(tx, name)
		}
		return nil
	})
}

// Users lists the users by name, without their hashes.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = all[User](tx, bucketUsers)
		return err
	})
	for i := range out {
		out[i].Hash = ""
	}
	return out, err
}

// CheckPassword returns the principal of a user whose password matches;
// ErrBadCredentials for an unknown user, a wrong password or a disabled
// user (one message for all three, and the same time taken).
func (s *Store) CheckPassword(name, password string) (*Principal, error) {
	c, err := s.snap()
	if err != nil {
		return nil, err
	}
	u := c.users[name]
	if u == nil {
		checkPassword(dummyHash(), password)
		return nil, ErrBadCredentials
	}
	if !checkPassword(u.Hash, password) || u.Disabled {
		return nil, ErrBadCredentials
	}
	return &Principal{Kind: "user", Name: u.Name, Roles: u.Roles}, nil
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never on Linux ≥ 3.17
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sha(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// CreateToken makes an API token with roles, valid for ttl. It returns the
// secret, shown only now ("adc_<id>_<secret>"), and the stored token.
func (s *Store) CreateToken(name string, roles []Role, ttl time.Duration, createdBy string, now time.Time) (string, Token, error) {
	if err := validName(name); err != nil {
		return "", Token{}, err
	}
	if len(roles) == 0 {
		return "", Token{}, invalid("token %s: no role", name)
	}
	if ttl <= 0 || ttl > 5*366*24*time.Hour {
		return "", Token{}, invalid("token %s: expiry %s: want more than 0 and at most 5 years", name, ttl)
	}
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return "", Token{}, err
	}
	id := hex.EncodeToString(idb)
	secret := randomString(32)
	t := Token{ID: id, Name: name, Roles: slices.Clone(roles), Hash: sha(secret), Created: now.UTC(),
		Expires: now.Add(ttl).UTC(), CreatedBy: createdBy}
	err := s.update(func(tx *bolt.Tx) error { return put(tx, bucketTokens, []byte(id), t) })
	if err != nil {
		return "", Token{}, err
	}
	t.Hash = nil
	return TokenPrefix + id + "_" + secret, t, nil
}

// RevokeToken revokes a token by id; it cannot be used again.
func (s *Store) RevokeToken(id string, now time.Time) error {
	return s.update(func(tx *bolt.Tx) error {
		t, err := get[Token](tx, bucketTokens, []byte(id))
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("token %s: %w", id, ErrNotFound)
		}
		if t.Revoked.IsZero() {
			t.Revoked = now.UTC()
		}
		return put(tx, bucketTokens, []byte(id), t)
	})
}

// Tokens lists the tokens by id, without their hashes.
func (s *Store) Tokens() ([]Token, error) {
	var out []Token
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		out, err = all[Token](tx, bucketTokens)
		return err
	})
	for i := range out {
		out[i].Hash = nil
	}
	return out, err
}

// ParseToken splits "adc_<id>_<secret>"; ok is false for anything else.
func ParseToken(s string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) < 32 || len(secret) > 64 {
		return "", "", false
	}
	return id, secret, true
}

// Authenticate returns the principal of an API token; ErrUnauthenticated
// for a malformed, unknown, expired or revoked token.
func (s *Store) Authenticate(token string, now time.Time) (*Principal, error) {
	id, secret, ok := ParseToken(token)
	if !ok {
		return nil, fmt.Errorf("%w: malformed token", ErrUnauthenticated)
	}
	c, err := s.snap()
	if err != nil {
		return nil, err
	}
	t := c.tokens[id]
	if t == nil || subtle.ConstantTimeCompare(t.Hash, sha(secret)) != 1 {
		return nil, fmt.Errorf("%w: unknown token", ErrUnauthenticated)
	}
	if !t.Revoked.IsZero() {
		return nil, fmt.Errorf("%w: token %s was revoked", ErrUnauthenticated, id)
	}
	if !now.Before(t.Expires) {
		return nil, fmt.Errorf("%w: token %s expired at %s", ErrUnauthenticated, id, t.Expires.Format(time.RFC3339))
	}
	return &Principal{Kind: "token", Name: t.Name, TokenID: t.ID, Roles: t.Roles}, nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
