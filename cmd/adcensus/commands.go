package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/dedup"
	cluster "adcensus/dedup/cluster"
	"adcensus/dedup/eval"
	"adcensus/index"
	"adcensus/index/census"
	"adcensus/internal/contact"
	"adcensus/internal/stats/mse"
)

// fileSink writes crawled adverts to a JSON Lines file. Each advert is
// flushed and synced before Publish returns, so a resumed crawl neither
// loses nor needs to refetch it.
type fileSink struct {
	mu sync.Mutex
	f  *os.File
	w  *ad.Writer
}

func (s *fileSink) Publish(_ context.Context, a *ad.Ad) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Write(a); err != nil {
		return err
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Sync()
}

func cmdCrawl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("crawl", stderr)
	arenaPath := fs.String("arena", "", "arena config file (required)")
	out := fs.String("out", "", "JSON Lines output file (required)")
	dataDir := fs.String("data", "./data", "data directory (pseudonymisation key and crawl state)")
	resume := fs.String("resume", "", "continue an interrupted crawl run (see 'adcensus runs'); appends to --out")
	warcDir := fs.String("warc", "", "archive every HTTP response as WARC in DIR (default: DATA/warc when the arena says archive: warc)")
	quiet := fs.Bool("quiet", false, "no progress line")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *arenaPath == "" || *out == "" {
		return usageError{"crawl needs --arena FILE and --out FILE"}
	}
	cfg, err := crawler.LoadArena(*arenaPath)
	if err != nil {
		return err
	}
	key, err := loadKey(*dataDir, true, stderr)
	if err != nil {
		return err
	}
	store, err := crawler.OpenStore(filepath.Join(*dataDir, crawlStateFile))
	if err != nil {
		return err
	}
	defer store.Close()
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if *resume != "" {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(*out, flags, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	log := newLogger(stderr, levelFor(*quiet))
	c, err := crawler.New(cfg, crawler.Options{
		Store: store, Sink: &fileSink{f: f, w: ad.NewWriter(f)}, Output: crawler.OutputFile, Pseudo: contact.New(key),
		Reviews: &reviewFileSink{f: f}, // a review forum's posts, one ad.Review a line
		Logger:  log, Version: Version, ResumeID: *resume,
		WARCDir: warcDirFor(cfg, *dataDir, *warcDir),
	})
	if err != nil {
		return err
	}
	// No stage counters: crawl --out writes a file, no stage runs.
	prog := startProgress(ctx, stderr, *quiet, time.Now(), []*crawler.Crawler{c}, nil)
	run, err := c.Run(ctx)
	prog.stop()
	if run != nil {
		printRuns(stdout, []*crawler.Run{run})
	}
	if err != nil {
		if run != nil && ctx.Err() != nil {
			return fmt.Errorf("interrupted: continue with 'adcensus crawl --arena %s --out %s --resume %s': %w", *arenaPath, *out, run.ID, err)
		}
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if run != nil && run.Status == "failed" {
		return fmt.Errorf("crawl run %s of %s failed: every page failed (%s); 'adcensus arena check %s' shows what fails", run.ID, run.Arena, errorKinds(run), *arenaPath)
	}
	return nil
}

func cmdDedup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dedup", stderr)
	in := fs.String("in", "", "JSON Lines file of adverts (required); image paths are relative to its folder")
	out := fs.String("out", "", "CSV output: ad_id,person_id,network_id (required)")
	dataDir := fs.String("data", "./data", "data directory holding the pseudonymisation key")
	allowPrivate := fs.Bool("allow-private", false, "fetch http(s) image URLs on private, loopback and link-local addresses too (refused by default, as by the crawler without allow_private)")
	newKey := fs.Bool("new-key", false, "create a new pseudonymisation key in --data when it has none (its pseudonyms match no other data directory's)")
	report := fs.String("report", "", "also write a JSON report: persons with a 90% interval (persons_low, persons_high) from the evidence the rules declined, networks, evidence counts (docs/DEDUP.md)")
	truth := fs.String("truth", "", "with --report: a labelled truth CSV (ad_id,person_id,...) to label the declined evidence for calibration")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return usageError{"dedup needs --in FILE and --out FILE"}
	}
	if *truth != "" && *report == "" {
		return usageError{"--truth needs --report"}
	}
	var truthMap map[string]string
	if *truth != "" {
		var err error
		if truthMap, err = readTruthPersons(*truth); err != nil {
			return err
		}
	}
	key, err := loadKey(*dataDir, *newKey, stderr)
	if err != nil {
		return err
	}
	r, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer r.Close()
	tmp, err := os.MkdirTemp("", "adcensus-dedup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	w, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer w.Close()
	stats, err := dedup.OfflineWith(ctx, r, filepath.Dir(*in), contact.New(key), tmp, w, newLogger(stderr, levelFor(false)),
		dedup.OfflineOptions{AllowPrivate: *allowPrivate, Report: *report != "", Truth: truthMap})
	if err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if *report != "" {
		if err := writeDedupReport(*report, stats); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "read %d adverts (%d bad lines, %d duplicate ids skipped; problems kept: %d images failed, %d absurd ages dropped, %d invalid phones entries, %d empty texts, %d unreadable fields dropped); wrote %d assignments: %d persons (%d of them with neither a contact nor a photo on any advert, so the count %s) in %d networks → %s\n",
		stats.Read, stats.BadLines, stats.Duplicates, stats.ImagesFailed, stats.AgesDropped, stats.PhonesInvalid, stats.EmptyTexts, stats.FieldsDropped, stats.AdsWritten, stats.Persons, stats.PersonsWithoutContactOrPhoto, countRange(personsLowerBound(stats.Persons, stats.PersonsWithoutContactOrPhoto), stats.Persons), stats.Networks, *out)
	if c := stats.Count; c != nil {
		lo, hi := countBounds(c.Interval)
		fmt.Fprintf(stdout, "distinct persons, from the evidence the rules declined: about %.0f, 90%% interval %d–%d (%d candidate links) → %s\n",
			c.Interval.Estimate, lo, hi, sumCounts(c.Evidence), *report)
	}
	return nil
}

// personsLowerBound is the fewest distinct persons there can be when bare
// of persons have neither a contact nor a photo: each of those may be a
// repost of another person (docs/DEDUP.md), but when there are adverts
// there is at least one person.
func personsLowerBound(persons, bare int) int {
	return max(persons-bare, min(persons, 1))
}

// countRange says where a count lies: "is N" or "lies between LO and HI".
func countRange(lo, hi int) string {
	if lo == hi {
		return fmt.Sprintf("is %d", hi)
	}
	return fmt.Sprintf("lies between %d and %d", lo, hi)
}

func cmdExportCounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export counts", stderr)
	by := fs.String("by", "arena", "comma-separated dimensions: "+strings.Join(index.Dimensions(), ", "))
	format := fs.String("format", "csv", "csv, csv-excel (for Swedish Excel: BOM, ';', decimal comma) or json")
	dataDir := fs.String("data", "./data", "data directory")
	minCell := fs.Int("min-cell", 5, "suppress cells with fewer distinct persons than this (0: no suppression)")
	out := fs.String("out", "", "output file (default: standard output)")
	split := fs.String("split", "", `"minors": persons flagged as possible minors and all others in two separate tables`)
	from := fs.String("from", "", "start of the period: a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year; an http(s) URL instead reads through that API (as --api)")
	pf := addPeriodFlags(fs, true)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if isURL(*from) {
		pf.api, *from = *from, ""
	}
	pq, err := pf.query(*from)
	if err != nil {
		return err
	}
	if *split != "" && *split != index.SplitMinors {
		return usageError{fmt.Sprintf("--split must be %q, not %q", index.SplitMinors, *split)}
	}
	dialect, isCSV := index.CSVDialectOf(*format)
	if !isCSV && *format != "json" {
		return usageError{fmt.Sprintf("--format must be csv, csv-excel or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	dims := splitList(*by)
	if err := checkCountDims(dims); err != nil {
		return err
	}
	if pf.api != "" {
		q := url.Values{"by": {strings.Join(dims, ",")}, "format": {*format}, "min_cell": {strconv.Itoa(*minCell)}}
		if *split != "" {
			q.Set("split", *split)
		}
		pf.values(q, *from)
		return writeOutput(stdout, *out, func(w io.Writer) error { return remoteGet(ctx, pf.api, "/api/export/counts", q, w) })
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	opt := index.CountOptions{MinCell: *minCell, Split: *split}
	rows, err := periodCounts(ctx, *dataDir, ix, dims, pq, opt)
	if err != nil {
		return err
	}
	if *split == "" && !(len(dims) == 1 && dims[0] == dimSnapshot) {
		attachSeenCLI(ctx, stderr, *dataDir, ix, pq, rows)
	}
	auditRead(stderr, *dataDir, "export counts", map[string]string{"by": *by, "min_cell": fmt.Sprint(*minCell), "period": pq.Period.String(), "basis": pq.Basis}, len(rows))
	return writeOutput(stdout, *out, func(w io.Writer) error {
		if isCSV {
			return index.WriteCountsCSVDialect(w, dims, rows, dialect)
		}
		return index.WriteCountsJSON(w, dims, rows, opt, periodProvenance(provenance(ctx, *dataDir, ix), pq))
	})
}

// loadKey returns the pseudonymisation key of dataDir. Without one it
// creates the directory and a new key when create is set, and says so on
// stderr (pseudonyms from a new key match those of no other data
// directory); otherwise it refuses, naming --new-key. Only 'run', 'demo'
// and 'stages' create a key without saying so.
func loadKey(dataDir string, create bool, stderr io.Writer) ([]byte, error) {
	path := filepath.Join(dataDir, contact.KeyFile)
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return contact.LoadOrCreateKey(dataDir)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("pseudonymisation key: %w", err)
	case !create:
		return nil, fmt.Errorf("no pseudonymisation key %s: give --data DIR of the data directory whose pseudonyms these must match, or --new-key to create a new key there", path)
	}
	key, err := contact.LoadOrCreateKey(dataDir)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "note: created a new pseudonymisation key %s; its pseudonyms match no other data directory's (keep it secret, and back it up with the data)\n", path)
	return key, nil
}

// writeOutput calls write with the file at path (created, and closed with
// its error reported), or with stdout when path is "".
func writeOutput(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// provenance describes where exported numbers come from (docs/EXPORTS.md,
// "Provenance"): the software version, the time, the data directory, the
// index's totals and the stream position it reached, and the crawl runs
// whose adverts went to the index (not 'crawl --out' runs). Problems
// reading a part are recorded in its place, never fatal to the export.
// held is the crawl state when the process holds it open (serve
// --pipeline), else nil: it is opened (provenance, serve_pipeline.go).
func provenanceWith(ctx context.Context, dataDir string, ix index.Store, held *crawler.Store) map[string]any {
	p := map[string]any{
		"adcensus_version": Version,
		"generated_at":     time.Now().UTC().Format(time.RFC3339),
		"data_dir":         dataDir,
	}
	if abs, err := filepath.Abs(dataDir); err == nil {
		p["data_dir"] = abs
	}
	if ix != nil {
		ads, persons, networks, err := ix.Stats(ctx)
		if err != nil {
			p["index_error"] = err.Error()
		} else {
			p["index"] = map[string]any{"adverts": ads, "persons": persons, "networks": networks}
		}
		if sp, ok := ix.(interface {
			StreamPosition() (uint64, bool, error)
		}); ok {
			seq, known, err := sp.StreamPosition()
			switch {
			case err != nil:
				p["stream_position_error"] = err.Error()
			case known:
				p["stream_position"] = seq
			}
		}
	}
	store := held
	if store == nil {
		s, err := openCrawlState(dataDir)
		if err != nil {
			p["runs_error"] = err.Error()
			return p
		}
		defer s.Close()
		store = s
	}
	runs, err := store.Runs()
	if err != nil {
		p["runs_error"] = err.Error()
		return p
	}
	rs := []map[string]any{}
	notIndexed := 0
	for _, r := range runs {
		if r.Output == crawler.OutputFile {
			notIndexed++
			continue
		}
		rs = append(rs, map[string]any{"id": r.ID, "arena": r.Arena, "config_hash": r.ConfigHash, "version": r.Version,
			"started": r.Started, "ended": r.Ended, "status": r.Status, "pages": r.Pages, "ads": r.Ads})
	}
	p["runs"] = rs
	if notIndexed > 0 {
		p["runs_not_indexed"] = notIndexed
	}
	return p
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// maxSearchFrom is the deepest --from the search command takes: paging
// deeper than this is a sign the query should be narrower.
const maxSearchFrom = 100_000

// searchJSON is 'search --json': the shape of the API's /api/search body.
type searchJSON struct {
	Unit   string                        `json:"unit"`
	Total  uint64                        `json:"total"`
	Hits   []index.Hit                   `json:"hits"`
	Facets map[string][]index.FacetCount `json:"facets,omitempty"`
}

// jsonFormat reconciles --format text|json with the older --json flag:
// --json sets *format to "json"; any other format than text or json is a
// usage error.
func jsonFormat(format *string, asJSON bool) error {
	if asJSON {
		if *format != "text" && *format != "json" {
			return usageError{fmt.Sprintf("--json and --format %s contradict each other", *format)}
		}
		*format = "json"
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	return nil
}

func cmdSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("search", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	size := fs.Int("size", 20, fmt.Sprintf("hits to show, 1 to %d", index.MaxSize))
	fromArg := fs.String("from", "0", "hits to skip (paging: --from 20 shows the second page of 20); or the start of a period: a date (2026-12-07), ISO week (2026-W49) or month (2026-11)")
	pf := addPeriodFlags(fs, true)
	offset := fs.Int("offset", 0, "hits to skip, as a number given to --from (use it with a period)")
	facets := fs.String("facets", "", "comma-separated keyword fields to count, e.g. arena,city")
	byPerson := fs.Bool("by-person", false, "one row per person")
	asJSON := fs.Bool("json", false, "print the result as JSON, in the API's shape (unit, total, hits, facets)")
	format := fs.String("format", "text", "text or json (the same as --json)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	from, periodFrom := searchFrom(*fromArg)
	if *offset != 0 {
		from = offset
	}
	pq, err := pf.query(periodFrom)
	if err != nil {
		return err
	}
	if *size < 1 || *size > index.MaxSize {
		return usageError{fmt.Sprintf("--size must be 1 to %d, not %d", index.MaxSize, *size)}
	}
	if *from < 0 || *from > maxSearchFrom {
		name := "--from"
		if *offset != 0 {
			name = "--offset"
		}
		return usageError{fmt.Sprintf("%s must be 0 to %d, not %d (narrow the query to reach later hits)", name, maxSearchFrom, *from)}
	}
	if err := jsonFormat(format, *asJSON); err != nil {
		return err
	}
	q := index.Query{Text: strings.Join(pos, " "), Size: *size, From: *from, Facets: splitList(*facets), GroupByPerson: *byPerson}
	var res *index.Result
	if pf.api != "" {
		if res, err = remoteSearch(ctx, pf, q, periodFrom); err != nil {
			return err
		}
	} else if res, err = localSearch(ctx, *dataDir, q, pq, stderr); err != nil {
		return err
	}
	unit := "adverts"
	if *byPerson {
		unit = "persons"
	}
	if *format == "json" {
		hits := res.Hits
		if hits == nil {
			hits = []index.Hit{}
		}
		return writeJSON(stdout, searchJSON{Unit: unit, Total: res.Total, Hits: hits, Facets: res.Facets})
	}
	fmt.Fprintf(stdout, "%d %s match", res.Total, unit)
	switch {
	case len(res.Hits) == 0 && res.Total > 0:
		fmt.Fprintf(stdout, "; none from %d on", *from+1)
	case uint64(*from+len(res.Hits)) < res.Total || *from > 0:
		fmt.Fprintf(stdout, "; showing %d–%d", *from+1, *from+len(res.Hits))
		if next := *from + len(res.Hits); uint64(next) < res.Total {
			fmt.Fprintf(stdout, " (next: %s %d)", pagingFlag(periodFrom), next)
		}
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ad\tarena\tcity\tperson\tnetwork\tposted\ttitle")
	for _, h := range res.Hits {
		id := h.ID
		if *byPerson {
			id = fmt.Sprintf("%s (+%d)", h.ID, len(h.AdIDs)-1)
		}
		posted := ""
		if !h.PostedAt.IsZero() {
			posted = h.PostedAt.Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, h.Arena, h.City, h.PersonID, h.NetworkID, posted, h.Title)
	}
	tw.Flush()
	for _, f := range splitList(*facets) {
		fmt.Fprintf(stdout, "\n%s:", f)
		for _, fc := range res.Facets[f] {
			fmt.Fprintf(stdout, " %s=%d", fc.Term, fc.Count)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// localSearch searches the index of dataDir (in the period of pq) and
// audits the read.
func localSearch(ctx context.Context, dataDir string, q index.Query, pq census.Query, stderr io.Writer) (*index.Result, error) {
	ix, err := openIndex(dataDir)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	if q.Only, err = periodIDs(ctx, dataDir, ix, pq); err != nil {
		return nil, err
	}
	res, err := ix.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	auditRead(stderr, dataDir, "search", map[string]string{"q": q.Text}, len(res.Hits))
	return res, nil
}

// remoteSearch asks the API at pf.api (the server audits it).
func remoteSearch(ctx context.Context, pf *periodFlags, q index.Query, periodFrom string) (*index.Result, error) {
	v := url.Values{"q": {q.Text}, "size": {strconv.Itoa(q.Size)}}
	pf.values(v, periodFrom)
	if periodFrom != "" {
		v.Set("offset", strconv.Itoa(q.From))
	} else {
		v.Set("from", strconv.Itoa(q.From))
	}
	if len(q.Facets) > 0 {
		v.Set("facets", strings.Join(q.Facets, ","))
	}
	if q.GroupByPerson {
		v.Set("by_person", "true")
	}
	var out searchJSON
	if err := remoteJSON(ctx, pf.api, "/api/search", v, &out); err != nil {
		return nil, err
	}
	return &index.Result{Total: out.Total, Hits: out.Hits, Facets: out.Facets}, nil
}

func cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: adcensus explain [--data DIR] AD_ID"}
	}
	cl, err := cluster.OpenReadOnly(filepath.Join(*dataDir, clusterStateFile))
	if err != nil {
		return err
	}
	defer cl.Close()
	ex, err := cl.Explain(pos[0])
	auditRead(stderr, *dataDir, "explain", map[string]string{"ad": pos[0]}, -1)
	if errors.Is(err, cluster.ErrNotFound) {
		return fmt.Errorf("advert %s is not in the cluster state of %s", pos[0], *dataDir)
	}
	if err != nil {
		return err
	}
	return writeJSON(stdout, ex)
}

func cmdRuns(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("runs", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	store, err := openCrawlState(*dataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	runs, err := store.Runs()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tarena\tstarted\tended\tstatus\tpages\tads\tunchanged\terrors\tconfig\tversion")
	for _, r := range runs {
		ended := "-"
		if !r.Ended.IsZero() {
			ended = r.Ended.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%.12s\t%s\n", r.ID, r.Arena, r.Started.Format(time.RFC3339), ended,
			r.Status, r.Pages, r.Ads, r.NotModified+r.Trusted, errorKinds(&r), r.ConfigHash, r.Version)
	}
	return tw.Flush()
}

// cmdRebuild deletes the cluster state and the index and rebuilds both by
// replaying the stream; the counts are the same as before.
func cmdRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rebuildCommand(ctx, "rebuild", args, stdout, stderr, "cluster", "index", "census")
}

// rebuildCommand parses the flags of a rebuild command, rebuilds the stores
// of stages from the stream and prints the counts.
func rebuildCommand(ctx context.Context, name string, args []string, stdout, stderr io.Writer, stages ...string) error {
	fs := newFlags(name, stderr)
	dataDir := fs.String("data", "./data", "data directory")
	natsURL := fs.String("nats", "", "external NATS URL (default: embedded)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	// A rebuild replays into an existing data directory; a mistyped
	// --data must not quietly become a new, empty one.
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("no data directory to rebuild: %w", err)
	}
	if err := rebuildStores(ctx, *dataDir, *natsURL, stderr, stages...); err != nil {
		return err
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	rows, err := ix.Counts(ctx, []string{"arena"}, index.CountOptions{})
	if err != nil {
		return err
	}
	_, _, networks, err := ix.Stats(ctx)
	if err != nil {
		return err
	}
	printCountTable(stdout, rows, networks)
	return nil
}

// rebuildStores deletes the stores of the given stages ("cluster",
// "index"), resets their consumers and replays the stream into them. The
// node is opened first, so a stream that cannot be reached or a store that
// another process holds stops it before anything is deleted.
func rebuildStores(ctx context.Context, dataDir, natsURL string, stderr io.Writer, stages ...string) error {
	n, err := openNode(ctx, nodeOptions{DataDir: dataDir, NATSURL: natsURL, Logger: newLogger(stderr, levelFor(false)), Roles: stages})
	if err != nil {
		return err
	}
	defer n.Close()
	for _, st := range stages {
		if err := n.resetStore(st); err != nil {
			return err
		}
	}
	ds := n.durablesOf(stages)
	for _, d := range ds {
		if err := n.bus.ResetConsumer(ctx, d); err != nil {
			return err
		}
	}
	n.startSome(ctx, stages)
	if err := n.waitIdleOf(ctx, ds...); err != nil {
		return err
	}
	return n.Close()
}

// cmdIndex handles 'adcensus index rebuild': a fresh index replayed from
// the stream (the cluster state is kept).
func cmdIndex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const indexUsage = "usage: adcensus index rebuild [--data DIR] [--nats URL]"
	if done, err := groupUsage(args, indexUsage, stdout); done {
		return err
	}
	if args[0] != "rebuild" {
		return usageError{indexUsage}
	}
	return rebuildCommand(ctx, "index rebuild", args[1:], stdout, stderr, "index")
}

// cmdEval compares predicted assignments with a truth file.
func cmdEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	truthPath := fs.String("truth", "", "truth CSV: ad_id,person_id,network_id (required)")
	predPath := fs.String("pred", "", "predicted CSV, as written by 'adcensus dedup' (required)")
	asJSON := fs.Bool("json", false, "the same as --format json")
	format := fs.String("format", "text", "text or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *truthPath == "" || *predPath == "" {
		return usageError{"eval needs --truth FILE and --pred FILE"}
	}
	if err := jsonFormat(format, *asJSON); err != nil {
		return err
	}
	read := func(path string) (map[string]eval.Labels, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		m, err := eval.ReadAssignments(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return m, nil
	}
	truth, err := read(*truthPath)
	if err != nil {
		return err
	}
	pred, err := read(*predPath)
	if err != nil {
		return err
	}
	rep, err := eval.Evaluate(truth, pred)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(stdout, rep)
	}
	return rep.WriteText(stdout)
}

// cmdMSE estimates the persons seen on no list from a capture-history table.
func cmdMSE(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("mse", stderr)
	in := fs.String("in", "", "capture-history CSV: one 0/1 column per list, then the count (required)")
	criterion := fs.String("criterion", "pvalue", "model selection: pvalue (SparseMSE stepwise, the default), aic, bic or none")
	interactions := fs.String("interactions", "", "fix the model: comma-separated pairs A:B (no selection)")
	replicates := fs.Int("replicates", 1000, "bootstrap replicates (0: none, no interval)")
	bootstrap := fs.String("bootstrap", "bca", "interval: bca (SparseMSE's: persons resampled, model re-selected, BCa) or parametric (Poisson tables from the fit)")
	seed := fs.Uint64("seed", 0, "bootstrap seed")
	reselect := fs.Bool("reselect", false, "re-select the model in every parametric bootstrap replicate (bca always does)")
	asJSON := fs.Bool("json", false, "the same as --format json")
	format := fs.String("format", "text", "text or json")
	seen := fs.String("seen", "", "a report of 'adcensus dedup --report': print the persons seen with their interval beside the estimate, and in JSON both with provenance")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" {
		return usageError{"mse needs --in FILE"}
	}
	var seenRep *dedupReport
	var seenBytes []byte
	if *seen != "" {
		var err error
		if seenRep, seenBytes, err = readSeen(*seen); err != nil {
			return err
		}
	}
	if err := jsonFormat(format, *asJSON); err != nil {
		return err
	}
	tableBytes, err := os.ReadFile(*in)
	if err != nil {
		return err
	}
	table, err := mse.ReadTable(bytes.NewReader(tableBytes))
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	opt := mse.Options{
		Criterion: *criterion, Interactions: splitList(*interactions), Replicates: bootstrapReplicates(*replicates),
		Seed: *seed, Reselect: *reselect, Bootstrap: *bootstrap,
	}
	res, err := mse.Estimate(table, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	if *format == "json" {
		if seenRep != nil {
			return writeJSON(stdout, seenSummary(seenRep, seenBytes, *seen, *in, tableBytes, res, opt))
		}
		return writeJSON(stdout, res)
	}
	if seenRep != nil {
		writeSeenText(stdout, seenRep, res)
	}
	return res.WriteText(stdout)
}

// bootstrapReplicates turns a --replicates flag into mse.Options.Replicates:
// 0 (or less) on the command line means none, where the library reads 0 as
// its default of 1,000.
func bootstrapReplicates(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
