package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"adcensus/crawler"
	"adcensus/index"
	"adcensus/index/overlap"
	"adcensus/index/patterns"
	"adcensus/internal/stats/mse"
	"adcensus/web/api"
	"adcensus/web/app"
	"adcensus/web/audit"
)

// Server timeouts of 'adcensus serve'.
const (
	serveReadHeaderTimeout = 10 * time.Second
	serveReadTimeout       = 30 * time.Second
	// serveWriteTimeout leaves a request its whole api.Options
	// RequestTimeout plus time to write the answer.
	serveWriteTimeout   = serveRequestTimeout + 30*time.Second
	serveIdleTimeout    = 2 * time.Minute
	serveShutdownWait   = 15 * time.Second
	serveRequestTimeout = api.DefaultRequestTimeout
	// serveMaxHeaderBytes is Go's own limit (answered in plain text);
	// the API answers 431 in JSON from api.DefaultMaxHeaderBytes on.
	serveMaxHeaderBytes = 1 << 20
)

// cmdServe serves the HTTP API (web/api) on the index of a data directory
// until ctx is cancelled. The index is opened read-write, so it must not be
// in use by a running 'adcensus run'. It refuses to start while the access
// store has no user and no token (docs/ACCESS.md: the first admin), and to
// listen beyond loopback without TLS unless told --insecure-listen.
//
// Shutdown order: ctx cancelled → stop accepting and let in-flight requests
// finish (at most serveShutdownWait, then they are cut) → close the index.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address; beyond loopback it needs --tls-cert/--tls-key or --insecure-listen")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM) to serve HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM)")
	insecure := fs.Bool("insecure-listen", false, "allow plain HTTP on a non-loopback address (behind a TLS proxy only)")
	hosts := fs.String("host", "", "comma-separated host names clients use (Host header check against DNS rebinding; loopback names are always allowed)")
	cfgPath := fs.String("config", "", "main config whose access section (hosts, sessions, rate limit, OIDC) to use")
	minCellFloor := fs.Int("min-cell-floor", api.DefaultMinCell, "refuse requests for min_cell below this (0: clients may turn suppression off)")
	replicates := fs.Int("replicates", 1000, "bootstrap replicates of the overlap estimate (0: none, no interval)")
	proxies := fs.String("trusted-proxy", "", "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client")
	rateLimit := fs.Float64("rate-limit", api.DefaultRateLimit, "requests a second per token, user or address (negative: no limit)")
	hostPipeline := fs.Bool("pipeline", false, "host the pipeline (embedded NATS, the stages) for the arenas of --config in this process: operators start crawls in the web app and follow them live (docs/WEBAPP.md)")
	schedule := fs.Bool("schedule", false, "with --pipeline: also crawl each arena on its schedule, as 'run --schedule'")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: adcensus serve [--addr 127.0.0.1:8080] [--data DIR] [--tls-cert F --tls-key F] [--host NAME]\n\n"+
			"Serves the web app at / (docs/WEBAPP.md) and the JSON API at /api/ (docs/API.md).\n"+
			"Every API request needs a token or a session (docs/ACCESS.md): create the\n"+
			"first admin with 'adcensus user add NAME --role admin'.\n\n"+
			"With --pipeline --config CONFIG it also hosts the pipeline (as 'adcensus run'\n"+
			"does, sharing the index): operators start crawls of the config's arenas in\n"+
			"the web app and follow them live.\n\n")
		fs.PrintDefaults()
	}
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *minCellFloor < 0 {
		return usageError{"--min-cell-floor must be 0 or more"}
	}
	var access AccessConfig
	var arenas []*crawler.ArenaConfig
	var cfg *Config
	cfgDir := "."
	if *hostPipeline && *cfgPath == "" {
		return usageError{"--pipeline needs --config CONFIG: the arenas to crawl"}
	}
	if *schedule && !*hostPipeline {
		return usageError{"--schedule needs --pipeline: serve crawls only when it hosts the pipeline"}
	}
	if *cfgPath != "" {
		c, as, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		cfg = c
		if *hostPipeline && !flagGiven(fs, "data") && cfg.DataDir != "" {
			*dataDir = cfg.DataDir // as 'adcensus run'
		}
		if cfg.Access != nil {
			access = *cfg.Access
		}
		arenas = as
		cfgDir = filepath.Dir(*cfgPath)
	}
	lis, err := checkListen(*addr, *tlsCert, *tlsKey, *insecure, append(splitList(*hosts), access.Hosts...))
	if err != nil {
		return err
	}
	sessions, err := access.sessionOptions()
	if err != nil {
		return err
	}
	trusted, err := parsePrefixes(append(splitList(*proxies), access.TrustedProxies...))
	if err != nil {
		return usageError{"--trusted-proxy: " + err.Error()}
	}
	if access.RateLimit != 0 && !flagGiven(fs, "rate-limit") {
		*rateLimit = access.RateLimit
	}
	logger := newLogger(stderr, slog.LevelInfo).With("cmd", "serve")
	var ix index.Store
	var host *crawlHost
	if *hostPipeline {
		if host, err = openCrawlHost(ctx, *dataDir, cfg, arenas, logger); err != nil {
			return err
		}
		defer host.Close()
		ix = host.n.index
	} else {
		if ix, err = openIndex(*dataDir); err != nil {
			return err
		}
		defer ix.Close()
	}
	st, err := openAccess(*dataDir)
	if err != nil {
		return err
	}
	var oidc *api.OIDC
	if access.OIDC != nil {
		if oidc, err = access.OIDC.apiOIDC(ctx, cfgDir); err != nil {
			return err
		}
	}
	// With an identity provider, its users sign in; without one, somebody
	// must be in the access store.
	if empty, err := st.Empty(time.Now()); err != nil {
		return err
	} else if empty && oidc == nil {
		return fmt.Errorf("nobody can sign in: %s has no user and no token. Create the first admin with\n"+
			"  adcensus user add NAME --role admin --data %s\n(docs/ACCESS.md)", st.Path(), *dataDir)
	}
	ex := newExplainer(*dataDir)
	defer ex.Close()
	opts := api.Options{
		Logger:         logger,
		Provenance:     serialProvenance(*dataDir, ix),
		Periods:        apiPeriods(*dataDir, ix, nil),
		PeriodDocs:     apiPeriodDocs(*dataDir, ix, nil),
		ReviewFlags:    apiReviewFlags(*dataDir, ix, logger),
		DefaultMinCell: max(api.DefaultMinCell, *minCellFloor),
		MinCellFloor:   *minCellFloor,
		MSE:            mse.Options{Replicates: bootstrapReplicates(*replicates)},
		RequestTimeout: serveRequestTimeout,
		Auth:           st,
		Audit:          audit.Open(*dataDir),
		Sessions:       sessions,
		RateLimit:      *rateLimit,
		AllowedHosts:   lis.hosts,
		TLS:            lis.tls,
		TrustedProxies: trusted,
		Runs:           runsOf(*dataDir),
		Schedules:      schedulesOf(*dataDir, arenas),
		Patterns:       func() ([]*patterns.Pattern, error) { return loadPatterns("") },
		OIDC:           oidc,
		Explain:        ex.Func(),
		Changes:        apiChanges(*dataDir, ix, nil),
		Trend:          apiTrend(*dataDir, ix, nil),
		RunErrors:      runErrorsOf(*dataDir, nil),
		Seen:           newSeenCache(ex, ix, apiPeriodDocs(*dataDir, ix, nil)),
		App:            app.Handler(),
	}
	if host != nil {
		host.options(&opts, ex, logger)
	}
	h, err := api.New(ix, ix, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: serveReadHeaderTimeout,
		ReadTimeout:       serveReadTimeout,
		WriteTimeout:      serveWriteTimeout,
		IdleTimeout:       serveIdleTimeout,
		MaxHeaderBytes:    serveMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if lis.tls {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "serving the web app on %s://%s/ and the API on %s://%s/api/ (description: /api/openapi.json)\n",
		scheme, ln.Addr(), scheme, ln.Addr())
	if host != nil {
		fmt.Fprintf(stdout, "hosting the pipeline on %s: operators start crawls of %s at %s://%s/#/runs\n",
			*dataDir, strings.Join(host.Arenas(), ", "), scheme, ln.Addr())
		if *schedule {
			host.schedule(stdout)
		}
	}

	served := make(chan error, 1)
	go func() {
		if lis.tls {
			served <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served: // Serve failed before any shutdown
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), serveShutdownWait)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		logger.Warn("requests still running at shutdown: cut", "error", err)
		err = srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// serialProvenance returns provenance for the API, one call at a time:
// each opens crawl.db.
func serialProvenance(dataDir string, ix index.Store) func(context.Context) map[string]any {
	var mu sync.Mutex
	return func(ctx context.Context) map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return provenance(ctx, dataDir, ix)
	}
}

// cmdExportOverlap prints the arenas used and the overlap of persons between
// them, with small cells suppressed, and the multiple-systems estimate of
// the persons on no crawled arena (docs/OVERLAP.md).
func cmdExportOverlap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export overlap", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	format := fs.String("format", "text", "text, json, csv or csv-excel (one table with the persons seen, the estimate and the provenance; docs/OVERLAP.md)")
	minCell := fs.Int("min-cell", 5, "suppress counts from 1 to this minus 1 (0: no suppression)")
	replicates := fs.Int("replicates", 1000, "bootstrap replicates of the estimate (0: none, no interval)")
	seed := fs.Uint64("seed", 0, "bootstrap seed")
	noEstimate := fs.Bool("no-estimate", false, "skip the multiple-systems estimate")
	arenaList := fs.String("arena", "", "comma-separated arenas: the overlap and estimate of these arenas alone (default: every arena)")
	out := fs.String("out", "", "output file (default: standard output)")
	from := fs.String("from", "", "start of the period: a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year")
	pf := addPeriodFlags(fs, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	pq, err := pf.query(*from)
	if err != nil {
		return err
	}
	dialect, isCSV := index.CSVDialectOf(*format)
	if !isCSV && *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text, json, csv or csv-excel, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	arenas := splitList(*arenaList)
	if pf.api != "" {
		// The server computes the estimate with its own bootstrap settings.
		for _, f := range []string{"replicates", "seed", "no-estimate"} {
			if flagGiven(fs, f) {
				return usageError{"--" + f + " with --api: the server computes the estimate with its own settings"}
			}
		}
		v := url.Values{"format": {"json"}, "min_cell": {strconv.Itoa(*minCell)}}
		pf.values(v, *from)
		if len(arenas) > 0 {
			v.Set("arena", strings.Join(arenas, ","))
		}
		if *format != "text" {
			v.Set("format", *format)
			return writeOutput(stdout, *out, func(w io.Writer) error { return remoteGet(ctx, pf.api, "/api/overlap", v, w) })
		}
		var rep overlap.Report
		if err := remoteJSON(ctx, pf.api, "/api/overlap", v, &rep); err != nil {
			return err
		}
		return rep.WriteText(stdout)
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	src, err := periodSource(ctx, *dataDir, ix, pq)
	if err != nil {
		return err
	}
	o, err := overlap.Compute(ctx, overlap.OnArenas(src, arenas))
	if err != nil {
		return err
	}
	var within *overlap.Overlap
	if len(arenas) > 0 {
		if within, err = overlap.Compute(ctx, src); err != nil {
			return err
		}
		for _, a := range arenas {
			if !slices.Contains(o.Arenas, a) {
				return usageError{fmt.Sprintf("--arena %s: %q has no advert in the period (arenas with adverts: %s)", strings.Join(arenas, ","), a, strings.Join(within.Arenas, ", "))}
			}
		}
	}
	sd := seenCLI(ctx, stderr, *dataDir, src, arenas)
	opt := mse.Options{Replicates: bootstrapReplicates(*replicates), Seed: *seed}
	prov := periodProvenance(provenance(ctx, *dataDir, ix), pq)
	if len(arenas) > 0 {
		prov["arenas"] = arenas
	}
	ropt := overlap.ReportOptions{MinCell: *minCell, NoEstimate: *noEstimate, MSE: opt, Provenance: prov, Within: within}
	if sd != nil {
		ropt.Seen = sd.seen
	}
	rep, err := overlap.NewReport(o, ropt)
	if errors.Is(err, overlap.ErrDisclosive) {
		return fmt.Errorf("--arena %s: %w; ask with more arenas (--min-cell 0 only for a report that stays inside)", strings.Join(arenas, ","), err)
	}
	if err != nil {
		return err
	}
	if sd != nil && opt.Replicates > 0 {
		sd.combine(rep, opt)
	}
	auditRead(stderr, *dataDir, "export overlap", map[string]string{"min_cell": fmt.Sprint(*minCell), "arena": strings.Join(arenas, ",")}, len(rep.Histories))
	return writeOutput(stdout, *out, func(w io.Writer) error {
		switch {
		case isCSV:
			return rep.WriteCSVDialect(w, dialect)
		case *format == "json":
			return rep.WriteJSON(w)
		}
		return rep.WriteText(w)
	})
}
