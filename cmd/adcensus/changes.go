package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"adcensus/index/census"
)

const changesUsage = `usage: adcensus changes --since RUN|DATE [--format text|json] [--min-cell 5] [--data DIR]

What changed since a crawl run (the changes of the runs after it) or a date
(2026-12-01, an ISO week 2026-W49, a month 2026-11): adverts new, changed,
gone and back per arena; arenas grown or shrunk, and new ones; persons new
and gone (fewer than --min-cell suppressed); runs to look at (adverts
dropped by more than half, with the fields that came back empty; incomplete
runs). See docs/CENSUS.md.`

func cmdChanges(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("changes", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, changesUsage); fs.PrintDefaults() }
	since := fs.String("since", "", "a crawl run id ('adcensus runs') or a date, ISO week or month")
	format := fs.String("format", "text", "text or json")
	minCell := fs.Int("min-cell", 5, "suppress person counts under this (0: none)")
	dataDir := fs.String("data", "./data", "data directory")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *since == "" {
		return usageError{"--since RUN|DATE is required\n" + changesUsage}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	st, err := openCensusRead(*dataDir)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("no census in %s (census.db): it is written by 'adcensus run' as it crawls", *dataDir)
	}
	defer st.Close()
	t, err := st.SinceRun(*since)
	if err != nil {
		start, _, perr := census.ParseSpan(*since)
		if perr != nil {
			return usageError{fmt.Sprintf("--since %q is neither a run of %s nor a date: %v", *since, *dataDir, perr)}
		}
		t = start
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	ch, err := census.ReportChanges(ctx, ix, st, t, *minCell)
	if err != nil {
		return err
	}
	auditRead(stderr, *dataDir, "changes", map[string]string{"since": *since}, len(ch.Arenas))
	if *format == "json" {
		return writeJSON(stdout, ch)
	}
	return writeChanges(stdout, ch)
}

func writeChanges(w io.Writer, ch *census.Changes) error {
	fmt.Fprintf(w, "changes since %s (%d runs)\n\n", ch.Since.In(census.Stockholm()).Format("2006-01-02 15:04 MST"), ch.Runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "arena\tnew\tchanged\tgone\tback\tadverts before → now\ttrend")
	for _, a := range ch.Arenas {
		before := fmt.Sprint(a.Before)
		if a.Before < 0 {
			before = "–"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s → %d\t%s\n", a.Arena, a.New, a.Changed, a.Gone, a.Back, before, a.Now, a.Trend)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := func(v int) string {
		if v < 0 {
			return "a few (suppressed)"
		}
		return fmt.Sprint(v)
	}
	fmt.Fprintf(w, "\npersons: %s new, %s gone\n", n(ch.PersonsNew), n(ch.PersonsGone))
	if len(ch.Flags) == 0 {
		_, err := fmt.Fprintln(w, "no run to look at")
		return err
	}
	fmt.Fprintln(w, "\nruns to look at:")
	for _, f := range ch.Flags {
		fmt.Fprintf(w, "  %s (%s): %s\n", f.Run, f.Arena, f.Why)
		for _, e := range f.Empty {
			fmt.Fprintf(w, "    %-10s empty in %3.0f%% of adverts (run before: %3.0f%%)\n", e.Field, 100*e.Now, 100*e.Before)
		}
	}
	return nil
}
