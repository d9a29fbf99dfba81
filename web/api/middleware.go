package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"adcensus/web/audit"
	"adcensus/web/auth"
)

// Security headers of every response. The CSP allows scripts and styles
// from this origin only (no inline script), and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func setSecurityHeaders(h http.Header, tls bool) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// hostAllowed reports whether the Host header names this server (DNS
// rebinding: a page of another site resolving its name to 127.0.0.1).
func (s *server) hostAllowed(host string) bool {
	if len(s.opt.AllowedHosts) == 0 {
		return true
	}
	h := strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	return slices.Contains(s.opt.AllowedHosts, h)
}

// wrap turns a route into a handler: authenticate, authorise, check the
// CSRF token of a browser's state-changing request, rate-limit, bound the
// time, run the handler into a buffer, append the audit line, and only
// then answer.
func (s *server) wrap(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ri := &reqInfo{rows: -1}
		r = r.WithContext(withInfo(r.Context(), ri))
		buf := &bufferedWriter{header: w.Header()}
		err := s.authorise(buf, r, rt)
		// Refused credentials count against the address, so that guessing
		// tokens or spraying requests is limited too.
		if err == nil || statusOf(err) == http.StatusUnauthorized {
			if lerr := s.limit(buf, r); lerr != nil {
				err = lerr
			}
		}
		if err == nil {
			timeout := s.opt.RequestTimeout
			if rt.Search {
				timeout = min(timeout, s.opt.SearchTimeout)
			}
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			if rt.Stream {
				sw := &streamWriter{bufferedWriter: buf, w: w, begin: func(status int) error {
					if !rt.Audited || s.opt.Audit == nil {
						return nil
					}
					return s.appendAudit(r, rt, status)
				}}
				err = rt.h(sw, r.WithContext(ctx))
				cancel()
				if sw.started { // audited and answered as it went
					return
				}
			} else {
				err = rt.h(buf, r.WithContext(ctx))
				cancel()
			}
		}
		if err != nil {
			buf.reset()
			s.fail(buf, r, err)
			if len(ri.what) == 0 { // refused before the handler said what was asked
				setWhat(r, "path", r.URL.Path)
			}
		}
		if rt.Audited && s.opt.Audit != nil {
			if aerr := s.appendAudit(r, rt, buf.status()); aerr != nil {
				s.log.Error("audit log unavailable: request refused", logKeyPath, r.URL.Path, logKeyError, aerr)
				buf.reset()
				writeError(buf, http.StatusServiceUnavailable, "audit log unavailable: nothing was returned")
			}
		}
		buf.flush(w)
	}
}

func (s *server) appendAudit(r *http.Request, rt route, status int) error {
	ri := info(r)
	e := audit.Entry{Time: s.now(), Who: ri.who.String(), Action: rt.OperationID, Rows: ri.rows, Status: status, Remote: remoteIP(r)}
	if ri.who != nil {
		for _, role := range ri.who.Roles {
			e.Roles = append(e.Roles, string(role))
		}
	}
	if len(ri.what) > 0 {
		e.What = map[string]string{}
		for k, v := range ri.what {
			e.What[k] = audit.Redact(v)
		}
	}
	return s.opt.Audit.Append(e)
}

// Errors of authentication and authorisation.
var (
	errUnauthorized = errors.New("not signed in")
	errForbidden    = errors.New("not allowed")
	errTooMany      = errors.New("too many requests")
)

// authorise finds the principal of r and checks it may call rt.
func (s *server) authorise(w http.ResponseWriter, r *http.Request, rt route) error {
	ri := info(r)
	p, err := s.authenticate(r)
	if err != nil && rt.Access != Public {
		w.Header().Set("WWW-Authenticate", `Bearer realm="adcensus"`)
		if errors.Is(err, errNoCredentials) {
			return fmt.Errorf("%w: %v", errUnauthorized, err)
		}
		return err // not signed in (401) with the reason, or the store failed (500, logged)
	}
	ri.who = p
	switch rt.Access {
	case Public:
		return nil
	case SignedIn:
	case ByRole:
		if !p.Has(rt.Roles...) {
			return fmt.Errorf("%w: %s needs the role %s; %s has %s", errForbidden, rt.OperationID,
				joinRoles(rt.Roles, " or "), p, joinRoles(p.Roles, ", "))
		}
	}
	if p.Session != nil && !isSafe(r.Method) && !p.Session.CheckCSRF(r.Header.Get(auth.CSRFHeader)) {
		return fmt.Errorf("%w: missing or wrong %s header (GET /api/session gives the token)", errForbidden, auth.CSRFHeader)
	}
	return nil
}

func joinRoles(roles []auth.Role, sep string) string {
	if len(roles) == 0 {
		return "no role"
	}
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, sep)
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// authenticate returns the principal of a bearer token or a session
// cookie; an error when neither is given or valid.
func (s *server) authenticate(r *http.Request) (*auth.Principal, error) {
	if s.opt.Auth == nil {
		return nil, fmt.Errorf("%w: this server has no access store", errUnauthorized)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, fmt.Errorf("%w: Authorization must be Bearer <token>", errUnauthorized)
		}
		return s.opt.Auth.Authenticate(strings.TrimSpace(tok), s.now())
	}
	if c, err := r.Cookie(auth.CookieName); err == nil {
		return s.opt.Auth.Session(c.Value, s.opt.Sessions, s.now())
	}
	return nil, errNoCredentials
}

var errNoCredentials = errors.New("sign in (POST /api/session) or send Authorization: Bearer <token> (adcensus token create)")

// limiter keeps a token bucket per principal (or remote address).
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	used time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{rate: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.used) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[key]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.buckets[key] = b
	}
	b.used = now
	res := b.l.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limit applies the rate limit of the request's principal.
func (s *server) limit(w http.ResponseWriter, r *http.Request) error {
	if s.limits == nil {
		return nil
	}
	key := "ip:" + remoteIP(r)
	if p := principal(r); p != nil {
		key = p.String()
	}
	ok, wait := s.limits.allow(key, s.now())
	if ok {
		return nil
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	return fmt.Errorf("%w: at most %g requests a second (burst %d) for %s", errTooMany, float64(s.limits.rate), s.limits.burst, key)
}

// clientAddr returns the address of the client: the peer, or, when the
// peer is a trusted proxy, the right-most address of X-Forwarded-For that
// is not a trusted proxy itself (what a client prepends is not believed).
func (s *server) clientAddr(r *http.Request) string {
	peer := remoteIP(r)
	if len(s.opt.TrustedProxies) == 0 || !s.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(h); err != nil {
			break // malformed: stop believing the header here
		}
		if !s.trusted(h) {
			return h
		}
		peer = h
	}
	return peer
}

func (s *server) trusted(addr string) bool {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range s.opt.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bufferedWriter holds a response until the audit line is written.
type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) status() int {
	if b.code == 0 {
		return http.StatusOK
	}
	return b.code
}
func (b *bufferedWriter) reset() {
	b.code = 0
	b.body.Reset()
	for _, k := range []string{"Content-Disposition", "Content-Type", "Content-Length", "Set-Cookie", "Location"} {
		b.header.Del(k)
	}
}
func (b *bufferedWriter) flush(w http.ResponseWriter) {
	if b.code == 0 && b.body.Len() == 0 {
		return // the client went away; nothing to say
	}
	w.WriteHeader(b.status())
	w.Write(b.body.Bytes())
}
