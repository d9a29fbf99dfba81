package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"adcensus/web/api"
)

// Numbers that overflow or page past the result window, malformed query
// strings and queries are 400 with a message; nothing panics.
func TestHostileParameters(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	for _, tc := range []struct{ path, want string }{
		{"/api/search?q=&from=9223372036854775807&size=10", "from="},
		{"/api/search?from=9223372036854775807", "from="},
		{"/api/search?from=99999999999999999999999", "from="},
		{"/api/search?size=9223372036854775807", "size="},
		{"/api/search?size=1001", "size="},
		{"/api/search?facets=arena&facet_size=9223372036854775807", "facet_size="},
		{"/api/search?by_person=true&from=9223372036854775000", "from="},
		{"/api/persons/P2?from=9223372036854775807", "from="},
		{"/api/persons/P2?size=9223372036854775807", "size="},
		{"/api/networks/N1?from=9223372036854775807", "from="},
		{"/api/persons/ad:x?from=9223372036854775807", "from="},
		{"/api/search?q=" + url.QueryEscape("/[/"), "missing closing ]"},
		{"/api/search?q=%zz", "malformed query string"},
		{"/api/search?q=" + url.QueryEscape("city:("), "cannot apply to a group"},
		{"/api/search?q=" + url.QueryEscape(strings.Repeat("tjej~2 ", 3000)), "at most"},
		{"/api/export/counts?min_cell=99999999999999999999", "min_cell="},
	} {
		r := MustGet(t, srv, tc.path)
		wantStatus(t, r, tc.path, http.StatusBadRequest)
		if !strings.Contains(string(r.body), tc.want) {
			t.Errorf("GET %.60s: %s, want it to mention %q", tc.path, r.body, tc.want)
		}
	}
	// OR and parentheses work.
	r := MustGet(t, srv, "/api/search?q="+url.QueryEscape("(arena:b OR city:Umeå)"))
	wantStatus(t, r, "or", http.StatusOK)
	if got := decode[api.SearchResponse](t, r); got.Total != 4 {
		t.Errorf("(arena:b OR city:Umeå): %d hits, want 4", got.Total)
	}
}

// Too large a request line or headers is 431 in JSON, like every error.
func TestHeaderTooLargeIsJSON(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{MaxHeaderBytes: 4 << 10})
	path := "/api/search?q=" + strings.Repeat("a", 8<<10)
	r := MustGet(t, srv, path)
	wantStatus(t, r, "/api/search?q=aaa…", http.StatusRequestHeaderFieldsTooLarge)
}
