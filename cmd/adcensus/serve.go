package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"adcensus/index"
	"adcensus/index/overlap"
	"adcensus/internal/stats/mse"
	"adcensus/web/api"
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
	serveMaxHeaderBytes = 64 << 10
)

// cmdServe serves the HTTP API (web/api) on the index of a data directory
// until ctx is cancelled. The index is opened read-write, so it must not be
// in use by a running 'adcensus run'.
//
// Shutdown order: ctx cancelled → stop accepting and let in-flight requests
// finish (at most serveShutdownWait, then they are cut) → close the index.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	minCellFloor := fs.Int("min-cell-floor", api.DefaultMinCell, "refuse requests for min_cell below this (0: clients may turn suppression off)")
	replicates := fs.Int("replicates", 1000, "bootstrap replicates of the overlap estimate (0: none, no interval)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *minCellFloor < 0 {
		return usageError{"--min-cell-floor must be 0 or more"}
	}
	logger := newLogger(stderr, slog.LevelInfo).With("cmd", "serve")
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	h := api.New(ix, ix, api.Options{
		Logger:         logger,
		Provenance:     serialProvenance(*dataDir, ix),
		DefaultMinCell: max(api.DefaultMinCell, *minCellFloor),
		MinCellFloor:   *minCellFloor,
		MSE:            mse.Options{Replicates: bootstrapReplicates(*replicates)},
		RequestTimeout: serveRequestTimeout,
	})
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
	fmt.Fprintf(stdout, "serving the API on http://%s/api/ (description: /api/openapi.json)\n", ln.Addr())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
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
	format := fs.String("format", "text", "text or json")
	minCell := fs.Int("min-cell", 5, "suppress counts from 1 to this minus 1 (0: no suppression)")
	replicates := fs.Int("replicates", 1000, "bootstrap replicates of the estimate (0: none, no interval)")
	seed := fs.Uint64("seed", 0, "bootstrap seed")
	noEstimate := fs.Bool("no-estimate", false, "skip the multiple-systems estimate")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	o, err := overlap.Compute(ctx, ix)
	if err != nil {
		return err
	}
	rep, err := overlap.NewReport(o, overlap.ReportOptions{
		MinCell: *minCell, NoEstimate: *noEstimate,
		MSE:        mse.Options{Replicates: bootstrapReplicates(*replicates), Seed: *seed},
		Provenance: provenance(ctx, *dataDir, ix),
	})
	if err != nil {
		return err
	}
	if *format == "json" {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}
