// Package api serves the index over HTTP as JSON: search, a person's and a
// network's adverts and facts, count and facts exports (the same writers as
// the CLI), the arena overlap with its multiple-systems estimate, and an
// OpenAPI 3.0 description of itself (openapi.json). See docs/API.md.
//
// The API is read-only. It never returns raw contacts: documents hold only
// pseudonyms, hits carry none, and the contacts of a person or network are
// those pseudonyms. Errors are JSON {"error": "..."}: bad input is 400, an
// unknown person or network 404; anything else is 500 with the cause
// logged, not returned.
package api

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"adcensus/index"
	"adcensus/index/overlap"
	"adcensus/index/patterns"
	"adcensus/index/reviews"
	"adcensus/internal/stats/mse"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

//go:embed openapi.json
var openAPI []byte

// Defaults of Options.
const (
	DefaultMinCell        = 5
	DefaultRequestTimeout = 2 * time.Minute
	// DefaultPersonSize is the number of adverts (or, for a network,
	// persons) returned when size is not given.
	DefaultPersonSize = 100
	// DefaultSearchTimeout bounds one search.
	DefaultSearchTimeout = 10 * time.Second
	// DefaultMaxHeaderBytes bounds the request line and headers.
	DefaultMaxHeaderBytes = 64 << 10
	// DefaultRateLimit and DefaultRateBurst are the requests a second
	// per principal, and the burst.
	DefaultRateLimit = 20
	DefaultRateBurst = 40
)

// Log attribute keys.
const (
	logKeyPath   = "path"
	logKeyStatus = "status"
	logKeyError  = "error"
)

// Options configure New. The zero value is usable.
type Options struct {
	// Logger receives internal errors (nil: discard).
	Logger *slog.Logger
	// Provenance, if set, is called for every export and overlap report
	// and written into it (see index.WriteCountsJSON).
	Provenance func(ctx context.Context) map[string]any
	// DefaultMinCell is min_cell when a request does not give it (0 means
	// DefaultMinCell; negative means no suppression).
	DefaultMinCell int
	// MinCellFloor is the smallest min_cell a request may ask for; smaller
	// values are refused with 400. 0 lets clients turn suppression off.
	MinCellFloor int
	// MSE configures the estimate of /api/overlap.
	MSE mse.Options
	// RequestTimeout bounds each request's work (0: DefaultRequestTimeout).
	RequestTimeout time.Duration
	// SearchTimeout bounds a search, person or network request (0:
	// DefaultSearchTimeout); a query that takes longer is answered 503.
	SearchTimeout time.Duration
	// Auth is the access store: users, tokens, sessions. Without it every
	// route but the public ones answers 401.
	Auth *auth.Store
	// Audit receives a line for every audited call (nil: none; serve
	// always gives one).
	Audit *audit.Log
	// Sessions bound browser sessions.
	Sessions auth.SessionOptions
	// RateLimit is the requests a second allowed per token, user or (not
	// signed in) address, with bursts of RateBurst (0: DefaultRateLimit,
	// DefaultRateBurst; negative RateLimit: no limit).
	RateLimit float64
	RateBurst int
	// AllowedHosts are the host names (no port) the Host header may give;
	// empty: any (DNS-rebinding protection off).
	AllowedHosts []string
	// TrustedProxies are the addresses of reverse proxies (TLS
	// terminators) whose X-Forwarded-For names the client, for the audit
	// log, rate limits and sign-in throttling.
	TrustedProxies []netip.Prefix
	// TLS is set when served over TLS (adds Strict-Transport-Security).
	TLS bool
	// Runs lists the crawl runs for operators (nil: /api/runs is 501). It
	// returns the JSON value and its number of rows.
	Runs func(ctx context.Context) (any, int, error)
	// Schedules lists the arenas' crawl schedules with their next starts
	// for operators (nil: /api/schedules is 501); as Runs.
	Schedules func(ctx context.Context) (any, int, error)
	// Patterns returns the indicator patterns for /api/patterns (nil:
	// 501).
	Patterns func() ([]*patterns.Pattern, error)
	// Explain explains an advert's person and network for
	// /api/adverts/{id}/explain (nil: 501).
	Explain ExplainFunc
	// Changes reports what changed since a run or a time for /api/changes
	// (nil: 501).
	Changes ChangesFunc
	// Trend lists persons active, new and gone per period for
	// /api/export/trend (nil: 501).
	Trend TrendFunc
	// Crawls starts and follows crawls in this process (nil: 501);
	// RunErrors lists a run's failed pages (nil: 501). crawls.go.
	Crawls    CrawlControl
	RunErrors RunErrorsFunc
	// Seen puts the persons count's interval beside the total of
	// /api/export/counts and /api/overlap (nil: none).
	Seen SeenSource
	// App, if set, answers GET requests outside /api/ (the web app,
	// web/app), behind the same security headers and Host check.
	App http.Handler
	// Periods counts over a period by the census of crawl sightings
	// (export counts' from, to, basis=seen, gap); nil: only basis=posted
	// without a period.
	Periods PeriodCounts
	// PeriodDocs gives the adverts of a period to facts, overlap, search
	// and patterns; nil: only basis=posted without a period.
	PeriodDocs PeriodDocs
	// ReviewFlags returns the review patterns of a person for
	// /api/persons/{id} (nil: none shown).
	ReviewFlags func(ctx context.Context, personID string) ([]reviews.Flag, error)
	// OIDC, if set, enables sign-in through an identity provider.
	OIDC *OIDC
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// MaxHeaderBytes bounds the request line and headers; larger requests
	// are answered 431 in JSON (0: DefaultMaxHeaderBytes). The
	// http.Server's own MaxHeaderBytes should be larger, or Go's server
	// answers first, in plain text.
	MaxHeaderBytes int
}

type server struct {
	store  index.Store
	src    overlap.DocSource
	opt    Options
	log    *slog.Logger
	mux    *http.ServeMux
	oidc   *OIDC
	limits *limiter
	failed *failures
	doc    []byte
	csrf   *http.CrossOriginProtection
	// estimates remembers overlap estimates by table and options (an
	// estimate is deterministic; the bootstrap takes up to seconds).
	estimates *mse.Cache
}

// New returns the API handler. src may be nil: /api/overlap then answers
// 501 Not Implemented. Every route but sign-in and the OpenAPI document
// needs credentials (Options.Auth); see Routes for who may call what.
func New(store index.Store, src overlap.DocSource, opts Options) (http.Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultMinCell == 0 {
		opts.DefaultMinCell = DefaultMinCell
	}
	if opts.DefaultMinCell < 0 {
		opts.DefaultMinCell = 0
	}
	opts.DefaultMinCell = max(opts.DefaultMinCell, opts.MinCellFloor)
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.SearchTimeout <= 0 {
		opts.SearchTimeout = DefaultSearchTimeout
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.RateBurst <= 0 {
		opts.RateBurst = DefaultRateBurst
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &server{store: store, src: src, opt: opts, log: opts.Logger.With("stage", "api"), mux: http.NewServeMux(),
		oidc: opts.OIDC, limits: newLimiter(opts.RateLimit, opts.RateBurst), failed: &failures{m: map[string][]time.Time{}},
		csrf: http.NewCrossOriginProtection(), estimates: mse.NewCache(64)}
	routes := s.table()
	doc, err := openAPIDocument(routes)
	if err != nil {
		return nil, err
	}
	s.doc = doc
	for _, rt := range routes {
		s.mux.HandleFunc(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.HandleFunc("/", s.notFound)
	if opts.App != nil {
		s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/") {
				s.notFound(w, r)
				return
			}
			opts.App.ServeHTTP(w, r)
		})
	}
	return s, nil
}

func (s *server) now() time.Time { return s.opt.Now() }

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header(), s.opt.TLS)
	if n := headerBytes(r); n > s.opt.MaxHeaderBytes {
		writeError(w, http.StatusRequestHeaderFieldsTooLarge,
			fmt.Sprintf("request line and headers are %d bytes, at most %d", n, s.opt.MaxHeaderBytes))
		return
	}
	if !s.hostAllowed(r.Host) {
		writeError(w, http.StatusMisdirectedRequest, fmt.Sprintf("host %q is not served here (serve --host)", shortValue(r.Host)))
		return
	}
	// r.URL.Query() drops what it cannot decode ("q=%zz" would search
	// for everything): refuse a malformed query string instead.
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, "malformed query string: "+err.Error())
		return
	}
	// A browser's cross-origin POST, PUT, PATCH or DELETE is refused
	// whatever its credentials (Sec-Fetch-Site, Origin).
	if err := s.csrf.Check(r); err != nil {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if len(s.opt.TrustedProxies) > 0 {
		r = r.Clone(r.Context())
		r.RemoteAddr = net.JoinHostPort(s.clientAddr(r), "0")
	}
	s.mux.ServeHTTP(w, r)
}

// headerBytes is about what the request line and headers took on the wire.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len(r.Host)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// notFound answers paths no pattern matches, and 405 for a known path
// asked with another method.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "GET /" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	writeError(w, http.StatusNotFound, "no such endpoint: see /api/openapi.json")
}

// Error kinds of this package, mapped to status codes by statusOf.
var (
	errNotFound       = errors.New("not found")
	errBadRequest     = errors.New("bad request")
	errNotImplemented = errors.New("not available")
)

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadRequest), errors.Is(err, index.ErrBadQuery),
		errors.Is(err, index.ErrBadDimension), errors.Is(err, index.ErrTooBroad):
		return http.StatusBadRequest
	case errors.Is(err, errUnauthorized), errors.Is(err, auth.ErrBadCredentials), errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errForbidden):
		return http.StatusForbidden
	case errors.Is(err, errTooMany):
		return http.StatusTooManyRequests
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, errNotImplemented):
		return http.StatusNotImplemented
	case errors.Is(err, ErrCrawlRunning), errors.Is(err, ErrCrawlFinished):
		return http.StatusConflict
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// fail writes err: client errors with their message, others with a generic
// one (the cause is logged).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	msg := err.Error()
	switch code {
	case http.StatusInternalServerError:
		msg = "internal error"
		if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
			return // the client went away
		}
		s.log.Error("request failed", logKeyPath, r.URL.Path, logKeyStatus, code, logKeyError, err)
	case http.StatusServiceUnavailable:
		msg = "request took too long"
		s.log.Warn("request timed out", logKeyPath, r.URL.Path, logKeyStatus, code, logKeyError, err)
	}
	writeError(w, code, msg)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"internal error"}` + "\n")
	}
	writeBody(w, code, "application/json; charset=utf-8", buf.Bytes())
}

func writeBody(w http.ResponseWriter, code int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// Query parameters.

// intParam returns the integer parameter name, def when absent; values
// outside [lo, hi] (hi < 0: no upper bound) are refused.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi >= 0 && n > hi) {
		if hi >= 0 {
			return 0, badRequest("%s=%q: want an integer from %d to %d", name, shortValue(v), lo, hi)
		}
		return 0, badRequest("%s=%q: want an integer of at least %d", name, shortValue(v), lo)
	}
	return n, nil
}

// shortValue cuts a parameter value for an error message.
func shortValue(v string) string {
	if len(v) > 40 {
		return v[:40] + "…"
	}
	return v
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("%s=%q: want true or false", name, v)
	}
	return b, nil
}

func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *server) minCell(r *http.Request) (int, error) {
	n, err := intParam(r, "min_cell", s.opt.DefaultMinCell, 0, -1)
	if err != nil {
		return 0, err
	}
	if n < s.opt.MinCellFloor {
		return 0, badRequest("min_cell=%d: this server suppresses cells below %d at least", n, s.opt.MinCellFloor)
	}
	return n, nil
}

func (s *server) provenance(ctx context.Context) map[string]any {
	if s.opt.Provenance == nil {
		return map[string]any{}
	}
	return s.opt.Provenance(ctx)
}

// Endpoints.

// SearchResponse is the body of /api/search.
type SearchResponse struct {
	// Unit is "adverts", or "persons" with by_person.
	Unit   string                        `json:"unit"`
	Total  uint64                        `json:"total"`
	Hits   []index.Hit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets,omitempty"`
}

func newSearchResponse(res *index.Result, byPerson bool) SearchResponse {
	out := SearchResponse{Unit: "adverts", Total: res.Total, Hits: res.Hits, Facets: res.Facets}
	if byPerson {
		out.Unit = "persons"
	}
	if out.Hits == nil {
		out.Hits = []index.Hit{}
	}
	return out
}

func (s *server) search(w http.ResponseWriter, r *http.Request) error {
	q := index.Query{Text: r.URL.Query().Get("q"), Facets: listParam(r, "facets")}
	var err error
	if q.Size, err = intParam(r, "size", index.DefaultSize, 1, index.MaxSize); err != nil {
		return err
	}
	// from is the hits to skip, as always; a from that is not a number
	// starts a period (2026-W49, 2026-11, 2026-12-07), and offset pages.
	offsetParam, periodFrom := "from", ""
	if f := r.URL.Query().Get("from"); f != "" {
		if strings.Trim(f, "0123456789") != "" {
			offsetParam, periodFrom = "offset", f
		}
	}
	if q.From, err = intParam(r, offsetParam, 0, 0, index.MaxWindow-q.Size); err != nil {
		return err
	}
	if q.Only, err = s.periodIDs(r, periodFrom); err != nil {
		return err
	}
	if q.FacetSize, err = intParam(r, "facet_size", index.DefaultFacetSize, 1, index.MaxFacetSize); err != nil {
		return err
	}
	if q.GroupByPerson, err = boolParam(r, "by_person"); err != nil {
		return err
	}
	setWhat(r, "q", q.Text)
	setWhat(r, "from", strconv.Itoa(q.From))
	setWhat(r, "size", strconv.Itoa(q.Size))
	if q.GroupByPerson {
		setWhat(r, "by_person", "true")
	}
	if len(q.Facets) > 0 {
		setWhat(r, "facets", strings.Join(q.Facets, ","))
	}
	res, err := s.store.Search(r.Context(), q)
	if err != nil {
		return err
	}
	setRows(r, len(res.Hits))
	writeJSON(w, http.StatusOK, newSearchResponse(res, q.GroupByPerson))
	return nil
}

// validID is what a person or network id may look like: the cluster's ids
// ("P…", "N…") and "ad:<advert id>" for an unassigned advert.
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$`)

// quote quotes an id for the query-string syntax (a quoted value on a
// keyword field is an exact term).
func quote(id string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(id) + `"`
}

func (s *server) page(r *http.Request) (size, from int, err error) {
	if size, err = intParam(r, "size", DefaultPersonSize, 1, index.MaxSize); err != nil {
		return 0, 0, err
	}
	if from, err = intParam(r, "from", 0, 0, index.MaxWindow-size); err != nil {
		return 0, 0, err
	}
	return size, from, nil
}

// NetworkResponse is the body of /api/networks/{id}. Everything but
// Members is over all of the network's adverts (index.Facts).
type NetworkResponse struct {
	NetworkID string `json:"network_id"`
	// Persons is the number of persons in the network (its size); Members
	// is one page of them (size, from), each the person's best advert
	// with AdIDs.
	Persons uint64 `json:"persons"`
	// Ads is the number of the network's adverts.
	Ads int `json:"ads"`
	// Arenas and Cities count the network's adverts per arena and city.
	Arenas []index.FacetCount `json:"arenas"`
	Cities []index.FacetCount `json:"cities"`
	// FirstSeen, LastSeen, MonthsActive, Months and Contacts are as in
	// PersonResponse, over every advert of every member.
	FirstSeen    time.Time          `json:"first_seen,omitzero"`
	LastSeen     time.Time          `json:"last_seen,omitzero"`
	MonthsActive int                `json:"months_active"`
	Months       []index.FacetCount `json:"months"`
	Contacts     []index.FacetCount `json:"contacts"`
	Members      []index.Hit        `json:"members"`
}

func (s *server) network(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setWhat(r, "network", id)
	if !validID.MatchString(id) {
		return badRequest("network id %q is malformed", shortValue(id))
	}
	size, from, err := s.page(r)
	if err != nil {
		return err
	}
	f, err := s.store.Facts(r.Context(), index.FieldNetworkID, id)
	if err != nil {
		return err
	}
	if f.Ads == 0 {
		return fmt.Errorf("network %q: %w", id, errNotFound)
	}
	res, err := s.store.Search(r.Context(), index.Query{
		Text: index.FieldNetworkID + ":" + quote(id), Size: size, From: from, GroupByPerson: true,
	})
	if err != nil {
		return err
	}
	setRows(r, len(res.Hits))
	writeJSON(w, http.StatusOK, NetworkResponse{
		NetworkID: id, Persons: uint64(f.Persons), Ads: f.Ads, Arenas: nonNil(f.Arenas), Cities: nonNil(f.Cities),
		FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, MonthsActive: f.MonthsActive, Months: nonNil(f.Months),
		Contacts: nonNil(f.Contacts), Members: nonNil(res.Hits),
	})
	return nil
}

func (s *server) exportFacts(w http.ResponseWriter, r *http.Request) error {
	format, dialect, err := exportFormat(r)
	if err != nil {
		return err
	}
	minCell, err := s.minCell(r)
	if err != nil {
		return err
	}
	setWhat(r, "format", format)
	setWhat(r, "min_cell", strconv.Itoa(minCell))
	var src index.FactsSource = s.store
	docs, err := s.periodDocs(r)
	if err != nil {
		return err
	}
	if docs != nil {
		src = docs
	}
	rep, err := index.ReportFacts(r.Context(), src, index.FactsOptions{MinCell: minCell, Provenance: s.provenance(r.Context())})
	if err != nil {
		return err
	}
	n := 0
	for _, t := range rep.Tables {
		n += len(t.Rows)
	}
	setRows(r, n)
	var buf bytes.Buffer
	if format != "json" {
		if err := rep.WriteCSVDialect(&buf, dialect); err != nil {
			return err
		}
		writeCSV(w, csvName("facts", format), buf.Bytes())
		return nil
	}
	if err := rep.WriteJSON(&buf); err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
	return nil
}

func (s *server) exportCounts(w http.ResponseWriter, r *http.Request) error {
	by := listParam(r, "by")
	if _, given := r.URL.Query()["by"]; !given {
		by = []string{index.DimArena}
	}
	if err := index.ValidateDimensions(by); err != nil {
		return err
	}
	format, dialect, err := exportFormat(r)
	if err != nil {
		return err
	}
	minCell, err := s.minCell(r)
	if err != nil {
		return err
	}
	opt := index.CountOptions{MinCell: minCell, Split: r.URL.Query().Get("split")}
	if err := opt.Validate(); err != nil {
		return badRequest("split=%q: want %q or nothing", opt.Split, index.SplitMinors)
	}
	setWhat(r, "by", strings.Join(by, ","))
	setWhat(r, "format", format)
	setWhat(r, "min_cell", strconv.Itoa(minCell))
	if opt.Split != "" {
		setWhat(r, "split", opt.Split)
	}
	rows, err := s.counts(r, by, opt)
	if err != nil {
		return err
	}
	if opt.Split == "" {
		index.AttachSeen(rows, s.seen(r, nil))
	}
	setRows(r, len(rows))
	var buf bytes.Buffer
	if format != "json" {
		if err := index.WriteCountsCSVDialect(&buf, by, rows, dialect); err != nil {
			return err
		}
		writeCSV(w, csvName("counts", format), buf.Bytes())
		return nil
	}
	if err := index.WriteCountsJSON(&buf, by, rows, opt, s.provenance(r.Context())); err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
	return nil
}

func (s *server) overlap(w http.ResponseWriter, r *http.Request) error {
	if s.src == nil {
		return fmt.Errorf("overlap: %w: the index cannot list its documents", errNotImplemented)
	}
	format, dialect, err := exportFormat(r)
	if err != nil {
		return err
	}
	minCell, err := s.minCell(r)
	if err != nil {
		return err
	}
	src := s.src
	docs, err := s.periodDocs(r)
	if err != nil {
		return err
	}
	if docs != nil {
		src = docs
	}
	arenas := listParam(r, "arena")
	o, within, err := overlapOf(r.Context(), src, arenas)
	if err != nil {
		return err
	}
	setWhat(r, "min_cell", strconv.Itoa(minCell))
	if len(arenas) > 0 {
		setWhat(r, "arena", strings.Join(arenas, ","))
	}
	rep, err := overlap.NewReport(o, overlap.ReportOptions{MinCell: minCell, MSE: s.opt.MSE, Cache: s.estimates,
		Provenance: s.provenance(r.Context()), Seen: s.seen(r, arenas), Within: within})
	if errors.Is(err, overlap.ErrDisclosive) {
		return badRequest("arena=%s: %v; ask with more arenas", strings.Join(arenas, ","), err)
	}
	if err != nil {
		return err
	}
	s.combine(r, arenas, rep)
	setRows(r, len(rep.Histories))
	var buf bytes.Buffer
	if format != "json" {
		setWhat(r, "format", format)
		if err := rep.WriteCSVDialect(&buf, dialect); err != nil {
			return err
		}
		writeCSV(w, csvName("overlap", format), buf.Bytes())
		return nil
	}
	if err := rep.WriteJSON(&buf); err != nil {
		return err
	}
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", buf.Bytes())
	return nil
}

func (s *server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	writeBody(w, http.StatusOK, "application/json; charset=utf-8", s.doc)
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
