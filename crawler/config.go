package crawler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/andybalholm/cascadia"
	"gopkg.in/yaml.v3"

	"adcensus/configs"
)

// ArenaConfig describes one arena: where to start, which pages are listings
// and which are adverts, and how to read the fields of an advert. The YAML
// form is documented in docs/ARENA-CONFIG.md.
type ArenaConfig struct {
	Name           string   `yaml:"name"`
	StartURLs      []string `yaml:"start_urls"`
	AllowedDomains []string `yaml:"allowed_domains"`
	AllowPrivate   bool     `yaml:"allow_private"`
	UserAgent      string   `yaml:"user_agent"`
	// AcceptLanguage is sent as the Accept-Language header of every
	// request ("sv-SE,sv;q=0.9"); empty sends none.
	AcceptLanguage string `yaml:"accept_language"`
	Robots         string `yaml:"robots"`
	// Sitemaps seed the crawl with the adverts and listings of sitemaps:
	// sitemap URLs, or "robots" for the Sitemap: lines of the start hosts'
	// robots.txt (sitemap.go).
	Sitemaps []string `yaml:"sitemaps"`
	// Archive is "none" (default) or "warc": every HTTP response of a
	// crawl is kept as WARC records (warc.go) for re-extraction.
	Archive string `yaml:"archive"`
	// Schedule is an optional standard 5-field cron expression
	// ("0 6 * * 1"), optionally prefixed with CRON_TZ=Area/City, saying
	// when a scheduler starts a crawl of the arena (schedule.go).
	Schedule string `yaml:"schedule"`
	// Canonical adds the arena's own rules to the canonical form of the
	// URLs found on its pages (extract.go Canonical).
	Canonical CanonicalRules `yaml:"canonical"`
	Limits    Limits         `yaml:"limits"`
	// Session gets the crawl past age gates and logins (session.go).
	Session Session `yaml:"session"`
	// Fetch is "http" (default): pages are fetched as served; or
	// "browser": rendered in headless Chromium first (browser.go).
	Fetch   string        `yaml:"fetch"`
	Browser BrowserConfig `yaml:"browser"`
	Listing Listing       `yaml:"listing"`
	Detail  Detail        `yaml:"detail"`
	// Kind is KindAds (default) or KindReviews: a buyer review forum whose
	// thread pages (detail.match) are read with Reviews (reviews.go).
	Kind    string        `yaml:"kind"`
	Reviews ReviewsConfig `yaml:"reviews"`
	// Revisit says what a re-crawl may skip (revisit.go).
	Revisit Revisit `yaml:"revisit"`

	// File is the path the config was loaded from; Hash is the SHA-256 of
	// its bytes, recorded with every crawl run as provenance.
	File string `yaml:"-"`
	Hash string `yaml:"-"`

	listingRe *regexp.Regexp
	detailRe  *regexp.Regexp
	idRe      *regexp.Regexp // detail.id.regex, else detailRe
	idGroup   int            // its group named id, 0 when none
	// detailGroup is detail.match's group named id, 0 when none.
	detailGroup int
	lines       map[string]int // field path → line, for errors found after decoding
}

// Limits bound one crawl of an arena.
type Limits struct {
	MaxPages    int      `yaml:"max_pages"`
	MaxDepth    int      `yaml:"max_depth"`
	Concurrency int      `yaml:"concurrency"`
	Delay       Duration `yaml:"delay"`
	Timeout     Duration `yaml:"timeout"`
	MaxBody     ByteSize `yaml:"max_body"`
	MaxImages   int      `yaml:"max_images"`
}

// CanonicalRules extend the built-in canonical URL rules for one arena.
type CanonicalRules struct {
	// DropParams are query parameters that never identify content on
	// this arena (session ids, list positions), dropped from links like
	// utm_* and fbclid are everywhere; a trailing "*" matches every
	// parameter starting with the rest ("pos_*").
	DropParams []string `yaml:"drop_params"`
}

// Listing describes listing (index) pages.
type Listing struct {
	Match string `yaml:"match"`
	// Format is "html" (default): Links and Next are CSS selectors of
	// links; or "json": they are gjson paths to URLs, or to ids and
	// cursors put into LinkTemplate and NextTemplate (json.go).
	Format       string `yaml:"format"`
	Links        string `yaml:"links"`
	Next         string `yaml:"next"`
	LinkTemplate string `yaml:"link_template"`
	NextTemplate string `yaml:"next_template"`
	// Paging pages the listing by a query parameter (follow.go).
	Paging Paging `yaml:"paging"`
	// Items is, for a JSON listing that holds whole adverts, the path to
	// their array: Links is then read inside each item, and the item is
	// the advert's page (json.go).
	Items string `yaml:"items"`
}

// Detail describes advert pages.
type Detail struct {
	Match string `yaml:"match"`
	// Format is "html" (default) or "json": the fields then read gjson
	// paths instead of CSS selectors.
	Format string `yaml:"format"`
	// FetchURL, when set, is what is fetched for an advert page instead of
	// its URL: {} is the advert key (an XHR endpoint, json.go).
	FetchURL string `yaml:"fetch_url"`
	// Links is a CSS selector of links on advert pages to follow
	// ("similar adverts", "more from this agency"): adverts and listing
	// pages, within limits.max_depth (follow.go). On a JSON advert
	// (format: json) it is a gjson path to URLs, or to ids put into
	// LinkTemplate.
	Links        string `yaml:"links"`
	LinkTemplate string `yaml:"link_template"`
	// ID says how an advert is identified when one advert has several
	// URLs (follow.go).
	ID     AdvertID         `yaml:"id"`
	Fields map[string]Field `yaml:"fields"`
	Images Field            `yaml:"images"`
	Attrs  map[string]Field `yaml:"attrs"`
}

// Field says how to read one value from a page. In YAML it is a map or a
// list of maps, ordered alternatives (field.go).
type Field struct {
	Selector string `yaml:"selector"`
	// Path is a gjson path: on a JSON page the value's place in the
	// document; with a selector, read in the selected element's text.
	Path  string `yaml:"path"`
	Attr  string `yaml:"attr"`
	Regex string `yaml:"regex"`
	All   bool   `yaml:"all"`
	// Transform lists transforms applied in order to each value after
	// Regex (see Transforms and docs/ARENA-CONFIG.md).
	Transform []string `yaml:"transform"`
	// Alternatives are the field's ordered alternatives when it was
	// written as a list; the fields above are then empty.
	Alternatives []Field `yaml:"-"`

	sel        cascadia.Selector
	re         *regexp.Regexp
	transforms []transformFunc
}

// KnownFields are the advert fields a detail config may extract.
var KnownFields = []string{"title", "body", "name", "age", "city", "region", "gender", "posted_at", "phones"}

// Duration is a time.Duration written as "250ms", "2s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return nodeError(n, "not a duration (like 250ms or 2s): %q", n.Value)
	}
	if v < 0 {
		return nodeError(n, "negative duration %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// String writes the duration as Go does ("250ms", "1s", "1m30s"), the form
// the config takes.
func (d Duration) String() string { return time.Duration(d).String() }

// ByteSize is a size written as 5MiB, 512KiB, 1000000.
type ByteSize int64

// UnmarshalYAML parses sizes with an optional KiB/MiB/GiB/KB/MB/GB suffix.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return nodeError(n, "%v", err)
	}
	*b = ByteSize(v)
	return nil
}

// String writes the size with the largest binary unit that divides it
// ("5MiB", "512KiB", "1000B"), the form the config takes.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.m == 0 {
			return strconv.FormatInt(int64(b)/u.m, 10) + u.suf
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// nodeError is an error at a YAML node, reported with its line.
func nodeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...))}}
}

// ParseByteSize parses "5MiB", "512KiB", "2MB" or a plain number of bytes.
func ParseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000}, {"GB", 1000_000_000}, {"B", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suf)), u.m
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<40)/mult {
		return 0, fmt.Errorf("not a byte size (like 5MiB): %q", s)
	}
	return v * mult, nil
}

// DefaultArenaConfig returns the defaults applied before a file is read.
func DefaultArenaConfig() ArenaConfig {
	return ArenaConfig{
		Kind:    KindAds,
		Robots:  "obey",
		Archive: "none",
		Fetch:   "http",
		Browser: DefaultBrowserConfig(),
		Listing: Listing{Format: "html"},
		Detail:  Detail{Format: "html", ID: AdvertID{From: "redirect"}},
		Revisit: Revisit{Listings: RevisitFetch, Refresh: Duration(7 * 24 * time.Hour)},
		Limits: Limits{
			MaxPages:    10000,
			MaxDepth:    100,
			Concurrency: 2,
			Delay:       Duration(250 * time.Millisecond),
			Timeout:     Duration(20 * time.Second),
			MaxBody:     5 << 20,
			MaxImages:   8,
		},
	}
}

// ConfigError is an error in a config file, naming file, line and field.
type ConfigError = configs.Error

// LoadArena reads and validates an arena config file.
func LoadArena(path string) (*ArenaConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Err: err}
	}
	return ParseArena(path, data)
}

// ParseArena parses and validates an arena config; name is used in errors.
func ParseArena(name string, data []byte) (*ArenaConfig, error) {
	cfg := DefaultArenaConfig()
	cfg.File = name
	sum := sha256.Sum256(data)
	cfg.Hash = hex.EncodeToString(sum[:])

	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, configs.SyntaxError(name, data, err)
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: name, Err: errors.New("empty config")}
	}
	cfg.lines = map[string]int{}
	if err := checkKeys(name, root.Content[0], "", "", schemaKeys(), cfg.lines); err != nil {
		return nil, err
	}
	if err := root.Content[0].Decode(&cfg); err != nil {
		ce := yamlError(name, err)
		for field, line := range cfg.lines {
			if line == ce.Line && (ce.Field == "" || len(field) > len(ce.Field)) {
				ce.Field = field
			}
		}
		kind := yaml.ScalarNode
		if m := yamlTypeRe.FindStringSubmatch(ce.Err.Error()); m != nil && m[1] == "seq" {
			kind = yaml.SequenceNode
		} else if m != nil && m[1] == "map" {
			kind = yaml.MappingNode
		}
		if p := pathAtLine(root.Content[0], "", ce.Line, kind); p != "" {
			ce.Field = p // the value starts on a line of its own
		}
		ce.Err = errors.New(plainYAMLTypes(ce.Err.Error()))
		return nil, ce
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

var yamlLineRe = regexp.MustCompile(`line (\d+): (.*)`)

// pathAtLine returns the field path of the deepest mapping value of n of
// the kind that starts on line ("detail.fields.phones" for a list written
// below its key), "" when none.
func pathAtLine(n *yaml.Node, path string, line int, kind yaml.Kind) string {
	best := ""
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			full := k.Value
			if path != "" {
				full = path + "." + k.Value
			}
			if v.Line == line && v.Kind == kind && len(full) > len(best) {
				best = full
			}
			if p := pathAtLine(v, full, line, kind); len(p) > len(best) {
				best = p
			}
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			if p := pathAtLine(v, fmt.Sprintf("%s[%d]", path, i), line, kind); len(p) > len(best) {
				best = p
			}
		}
	}
	return best
}

// yamlTypeRe matches yaml.v3's "cannot unmarshal !!seq into crawler.Field".
var yamlTypeRe = regexp.MustCompile("cannot unmarshal !!(\\w+)(?: `([^`]*)`)? into (?:crawler\\.)?(\\S+)")

// plainYAMLTypes says yaml.v3's type errors in the config's words: "expected
// a field ({selector, attr, regex, all, transform}), got a list".
func plainYAMLTypes(msg string) string {
	return yamlTypeRe.ReplaceAllStringFunc(msg, func(m string) string {
		g := yamlTypeRe.FindStringSubmatch(m)
		got := map[string]string{"seq": "a list", "map": "a mapping", "str": "a string", "int": "a number", "float": "a number", "bool": "true/false"}[g[1]]
		if got == "" {
			got = g[1]
		}
		if g[3] == "Secret" {
			// Never echo what may be a credential.
			return "expected {env: VARIABLE} or {file: PATH}, got " + got + ": credentials are never written in the config"
		}
		if g[2] != "" {
			got += fmt.Sprintf(" (%s)", g[2])
		}
		want := map[string]string{
			"Field":    "a field: a mapping {selector, path, attr, regex, all, transform} or a list of them",
			"[]string": "a list of strings",
			"string":   "a string",
			"int":      "a whole number",
			"bool":     "true or false",
		}[g[3]]
		if want == "" {
			want = "a mapping"
			if strings.HasPrefix(g[3], "[]") {
				want = "a list"
			}
		}
		return fmt.Sprintf("expected %s, got %s", want, got)
	})
}

func yamlError(file string, err error) *ConfigError {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{File: file, Line: line, Err: errors.New(m[2])}
	}
	return &ConfigError{File: file, Err: err}
}

// schema lists the keys allowed at each path; "*" means any key, whose value
// follows the schema of the path with "*".
func schemaKeys() map[string][]string {
	field := []string{"selector", "path", "attr", "regex", "all", "transform"}
	keys := map[string][]string{
		"":                 {"name", "start_urls", "allowed_domains", "allow_private", "user_agent", "accept_language", "robots", "sitemaps", "archive", "schedule", "canonical", "limits", "fetch", "browser", "listing", "detail", "session", "kind", "reviews", "revisit"},
		"revisit":          {"listings", "refresh"},
		"browser":          {"tabs", "pages", "wait_for", "idle", "timeout", "block", "hosts", "scroll"},
		"browser.wait_for": {"listing", "detail"},
		"canonical":        {"drop_params"},
		"limits":           {"max_pages", "max_depth", "concurrency", "delay", "timeout", "max_body", "max_images"},
		"listing":          {"match", "format", "links", "next", "link_template", "next_template", "items", "paging"},
		"listing.paging":   {"param", "step", "cursor", "attr"},
		"detail":           {"match", "format", "fetch_url", "links", "link_template", "id", "fields", "images", "attrs"},
		"detail.id":        {"regex", "from"},
		"detail.fields":    KnownFields,
		"detail.fields.*":  field,
		"detail.images":    field,
		"detail.attrs":     {"*"},
		"detail.attrs.*":   field,
	}
	for k, v := range sessionKeys() {
		keys[k] = v
	}
	for k, v := range reviewsKeys(field) {
		keys[k] = v
	}
	return keys
}

// checkKeys rejects unknown keys (a typo must not silently disable a field)
// and records the line of every field path. path is the field path in the
// file ("detail.fields.age"), spath its schema path ("detail.fields.*").
func checkKeys(file string, n *yaml.Node, path, spath string, schema map[string][]string, lines map[string]int) error {
	allowed, ok := schema[spath]
	if ok && n.Kind == yaml.SequenceNode {
		// A list of mappings where the schema describes one mapping: a
		// field's alternatives, session.cookies. Each item is checked as
		// the mapping would be ("detail.fields.phones[1].attr").
		for i, e := range n.Content {
			lines[fmt.Sprintf("%s[%d]", path, i)] = e.Line
			if err := checkKeys(file, e, fmt.Sprintf("%s[%d]", path, i), spath, schema, lines); err != nil {
				return err
			}
		}
		return nil
	}
	if !ok || n.Kind != yaml.MappingNode {
		return nil
	}
	anyKey := len(allowed) == 1 && allowed[0] == "*"
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		full, sfull := k.Value, k.Value
		if path != "" {
			full, sfull = path+"."+k.Value, spath+"."+k.Value
		}
		lines[full] = k.Line
		if !anyKey && !contains(allowed, k.Value) {
			return &ConfigError{File: file, Line: k.Line, Field: full, Err: fmt.Errorf("unknown field (allowed: %s)", strings.Join(allowed, ", "))}
		}
		if _, ok := schema[sfull]; !ok {
			sfull = spath + ".*"
		}
		if err := checkKeys(file, v, full, sfull, schema, lines); err != nil {
			return err
		}
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Validate checks the config without I/O and compiles its selectors and
// patterns. Errors carry the field path and, when known, the line. The
// checks run crawl, limits, pages (detail, then listing), fields, and the
// first error is returned.
func (c *ArenaConfig) Validate() error {
	for _, check := range []func() error{c.validateCrawl, c.validateLimits, c.validatePages, c.validateKind, c.validateFields, c.validateSession, c.validateBrowser, c.validateRevisit} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// bad returns a ConfigError for field, with its line when known.
func (c *ArenaConfig) bad(field string, format string, args ...any) error {
	return &ConfigError{File: c.File, Line: c.line(field), Field: field, Err: fmt.Errorf(format, args...)}
}

// validateCrawl checks what and how to crawl: name, start URLs, robots,
// archive, schedule and URL canonicalisation.
func (c *ArenaConfig) validateCrawl() error {
	if !nameRe.MatchString(c.Name) {
		return c.bad("name", "must be 1-63 lower-case letters, digits, - or _ (got %q)", c.Name)
	}
	if len(c.StartURLs) == 0 {
		return c.bad("start_urls", "at least one start URL is required")
	}
	for i, s := range c.StartURLs {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.bad(fmt.Sprintf("start_urls[%d]", i), "not an absolute http(s) URL: %q", s)
		}
	}
	for _, h := range []struct{ path, v string }{{"user_agent", c.UserAgent}, {"accept_language", c.AcceptLanguage}} {
		for _, r := range h.v {
			if r < ' ' || r > '~' {
				return c.bad(h.path, "must be printable ASCII on one line (got %q)", h.v)
			}
		}
	}
	switch c.Robots {
	case "obey", "ignore":
	default:
		return c.bad("robots", "must be obey or ignore (got %q)", c.Robots)
	}
	for i, s := range c.Sitemaps {
		if s == "robots" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.bad(fmt.Sprintf("sitemaps[%d]", i), "not robots or an absolute http(s) URL: %q", s)
		}
		if !c.hostAllowed(u.Host) {
			return c.bad(fmt.Sprintf("sitemaps[%d]", i), "%s is not one of the arena's hosts (start_urls, allowed_domains)", u.Host)
		}
	}
	switch c.Archive {
	case "none", "warc":
	default:
		return c.bad("archive", "must be none or warc (got %q)", c.Archive)
	}
	if c.Schedule != "" {
		if _, err := ParseSchedule(c.Schedule); err != nil {
			return c.bad("schedule", "%v", err)
		}
	}
	for i, p := range c.Canonical.DropParams {
		name := strings.TrimSuffix(p, "*")
		if name == "" || strings.ContainsAny(name, "*?&=#/ \t") {
			return c.bad(fmt.Sprintf("canonical.drop_params[%d]", i), "not a query parameter name (optionally ending in *): %q", p)
		}
	}
	return nil
}

// validateLimits checks the limits section's ranges.
func (c *ArenaConfig) validateLimits() error {
	l := c.Limits
	switch {
	case l.MaxPages < 1 || l.MaxPages > 100_000_000:
		return c.bad("limits.max_pages", "must be between 1 and 100000000 (got %d)", l.MaxPages)
	case l.MaxDepth < 1 || l.MaxDepth > 1_000_000:
		return c.bad("limits.max_depth", "must be between 1 and 1000000 (got %d)", l.MaxDepth)
	case l.Concurrency < 1 || l.Concurrency > 256:
		return c.bad("limits.concurrency", "must be between 1 and 256 (got %d)", l.Concurrency)
	case time.Duration(l.Delay) > time.Hour:
		return c.bad("limits.delay", "longer than an hour")
	case time.Duration(l.Timeout) < time.Millisecond || time.Duration(l.Timeout) > 10*time.Minute:
		return c.bad("limits.timeout", "must be between 1ms and 10m")
	case l.MaxBody < 1024 || l.MaxBody > 1<<30:
		return c.bad("limits.max_body", "must be between 1KiB and 1GiB")
	case l.MaxImages < 0 || l.MaxImages > 100:
		return c.bad("limits.max_images", "must be between 0 and 100 (got %d)", l.MaxImages)
	}
	return nil
}

// validatePages compiles the listing and detail URL patterns and the
// listing's link selectors.
func (c *ArenaConfig) validatePages() error {
	var err error
	if c.listingRe, err = compileRe(c.Listing.Match); err != nil || c.Listing.Match == "" {
		if err == nil {
			err = errors.New("required")
		}
		return c.bad("listing.match", "%v", err)
	}
	if c.detailRe, err = compileRe(c.Detail.Match); err != nil || c.Detail.Match == "" {
		if err == nil {
			err = errors.New("required")
		}
		return c.bad("detail.match", "%v", err)
	}
	if c.detailRe.NumSubexp() < 1 && c.Detail.ID.Regex == "" {
		return c.bad("detail.match", "needs a capture group for the arena's advert key (or set detail.id.regex)")
	}
	for _, f := range []struct{ path, v string }{{"listing.format", c.Listing.Format}, {"detail.format", c.Detail.Format}} {
		if f.v != "html" && f.v != "json" {
			return c.bad(f.path, "must be html or json (got %q)", f.v)
		}
	}
	if err := c.validateFetchURL(); err != nil {
		return err
	}
	if err := c.validateID(); err != nil {
		return err
	}
	if err := c.validateDetailLinks(); err != nil {
		return err
	}
	if c.Listing.Format == "json" {
		if c.Listing.Paging.Cursor != "" {
			return c.bad("listing.paging.cursor", "a JSON listing reads its cursor with listing.next (and next_template), not a CSS selector")
		}
		return c.validateJSONListing()
	}
	if c.Listing.LinkTemplate != "" || c.Listing.NextTemplate != "" || c.Listing.Items != "" {
		return c.bad("listing.format", "link_template, next_template and items need listing.format: json")
	}
	if c.Listing.Links == "" {
		return c.bad("listing.links", "required: CSS selector of links to adverts")
	}
	for _, f := range []struct {
		path, sel string
	}{{"listing.links", c.Listing.Links}, {"listing.next", c.Listing.Next}, {"listing.paging.cursor", c.Listing.Paging.Cursor}} {
		if f.sel == "" {
			continue
		}
		if _, err := cascadia.Compile(f.sel); err != nil {
			return c.bad(f.path, "bad CSS selector %q: %v", f.sel, err)
		}
	}
	return nil
}

// validateFields compiles the detail page's fields, images and attrs.
func (c *ArenaConfig) validateFields() error {
	if c.Kind == KindReviews {
		return nil // validateKind checked the reviews section
	}
	if _, ok := c.Detail.Fields["title"]; !ok {
		if _, ok := c.Detail.Fields["body"]; !ok {
			return c.bad("detail.fields", "needs at least title or body")
		}
	}
	for name, f := range c.Detail.Fields {
		if !contains(KnownFields, name) {
			return c.bad("detail.fields."+name, "unknown field (known: %s; put others under detail.attrs)", strings.Join(KnownFields, ", "))
		}
		if err := f.compile(c.Detail.Format); err != nil {
			return c.bad("detail.fields."+name+err.sub, "%v", err.err)
		}
		c.Detail.Fields[name] = f
	}
	if c.Detail.Images.Configured() {
		c.Detail.Images.All = true // every matching image, as documented
		for i := range c.Detail.Images.Alternatives {
			c.Detail.Images.Alternatives[i].All = true
		}
		if err := c.Detail.Images.compile(c.Detail.Format); err != nil {
			return c.bad("detail.images"+err.sub, "%v", err.err)
		}
	}
	for name, f := range c.Detail.Attrs {
		if err := f.compile(c.Detail.Format); err != nil {
			return c.bad("detail.attrs."+name+err.sub, "%v", err.err)
		}
		c.Detail.Attrs[name] = f
	}
	return nil
}

func (c *ArenaConfig) line(field string) int {
	for f := field; f != ""; {
		if l, ok := c.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

func compileRe(s string) (*regexp.Regexp, error) {
	if s == "" {
		return nil, nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("bad regex %q: %v", s, err)
	}
	return re, nil
}

// fieldError is an error in one key of a field; sub is its path below the
// field (".regex", ".transform[1]").
type fieldError struct {
	sub string
	err error
}

// Rebase points the config's start URLs, sitemap and login URLs and allowed domains at base
// (scheme://host:port), keeping paths. The demo uses it to crawl its arenas on
// whatever port they were given.
func (c *ArenaConfig) Rebase(base string) error {
	b, err := url.Parse(base)
	if err != nil || b.Host == "" {
		return fmt.Errorf("rebase %s: bad base URL %q", c.Name, base)
	}
	for i, s := range c.StartURLs {
		u, _ := url.Parse(s)
		u.Scheme, u.Host = b.Scheme, b.Host
		c.StartURLs[i] = u.String()
	}
	for i, s := range c.Sitemaps {
		if u, err := url.Parse(s); err == nil && s != "robots" {
			u.Scheme, u.Host = b.Scheme, b.Host
			c.Sitemaps[i] = u.String()
		}
	}
	if u, err := url.Parse(c.Session.Login.URL); err == nil && u.IsAbs() {
		u.Scheme, u.Host = b.Scheme, b.Host
		c.Session.Login.URL = u.String()
	}
	c.AllowedDomains = nil
	return nil
}

// Hosts returns the hosts (host[:port]) the crawl may visit.
func (c *ArenaConfig) Hosts() []string {
	if len(c.AllowedDomains) > 0 {
		return c.AllowedDomains
	}
	var hosts []string
	for _, s := range c.StartURLs {
		u, _ := url.Parse(s)
		if !contains(hosts, u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}
