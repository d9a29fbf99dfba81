package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"adcensus/web/api"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

// allowed is who may call each operation: written here by hand, so that
// a route whose roles change in the table fails this test until the
// change is meant. "*" is any signed-in principal, "public" anyone.
var allowed = map[string][]string{
	"search":       {"analyst"},
	"person":       {"analyst"},
	"network":      {"analyst"},
	"advert":       {"analyst"},
	"explain":      {"analyst"},
	"listPatterns": {"analyst"},
	"runPattern":   {"analyst"},
	"exportCounts": {"analyst", "researcher"},
	"exportFacts":  {"analyst", "researcher"},
	"overlap":      {"analyst", "researcher"},
	"exportTrend":  {"analyst", "researcher"},
	"changes":      {"analyst", "operator", "researcher"},
	"runs":         {"admin", "operator"},
	"schedules":    {"admin", "operator"},
	"runErrors":    {"admin", "operator"},
	"listCrawls":   {"admin", "operator"},
	"startCrawl":   {"operator"},
	"stopCrawl":    {"operator"},
	"crawlEvents":  {"admin", "operator"},
	"listUsers":    {"admin"},
	"addUser":      {"admin"},
	"disableUser":  {"admin"},
	"enableUser":   {"admin"},
	"listTokens":   {"admin"},
	"createToken":  {"admin"},
	"revokeToken":  {"admin"},
	"audit":        {"admin"},
	"session":      {"*"},
	"signOut":      {"*"},
	"signIn":       {"public"},
	"openapi":      {"public"},
}

// Every operation of the served OpenAPI document, called with a token of
// each role and with none, answers 401 without credentials, 403 to the
// roles not allowed, and something else to those allowed; its x-roles
// say the same.
func TestRoleMatrix(t *testing.T) {
	x := MustIndex(t)
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, r := range auth.Roles() {
		tokens[string(r)] = MustToken(t, st, r)
	}
	srv := MustServer(t, x, docSource(x), api.Options{Auth: st, Audit: audit.Open(t.TempDir())})
	r := MustGet(t, srv, "/api/openapi.json")
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Access      string   `json:"x-access"`
			Roles       []string `json:"x-roles"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			seen[op.OperationID] = true
			want, ok := allowed[op.OperationID]
			if !ok {
				t.Errorf("%s %s (%s): not in this test's table", method, path, op.OperationID)
				continue
			}
			switch {
			case slices.Equal(want, []string{"public"}):
				if op.Access != "public" {
					t.Errorf("%s: x-access %q, want public", op.OperationID, op.Access)
				}
			case slices.Equal(want, []string{"*"}):
				if op.Access != "signed-in" {
					t.Errorf("%s: x-access %q, want signed-in", op.OperationID, op.Access)
				}
			default:
				got := slices.Sorted(slices.Values(op.Roles))
				if !slices.Equal(got, want) {
					t.Errorf("%s: x-roles %v, want %v", op.OperationID, got, want)
				}
			}
			p := strings.NewReplacer("{id}", "P2", "{name}", "nobody").Replace(path)
			for _, role := range append([]string{""}, "admin", "operator", "analyst", "researcher") {
				code := call(t, srv, strings.ToUpper(method), p, tokens[role])
				mayCall := slices.Contains(want, "public") || role != "" && (slices.Contains(want, "*") || slices.Contains(want, role))
				switch {
				case mayCall && (code == http.StatusUnauthorized || code == http.StatusForbidden):
					if op.OperationID == "signIn" && code == http.StatusUnauthorized {
						continue // a wrong password, not a refused role
					}
					t.Errorf("%s %s as %q: %d, want allowed", method, p, role, code)
				case !mayCall && role == "" && code != http.StatusUnauthorized:
					t.Errorf("%s %s without credentials: %d, want 401", method, p, code)
				case !mayCall && role != "" && code != http.StatusForbidden:
					t.Errorf("%s %s as %s: %d, want 403", method, p, role, code)
				}
			}
		}
	}
	for op := range allowed {
		if !seen[op] {
			t.Errorf("%s: in this test's table but not in the OpenAPI document", op)
		}
	}
}

// call makes one request with token (none when empty) and returns its
// status; a POST sends an empty JSON object.
func call(t *testing.T, srv *httptest.Server, method, path, token string) int {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = bytes.NewReader([]byte("{}"))
	}
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token == "" {
		req.Header.Set("X-No-Auth", "1")
	} else {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
