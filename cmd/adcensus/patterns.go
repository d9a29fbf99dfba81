package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"adcensus/index/patterns"
)

// defaultPatternsDir is where 'adcensus patterns' looks for pattern files.
const defaultPatternsDir = "configs/patterns"

// cmdPatterns runs 'adcensus patterns list' and 'adcensus patterns run NAME'.
func cmdPatterns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: adcensus patterns list|run NAME [flags] (see -h)"}
	}
	switch args[0] {
	case "list":
		return cmdPatternsList(args[1:], stdout, stderr)
	case "run":
		return cmdPatternsRun(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown patterns command %q: want list or run", args[0])}
}

func cmdPatternsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("patterns list", stderr)
	dir := fs.String("dir", defaultPatternsDir, "directory of pattern files")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ps, err := patterns.Load(*dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tversion\tlevel\tconditions\tdescription")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", p.Name, p.Version, p.Level, strings.Join(p.Conditions(), ","), clip(strings.Join(strings.Fields(p.Description), " "), 80))
	}
	return tw.Flush()
}

func cmdPatternsRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("patterns run", stderr)
	dir := fs.String("dir", defaultPatternsDir, "directory of pattern files")
	dataDir := fs.String("data", "./data", "data directory")
	format := fs.String("format", "text", "text or json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: adcensus patterns run NAME [--data DIR] [--format text|json]"}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	ps, err := patterns.Load(*dir)
	if err != nil {
		return err
	}
	p, err := patterns.Find(ps, pos[0])
	if err != nil {
		return usageError{err.Error()}
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	rep, err := patterns.Run(ctx, ix, p)
	if err != nil {
		return err
	}
	auditRead(stderr, *dataDir, "patterns run", map[string]string{"pattern": p.Name}, len(rep.Matches))
	if *format == "json" {
		return writeJSON(stdout, rep)
	}
	writePatternReport(stdout, rep)
	return nil
}

func writePatternReport(w io.Writer, rep *patterns.Report) {
	fmt.Fprintf(w, "pattern %s v%d (%s): %d matches, %d persons, %d networks, %d adverts examined\n",
		rep.Pattern, rep.Version, rep.Level, len(rep.Matches), rep.Persons, rep.Networks, rep.Examined)
	fmt.Fprintln(w, "An indicator for review, never proof (docs/PATTERNS.md).")
	for _, m := range rep.Matches {
		fmt.Fprintf(w, "\n%s  persons=%d adverts=%d", m.Key, len(m.Persons), len(m.AdIDs))
		if len(m.Networks) > 0 {
			fmt.Fprintf(w, " networks=%s", strings.Join(m.Networks, ","))
		}
		fmt.Fprintln(w)
		for _, e := range m.Evidence {
			fmt.Fprintf(w, "  %-24s %s  [%s]\n", e.Condition, e.Detail, clip(strings.Join(e.AdIDs, ","), 120))
		}
	}
}
