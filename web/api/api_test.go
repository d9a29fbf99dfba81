package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/bleve"
	"adcensus/index/overlap"
	"adcensus/web/api"
	"adcensus/web/auth"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(12 * time.Hour)
}

// rawPhone is in the adverts' raw phone field; it must never come out.
const rawPhone = "0701234567"

// fixture: persons P1 {a}, P2 {a,b}, P3 {b,c}, P4 {a}, P5 {a,b,c} and the
// unassigned advert x on c; networks N1 = P2+P3, N2 = P5. Synthetic, bland.
func fixture() ([]*ad.Fingerprinted, []ad.Assignment) {
	type row struct{ id, arena, city, person, network string }
	rows := []row{
		{"a1", "a", "Göteborg", "P1", "N0"},
		{"a2", "a", "Göteborg", "P2", "N1"},
		{"a3", "a", "Malmö", "P2", "N1"},
		{"b1", "b", "Malmö", "P2", "N1"},
		{"c1", "c", "Umeå", "P3", "N1"},
		{"b2", "b", "Umeå", "P3", "N1"},
		{"a4", "a", "Lund", "P4", "N4"},
		{"c2", "c", "Lund", "P5", "N2"},
		{"b3", "b", "Lund", "P5", "N2"},
		{"a5", "a", "Lund", "P5", "N2"},
		{"x", "c", "Kiruna", "", ""},
	}
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for _, r := range rows {
		fps = append(fps, &ad.Fingerprinted{Ad: ad.Ad{
			ID: r.id, Arena: r.arena, City: r.city, Title: "Sällskap i " + r.city,
			Body: "Hej, jag finns här för trevligt sällskap.", Phones: []string{rawPhone},
			PostedAt: day("2026-03-02"), FetchedAt: day("2026-03-02"),
		}})
		if r.person != "" {
			asg = append(asg, ad.Assignment{AdID: r.id, PersonID: r.person, NetworkID: r.network})
		}
	}
	return fps, asg
}

func MustIndex(tb testing.TB) *bleve.Index {
	tb.Helper()
	x, err := bleve.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	fps, asg := fixture()
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		tb.Fatal(err)
	}
	return x
}

// searchDocs lists an index's documents by paging a match-all search. It
// is for this small test index only; when the bleve index has ForEachDoc
// that is used instead.
type searchDocs struct{ store index.Store }

func (s searchDocs) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	for from := 0; ; from += index.MaxSize {
		res, err := s.store.Search(ctx, index.Query{Size: index.MaxSize, From: from})
		if err != nil {
			return err
		}
		for _, h := range res.Hits {
			d, ok, err := s.store.Doc(ctx, h.ID)
			if err != nil {
				return err
			}
			if ok {
				if err := fn(d); err != nil {
					return err
				}
			}
		}
		if len(res.Hits) < index.MaxSize {
			return nil
		}
	}
}

func docSource(store index.Store) overlap.DocSource {
	if src, ok := store.(overlap.DocSource); ok {
		return src
	}
	return searchDocs{store}
}

func MustServer(tb testing.TB, store index.Store, src overlap.DocSource, opt api.Options) *httptest.Server {
	tb.Helper()
	if opt.Provenance == nil {
		opt.Provenance = func(context.Context) map[string]any { return map[string]any{"software": "adcensus test"} }
	}
	opt.MSE.Replicates = -1
	token := ""
	if opt.Auth == nil {
		dir := tb.TempDir()
		st, err := auth.Open(dir)
		if err != nil {
			tb.Fatal(err)
		}
		opt.Auth = st
		token = MustToken(tb, st, auth.Analyst, auth.Researcher)
	}
	if opt.RateLimit == 0 {
		opt.RateLimit = -1
	}
	h, err := api.New(store, src, opt)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	if token != "" {
		srv.Client().Transport = bearer{srv.Client().Transport, token}
	}
	return srv
}

// MustToken creates a token with roles in st.
func MustToken(tb testing.TB, st *auth.Store, roles ...auth.Role) string {
	tb.Helper()
	tok, _, err := st.CreateToken("test", roles, time.Hour, "test", time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// bearer adds a token to requests that carry no Authorization header.
type bearer struct {
	base  http.RoundTripper
	token string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && r.Header.Get("X-No-Auth") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.base.RoundTrip(r)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func MustGet(tb testing.TB, srv *httptest.Server, path string) response {
	tb.Helper()
	return MustDo(tb, srv, http.MethodGet, path)
}

func MustDo(tb testing.TB, srv *httptest.Server, method, path string) response {
	tb.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if bytes.Contains(body, []byte(rawPhone)) {
		tb.Fatalf("%s: raw phone in response: %s", path, body)
	}
	return response{res.StatusCode, res.Header, body}
}

func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func wantStatus(tb testing.TB, r response, path string, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("GET %s: status %d, want %d; body %s", path, r.status, want, r.body)
	}
	if ct := r.header.Get("Content-Type"); want != http.StatusOK && !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("GET %s: error content type %q, want JSON", path, ct)
	}
	if want != http.StatusOK {
		e := decode[map[string]string](tb, r)
		if e["error"] == "" {
			tb.Fatalf("GET %s: no error message in %s", path, r.body)
		}
	}
}

func TestSearch(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	for _, tc := range []struct {
		name, path string
		unit       string
		total      uint64
		hits       int
	}{
		{"all", "/api/search", "adverts", 11, 10},
		{"query", "/api/search?q=" + url.QueryEscape("arena:b"), "adverts", 3, 3},
		{"paging", "/api/search?size=4&from=8", "adverts", 11, 3},
		{"by person", "/api/search?by_person=true&size=100", "persons", 6, 6},
		{"text", "/api/search?q=" + url.QueryEscape("+umeå"), "adverts", 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := MustGet(t, srv, tc.path)
			wantStatus(t, r, tc.path, http.StatusOK)
			got := decode[api.SearchResponse](t, r)
			if got.Unit != tc.unit || got.Total != tc.total || len(got.Hits) != tc.hits {
				t.Fatalf("unit=%s total=%d hits=%d, want %s %d %d", got.Unit, got.Total, len(got.Hits), tc.unit, tc.total, tc.hits)
			}
		})
	}
	t.Run("facets", func(t *testing.T) {
		r := MustGet(t, srv, "/api/search?facets=arena,city&size=1")
		wantStatus(t, r, "facets", http.StatusOK)
		got := decode[api.SearchResponse](t, r)
		want := []index.FacetCount{{Term: "a", Count: 5}, {Term: "b", Count: 3}, {Term: "c", Count: 3}}
		arenas := got.Facets["arena"]
		slices.SortFunc(arenas, func(a, b index.FacetCount) int { return strings.Compare(a.Term, b.Term) })
		if !slices.Equal(arenas, want) {
			t.Fatalf("arena facet=%v, want %v", arenas, want)
		}
		if len(got.Facets["city"]) != 5 {
			t.Fatalf("city facet=%v", got.Facets["city"])
		}
	})
	for _, path := range []string{
		"/api/search?facets=colour",
		"/api/search?size=ten",
		"/api/search?size=0",
		"/api/search?from=-1",
		"/api/search?by_person=maybe",
		"/api/search?q=" + url.QueryEscape(`title:"unclosed`),
	} {
		t.Run("bad "+path, func(t *testing.T) {
			wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
		})
	}
}

func TestPerson(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	r := MustGet(t, srv, "/api/persons/P2")
	wantStatus(t, r, "P2", http.StatusOK)
	got := decode[api.PersonResponse](t, r)
	if got.PersonID != "P2" || got.Ads != 3 || len(got.Adverts) != 3 {
		t.Fatalf("person=%+v", got)
	}
	if want := []index.FacetCount{{Term: "a", Count: 2}, {Term: "b", Count: 1}}; !slices.Equal(got.Arenas, want) {
		t.Fatalf("arenas=%v, want %v", got.Arenas, want)
	}
	if want := []index.FacetCount{{Term: "N1", Count: 3}}; !slices.Equal(got.Networks, want) {
		t.Fatalf("networks=%v, want %v", got.Networks, want)
	}
	for _, h := range got.Adverts {
		if h.PersonID != "P2" {
			t.Fatalf("advert %s of person %s", h.ID, h.PersonID)
		}
	}

	r = MustGet(t, srv, "/api/persons/P5?size=1&from=1")
	wantStatus(t, r, "P5 page", http.StatusOK)
	if got := decode[api.PersonResponse](t, r); got.Ads != 3 || len(got.Adverts) != 1 || len(got.Arenas) != 3 {
		t.Fatalf("paged person=%+v", got)
	}

	r = MustGet(t, srv, "/api/persons/ad:x")
	wantStatus(t, r, "ad:x", http.StatusOK)
	if got := decode[api.PersonResponse](t, r); got.Ads != 1 || got.Adverts[0].ID != "x" || got.Arenas[0].Term != "c" {
		t.Fatalf("unassigned person=%+v", got)
	}

	for path, want := range map[string]int{
		"/api/persons/P9":                          http.StatusNotFound,
		"/api/persons/ad:a1":                       http.StatusNotFound, // assigned: its person is P1
		"/api/persons/ad:nope":                     http.StatusNotFound,
		"/api/persons/" + url.PathEscape(`P1" OR`): http.StatusBadRequest,
		"/api/persons/P1?size=-3":                  http.StatusBadRequest,
	} {
		wantStatus(t, MustGet(t, srv, path), path, want)
	}
}

func TestNetwork(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	r := MustGet(t, srv, "/api/networks/N1")
	wantStatus(t, r, "N1", http.StatusOK)
	got := decode[api.NetworkResponse](t, r)
	var persons []string
	for _, m := range got.Members {
		persons = append(persons, m.PersonID)
	}
	slices.Sort(persons)
	if got.Persons != 2 || !slices.Equal(persons, []string{"P2", "P3"}) {
		t.Fatalf("network=%+v", got)
	}
	if want := []index.FacetCount{{Term: "a", Count: 2}, {Term: "b", Count: 2}, {Term: "c", Count: 1}}; !slices.Equal(got.Arenas, want) {
		t.Fatalf("arenas=%v, want %v", got.Arenas, want)
	}
	wantStatus(t, MustGet(t, srv, "/api/networks/N9"), "N9", http.StatusNotFound)
	wantStatus(t, MustGet(t, srv, "/api/networks/%20"), "blank", http.StatusBadRequest)
}

func TestExportCounts(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{MinCellFloor: 0})

	r := MustGet(t, srv, "/api/export/counts?by=arena&format=csv&min_cell=0")
	wantStatus(t, r, "csv", http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	if got, want := string(r.body), "arena,ads,persons\na,5,4\nb,3,3\nc,3,3\n*,11,6\n"; got != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
	// The same bytes as the CLI's writer.
	rows, err := x.Counts(context.Background(), []string{"arena"}, index.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := index.WriteCountsCSV(&b, []string{"arena"}, rows); err != nil {
		t.Fatal(err)
	}
	if b.String() != string(r.body) {
		t.Fatalf("API csv differs from index.WriteCountsCSV:\n%s\n%s", r.body, b.String())
	}

	r = MustGet(t, srv, "/api/export/counts?by=arena,week&min_cell=4")
	wantStatus(t, r, "json", http.StatusOK)
	type jrow struct {
		Group      map[string]string `json:"group"`
		Ads        *int              `json:"ads"`
		Persons    *int              `json:"persons"`
		Suppressed bool              `json:"suppressed"`
		Total      bool              `json:"total"`
	}
	got := decode[struct {
		Provenance map[string]any `json:"provenance"`
		By         []string       `json:"by"`
		MinCell    int            `json:"min_cell"`
		Rows       []jrow         `json:"rows"`
	}](t, r)
	if got.Provenance["software"] != "adcensus test" || got.MinCell != 4 || !slices.Equal(got.By, []string{"arena", "week"}) {
		t.Fatalf("export header=%+v", got)
	}
	if len(got.Rows) != 4 || got.Rows[0].Persons == nil || *got.Rows[0].Persons != 4 || !got.Rows[1].Suppressed || got.Rows[1].Persons != nil || !got.Rows[3].Total {
		t.Fatalf("rows=%+v", got.Rows)
	}

	for _, path := range []string{
		"/api/export/counts?by=colour",
		"/api/export/counts?by=arena,arena",
		"/api/export/counts?format=xml",
		"/api/export/counts?min_cell=-1",
		"/api/export/counts?min_cell=x",
	} {
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}

	floor := MustServer(t, x, docSource(x), api.Options{MinCellFloor: 5})
	wantStatus(t, MustGet(t, floor, "/api/export/counts?min_cell=2"), "below floor", http.StatusBadRequest)
	r = MustGet(t, floor, "/api/export/counts?format=csv")
	wantStatus(t, r, "default min cell", http.StatusOK)
	if got, want := string(r.body), "arena,ads,persons\na,,\nb,,\nc,,\n*,11,6\n"; got != want {
		t.Fatalf("default suppression:\n%s\nwant:\n%s", got, want)
	}
}

func TestOverlap(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	r := MustGet(t, srv, "/api/overlap?min_cell=0")
	wantStatus(t, r, "overlap", http.StatusOK)
	got := decode[overlap.Report](t, r)
	n := func(c overlap.Cell) int {
		if c.Persons == nil {
			return -1
		}
		return *c.Persons
	}
	if n(got.Persons) != 6 || len(got.Arenas) != 3 || n(got.Arenas[0].Cell) != 4 {
		t.Fatalf("report=%+v", got)
	}
	var spread, pairs []int
	for _, s := range got.Spread {
		spread = append(spread, n(s.Cell))
	}
	for _, p := range got.Pairs {
		pairs = append(pairs, n(p.Cell))
	}
	if !slices.Equal(spread, []int{3, 2, 1}) || !slices.Equal(pairs, []int{2, 1, 2}) {
		t.Fatalf("spread=%v pairs=%v, want [3 2 1] [2 1 2]", spread, pairs)
	}
	if got.Estimate == nil || got.Estimate.Observed != 6 || got.Estimate.Total < 6 {
		t.Fatalf("estimate=%+v (error %q)", got.Estimate, got.EstimateError)
	}
	if got.Provenance["software"] != "adcensus test" {
		t.Fatalf("provenance=%v", got.Provenance)
	}

	r = MustGet(t, srv, "/api/overlap?min_cell=2")
	wantStatus(t, r, "overlap suppressed", http.StatusOK)
	got = decode[overlap.Report](t, r)
	if !got.Spread[2].Suppressed || got.Spread[2].Persons != nil || !got.Pairs[1].Suppressed {
		t.Fatalf("small cells not suppressed: %s", r.body)
	}
	r = MustGet(t, srv, "/api/overlap")
	wantStatus(t, r, "overlap default", http.StatusOK)
	if got := decode[overlap.Report](t, r); got.MinCell != api.DefaultMinCell || !got.Arenas[0].Suppressed || got.Estimate == nil {
		t.Fatalf("default min cell: %s", r.body)
	}
	r = MustGet(t, srv, "/api/overlap?min_cell=10")
	wantStatus(t, r, "overlap total suppressed", http.StatusOK)
	if got := decode[overlap.Report](t, r); !got.Persons.Suppressed || got.Estimate != nil || got.EstimateError == "" {
		t.Fatalf("estimate of a suppressed total: %s", r.body)
	}

	wantStatus(t, MustGet(t, srv, "/api/overlap?min_cell=no"), "bad", http.StatusBadRequest)
	none := MustServer(t, x, nil, api.Options{})
	wantStatus(t, MustGet(t, none, "/api/overlap"), "no source", http.StatusNotImplemented)
}

func TestOpenAPIListsEveryPath(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	r := MustGet(t, srv, "/api/openapi.json")
	wantStatus(t, r, "openapi", http.StatusOK)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	var documented, registered []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	slices.Sort(documented)
	for _, rt := range api.Routes(api.Options{}) {
		registered = append(registered, rt.Method+" "+rt.Path)
	}
	slices.Sort(registered)
	if !slices.Equal(documented, registered) {
		t.Fatalf("documented operations %v, registered %v", documented, registered)
	}
	// Every operation is really served: not the catch-all's 404 or 405.
	for _, op := range registered {
		method, p, _ := strings.Cut(op, " ")
		path := strings.NewReplacer("{id}", "P1", "{name}", "nobody").Replace(p)
		r := MustDo(t, srv, method, path)
		if r.status == http.StatusNotFound && strings.Contains(string(r.body), "no such endpoint") || r.status == http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d %s", method, path, r.status, r.body)
		}
	}
	// Every $ref points at a defined component.
	var full map[string]any
	if err := json.Unmarshal(r.body, &full); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" {
					parts := strings.Split(strings.TrimPrefix(s, "#/"), "/")
					var at any = full
					for _, p := range parts {
						m, _ := at.(map[string]any)
						at = m[p]
					}
					if at == nil {
						t.Errorf("dangling $ref %s", s)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(full)
}

func TestUnknownPathAndMethod(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{})
	wantStatus(t, MustGet(t, srv, "/api/nothing"), "/api/nothing", http.StatusNotFound)
	r := MustDo(t, srv, http.MethodPost, "/api/search")
	wantStatus(t, r, "POST /api/search", http.StatusMethodNotAllowed)
	if got := r.header.Get("Allow"); got != "GET, HEAD" {
		t.Fatalf("Allow=%q", got)
	}
	wantStatus(t, MustDo(t, srv, http.MethodDelete, "/api/persons/P1"), "DELETE person", http.StatusMethodNotAllowed)
}

// failingStore fails every call with an error whose text must stay inside.
type failingStore struct{ index.Store }

var errSecret = errors.New("open /secret/path/docs.db: disk on fire")

func (failingStore) Search(context.Context, index.Query) (*index.Result, error) {
	return nil, errSecret
}
func (failingStore) Counts(context.Context, []string, index.CountOptions) ([]index.CountRow, error) {
	return nil, errSecret
}
func (failingStore) Facts(context.Context, string, string) (*index.Facts, error) {
	return nil, errSecret
}
func (failingStore) ForEachFact(context.Context, func(*index.Doc) error) error { return errSecret }

type failingSource struct{}

func (failingSource) ForEachDoc(context.Context, func(*index.Doc) error) error { return errSecret }

func TestInternalErrorsAreHiddenAndLogged(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&safeWriter{w: &logs}, nil))
	srv := MustServer(t, failingStore{}, failingSource{}, api.Options{Logger: logger})
	for _, path := range []string{"/api/search", "/api/persons/P1", "/api/networks/N1", "/api/export/counts", "/api/export/facts", "/api/overlap"} {
		r := MustGet(t, srv, path)
		wantStatus(t, r, path, http.StatusInternalServerError)
		if strings.Contains(string(r.body), "secret") {
			t.Fatalf("%s leaks the cause: %s", path, r.body)
		}
	}
	srv.Close()
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Fatalf("cause not logged: %s", logs.String())
	}
}

// safeWriter serialises writes from the server's goroutines.
type safeWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *safeWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// split=minors gives the same two tables as the CLI's --split minors.
func TestExportCountsSplitMinors(t *testing.T) {
	x := MustIndex(t)
	// P4 gets a second advert with a sign of youth (neutral text): P4 and
	// all its adverts go to the possible_minors table.
	young := &ad.Fingerprinted{Ad: ad.Ad{ID: "a6", Arena: "b", City: "Lund", Title: "Ny i branschen", Body: "Hej, välkommen.",
		Gender: "kvinna", PostedAt: day("2026-03-03"), FetchedAt: day("2026-03-03")}}
	if err := x.Apply(context.Background(), []*ad.Fingerprinted{young}, []ad.Assignment{{AdID: "a6", PersonID: "P4", NetworkID: "N4"}}); err != nil {
		t.Fatal(err)
	}
	srv := MustServer(t, x, docSource(x), api.Options{})

	r := MustGet(t, srv, "/api/export/counts?by=arena&format=csv&min_cell=0&split=minors")
	wantStatus(t, r, "csv split", http.StatusOK)
	want := "table,arena,ads,persons\n" +
		"possible_minors,a,1,1\n" +
		"possible_minors,b,1,1\n" +
		"possible_minors,*,2,1\n" +
		"others,a,4,3\n" +
		"others,b,3,3\n" +
		"others,c,3,3\n" +
		"others,*,10,5\n"
	if got := string(r.body); got != want {
		t.Fatalf("csv:\n%s\nwant:\n%s", got, want)
	}
	opt := index.CountOptions{Split: index.SplitMinors}
	rows, err := x.Counts(context.Background(), []string{"arena"}, opt)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := index.WriteCountsCSV(&b, []string{"arena"}, rows); err != nil {
		t.Fatal(err)
	}
	if b.String() != string(r.body) {
		t.Fatalf("API csv differs from the CLI's writer:\n%s\n%s", r.body, b.String())
	}

	r = MustGet(t, srv, "/api/export/counts?by=arena&min_cell=2&split=minors")
	wantStatus(t, r, "json split", http.StatusOK)
	type jrow struct {
		Group       map[string]string `json:"group"`
		Persons     *int              `json:"persons"`
		Suppression string            `json:"suppression"`
		Total       bool              `json:"total"`
	}
	got := decode[struct {
		Split          string  `json:"split"`
		Rows           *[]jrow `json:"rows"`
		PossibleMinors []jrow  `json:"possible_minors"`
		Others         []jrow  `json:"others"`
	}](t, r)
	if got.Split != "minors" || got.Rows != nil || len(got.PossibleMinors) != 3 || len(got.Others) != 4 {
		t.Fatalf("split export=%+v", got)
	}
	// P4 alone in the minors table: every cell of it is below 2 persons.
	for _, row := range got.PossibleMinors {
		if row.Persons != nil || row.Suppression != index.SuppressPrimary {
			t.Fatalf("possible_minors row %+v not suppressed", row)
		}
	}
	// The unsplit export's total minus the others total would give the
	// minors total away, so the others total is withheld too.
	if tot := got.Others[3]; !tot.Total || tot.Persons != nil || tot.Suppression != index.SuppressSecondary {
		t.Fatalf("others total=%+v, want secondary suppression", tot)
	}
	// Arena c has no possible minor: its others row is the arena's total.
	if row := got.Others[2]; row.Group["arena"] != "c" || row.Persons == nil || *row.Persons != 3 {
		t.Fatalf("others row c=%+v", row)
	}

	for _, path := range []string{"/api/export/counts?split=adults", "/api/export/counts?split=MINORS"} {
		wantStatus(t, MustGet(t, srv, path), path, http.StatusBadRequest)
	}
	// Without split the export is as before: one table over everyone.
	r = MustGet(t, srv, "/api/export/counts?by=arena&format=csv&min_cell=0")
	if got, want := string(r.body), "arena,ads,persons\na,5,4\nb,4,4\nc,3,3\n*,12,6\n"; got != want {
		t.Fatalf("unsplit csv:\n%s\nwant:\n%s", got, want)
	}
}
