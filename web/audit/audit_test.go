package audit_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"adcensus/web/audit"
)

func MustLog(t *testing.T, n int) *audit.Log {
	t.Helper()
	l := audit.Open(t.TempDir())
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := l.Append(audit.Entry{Who: "alice", Action: "search", What: map[string]string{"q": "lund"}, Rows: i}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	return l
}

func TestVerifyIntact(t *testing.T) {
	l := MustLog(t, 20)
	n, head, err := audit.Verify(l.Path())
	if err != nil || n != 20 || len(head) != 64 {
		t.Fatalf("verify: %d %q %v", n, head, err)
	}
}

// An edited line and a deleted line are both found, naming the line.
func TestVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(lines [][]byte) [][]byte
		want   string
	}{
		{"edit", func(l [][]byte) [][]byte {
			l[4] = bytes.Replace(l[4], []byte(`"rows":`), []byte(`"rows":1`), 1)
			return l
		}, ":5: hash does not match"},
		{"delete", func(l [][]byte) [][]byte { return append(l[:6:6], l[7:]...) }, ":7: sequence 8 follows 6"},
		{"reorder", func(l [][]byte) [][]byte { l[2], l[3] = l[3], l[2]; return l }, ":3: sequence 4 follows 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := MustLog(t, 10)
			b, err := os.ReadFile(l.Path())
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
			lines = tc.tamper(lines)
			if err := os.WriteFile(l.Path(), append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err = audit.Verify(l.Path())
			if !errors.Is(err, audit.ErrTampered) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("verify: %v, want ErrTampered with %q", err, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"070-123 45 67 Lund":                   "[redacted] Lund",
		"+46 70 123 45 67":                     "[redacted]",
		"mail anna@example.se now":             "mail [redacted] now",
		`contacts:tel\:00112233445566778899aa`: `contacts:tel\:00112233445566778899aa`,
		"age:>25 posted_at:>2026":              "age:>25 posted_at:>2026",
	} {
		if got := audit.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
