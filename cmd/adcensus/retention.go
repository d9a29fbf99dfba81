package main

import (
	"adcensus/index/reviews"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"adcensus/crawler"
	"adcensus/index"
	"adcensus/internal/contact"
)

// RetentionConfig is the retention: section of the main config: how long
// each class of personal data is kept (docs/PRIVACY.md). An empty period
// keeps the class. Aggregates — the count fields of adverts, persons and
// networks, and so every export — are always kept.
type RetentionConfig struct {
	// AdvertText: title, body and URL of adverts in the index; also bounds
	// the stream's max_age (its messages carry the text).
	AdvertText Days `yaml:"advert_text"`
	// RawHTML: the WARC archives of crawled pages (DATA/warc) and the
	// frontiers (URLs) of finished crawl runs in crawl.db.
	RawHTML Days `yaml:"raw_html"`
	// Contacts: the contact pseudonyms of adverts in the index; also
	// bounds the stream's max_age.
	Contacts Days `yaml:"contacts"`
	// ImageHashes: the image fingerprints, which only the stream holds
	// outside the cluster state; bounds the stream's max_age.
	ImageHashes Days `yaml:"image_hashes"`
	// PurgeSchedule is when 'run --schedule' purges (cron, default
	// "30 3 * * *": daily 03:30) when any period is set.
	PurgeSchedule string `yaml:"purge_schedule"`
}

// Days is a retention period written as "365d", "52w" or "" (keep).
type Days int

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Days) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDays(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func parseDays(s string) (Days, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "keep" {
		return 0, nil
	}
	unit := 1
	switch {
	case strings.HasSuffix(s, "d"):
		s = strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "w"):
		s, unit = strings.TrimSuffix(s, "w"), 7
	default:
		return 0, fmt.Errorf("retention %q: want days or weeks such as 365d or 52w, or keep", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100*366/unit {
		return 0, fmt.Errorf("retention %q: want a whole number of days or weeks from 1d to 100 years, or keep", s)
	}
	return Days(n * unit), nil
}

func (d Days) String() string {
	if d == 0 {
		return "kept"
	}
	return fmt.Sprintf("%dd", int(d))
}

// Duration is the period as a time.Duration (0: keep).
func (d Days) Duration() time.Duration { return time.Duration(d) * 24 * time.Hour }

// cutoff is the time before which data of period d is purged as of now
// (zero: keep).
func (d Days) cutoff(now time.Time) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return now.Add(-d.Duration())
}

// Set reports whether any period is set.
func (r RetentionConfig) Set() bool {
	return r.AdvertText+r.RawHTML+r.Contacts+r.ImageHashes > 0
}

// StreamMaxAge is the stream's max_age: the shortest period of the
// classes its messages carry (text, contacts, image hashes); 0 when none
// is set.
func (r RetentionConfig) StreamMaxAge() time.Duration {
	var m Days
	for _, d := range []Days{r.AdvertText, r.Contacts, r.ImageHashes} {
		if d > 0 && (m == 0 || d < m) {
			m = d
		}
	}
	return m.Duration()
}

// Validate checks the purge schedule.
func (r RetentionConfig) Validate() error {
	if r.PurgeSchedule != "" {
		if _, err := crawler.ParseSchedule(r.PurgeSchedule); err != nil {
			return fmt.Errorf("retention.purge_schedule: %w", err)
		}
	}
	return nil
}

// purgeSchedule is the cron schedule of the scheduled purge.
func (r RetentionConfig) purgeSchedule() string {
	if r.PurgeSchedule != "" {
		return r.PurgeSchedule
	}
	return "30 3 * * *"
}

// purgeReport is what one purge removed (or would, in a dry run).
type purgeReport struct {
	AsOf      time.Time        `json:"as_of"`
	DryRun    bool             `json:"dry_run"`
	Index     index.PurgeStats `json:"index"`
	WARCFiles int              `json:"warc_files"`
	WARCBytes int64            `json:"warc_bytes"`
	Frontiers int              `json:"frontiers"`
	// CrawlAdverts is what crawl.db forgot of adverts not sighted within
	// the stream's max_age (crawler.Store.PurgeAdverts).
	CrawlAdverts crawler.AdvertPurge `json:"crawl_adverts"`
	StreamMaxAge time.Duration       `json:"stream_max_age_ns"`
	StreamMsgs   uint64              `json:"stream_messages"`
	// ReviewTexts counts the reviews whose text was dropped (advert_text).
	ReviewTexts int `json:"review_texts"`
}

func (p *purgeReport) write(w io.Writer) {
	verb := "removed"
	if p.DryRun {
		verb = "would remove"
	}
	fmt.Fprintf(w, "purge as of %s: %s\n", p.AsOf.UTC().Format(time.RFC3339), verb)
	fmt.Fprintf(w, "  index: the text of %d and the contacts of %d of %d adverts (their count fields stay)\n", p.Index.Texts, p.Index.Contacts, p.Index.Examined)
	fmt.Fprintf(w, "  WARC archives: %d files, %d bytes\n", p.WARCFiles, p.WARCBytes)
	fmt.Fprintf(w, "  crawl frontiers (URLs) of finished runs: %d\n", p.Frontiers)
	fmt.Fprintf(w, "  crawl memory of adverts not sighted within the stream's max_age: %d adverts, %d advert URLs, %d listing pages; the sightings of %d runs\n",
		p.CrawlAdverts.Adverts, p.CrawlAdverts.URLs, p.CrawlAdverts.Listings, p.CrawlAdverts.Runs)
	if p.CrawlAdverts.Stamped > 0 {
		fmt.Fprintf(w, "  crawl memory of adverts with no last sighting kept (older crawl.db): %d, counted as sighted now\n", p.CrawlAdverts.Stamped)
	}
	fmt.Fprintf(w, "  review text (advert_text; the reviews' references stay): %d reviews\n", p.ReviewTexts)
	switch {
	case p.StreamMaxAge == 0:
		fmt.Fprintln(w, "  stream: no max_age (no retention of text, contacts or image hashes set)")
	case p.DryRun:
		fmt.Fprintf(w, "  stream: max_age %s would be applied (the server removes older messages)\n", Days(p.StreamMaxAge/(24*time.Hour)))
	default:
		fmt.Fprintf(w, "  stream: max_age %s applied (the server removes older messages); %d messages kept\n", Days(p.StreamMaxAge/(24*time.Hour)), p.StreamMsgs)
	}
}

// purgeWARC removes the WARC files (*.warc.gz, *.warc) under dir last
// written before cutoff. A missing dir is nothing to purge.
func purgeWARC(dir string, cutoff time.Time, dryRun bool) (files int, size int64, err error) {
	if cutoff.IsZero() {
		return 0, 0, nil
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == dir {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() || !(strings.HasSuffix(name, ".warc.gz") || strings.HasSuffix(name, ".warc")) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		files++
		size += info.Size()
		if dryRun {
			return nil
		}
		return os.Remove(path)
	})
	return files, size, err
}

// indexPurger is the index's Purge (indexbleve.Index).
type indexPurger interface {
	Purge(ctx context.Context, o index.PurgeOptions) (index.PurgeStats, error)
}

// purgeStores purges the index, the WARC archives and the crawl
// frontiers of dataDir as of now by r (not the stream: see purgeNode).
func purgeStores(ctx context.Context, dataDir string, ix index.Store, crawls *crawler.Store, r RetentionConfig, now time.Time, dryRun bool, rv *reviews.Store) (*purgeReport, error) {
	rep := &purgeReport{AsOf: now, DryRun: dryRun, StreamMaxAge: r.StreamMaxAge()}
	p, ok := ix.(indexPurger)
	if !ok {
		return nil, errors.New("purge: the index cannot purge")
	}
	var err error
	rep.Index, err = p.Purge(ctx, index.PurgeOptions{TextBefore: r.AdvertText.cutoff(now), ContactsBefore: r.Contacts.cutoff(now), DryRun: dryRun})
	if err != nil {
		return nil, err
	}
	if rep.WARCFiles, rep.WARCBytes, err = purgeWARC(filepath.Join(dataDir, warcSubdir), r.RawHTML.cutoff(now), dryRun); err != nil {
		return nil, fmt.Errorf("purge WARC: %w", err)
	}
	if crawls != nil && r.RawHTML > 0 {
		if rep.Frontiers, err = crawls.PurgeFrontiers(r.RawHTML.cutoff(now), dryRun); err != nil {
			return nil, fmt.Errorf("purge crawl frontiers: %w", err)
		}
	}
	// crawl.db's memory of an advert (last content hash, image
	// fingerprints, page URL and validators) goes with the stream: once
	// its messages may have passed max_age, so may the memory.
	if crawls != nil && rep.StreamMaxAge > 0 {
		if rep.CrawlAdverts, err = crawls.PurgeAdverts(now.Add(-rep.StreamMaxAge), now, dryRun); err != nil {
			return nil, fmt.Errorf("purge crawl memory of adverts: %w", err)
		}
	}
	if rep.ReviewTexts, err = purgeReviewText(ctx, dataDir, rv, r.AdvertText.cutoff(now), dryRun); err != nil {
		return nil, fmt.Errorf("purge review text: %w", err)
	}
	return rep, nil
}

// schedulePurge purges the node's stores by o.Retention at the times of its
// purge schedule until ctx ends (nothing when no retention is set). Each
// purge prints its report to stdout; an error is printed and the next
// purge tries again.
func schedulePurge(ctx context.Context, n *node, o runOptions, stdout io.Writer) {
	r := o.Retention
	if !r.Set() {
		return
	}
	sched, err := crawler.ParseSchedule(r.purgeSchedule())
	if err != nil {
		fmt.Fprintf(stdout, "scheduled purge: %v\n", err)
		return
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	for {
		at := sched.Next(now())
		t := time.NewTimer(at.Sub(now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		rep, err := purgeStores(ctx, n.dataDir, n.index, n.crawls, r, now(), false, n.openedReviews())
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintf(stdout, "scheduled purge failed: %v\n", err)
			continue
		}
		fmt.Fprint(stdout, "scheduled ")
		rep.write(stdout)
	}
}

const purgeUsage = `usage: adcensus purge [--config FILE] [--data DIR] [--nats URL] [--dry-run] [--as-of TIME] [--format text|json]

Removes the personal data whose retention (the retention: section of the
main config) has passed: advert text and contacts in the index (count
fields stay, so exports do not change), WARC archives and crawl frontiers,
the crawl state's memory of adverts not sighted within the stream's
max_age, and applies the stream's max_age. --dry-run only reports (read-only; the
stream is not opened). See docs/PRIVACY.md.`

// cmdPurge runs 'adcensus purge'.
func cmdPurge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("purge", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, purgeUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", defaultConfigPath, "main config file with the retention: section")
	dataDir := fs.String("data", "", "data directory (default: data_dir of the config)")
	natsURL := fs.String("nats", "", "external NATS URL (default: nats_url of the config, else embedded)")
	dryRun := fs.Bool("dry-run", false, "report what would be removed; change nothing")
	asOf := fs.String("as-of", "", "purge as if it were TIME (RFC 3339, e.g. 2027-01-01T00:00:00Z): see what a later purge removes")
	format := fs.String("format", "text", "text or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := jsonFormat(format, false); err != nil {
		return err
	}
	now := time.Now().UTC()
	if *asOf != "" {
		t, err := time.Parse(time.RFC3339, *asOf)
		if err != nil {
			return usageError{fmt.Sprintf("--as-of %q: want RFC 3339 such as 2027-01-01T00:00:00Z", *asOf)}
		}
		now = t
	}
	cfg, _, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if !cfg.Retention.Set() {
		return fmt.Errorf("%s has no retention periods (retention: advert_text, raw_html, contacts, image_hashes): nothing to purge; see docs/PRIVACY.md", *cfgPath)
	}
	if *dataDir == "" {
		*dataDir = cfg.DataDir
	}
	if *natsURL == "" {
		*natsURL = cfg.NATSURL
	}
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("no data directory to purge: %w", err)
	}
	// The node below would create a key in a directory without one.
	if _, err := os.Stat(filepath.Join(*dataDir, contact.KeyFile)); err != nil {
		return fmt.Errorf("%s has no pseudonymisation key: not a data directory of 'adcensus run' (%w)", *dataDir, err)
	}
	var rep *purgeReport
	if *dryRun {
		ix, err := openIndex(*dataDir)
		if err != nil {
			return err
		}
		defer ix.Close()
		var crawls *crawler.Store
		if st, err := openCrawlState(*dataDir); err == nil {
			crawls = st
			defer st.Close()
		}
		if rep, err = purgeStores(ctx, *dataDir, ix, crawls, cfg.Retention, now, true, nil); err != nil {
			return err
		}
	} else {
		n, err := openNode(ctx, nodeOptions{DataDir: *dataDir, NATSURL: *natsURL, Logger: newLogger(stderr, levelFor(false)), MaxAge: cfg.Retention.StreamMaxAge()})
		if err != nil {
			return err
		}
		defer n.Close()
		if rep, err = purgeStores(ctx, *dataDir, n.index, n.crawls, cfg.Retention, now, false, n.openedReviews()); err != nil {
			return err
		}
		if rep.StreamMaxAge, err = n.bus.MaxAge(ctx); err != nil {
			return err
		}
		if rep.StreamMsgs, _, err = n.bus.StreamInfo(ctx); err != nil {
			return err
		}
		if err := n.Close(); err != nil {
			return err
		}
	}
	if *format == "json" {
		return writeJSON(stdout, rep)
	}
	rep.write(stdout)
	return nil
}
