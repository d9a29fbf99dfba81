//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"adcensus/web/audit"
)

// snapshotDir returns every file and folder under dir with a hash of its
// content (folders: "dir").
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		out[rel] = hex.EncodeToString(h.Sum(nil))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readCommands are the read commands a researcher runs on a copy of a data
// directory.
func readCommands(data, adID string) [][]string {
	return [][]string{
		{"search", "--data", data, "sällskap"},
		{"export", "counts", "--data", data, "--by", "arena"},
		{"export", "counts", "--data", data, "--by", "arena", "--format", "json"},
		{"export", "overlap", "--data", data},
		{"export", "facts", "--data", data},
		{"runs", "--data", data},
		{"explain", "--data", data, adID},
		{"patterns", "run", "touring", "--data", data},
	}
}

// TestReadCommandsChangeNothing: the read commands open the data directory
// read-only: not one byte of it changes and no file is added (before, every
// read command opened bbolt read-write, which commits on open).
func TestReadCommandsChangeNothing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	runMain(t, "demo", "--data", data, "--quiet")
	adID := anyAdID(t, data)
	before := snapshotDir(t, data)
	audited, _, err := audit.Verify(filepath.Join(data, audit.FileName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	reads := readCommands(data, adID)
	for _, args := range reads {
		runMain(t, args...)
	}
	after := snapshotDir(t, data)
	// The audit log is the one file a read appends to (issue 13: every
	// search, view and export is audited); it is checked below.
	delete(before, audit.FileName)
	delete(after, audit.FileName)
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed by a read command", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s created by a read command", p)
		}
	}
	n, _, err := audit.Verify(filepath.Join(data, audit.FileName))
	if err != nil {
		t.Fatalf("audit log after the reads: %v", err)
	}
	// runs only lists runs and is not audited; every other read is.
	if want := audited + len(reads) - 1; n < want {
		t.Errorf("audit log has %d entries after %d reads, want at least %d", n, len(reads), want)
	}
}

func anyAdID(t *testing.T, data string) string {
	t.Helper()
	person, _ := clusterAssignments(t, data)
	for id := range person {
		return id
	}
	t.Fatal("no advert in the cluster state")
	return ""
}

// TestReadOnlyDataDirAsOtherUser gives a user without write permission a
// copy of a data directory: the read commands work, and 'run' fails at
// once naming the cause instead of after 30 s in the embedded NATS server.
// Needs root (to run the child as nobody), else skipped.
func TestReadOnlyDataDirAsOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	root := t.TempDir()
	data := filepath.Join(root, "data")
	runMain(t, "demo", "--data", data, "--quiet")
	adID := anyAdID(t, data)
	writeArenaConfigs(t, root, map[string]string{"blomstra": refusedURL(t)})
	// The test binary, readable and executable by nobody.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "adcensus.test")
	src, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	// Everything readable, nothing writable by nobody; the chain of
	// folders down to root searchable.
	for dir := root; dir != "/"; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, st.Mode().Perm()|0o005); err != nil {
			t.Fatal(err)
		}
	}
	err = filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(root, "adcensus.yaml"), 0o644)
	os.Chmod(filepath.Join(root, "blomstra.yaml"), 0o644)
	asNobody := func(args ...string) (string, error) {
		enc, _ := json.Marshal(args)
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "ADCENSUS_TEST_ARGS="+string(enc), "HOME="+root)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, args := range readCommands(data, adID) {
		if out, err := asNobody(args...); err != nil {
			t.Errorf("adcensus %s as nobody on a read-only copy: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	start := time.Now()
	out, err := asNobody("run", "--config", filepath.Join(root, "adcensus.yaml"), "--data", data, "--quiet")
	if err == nil {
		t.Fatalf("run on a read-only data directory succeeded:\n%s", out)
	}
	if !strings.Contains(out, "not writable") || !strings.Contains(out, "permission denied") {
		t.Errorf("run's error does not name the cause:\n%s", out)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("run took %s to fail, want at once", d)
	}
}
