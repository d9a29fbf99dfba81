package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"

	"adcensus/configs"
	"adcensus/index/patterns"
)

const patternsUsage = `usage: adcensus patterns list [--patterns DIR]
       adcensus patterns run NAME [--data DIR] [--format text|json] [--patterns DIR]

The shipped patterns (configs/patterns/*.yaml) are built into the binary;
--patterns DIR adds the *.yaml files of DIR (a file with a shipped
pattern's name replaces it). See docs/PATTERNS.md.`

// cmdPatterns runs 'adcensus patterns list' and 'adcensus patterns run NAME'.
func cmdPatterns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := groupUsage(args, patternsUsage, stdout); done {
		return err
	}
	switch args[0] {
	case "list":
		return cmdPatternsList(args[1:], stdout, stderr)
	case "run":
		return cmdPatternsRun(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown patterns command %q: want list or run\n%s", args[0], patternsUsage)}
}

// patternsFlag adds --patterns DIR (and its older name --dir) to fs.
func patternsFlag(fs *flag.FlagSet) *string {
	dir := fs.String("patterns", "", "folder of further pattern files (*.yaml), added to the built-in ones")
	fs.StringVar(dir, "dir", "", "the same as --patterns")
	return dir
}

// loadPatterns returns the built-in patterns, with those of dir (when
// given) added; a pattern of dir replaces a built-in one of its name.
func loadPatterns(dir string) ([]*patterns.Pattern, error) {
	ps, err := patterns.LoadFS(configs.Patterns, "patterns", "built-in:configs/patterns")
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return ps, nil
	}
	extra, err := patterns.Load(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range extra {
		ps = slices.DeleteFunc(ps, func(p *patterns.Pattern) bool { return p.Name == e.Name })
	}
	ps = append(ps, extra...)
	slices.SortFunc(ps, func(a, b *patterns.Pattern) int { return strings.Compare(a.Name, b.Name) })
	return ps, nil
}

func cmdPatternsList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("patterns list", stderr)
	dir := patternsFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	ps, err := loadPatterns(*dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\tversion\tlevel\tconditions\tfile\tdescription")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Level, strings.Join(p.Conditions(), ","), p.File, clip(strings.Join(strings.Fields(p.Description), " "), 80))
	}
	return tw.Flush()
}

func cmdPatternsRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("patterns run", stderr)
	dir := patternsFlag(fs)
	dataDir := fs.String("data", "./data", "data directory")
	format := fs.String("format", "text", "text or json")
	from := fs.String("from", "", "start of the period: a date (2026-12-07), ISO week (2026-W49), month (2026-11) or year")
	pf := addPeriodFlags(fs, true)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	pq, err := pf.query(*from)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: adcensus patterns run NAME [--data DIR] [--format text|json] [--from … --to … --basis seen|posted]"}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	if pf.api != "" {
		// The server runs its own patterns, in the period asked.
		if *dir != "" {
			return usageError{"--patterns with --api: the server runs the patterns it has"}
		}
		v := url.Values{}
		pf.values(v, *from)
		var rep patterns.Report
		if err := remoteJSON(ctx, pf.api, "/api/patterns/"+url.PathEscape(pos[0]), v, &rep); err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(stdout, &rep)
		}
		writePatternReport(stdout, &rep)
		return nil
	}
	ps, err := loadPatterns(*dir)
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
	src, err := periodStore(ctx, *dataDir, ix, pq)
	if err != nil {
		return err
	}
	rep, err := patterns.Run(ctx, src, p)
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
