package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"adcensus/web/api"
)

// FuzzSearchQuery: the API's query parsing (q, from, size, facets,
// by_person) never panics and always answers JSON.
//
// from is kept below 1e6 here: a from near MaxInt64 overflowed the page
// window and panicked (issue 13); that fix and its test are on the access
// branch. Once merged, drop the bound. Likewise a 5xx is still allowed for
// queries bleve refuses only at search time ("/[/"); tighten to < 500
// after that merge.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{"lund", "", "/[/", "%zz", "(a OR b)", "city:(", "+title:sällskap -body:massage", `"sällskap i lund"~2`, "posted_at:>=\"2026-02-01\"", "a~2 b~2 c~2", "*"} {
		f.Add(q, 0, 10, "arena,city", false)
	}
	f.Add("lund", 20, 1000, "", true)
	f.Add("lund", -1, 0, "nosuch", false)
	x := MustIndex(f)
	h := api.New(x, docSource(x), api.Options{})
	f.Fuzz(func(t *testing.T, q string, from, size int, facets string, byPerson bool) {
		from %= 1_000_000
		v := url.Values{"q": {q}, "from": {strconv.Itoa(from)}, "size": {strconv.Itoa(size)}, "facets": {facets}, "by_person": {strconv.FormatBool(byPerson)}}
		req := httptest.NewRequest(http.MethodGet, "/api/search?"+v.Encode(), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
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
