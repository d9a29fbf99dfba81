package api_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"adcensus/web/api"
	"adcensus/web/auth"
)

// FuzzSearchQuery: the API's query parsing (q, from, size, facets,
// by_person) never panics and always answers JSON.
//
// Any from, however large (a from near MaxInt64 once overflowed the page
// window and panicked), and any query: never a 5xx.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{"lund", "", "/[/", "%zz", "(a OR b)", "city:(", "+title:sällskap -body:massage", `"sällskap i lund"~2`, "posted_at:>=\"2026-02-01\"", "a~2 b~2 c~2", "*"} {
		f.Add(q, 0, 10, "arena,city", false)
	}
	f.Add("lund", 20, 1000, "", true)
	f.Add("lund", -1, 0, "nosuch", false)
	f.Add("lund", math.MaxInt64, 10, "", false)
	x := MustIndex(f)
	st, err := auth.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	token := MustToken(f, st, auth.Analyst)
	h, err := api.New(x, docSource(x), api.Options{Auth: st, RateLimit: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string, from, size int, facets string, byPerson bool) {
		v := url.Values{"q": {q}, "from": {strconv.Itoa(from)}, "size": {strconv.Itoa(size)}, "facets": {facets}, "by_person": {strconv.FormatBool(byPerson)}}
		req := httptest.NewRequest(http.MethodGet, "/api/search?"+v.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable { // 503: the query timed out, by design
			t.Fatalf("status %d for q=%q from=%d size=%d: %.200s", rec.Code, q, from, size, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d, body not JSON: %.200q", rec.Code, rec.Body.String())
		}
		if rec.Code == http.StatusOK {
			var body struct {
				Total uint64            `json:"total"`
				Hits  []json.RawMessage `json:"hits"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if uint64(len(body.Hits)) > body.Total {
				t.Fatalf("%d hits of a total of %d", len(body.Hits), body.Total)
			}
		}
	})
}
