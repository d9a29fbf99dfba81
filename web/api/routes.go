package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"adcensus/web/auth"
)

// Access is who may call a route.
type Access string

// The kinds of access of a route.
const (
	// Public routes need no credentials (the OpenAPI document, sign-in).
	Public Access = "public"
	// SignedIn routes need credentials of any role (the own session).
	SignedIn Access = "signed-in"
	// ByRole routes need one of the route's roles.
	ByRole Access = "role"
)

// Route is one endpoint: the table New registers its handlers from and
// the OpenAPI document is generated from (openapi.json holds each
// operation's parameters and responses under x-operations).
type Route struct {
	Method      string
	Path        string
	OperationID string
	Access      Access
	// Roles may call a ByRole route.
	Roles []auth.Role
	// Audited routes append a line to the audit log for every call.
	Audited bool
	// Search routes run under Options.SearchTimeout.
	Search bool
	// Stream routes answer as they go (server-sent events): audited when
	// the stream starts (stream.go).
	Stream bool
}

type route struct {
	Route
	h func(http.ResponseWriter, *http.Request) error
}

// The role sets of the routes (docs/ACCESS.md).
var (
	readsAdverts    = []auth.Role{auth.Analyst}
	readsAggregates = []auth.Role{auth.Analyst, auth.Researcher}
	watchesCrawls   = []auth.Role{auth.Operator, auth.Admin}
	// readsChanges: what changed is aggregate (advert and person counts
	// per arena, small cells suppressed) and tells operators which runs
	// to look at (docs/PRIVACY.md: census).
	readsChanges = []auth.Role{auth.Analyst, auth.Researcher, auth.Operator}
	startsCrawls = []auth.Role{auth.Operator}
	administers  = []auth.Role{auth.Admin}
)

func (s *server) table() []route {
	r := func(method, path, op string, access Access, roles []auth.Role, h func(http.ResponseWriter, *http.Request) error) route {
		return route{Route: Route{Method: method, Path: path, OperationID: op, Access: access, Roles: roles, Audited: true}, h: h}
	}
	search := func(rt route) route { rt.Search = true; return rt }
	stream := func(rt route) route { rt.Stream = true; return rt }
	quiet := func(rt route) route { rt.Audited = false; return rt }
	out := []route{
		search(r("GET", "/api/search", "search", ByRole, readsAdverts, s.search)),
		search(r("GET", "/api/persons/{id}", "person", ByRole, readsAdverts, s.person)),
		search(r("GET", "/api/networks/{id}", "network", ByRole, readsAdverts, s.network)),
		search(r("GET", "/api/adverts/{id}", "advert", ByRole, readsAdverts, s.advert)),
		r("GET", "/api/adverts/{id}/explain", "explain", ByRole, readsAdverts, s.explain),
		r("GET", "/api/patterns", "listPatterns", ByRole, readsAdverts, s.listPatterns),
		r("GET", "/api/patterns/{name}", "runPattern", ByRole, readsAdverts, s.runPattern),
		r("GET", "/api/export/counts", "exportCounts", ByRole, readsAggregates, s.exportCounts),
		r("GET", "/api/export/facts", "exportFacts", ByRole, readsAggregates, s.exportFacts),
		r("GET", "/api/overlap", "overlap", ByRole, readsAggregates, s.overlap),
		r("GET", "/api/export/trend", "exportTrend", ByRole, readsAggregates, s.trend),
		r("GET", "/api/changes", "changes", ByRole, readsChanges, s.changes),
		r("GET", "/api/runs", "runs", ByRole, watchesCrawls, s.runs),
		r("GET", "/api/schedules", "schedules", ByRole, watchesCrawls, s.schedules),
		r("GET", "/api/runs/{id}/errors", "runErrors", ByRole, watchesCrawls, s.runErrors),
		r("GET", "/api/crawls", "listCrawls", ByRole, watchesCrawls, s.listCrawls),
		r("POST", "/api/crawls", "startCrawl", ByRole, startsCrawls, s.startCrawl),
		r("POST", "/api/crawls/{id}/stop", "stopCrawl", ByRole, startsCrawls, s.stopCrawl),
		stream(r("GET", "/api/crawls/{id}/events", "crawlEvents", ByRole, watchesCrawls, s.crawlEvents)),
		r("GET", "/api/users", "listUsers", ByRole, administers, s.listUsers),
		r("POST", "/api/users", "addUser", ByRole, administers, s.addUser),
		r("POST", "/api/users/{name}/disable", "disableUser", ByRole, administers, s.disableUser),
		r("POST", "/api/users/{name}/enable", "enableUser", ByRole, administers, s.enableUser),
		r("GET", "/api/tokens", "listTokens", ByRole, administers, s.listTokens),
		r("POST", "/api/tokens", "createToken", ByRole, administers, s.createToken),
		r("DELETE", "/api/tokens/{id}", "revokeToken", ByRole, administers, s.revokeToken),
		r("GET", "/api/audit", "audit", ByRole, administers, s.auditLog),
		quiet(r("GET", "/api/session", "session", SignedIn, nil, s.session)),
		r("POST", "/api/session", "signIn", Public, nil, s.signIn),
		r("DELETE", "/api/session", "signOut", SignedIn, nil, s.signOut),
		quiet(r("GET", "/api/openapi.json", "openapi", Public, nil, s.openAPI)),
	}
	if s.oidc != nil {
		out = append(out,
			r("GET", "/api/oidc/login", "oidcLogin", Public, nil, s.oidcLogin),
			r("GET", "/api/oidc/callback", "oidcCallback", Public, nil, s.oidcCallback))
	}
	return out
}

// Routes returns the route table of a server built with opts: what the
// OpenAPI document lists and the role test walks.
func Routes(opts Options) []Route {
	s := &server{opt: opts}
	if opts.OIDC != nil {
		s.oidc = opts.OIDC
	}
	var out []Route
	for _, rt := range s.table() {
		out = append(out, rt.Route)
	}
	return out
}

// openAPIDocument builds the OpenAPI document from the route table and the
// operations of openapi.json.
func openAPIDocument(routes []route) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	var ops map[string]map[string]any
	if err := json.Unmarshal(doc["x-operations"], &ops); err != nil {
		return nil, fmt.Errorf("openapi.json x-operations: %w", err)
	}
	delete(doc, "x-operations")
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		op, ok := ops[rt.OperationID]
		if !ok {
			return nil, fmt.Errorf("openapi.json: no operation %s for %s %s", rt.OperationID, rt.Method, rt.Path)
		}
		op = cloneMap(op)
		op["operationId"] = rt.OperationID
		op["x-access"] = string(rt.Access)
		responses, _ := op["responses"].(map[string]any)
		if responses == nil {
			responses = map[string]any{}
		}
		switch rt.Access {
		case Public:
			op["security"] = []any{}
		default:
			op["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}}
			responses["401"] = map[string]any{"$ref": "#/components/responses/Unauthorized"}
			responses["429"] = map[string]any{"$ref": "#/components/responses/TooManyRequests"}
		}
		if rt.Access == ByRole {
			roles := make([]string, len(rt.Roles))
			for i, r := range rt.Roles {
				roles[i] = string(r)
			}
			op["x-roles"] = roles
			responses["403"] = map[string]any{"$ref": "#/components/responses/Forbidden"}
			desc, _ := op["description"].(string)
			op["description"] = strings.TrimSpace(desc + " Roles: " + strings.Join(roles, ", ") + ".")
		}
		op["responses"] = responses
		if paths[rt.Path] == nil {
			paths[rt.Path] = map[string]any{}
		}
		paths[rt.Path][strings.ToLower(rt.Method)] = op
	}
	for id := range ops {
		if !slices.ContainsFunc(routes, func(rt route) bool { return rt.OperationID == id }) && !strings.HasPrefix(id, "oidc") {
			return nil, fmt.Errorf("openapi.json: operation %s has no route", id)
		}
	}
	p, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	doc["paths"] = p
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reqInfo is what the route wrapper and the handler share about one
// request: who asked, what (for the audit log) and how many rows came
// back.
type reqInfo struct {
	who  *auth.Principal
	what map[string]string
	rows int
}

type ctxKey struct{}

func info(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{rows: -1}
}

// setRows records the number of rows a handler returned.
func setRows(r *http.Request, n int) { info(r).rows = n }

// setWhat records a parameter for the audit log (redacted there).
func setWhat(r *http.Request, k, v string) {
	i := info(r)
	if i.what == nil {
		i.what = map[string]string{}
	}
	i.what[k] = v
}

// principal is who made the request, nil for nobody.
func principal(r *http.Request) *auth.Principal { return info(r).who }

func withInfo(ctx context.Context, i *reqInfo) context.Context {
	return context.WithValue(ctx, ctxKey{}, i)
}
