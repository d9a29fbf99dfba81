package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"adcensus/index"
	"adcensus/internal/contact"
	"adcensus/internal/synthetic/demoarena"
	"adcensus/pipeline"
	"adcensus/web/auth"
)

// mustNATS starts a NATS server with JetStream listening on 127.0.0.1 (a
// stand-in for a cluster: the processes reach it by URL), stopped when the
// test ends, and returns its URL.
func mustNATS(tb testing.TB) string {
	tb.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: tb.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		tb.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats not ready")
	}
	tb.Cleanup(ns.Shutdown)
	return ns.ClientURL()
}

// dataDirs returns n data directories sharing one pseudonymisation key,
// as deploy/README.md has the key distributed.
func dataDirs(tb testing.TB, n int) []string {
	tb.Helper()
	var dirs []string
	var key []byte
	for i := range n {
		d := tb.TempDir()
		if i == 0 {
			k, err := contact.LoadOrCreateKey(d)
			if err != nil {
				tb.Fatal(err)
			}
			key = k
		} else if err := os.WriteFile(filepath.Join(d, contact.KeyFile), key, 0o600); err != nil {
			tb.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// stageProc is one in-process stand-in for an 'adcensus stages' process.
type stageProc struct {
	n      *node
	cancel context.CancelFunc
}

func startProc(tb testing.TB, url, dir string, rs []string, replica string) *stageProc {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := openNode(ctx, nodeOptions{DataDir: dir, NATSURL: url, Logger: testLogger(),
		Roles: rs, Replica: replica, Stream: streamSettings{LeaseTTL: 4 * time.Second}})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	n.startStages(ctx)
	p := &stageProc{n: n, cancel: cancel}
	tb.Cleanup(p.stop)
	return p
}

// stop stops the process cleanly (the cluster writer releases its lease).
func (p *stageProc) stop() {
	p.cancel()
	p.n.Close()
}

// crash stops the process as kill -9 would as far as NATS can tell: its
// connection is gone without a goodbye, and its lease stays until it
// expires.
func (p *stageProc) crash() {
	p.n.bus.Close()
	p.cancel()
	p.n.Close()
}

func mustCounts(tb testing.TB, ix index.Store) (ads, persons, networks int) {
	tb.Helper()
	rows, err := ix.Counts(context.Background(), []string{"arena"}, index.CountOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	_, _, networks, err = ix.Stats(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range rows {
		if r.Total {
			return r.Ads, r.Persons, networks
		}
	}
	tb.Fatal("no total row")
	return
}

// The demo crawled into a NATS server by a crawl-only run, with the stages
// as separate processes: two fingerprint workers, two cluster processes
// (the writer is crashed in the middle of the crawl and the standby takes
// over by lease) and two index replicas. Both replicas count the demo's
// truth, and every assignment they hold is of the current writer.
func TestScaleOutFailoverCountsRight(t *testing.T) {
	url := mustNATS(t)
	corpus := demoarena.Generate(demoarena.DefaultSeed)
	demo, err := demoarena.Start(context.Background(), corpus)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	arenas, err := demoArenas(demo)
	if err != nil {
		t.Fatal(err)
	}
	dirs := dataDirs(t, 7)
	startProc(t, url, dirs[0], []string{"fingerprint"}, "")
	startProc(t, url, dirs[1], []string{"fingerprint"}, "")
	writer := startProc(t, url, dirs[2], []string{"cluster"}, "")
	waitFor(t, "the first cluster process holds the lease", func() bool {
		h, err := writer.n.bus.LeaseHolder(context.Background(), pipeline.LeaseCluster)
		return err == nil && h != nil && h.Holder == writer.n.id && h.Epoch > 0
	})
	standby := startProc(t, url, dirs[3], []string{"cluster"}, "")
	ixA := startProc(t, url, dirs[4], []string{"index"}, "a")
	ixB := startProc(t, url, dirs[5], []string{"index"}, "b")

	crawled := make(chan error, 1)
	go func() {
		_, err := runPipeline(context.Background(), runOptions{DataDir: dirs[6], NATSURL: url, Arenas: arenas, Quiet: true,
			Roles: []string{roleCrawl}}, io.Discard, io.Discard)
		crawled <- err
	}()
	// Under load a writer may lose its lease on its own; the one holding
	// it once some adverts are clustered is crashed.
	waitFor(t, "some adverts clustered", func() bool {
		return writer.n.counters.Clustered.Load()+standby.n.counters.Clustered.Load() >= 20
	})
	h, err := writer.n.bus.LeaseHolder(context.Background(), pipeline.LeaseCluster)
	if err != nil || h == nil {
		t.Fatalf("no lease holder: %v", err)
	}
	if h.Holder == standby.n.id {
		writer, standby = standby, writer
	}
	writer.crash()
	select {
	case err := <-crawled:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(4 * time.Minute): // the race detector on a busy machine is slow
		_, cs, err := ixA.n.bus.Status(context.Background())
		t.Fatalf("crawl not processed after 4 minutes: %+v %v", cs, err)
	}
	h, err = standby.n.bus.LeaseHolder(context.Background(), pipeline.LeaseCluster)
	if err != nil || h == nil || h.Holder != standby.n.id {
		t.Fatalf("lease holder %+v (%v), want the standby %s", h, err, standby.n.id)
	}
	// 'adcensus status' says drained (exit 0) and names the new writer.
	var out, errb strings.Builder
	if err := Main(context.Background(), []string{"status", "--nats", url}, &out, &errb); err != nil {
		t.Fatalf("status: %v\n%s", err, out.String())
	}
	for _, want := range []string{"cluster writer: " + standby.n.id + ", epoch ", "index-a", "index-b", "drained: every stage"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, out.String())
		}
	}
	// The new writer's metrics say it writes, and show the consumers.
	rec := httptest.NewRecorder()
	stageMetrics{n: standby.n}.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`adcensus_cluster_writer{node="` + standby.n.id + `"} 1`, `adcensus_consumer_pending{consumer="index-a"} 0`,
		`adcensus_stage_processed_total{node="` + standby.n.id + `",stage="cluster"}`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, rec.Body.String())
		}
	}
	// Read while the replica's stage runs: through the API it serves,
	// with a researcher's token of the replica's access store.
	st, err := openAccess(ixB.n.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := st.CreateToken("export", []auth.Role{auth.Researcher}, time.Hour, "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ADCENSUS_TOKEN", tok)
	addr, stopAPI, err := ixB.n.serveAPI(context.Background(), "127.0.0.1:0", io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer stopAPI()
	out.Reset()
	if err := Main(context.Background(), []string{"export", "counts", "--from", "http://" + addr, "--format", "csv"}, &out, &errb); err != nil {
		t.Fatalf("export counts --from: %v", err)
	}
	if want := fmt.Sprintf("*,%d,%d", corpus.Ads(), corpus.Persons()); !strings.Contains(out.String(), want) {
		t.Errorf("export counts --from:\n%s\nwant a row %s", out.String(), want)
	}
	for name, p := range map[string]*stageProc{"a": ixA, "b": ixB} {
		ads, persons, networks := mustCounts(t, p.n.index)
		if ads != corpus.Ads() || persons != corpus.Persons() || networks != corpus.Networks() {
			t.Errorf("replica %s: %d ads / %d persons / %d networks, want %d / %d / %d", name, ads, persons, networks,
				corpus.Ads(), corpus.Persons(), corpus.Networks())
		}
	}
}

// A process whose key differs from the one the other processes of the
// NATS cluster use is refused with an error naming its key file.
func TestClusterRefusesAnotherKey(t *testing.T) {
	url := mustNATS(t)
	startProc(t, url, t.TempDir(), []string{"fingerprint"}, "")
	dir := t.TempDir()
	_, err := openNode(context.Background(), nodeOptions{DataDir: dir, NATSURL: url, Logger: newLogger(io.Discard, levelFor(true)),
		Roles: []string{"fingerprint"}})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, contact.KeyFile)) {
		t.Fatalf("err %v, want a refusal naming %s", err, filepath.Join(dir, contact.KeyFile))
	}
}

// testLogger logs to stderr with ADCENSUS_TEST_LOG=1, else nowhere.
func testLogger() *slog.Logger {
	if os.Getenv("ADCENSUS_TEST_LOG") != "" {
		return newLogger(os.Stderr, slog.LevelDebug)
	}
	return newLogger(io.Discard, levelFor(true))
}

func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("not true after a minute: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
