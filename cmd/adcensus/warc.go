package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// warcSubdir is the folder of the data directory that holds WARC archives
// of arenas with archive: warc (when no --warc DIR is given).
const warcSubdir = "warc"

// warcDirFor returns where a crawl of cfg archives its responses: flagDir
// when given (--warc DIR archives every arena), else DATA/warc for an arena
// with archive: warc, else "" (no archive).
func warcDirFor(cfg *crawler.ArenaConfig, dataDir, flagDir string) string {
	switch {
	case flagDir != "":
		return flagDir
	case cfg.Archive == "warc":
		return filepath.Join(dataDir, warcSubdir)
	}
	return ""
}

const reextractUsage = "usage: adcensus reextract --warc FILE|DIR [FILE|DIR...] --arena CONFIG --out ads.jsonl [--data DIR]"

// cmdReextract rebuilds the adverts of an arena from WARC files with a
// (possibly changed) arena config, without network access.
func cmdReextract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reextract", stderr)
	warc := fs.String("warc", "", "WARC file, glob or folder of .warc.gz files (more may follow as arguments)")
	arenaPath := fs.String("arena", "", "arena config file (required); its patterns and selectors are applied to the archive")
	out := fs.String("out", "", "JSON Lines output file (required)")
	dataDir := fs.String("data", "./data", "data directory holding the pseudonymisation key (must exist: pseudonyms must match the live crawl's)")
	quiet := fs.Bool("quiet", false, "log only errors")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *arenaPath == "" || *out == "" || (*warc == "" && len(pos) == 0) {
		return usageError{reextractUsage}
	}
	files, err := warcFiles(append([]string{*warc}, pos...))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no WARC files in %s", *warc)
	}
	cfg, err := crawler.LoadArena(*arenaPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*dataDir, contact.KeyFile)); err != nil {
		return fmt.Errorf("--data %s: no pseudonymisation key (%s): %w", *dataDir, contact.KeyFile, err)
	}
	key, err := contact.LoadOrCreateKey(*dataDir)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	sink := &writerSink{w: ad.NewWriter(f)}
	start := time.Now()
	st, err := crawler.Reextract(ctx, cfg, files, crawler.ReextractOptions{
		Sink: sink, Pseudo: contact.New(key), Logger: newLogger(stderr, levelFor(*quiet)),
	})
	if err != nil {
		return err
	}
	if err := sink.w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read %d WARC files (%d responses): %d listing and %d detail pages; wrote %d adverts to %s (%d duplicate pages, %d failed, %d images hashed, %d not in the archive) in %s\n",
		st.Files, st.Responses, st.Listings, st.Details, st.Ads, *out, st.Dups, st.Failed, st.Images, st.Missing, time.Since(start).Round(time.Millisecond))
	if st.Truncated > 0 {
		fmt.Fprintf(stdout, "warning: %d WARC files end in the middle of a record (a crash while writing); their last record was skipped\n", st.Truncated)
	}
	return nil
}

// writerSink writes adverts to JSON Lines, flushed by the caller at the end:
// a re-extraction is rerun from the archive, so there is nothing to resume.
type writerSink struct{ w *ad.Writer }

func (s *writerSink) Publish(_ context.Context, a *ad.Ad) error { return s.w.Write(a) }

// warcFiles expands folders (their *.warc.gz and *.warc files) and globs,
// in sorted order per argument.
func warcFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "" {
			continue
		}
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			var in []string
			for _, pat := range []string{"*.warc.gz", "*.warc"} {
				m, err := filepath.Glob(filepath.Join(a, pat))
				if err != nil {
					return nil, err
				}
				in = append(in, m...)
			}
			sort.Strings(in)
			out = append(out, in...)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("--warc %s: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("--warc %s: no such file", a)
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}
