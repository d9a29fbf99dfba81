package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"adcensus/ad"
	"adcensus/configs"
	"adcensus/crawler"
	"adcensus/index"
	"adcensus/internal/synthetic/demoarena"
	"adcensus/pipeline"
)

// Config is the main job's config (configs/adcensus.yaml), see docs/RUN.md.
type Config struct {
	DataDir string   `yaml:"data_dir"`
	NATSURL string   `yaml:"nats_url"`
	Arenas  []string `yaml:"arenas"`
	// Stream configures the stream on a NATS cluster (streamcfg.go).
	Stream streamSettings `yaml:"stream"`

	// Retention of personal data by class (retention.go, docs/PRIVACY.md).
	Retention RetentionConfig `yaml:"retention"`
	// Access configures 'adcensus serve --config' (cmd/adcensus/access.go).
	Access *AccessConfig `yaml:"access"`
}

// defaultConfigPath is the main config 'run' reads without --config.
const defaultConfigPath = "configs/adcensus.yaml"

// loadConfig reads the main config; arena paths are relative to its folder.
func loadConfig(path string) (*Config, []*crawler.ArenaConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no main config %s (give --config FILE; see docs/RUN.md): %w", path, err)
	}
	if err != nil {
		return nil, nil, err
	}
	cfg := Config{DataDir: "./data"}
	if err := configs.Decode(path, data, &cfg); err != nil {
		return nil, nil, err
	}
	if err := cfg.Stream.validate(path); err != nil {
		return nil, nil, err
	}
	if len(cfg.Arenas) == 0 {
		return nil, nil, &configs.Error{File: path, Field: "arenas", Err: errors.New("at least one arena config is required")}
	}
	if err := cfg.Retention.Validate(); err != nil {
		return nil, nil, &configs.Error{File: path, Err: err}
	}
	var arenas []*crawler.ArenaConfig
	seen := map[string]string{}
	for _, p := range cfg.Arenas {
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(path), p)
		}
		a, err := crawler.LoadArena(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: arenas: %w", path, err)
		}
		if prev, dup := seen[a.Name]; dup {
			return nil, nil, fmt.Errorf("%s: arenas: arena name %q used by both %s and %s", path, a.Name, prev, p)
		}
		seen[a.Name] = p
		arenas = append(arenas, a)
	}
	return &cfg, arenas, nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runCommand(ctx, args, stdout, stderr, time.Now)
}

// runCommand is cmdRun with the scheduler's clock given: tests start it
// just before a cron time instead of waiting for a real minute.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", defaultConfigPath, "main config file")
	dataDir := fs.String("data", "", "data directory (default: data_dir of the config)")
	natsURL := fs.String("nats", "", "external NATS URL (default: nats_url of the config, else embedded)")
	quiet := fs.Bool("quiet", false, "no progress line")
	warc := fs.String("warc", "", "archive every HTTP response as WARC in DIR (default: DATA/warc for arenas with archive: warc)")
	schedule := fs.Bool("schedule", false, "after the first crawl, keep running: crawl each arena on its schedule (see 'adcensus schedule') until interrupted")
	metricsAddr := fs.String("metrics", "", "serve crawler metrics in the Prometheus text format at http://ADDR/metrics")
	only := fs.String("only", "", "roles this process runs: all (default with the embedded server) or a list of crawl, fingerprint, cluster, index; with --nats the default is crawl: the stages run as their own processes ('adcensus stages')")
	replica := fs.String("replica", "", "with --nats and the index role: this index replica's id (default: the data directory's node id)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := validReplica(*replica); err != nil {
		return err
	}
	cfg, arenas, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir == "" {
		*dataDir = cfg.DataDir
	}
	if *natsURL == "" {
		*natsURL = cfg.NATSURL
	}
	if *only == "" {
		*only = "all"
		if *natsURL != "" {
			*only = roleCrawl
		}
	}
	rs, err := parseRoles(*only)
	if err != nil {
		return err
	}
	if !slices.Contains(rs, roleCrawl) {
		return usageError{"run always crawls: --only must include crawl (stages without crawling: 'adcensus stages --only …')"}
	}
	if *natsURL == "" && len(rs) != len(roles) {
		return usageError{"--only " + *only + " needs --nats URL: with the embedded server every role runs in this process"}
	}
	metrics := crawler.NewMetrics()
	if *metricsAddr != "" {
		stop, err := serveMetrics(ctx, *metricsAddr, metrics, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	_, err = runPipeline(ctx, runOptions{DataDir: *dataDir, NATSURL: *natsURL, Arenas: arenas, Quiet: *quiet,
		WARCDir: *warc, Metrics: metrics, Schedule: *schedule, Now: now, Roles: rs, Replica: *replica, Stream: cfg.Stream, Retention: cfg.Retention}, stdout, stderr)
	return err
}

// serveMetrics serves the crawler's /metrics on addr until stop is called.
func serveMetrics(ctx context.Context, addr string, m *crawler.Metrics, stdout io.Writer) (stop func(), err error) {
	return serveStageMetrics(ctx, addr, m, stdout)
}

type runOptions struct {
	DataDir string
	NATSURL string
	Arenas  []*crawler.ArenaConfig
	Quiet   bool
	// Temporary says the data directory is removed afterwards.
	Temporary bool
	WARCDir   string
	Metrics   *crawler.Metrics
	// Schedule keeps the pipeline running after the first crawl and crawls
	// each arena on its schedule until ctx is cancelled.
	Schedule bool
	// Now is the scheduler's clock (default time.Now).
	Now func() time.Time
	// CrawlNow is the crawlers' clock (default time.Now): run ids, fetch
	// and sighting times (tests drive simulated weeks with it).
	CrawlNow func() time.Time
	// Roles the process runs (nil: all); Replica and Stream as in
	// nodeOptions.
	Roles   []string
	Replica string
	Stream  streamSettings
	// Retention sets the stream's max_age and, with Schedule, the
	// scheduled purge.
	Retention RetentionConfig
	// Crawl, if set, runs a scheduled crawl instead of a new crawler of
	// the node (serve --pipeline: one crawl per arena with the browser's).
	Crawl func(ctx context.Context, cfg *crawler.ArenaConfig) (*crawler.Run, error)
}

// runPipeline crawls every arena through all stages, waits until the stream is
// fully processed and prints the counts table. It returns the count rows by
// arena (with the total row last). With o.Schedule it then keeps crawling
// on the arenas' schedules until ctx is cancelled.
func runPipeline(ctx context.Context, o runOptions, stdout, stderr io.Writer) ([]index.CountRow, error) {
	start := time.Now()
	log := newLogger(stderr, levelFor(o.Quiet))
	n, err := openNode(ctx, nodeOptions{DataDir: o.DataDir, NATSURL: o.NATSURL, Logger: log, Roles: o.Roles, Replica: o.Replica, Stream: o.Stream, MaxAge: o.Retention.StreamMaxAge()})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	n.startStages(ctx)

	if !n.bus.Embedded() && !o.Quiet {
		fmt.Fprintf(stderr, "crawling into %s as %s (roles %s); then waiting until every stage process has processed the stream ('adcensus status --nats %s' shows them)\n",
			o.NATSURL, n.id, strings.Join(n.roles, ","), o.NATSURL)
	}
	runs, err := n.crawlOnce(ctx, o, stderr, start)
	if err != nil {
		return nil, err
	}
	var rows []index.CountRow
	if n.index != nil {
		if rows, err = n.report(ctx, stdout, runs); err != nil {
			return nil, err
		}
	} else {
		printRuns(stdout, runs)
		fmt.Fprintf(stdout, "\nthe stream is processed; the counts are in the index replicas: adcensus export counts --data DIR (the data directory of an 'adcensus stages --only index' process)\n")
	}
	switch {
	case o.Temporary:
		fmt.Fprintf(stdout, "\ndone in %s (data in a temporary directory, removed now; keep it with --data DIR)\n", time.Since(start).Round(10*time.Millisecond))
	case n.index == nil:
		fmt.Fprintf(stdout, "\ndone in %s; crawl state in %s\n", time.Since(start).Round(10*time.Millisecond), o.DataDir)
	default:
		fmt.Fprintf(stdout, "\ndone in %s; data in %s (search: adcensus search --data %s QUERY)\n", time.Since(start).Round(10*time.Millisecond), o.DataDir, o.DataDir)
	}
	if err := failedRuns(runs, stderr); err != nil && !o.Schedule {
		return rows, err
	}
	if o.Schedule {
		// Shutdown order: cancelling ctx makes the scheduler wait for the
		// crawls in progress (they stop after their current page and resume
		// at their next start), then the stages stop, then the node closes.
		fmt.Fprintln(stdout, "waiting for scheduled crawls (Ctrl-C to stop)")
		n.startStages(ctx)
		purgeDone := make(chan struct{})
		go func() {
			defer close(purgeDone)
			schedulePurge(ctx, n, o, stdout)
		}()
		err := scheduleCrawls(ctx, n, o, stdout)
		<-purgeDone
		if err != nil && !errors.Is(err, context.Canceled) {
			return rows, err
		}
	}
	return rows, nil
}

// newCrawler returns a crawler of arena cfg publishing to the node's
// stream.
func (n *node) newCrawler(cfg *crawler.ArenaConfig, o runOptions) (*crawler.Crawler, error) {
	rs, err := n.reviewSinkFor(cfg)
	if err != nil {
		return nil, err
	}
	return crawler.New(cfg, crawler.Options{
		Store: n.crawls, Sink: &pipeline.BusSink{Bus: n.bus}, Output: crawler.OutputStream, Pseudo: n.pseudo,
		Logger: n.log, Version: Version, AutoResume: true,
		WARCDir: warcDirFor(cfg, n.dataDir, o.WARCDir), Metrics: o.Metrics, Reviews: rs, Adverts: advertArenas(o.Arenas),
		Now: o.CrawlNow,
	})
}

// crawlOnce crawls every arena at once with the progress line on stderr,
// waits until the stages have processed everything in the stream and
// stops them. It returns the runs in the order of o.Arenas.
func (n *node) crawlOnce(ctx context.Context, o runOptions, stderr io.Writer, start time.Time) ([]*crawler.Run, error) {
	runs, prog, err := n.crawlAll(ctx, o, stderr, start)
	if err != nil {
		return nil, err
	}
	err = n.waitIdle(ctx)
	prog.stop()
	if err != nil {
		return nil, err
	}
	if err := n.stopStages(); err != nil {
		return nil, err
	}
	return runs, nil
}

// crawlAll crawls every arena at once with the progress line on stderr
// and returns once every advert is in the stream, with the progress line
// still running (the caller stops it).
func (n *node) crawlAll(ctx context.Context, o runOptions, stderr io.Writer, start time.Time) ([]*crawler.Run, *progress, error) {
	crawlers := make([]*crawler.Crawler, len(o.Arenas))
	for i, a := range o.Arenas {
		var err error
		if crawlers[i], err = n.newCrawler(a, o); err != nil {
			return nil, nil, err
		}
	}
	prog := startProgress(ctx, stderr, o.Quiet, start, crawlers, &n.counters)
	var wg sync.WaitGroup
	errs := make([]error, len(crawlers))
	runs := make([]*crawler.Run, len(crawlers))
	for i, c := range crawlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = c.Run(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		prog.stop()
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("interrupted; the same command resumes the crawl where it stopped (%w)", ctx.Err())
		}
		return nil, nil, err
	}
	return runs, prog, nil
}

// report prints the runs, the problems met, the counts table from the
// index and the persons without contact or photo, and returns the count
// rows by arena (with the total row last).
func (n *node) report(ctx context.Context, stdout io.Writer, runs []*crawler.Run) ([]index.CountRow, error) {
	rows, err := n.index.Counts(ctx, []string{"arena"}, index.CountOptions{})
	if err != nil {
		return nil, err
	}
	_, _, networks, err := n.index.Stats(ctx)
	if err != nil {
		return nil, err
	}
	printRuns(stdout, runs)
	if p := n.counters.ProblemSummary(); p != "" {
		fmt.Fprintf(stdout, "problems met in adverts (counted; the adverts were kept without what could not be used): %s\n", p)
	}
	for _, r := range runs {
		if r != nil && r.Ads == 0 && r.ErrorCount() > 0 {
			fmt.Fprintf(stdout, "note: run %s found no adverts and had %d errors: is %s reachable? (the shipped demo configs need 'adcensus demo serve'; 'adcensus arena check %s' shows what fails)\n",
				r.ID, r.ErrorCount(), r.Arena, r.ConfigFile)
		}
	}
	fmt.Fprintln(stdout)
	printCountTable(stdout, rows, networks)
	if n.cluster != nil {
		bare, err := n.cluster.PersonsWithoutContactOrPhoto()
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r.Total && bare > 0 {
				fmt.Fprintf(stdout, "persons with neither a contact nor a photo on any advert: %d (only a near-duplicate text with the same name ties their adverts; the person count lies between %d and %d)\n", bare, personsLowerBound(r.Persons, bare), r.Persons)
			}
		}
	}
	return rows, nil
}

// failedRuns returns an error when every run failed (see crawler.Run.
// AllFailed); when only some failed it names them on stderr and returns nil.
func failedRuns(runs []*crawler.Run, stderr io.Writer) error {
	var failed []string
	total := 0
	for _, r := range runs {
		if r == nil {
			continue
		}
		total++
		if r.Status == "failed" {
			failed = append(failed, fmt.Sprintf("%s (run %s, %d errors: %s)", r.Arena, r.ID, r.ErrorCount(), errorKinds(r)))
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case len(failed) == total:
		return fmt.Errorf("every arena's crawl failed: %s; 'adcensus arena check CONFIG' shows what fails", strings.Join(failed, "; "))
	}
	fmt.Fprintf(stderr, "warning: %d of %d arenas' crawls failed: %s\n", len(failed), total, strings.Join(failed, "; "))
	return nil
}

// errorKinds formats a run's errors by kind, sorted ("refused=1,timeout=2").
func errorKinds(r *crawler.Run) string {
	var errs []string
	for k, v := range r.Errors {
		errs = append(errs, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(errs)
	return strings.Join(errs, ",")
}

func levelFor(quiet bool) slog.Level {
	if quiet {
		return slog.LevelError
	}
	return slog.LevelWarn
}

func printRuns(w io.Writer, runs []*crawler.Run) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tpages\tads\terrors\tstatus\t")
	for _, r := range runs {
		if r == nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", r.ID, r.Pages, r.Ads, r.ErrorCount(), r.Status)
	}
	tw.Flush()
	printReviewRuns(w, runs)
}

// printCountTable prints ads and distinct persons per arena and in total.
func printCountTable(w io.Writer, rows []index.CountRow, networks int) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "arena\tads\tdistinct persons\t")
	var total *index.CountRow
	for i := range rows {
		if rows[i].Total {
			total = &rows[i]
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t\n", rows[i].Group[0], rows[i].Ads, rows[i].Persons)
	}
	if total != nil {
		fmt.Fprintf(tw, "all arenas\t%d\t%d\t\n", total.Ads, total.Persons)
	}
	tw.Flush()
	fmt.Fprintf(w, "networks (persons linked by a shared contact): %d\n", networks)
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: adcensus demo [--data DIR] [--quiet]\n       adcensus demo serve [--blomstra ADDR] [--nattlinjen ADDR] [--omdomen ADDR]\n       adcensus demo truth\n")
		fs.PrintDefaults()
	}
	dataDir := fs.String("data", "", "data directory to keep the demo's stream, state and index (default: a temporary one, removed afterwards)")
	quiet := fs.Bool("quiet", false, "no progress line")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	temporary := *dataDir == ""
	if temporary {
		tmp, err := os.MkdirTemp("", "adcensus-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dataDir = tmp
	}
	corpus := demoarena.Generate(demoarena.DefaultSeed)
	demo, err := demoarena.Start(ctx, corpus)
	if err != nil {
		return err
	}
	defer demo.Close()
	arenas, err := demoArenas(demo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo arenas on 127.0.0.1 (synthetic, adults-only): ")
	for i, a := range arenas {
		if i > 0 {
			fmt.Fprint(stdout, ", ")
		}
		fmt.Fprintf(stdout, "%s %s", a.Name, demo.URL(a.Name))
	}
	fmt.Fprintln(stdout)
	rows, err := runPipeline(ctx, runOptions{DataDir: *dataDir, Arenas: arenas, Quiet: *quiet, Temporary: temporary}, stdout, stderr)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.Total {
			fmt.Fprintf(stdout, "the demo's truth: %d ads by %d persons in %d networks; counted %d persons (%+d)\n",
				corpus.Ads(), corpus.Persons(), corpus.Networks(), r.Persons, r.Persons-corpus.Persons())
		}
	}
	return printDemoReviews(ctx, stdout, *dataDir, corpus)
}

// demoArenas loads the bundled demo arena configs and points them at the
// running demo servers.
func demoArenas(demo *demoarena.Demo) ([]*crawler.ArenaConfig, error) {
	names := append(demo.Arenas(), demo.Forums()...) // the review forum too (kind: reviews)
	sort.Strings(names)
	var out []*crawler.ArenaConfig
	for _, name := range names {
		file := "arenas/" + name + ".yaml"
		data, err := configs.Arenas.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("demo arena %s: %w", name, err)
		}
		cfg, err := crawler.ParseArena("configs/"+file, data)
		if err != nil {
			return nil, err
		}
		if err := cfg.Rebase(demo.URL(name)); err != nil {
			return nil, err
		}
		out = append(out, cfg)
	}
	return out, nil
}

func cmdDemoServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo serve", stderr)
	blomstra := fs.String("blomstra", "127.0.0.1:8081", "address of the blomstra demo arena")
	nattlinjen := fs.String("nattlinjen", "127.0.0.1:8082", "address of the nattlinjen demo arena")
	omdomen := fs.String("omdomen", "127.0.0.1:8083", "address of the omdomen demo review forum")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// Bound first, announced after: a second 'demo serve' fails with
	// "address already in use" without having claimed to serve.
	err := demoarena.ServeOnReady(ctx, demoarena.Generate(demoarena.DefaultSeed), map[string]string{"blomstra": *blomstra, "nattlinjen": *nattlinjen, "omdomen": *omdomen},
		func(bound map[string]string) {
			fmt.Fprintf(stdout, "serving demo arenas: blomstra http://%s  nattlinjen http://%s  omdomen (reviews) http://%s  (Ctrl-C to stop)\n", bound["blomstra"], bound["nattlinjen"], bound["omdomen"])
		})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// cmdDemoTruth writes the demo corpus's true assignments in the format of
// 'adcensus dedup', so 'adcensus eval' can score a run on the demo.
func cmdDemoTruth(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo truth", stderr)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	w := csv.NewWriter(stdout)
	w.Write([]string{"ad_id", "person_id", "network_id"})
	rows := demoarena.Generate(demoarena.DefaultSeed).Truth()
	recs := make([][]string, 0, len(rows))
	for _, r := range rows {
		recs = append(recs, []string{ad.ContentID(r.Arena, r.Key), r.PersonID, r.NetworkID})
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i][0] < recs[j][0] })
	w.WriteAll(recs)
	return w.Error()
}
