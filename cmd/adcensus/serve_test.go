package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/ad"
	indexbleve "adcensus/index/bleve"
	"adcensus/index/overlap"
)

// syncBuffer is a bytes.Buffer safe for a writer and a polling reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// checkFor polls f until it returns true or d has passed.
func checkFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MustServeData writes a small index into a new data directory: persons
// P1 {annonsia}, P2 {annonsia, blomstra}, P3 {blomstra}. Synthetic, bland.
func MustServeData(t *testing.T) string {
	t.Helper()
	dataDir := t.TempDir()
	x, err := indexbleve.Open(filepath.Join(dataDir, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	posted := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for _, r := range [][3]string{{"a1", "annonsia", "P1"}, {"a2", "annonsia", "P2"}, {"b1", "blomstra", "P2"}, {"b2", "blomstra", "P3"}} {
		fps = append(fps, &ad.Fingerprinted{Ad: ad.Ad{ID: r[0], Arena: r[1], Title: "Sällskap i Lund", City: "Lund",
			Phones: []string{"0701234567"}, PostedAt: posted, FetchedAt: posted}})
		asg = append(asg, ad.Assignment{AdID: r[0], PersonID: r[2], NetworkID: "N" + r[2]})
	}
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	return dataDir
}

// MustAccessToken creates a token with roles in dataDir through the CLI.
func MustAccessToken(t *testing.T, dataDir, roles string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Main(context.Background(), []string{"token", "create", "--data", dataDir, "--name", "test", "--role", roles, "--expires", "1d"}, &out, &errOut); err != nil {
		t.Fatalf("token create: %v; %s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

func TestServe(t *testing.T) {
	dataDir := MustServeData(t)
	token := MustAccessToken(t, dataDir, "analyst,researcher")
	base, stop := startServe(t, dataDir, "--min-cell-floor", "0")
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "0701234567") {
			t.Fatalf("%s: raw phone in response", path)
		}
		return res.StatusCode, string(b)
	}

	code, body := get("/api/search?by_person=true")
	if code != http.StatusOK || !strings.Contains(body, `"total":3`) {
		t.Fatalf("search: %d %s", code, body)
	}
	code, body = get("/api/export/counts?by=arena&format=csv&min_cell=0")
	if want := "arena,ads,persons\nannonsia,2,2\nblomstra,2,2\n*,4,3\n"; code != http.StatusOK || body != want {
		t.Fatalf("export: %d %q, want %q", code, body, want)
	}
	code, body = get("/api/export/counts?format=json&min_cell=0")
	if code != http.StatusOK || !strings.Contains(body, `"adcensus_version": "`+Version) {
		t.Fatalf("export provenance: %d %s", code, body)
	}
	code, body = get("/api/persons/P2")
	if code != http.StatusOK || !strings.Contains(body, `"ads":2`) {
		t.Fatalf("person: %d %s", code, body)
	}
	if code, body = get("/api/persons/P9"); code != http.StatusNotFound {
		t.Fatalf("unknown person: %d %s", code, body)
	}
	code, body = get("/api/overlap?min_cell=0")
	if _, ok := any((*indexbleve.Index)(nil)).(overlap.DocSource); ok {
		if code != http.StatusOK || !strings.Contains(body, `"spread"`) {
			t.Fatalf("overlap: %d %s", code, body)
		}
	} else if code != http.StatusNotImplemented {
		t.Fatalf("overlap without ForEachDoc: %d %s", code, body)
	}

	// Without the token: 401; the reads were audited and the chain holds.
	res, err := http.Get(base + "/api/search")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	var out, errOut bytes.Buffer
	if err := Main(context.Background(), []string{"audit", "--data", dataDir, "--verify"}, &out, &errOut); err != nil || !strings.Contains(out.String(), "chain intact") {
		t.Fatalf("audit --verify: %v %s", err, out.String())
	}
	out.Reset()
	if err := Main(context.Background(), []string{"audit", "--data", dataDir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"token create", "search", "exportCounts", "person", "overlap"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("audit has no %s:\n%s", want, out.String())
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	// The index was closed: it opens again at once.
	x, err := indexbleve.Open(filepath.Join(dataDir, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
}

// serve refuses to start when nobody could sign in, and refuses plain
// HTTP beyond loopback unless told so.
func TestServeRefuses(t *testing.T) {
	dataDir := MustServeData(t)
	var out bytes.Buffer
	err := cmdServe(context.Background(), []string{"--data", dataDir, "--addr", "127.0.0.1:0"}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "adcensus user add NAME --role admin") {
		t.Fatalf("no users: %v", err)
	}
	MustAccessToken(t, dataDir, "analyst")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--addr", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--addr", "0.0.0.0:0", "--insecure-listen"}, "--host"},
		{[]string{"--addr", "127.0.0.1:0", "--tls-cert", "c.pem"}, "go together"},
	} {
		err := cmdServe(context.Background(), append([]string{"--data", dataDir}, tc.args...), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestServeBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := cmdServe(context.Background(), []string{"--data", t.TempDir(), "--min-cell-floor", "-1"}, &out, &out); err == nil {
		t.Fatal("negative floor accepted")
	}
	if err := cmdServe(context.Background(), []string{"--data", filepath.Join(t.TempDir(), "none")}, &out, &out); err == nil || !strings.Contains(err.Error(), "no index") {
		t.Fatalf("missing index: %v", err)
	}
}

func TestExportOverlap(t *testing.T) {
	dataDir := MustServeData(t)
	var out, errOut bytes.Buffer
	if err := cmdExportOverlap(context.Background(), []string{"--data", dataDir, "--format", "json", "--min-cell", "0", "--replicates", "-1"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var rep overlap.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Persons.Persons == nil || *rep.Persons.Persons != 3 || len(rep.Pairs) != 1 || *rep.Pairs[0].Persons != 1 {
		t.Fatalf("report: %s", out.String())
	}
	out.Reset()
	if err := cmdExportOverlap(context.Background(), []string{"--data", dataDir, "--min-cell", "2", "--replicates", "-1"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "annonsia + blomstra  suppressed") {
		t.Fatalf("text:\n%s", out.String())
	}
	if err := cmdExportOverlap(context.Background(), []string{"--data", dataDir, "--format", "xml"}, &out, &errOut); err == nil {
		t.Fatal("--format xml accepted")
	}
}
