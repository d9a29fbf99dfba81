package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Main(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

// The access commands as an admin uses them: users with a password from
// stdin, tokens with a default name, and every change in the audit log.
func TestUserAndTokenCommands(t *testing.T) {
	dataDir := t.TempDir()
	old := stdinReader
	defer func() { stdinReader = old }()
	stdinReader = strings.NewReader("a long enough password\n")
	if out, err := run(t, "user", "add", "alice", "--role", "admin", "--data", dataDir); err != nil {
		t.Fatalf("user add: %v %s", err, out)
	}
	stdinReader = strings.NewReader("short\n")
	if out, err := run(t, "user", "add", "bob", "--role", "analyst", "--data", dataDir); err == nil || !strings.Contains(out+err.Error(), "at least 12") {
		t.Fatalf("short password: %v %s", err, out)
	}
	if _, err := run(t, "user", "add", "bob", "--role", "root", "--data", dataDir); err == nil || exitCode(err) != 2 {
		t.Fatalf("unknown role: %v", err)
	}
	if out, err := run(t, "user", "disable", "alice", "--data", dataDir); err != nil || !strings.Contains(out, "disabled") {
		t.Fatalf("disable: %v %s", err, out)
	}
	if out, _ := run(t, "user", "list", "--data", dataDir); !strings.Contains(out, "alice  admin  disabled") {
		t.Fatalf("list:\n%s", out)
	}
	out, err := run(t, "token", "create", "--role", "researcher", "--data", dataDir)
	if err != nil || !strings.Contains(out, "adc_") {
		t.Fatalf("token create: %v %s", err, out)
	}
	if out, _ := run(t, "token", "list", "--data", dataDir); !strings.Contains(out, "researcher-") || !strings.Contains(out, "active") {
		t.Fatalf("token list:\n%s", out)
	}
	if out, err := run(t, "user", "--help"); err != nil || !strings.Contains(out, "argon2id") {
		t.Fatalf("user --help: %v %s", err, out)
	}
	if out, _ := run(t, "audit", "--data", dataDir); !strings.Contains(out, "user add") || !strings.Contains(out, "user disable") || !strings.Contains(out, "token create") {
		t.Fatalf("audit:\n%s", out)
	}
	if out, err := run(t, "audit", "--verify", "--data", dataDir); err != nil || !strings.Contains(out, "3 entries, chain intact") {
		t.Fatalf("verify: %v %s", err, out)
	}
}

// audit --verify fails naming the line when a line is edited or deleted.
func TestAuditVerifyCommand(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines []string) []string
		want   string
	}{
		{"edit", func(l []string) []string { l[1] = strings.Replace(l[1], "bob", "eve", 1); return l }, "audit.log:2: hash does not match"},
		{"delete", func(l []string) []string { return append(l[:1:1], l[2:]...) }, "audit.log:2: sequence 3 follows 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			for _, n := range []string{"ann", "bob", "cid", "dan"} {
				if _, err := run(t, "token", "create", "--name", n, "--role", "analyst", "--data", dataDir); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dataDir, "audit.log")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := tc.tamper(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"))
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = run(t, "audit", "--verify", "--data", dataDir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 1 {
				t.Fatalf("verify: %v, want exit 1 with %q", err, tc.want)
			}
		})
	}
}

// A bad query is an error on the command line too, not 0 hits.
func TestSearchBadQuery(t *testing.T) {
	dataDir := MustServeData(t)
	for q, want := range map[string]string{"city:(": "cannot apply to a group", "/[/": "missing closing ]"} {
		if _, err := run(t, "search", "--data", dataDir, q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("search %q: %v, want %q", q, err, want)
		}
	}
}

// The access section of the main config reaches serve: session times are
// checked, and the OIDC issuer is contacted at start-up.
func TestServeAccessConfig(t *testing.T) {
	dataDir := MustServeData(t)
	MustAccessToken(t, dataDir, "analyst")
	dir := t.TempDir()
	arena, err := os.ReadFile("../../configs/arenas/blomstra.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), arena, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ access, want string }{
		{"access:\n  session_ttl: soon\n", "access.session_ttl"},
		{"access:\n  oidc:\n    issuer: http://127.0.0.1:1\n    client_id: x\n    redirect_url: http://127.0.0.1/api/oidc/callback\n    role_claim: groups\n    roles: {g: [analyst]}\n", "access.oidc"},
		{"access:\n  oidc:\n    issuer: http://127.0.0.1:1\n    roles: {g: [root]}\n", "access.oidc.roles.g"},
		{"access:\n  colour: red\n", "colour"},
	} {
		cfg := filepath.Join(dir, "adcensus.yaml")
		if err := os.WriteFile(cfg, []byte("arenas: [a.yaml]\n"+tc.access), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := run(t, "serve", "--data", dataDir, "--addr", "127.0.0.1:0", "--config", cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.access, err, tc.want)
		}
	}
}
