package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"adcensus/crawler"
)

// stageMetrics serves a stage process's metrics in the Prometheus text
// format: what its stages processed and rejected, dead letters, whether it
// is the cluster writer, every consumer's backlog as the stream reports
// it, and (with the crawl role) the crawler's metrics.
type stageMetrics struct {
	n       *node
	crawler *crawler.Metrics // nil without the crawl role
}

func (m stageMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	metric := func(name, kind, help string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind) }
	c := &m.n.counters
	metric("adcensus_stage_processed_total", "counter", "Messages processed by this process's stages.")
	for _, s := range []struct {
		stage string
		v     int64
	}{{"fingerprint", c.Fingerprinted.Load()}, {"cluster", c.Clustered.Load()}, {"index", c.Indexed.Load()}} {
		if m.n.has(s.stage) {
			fmt.Fprintf(&b, "adcensus_stage_processed_total{node=%q,stage=%q} %d\n", m.n.id, s.stage, s.v)
		}
	}
	metric("adcensus_stage_rejected_total", "counter", "Malformed messages set aside on adcensus.errors.")
	fmt.Fprintf(&b, "adcensus_stage_rejected_total{node=%q} %d\n", m.n.id, c.Rejected.Load())
	metric("adcensus_stage_dead_letters_total", "counter", "Messages set aside on adcensus.dlq after failing every delivery.")
	fmt.Fprintf(&b, "adcensus_stage_dead_letters_total{node=%q} %d\n", m.n.id, m.n.bus.DeadLettered.Load())
	if m.n.has("cluster") {
		metric("adcensus_cluster_writer", "gauge", "1 while this process holds the cluster writer's lease.")
		v := 0
		if m.n.writing.Load() {
			v = 1
		}
		fmt.Fprintf(&b, "adcensus_cluster_writer{node=%q} %d\n", m.n.id, v)
	}
	if ix := m.n.indexStage.Load(); ix != nil {
		metric("adcensus_index_fenced_total", "counter", "Assignments dropped as published by a cluster writer whose lease had ended.")
		fmt.Fprintf(&b, "adcensus_index_fenced_total{node=%q} %d\n", m.n.id, ix.Fenced.Load())
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, cs, err := m.n.bus.Status(ctx); err == nil {
		metric("adcensus_consumer_pending", "gauge", "Messages not yet delivered to the consumer.")
		for _, s := range cs {
			fmt.Fprintf(&b, "adcensus_consumer_pending{consumer=%q} %d\n", s.Name, s.Pending)
		}
		metric("adcensus_consumer_ack_pending", "gauge", "Messages delivered to the consumer and not yet acknowledged.")
		for _, s := range cs {
			fmt.Fprintf(&b, "adcensus_consumer_ack_pending{consumer=%q} %d\n", s.Name, s.AckPending)
		}
		metric("adcensus_consumer_redelivered", "gauge", "Messages delivered more than once and not yet acknowledged.")
		for _, s := range cs {
			fmt.Fprintf(&b, "adcensus_consumer_redelivered{consumer=%q} %d\n", s.Name, s.Redelivered)
		}
	}
	w.Header().Set("Content-Type", crawler.ContentType)
	w.Write(b.Bytes())
	if m.crawler != nil {
		m.crawler.WriteTo(w)
	}
}

// serveStageMetrics serves m at http://addr/metrics until stop is called.
func serveStageMetrics(ctx context.Context, addr string, m http.Handler, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}, nil
}
