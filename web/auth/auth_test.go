package auth_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"adcensus/web/auth"
)

func MustStore(t *testing.T) *auth.Store {
	t.Helper()
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestTokens(t *testing.T) {
	st := MustStore(t)
	now := time.Now()
	if empty, err := st.Empty(now); err != nil || !empty {
		t.Fatalf("new store: empty=%v %v", empty, err)
	}
	secret, tok, err := st.CreateToken("nightly", []auth.Role{auth.Researcher}, 24*time.Hour, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(st.Path())
	if err != nil {
		t.Fatal(err)
	}
	_, raw, _ := auth.ParseToken(secret)
	if strings.Contains(string(b), raw) {
		t.Fatal("the token's secret is stored")
	}
	p, err := st.Authenticate(secret, now)
	if err != nil || !p.Has(auth.Researcher) || p.Has(auth.Analyst) || p.TokenID != tok.ID {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	for name, tc := range map[string]struct {
		secret string
		at     time.Time
	}{
		"expired":   {secret, now.Add(25 * time.Hour)},
		"forged":    {secret[:len(secret)-2] + "xx", now},
		"malformed": {"adc_nope", now},
	} {
		if _, err := st.Authenticate(tc.secret, tc.at); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: %v, want ErrUnauthenticated", name, err)
		}
	}
	if err := st.RevokeToken(tok.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(secret, now); !errors.Is(err, auth.ErrUnauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked: %v", err)
	}
	if _, _, err := st.CreateToken("x", []auth.Role{auth.Analyst}, 0, "", now); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("zero ttl: %v", err)
	}
}

func TestUsers(t *testing.T) {
	st := MustStore(t)
	now := time.Now()
	if err := st.AddUser("alice", []auth.Role{auth.Analyst}, "short", now); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if err := st.AddUser("alice", []auth.Role{auth.Analyst}, "a long enough password", now); err != nil {
		t.Fatal(err)
	}
	if err := st.AddUser("alice", []auth.Role{auth.Analyst}, "a long enough password", now); !errors.Is(err, auth.ErrExists) {
		t.Fatalf("again: %v", err)
	}
	b, _ := os.ReadFile(st.Path())
	if strings.Contains(string(b), "a long enough password") || !strings.Contains(string(b), "$argon2id$") {
		t.Fatal("password not stored as an argon2id hash")
	}
	if _, err := st.CheckPassword("alice", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"wrong", ""} {
		if _, err := st.CheckPassword("alice", pw); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := st.CheckPassword("nobody", "a long enough password"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	p, _ := st.CheckPassword("alice", "a long enough password")
	id, _, err := st.NewSession(p, "password", auth.SessionOptions{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(id, auth.SessionOptions{}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDisabled("alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Session(id, auth.SessionOptions{}, now.Add(2*time.Minute)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, err := st.CheckPassword("alice", "a long enough password"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("disabled user signs in: %v", err)
	}
}

func TestParse(t *testing.T) {
	if r, err := auth.ParseRoles("researcher, analyst,analyst"); err != nil || len(r) != 2 {
		t.Fatalf("roles: %v %v", r, err)
	}
	for _, bad := range []string{"", "root", "analyst,god"} {
		if _, err := auth.ParseRoles(bad); !errors.Is(err, auth.ErrInvalid) {
			t.Errorf("roles %q: %v", bad, err)
		}
	}
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if d, err := auth.ParseTTL(in); err != nil || d != want {
			t.Errorf("ttl %s: %v %v", in, d, err)
		}
	}
	for _, bad := range []string{"", "0d", "-1d", "soon", "99999999d"} {
		if _, err := auth.ParseTTL(bad); err == nil {
			t.Errorf("ttl %q accepted", bad)
		}
	}
}

// A token revoked by another process (the CLI, while serve runs) is
// refused within a second, though the serving store keeps a snapshot.
func TestRevocationReachesARunningServer(t *testing.T) {
	dir := t.TempDir()
	serving, _ := auth.Open(dir)
	cli, _ := auth.Open(dir)
	now := time.Now()
	secret, tok, err := cli.CreateToken("t", []auth.Role{auth.Analyst}, time.Hour, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serving.Authenticate(secret, now); err != nil {
		t.Fatal(err)
	}
	if err := cli.RevokeToken(tok.ID, now); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, err := serving.Authenticate(secret, now); errors.Is(err, auth.ErrUnauthenticated) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("revoked token still accepted after 2 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
