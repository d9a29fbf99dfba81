package api_test

import (
	"net/http"
	"testing"

	"adcensus/index/patterns"
	"adcensus/web/api"
)

func TestPatterns(t *testing.T) {
	x := MustIndex(t)
	p, err := patterns.Parse("lund.yaml", []byte("name: lund\nversion: 1\nlevel: person\ndescription: adverts in Lund\nsources: [test]\nquery: city:Lund\nmin_ads: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{Patterns: func() ([]*patterns.Pattern, error) { return []*patterns.Pattern{p}, nil }})
	r := MustGet(t, srv, "/api/patterns")
	wantStatus(t, r, "patterns", http.StatusOK)
	if got := decode[[]api.PatternInfo](t, r); len(got) != 1 || got[0].Name != "lund" {
		t.Fatalf("patterns: %s", r.body)
	}
	r = MustGet(t, srv, "/api/patterns/lund")
	wantStatus(t, r, "run", http.StatusOK)
	rep := decode[patterns.Report](t, r)
	if len(rep.Matches) != 1 || rep.Matches[0].Key != "P5" {
		t.Fatalf("lund: %s", r.body)
	}
	wantStatus(t, MustGet(t, srv, "/api/patterns/nosuch"), "nosuch", http.StatusNotFound)
	none := MustServer(t, x, docSource(x), api.Options{})
	wantStatus(t, MustGet(t, none, "/api/patterns"), "none", http.StatusNotImplemented)
}
