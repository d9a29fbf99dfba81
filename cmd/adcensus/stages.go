package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"adcensus/crawler"
	"adcensus/internal/stats/mse"
	"adcensus/web/api"
	"adcensus/web/audit"
)

const stagesUsage = `usage: adcensus stages --only ROLES --nats URL [--data DIR] [--config FILE] [--replica ID] [--schedule]

Runs some roles of the pipeline as one process against a NATS cluster
(deploy/README.md). ROLES is a comma-separated list of:
  crawl        the crawlers (needs --config): crawl every arena once, then
               with --schedule on the arenas' schedules; without other roles
               and without --schedule the process exits after the crawl
  fingerprint  any number of processes share the work
  cluster      one writer by lease; further cluster processes are standbys
               that take over within seconds when the writer stops
  index        an index replica (its own consumer, named by --replica)
The process exits non-zero when one of its stages fails (so a supervisor
restarts it), and 0 when interrupted.`

// cmdStages runs chosen roles against a NATS server until interrupted or
// until a stage fails: the scale-out form (see deploy/README.md).
func cmdStages(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stages", stderr)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), stagesUsage); fs.PrintDefaults() }
	dataDir := fs.String("data", "./data", "data directory (key, node id, and the state of the roles run)")
	natsURL := fs.String("nats", "", "NATS URL (default: nats_url of --config, else embedded, which only makes sense for all roles in one process)")
	only := fs.String("only", strings.Join(allStages, ","), "comma-separated roles to run: "+strings.Join(roles, ", ")+", or all")
	cfgPath := fs.String("config", "", "main config (arenas for the crawl role; stream settings)")
	replica := fs.String("replica", "", "this index replica's id, which names its consumer (default: the data directory's node id)")
	schedule := fs.Bool("schedule", false, "crawl role: after the first crawl, crawl each arena on its schedule until interrupted")
	metricsAddr := fs.String("metrics", "", "serve this process's metrics (stages, consumers, writer lease, crawler) in the Prometheus text format at http://ADDR/metrics")
	serveAddr := fs.String("serve", "", "index role: also serve the API (docs/API.md) on ADDR from this process's index while it is written (the index files are locked by the writer, so 'adcensus serve' cannot open them)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	rs, err := parseRoles(*only)
	if err != nil {
		return err
	}
	if err := validReplica(*replica); err != nil {
		return err
	}
	if *serveAddr != "" && !slices.Contains(rs, "index") {
		return usageError{"--serve needs the index role"}
	}
	o := runOptions{Now: time.Now, Schedule: *schedule, Roles: rs, Replica: *replica}
	if *cfgPath != "" {
		cfg, arenas, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		o.Arenas, o.Stream = arenas, cfg.Stream
		if *natsURL == "" {
			*natsURL = cfg.NATSURL
		}
	} else if slices.Contains(rs, roleCrawl) {
		return usageError{"the crawl role needs --config FILE (its arenas)"}
	}
	o.NATSURL, o.DataDir, o.Quiet = *natsURL, *dataDir, true
	n, err := openNode(ctx, nodeOptions{DataDir: *dataDir, NATSURL: *natsURL, Logger: newLogger(stderr, slog.LevelInfo),
		Roles: rs, Replica: *replica, Stream: o.Stream, API: *serveAddr})
	if err != nil {
		return err
	}
	defer n.Close()
	if *metricsAddr != "" {
		o.Metrics = crawler.NewMetrics()
		sm := stageMetrics{n: n}
		if n.has(roleCrawl) {
			sm.crawler = o.Metrics
		}
		stop, err := serveStageMetrics(ctx, *metricsAddr, sm, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *serveAddr != "" {
		_, stop, err := n.serveAPI(ctx, *serveAddr, stdout, stderr)
		if err != nil {
			return err
		}
		defer stop()
	}
	n.startStages(ctx)
	fmt.Fprintf(stdout, "%s: running %s (Ctrl-C to stop)\n", n.id, strings.Join(rs, ", "))
	stagesDone := make(chan error, 1)
	if g := n.group; g != nil && len(n.started) > 0 {
		go func() { stagesDone <- g.Wait() }()
	}
	if n.has(roleCrawl) {
		if err := n.crawlRole(ctx, o, stdout, stderr); err != nil {
			return err
		}
		if len(rs) == 1 && !*schedule {
			return n.Close()
		}
	}
	select {
	case <-ctx.Done():
	case err := <-stagesDone:
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("stage failed: %w", err)
		}
	}
	return n.Close()
}

// crawlRole crawls every arena once and, with o.Schedule, then on the
// schedules until ctx is cancelled.
func (n *node) crawlRole(ctx context.Context, o runOptions, stdout, stderr io.Writer) error {
	runs, prog, err := n.crawlAll(ctx, o, stderr, time.Now())
	if err != nil {
		return err
	}
	prog.stop()
	printRuns(stdout, runs)
	if !o.Schedule {
		return nil
	}
	err = scheduleCrawls(ctx, n, o, stdout)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// serveAPI serves the HTTP API on the node's index at addr until stop is
// called: reads from the process that writes the index.
func (n *node) serveAPI(ctx context.Context, addr string, stdout, stderr io.Writer) (bound string, stop func(), err error) {
	logger := newLogger(stderr, slog.LevelInfo).With("cmd", "stages", "api", addr)
	// The same access store and audit log as 'adcensus serve': every
	// request needs a token or session of the data directory's users.
	st, err := openAccess(n.dataDir)
	if err != nil {
		return "", nil, err
	}
	h, err := api.New(n.index, n.index, api.Options{
		Logger:         logger,
		Provenance:     serialProvenance(n.dataDir, n.index),
		Periods:        apiPeriods(n.dataDir, n.index, n.census),
		PeriodDocs:     apiPeriodDocs(n.dataDir, n.index, n.census),
		ReviewFlags:    apiReviewFlags(n.dataDir, n.index, logger),
		DefaultMinCell: api.DefaultMinCell,
		MinCellFloor:   api.DefaultMinCell,
		MSE:            mse.Options{Replicates: 1000},
		RequestTimeout: serveRequestTimeout,
		Auth:           st,
		Audit:          audit.Open(n.dataDir),
	})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("serve: %w", err)
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
	fmt.Fprintf(stdout, "serving the API on http://%s/api/ from this index replica\n", ln.Addr())
	go srv.Serve(ln)
	return ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdownWait)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}, nil
}
