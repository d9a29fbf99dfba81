package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // Europe/Stockholm on machines without a zone database

	"adcensus/crawler"
	"adcensus/index"
)

const scheduleUsage = `usage: adcensus schedule list [--config FILE] [--data DIR]
       adcensus schedule add ARENA "CRON" [--config FILE] [--data DIR]     (e.g. "0 6 * * 1": Mondays 06:00)
       adcensus schedule remove ARENA [--data DIR]

Schedules are stored in DATA/crawl.db and override the schedule field of
the arena's config; 'adcensus run --schedule' starts crawls at these times.
ARENA must be an arena of the main config (--config, default
configs/adcensus.yaml when it exists) or of a past run in DATA. Cron times
are in the machine's time zone unless the expression starts with
CRON_TZ=Europe/Stockholm; next starts are shown in UTC and Stockholm time.`

// cmdSchedule lists, adds and removes the crawl schedules stored in
// crawl.db; a stored schedule overrides the schedule field of the arena's
// config. 'adcensus run --schedule' starts crawls at these times. It never
// creates a data directory or a key: list reads crawl.db read-only, add
// and remove need an existing data directory.
func cmdSchedule(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := groupUsage(args, scheduleUsage, stdout); done {
		return err
	}
	sub := args[0]
	fs := newFlags("schedule "+sub, stderr)
	dataDir := fs.String("data", "./data", "data directory (schedules live in its crawl.db)")
	cfgPath := fs.String("config", "", "main config: its arenas are the ones a schedule may name (default configs/adcensus.yaml when it exists); list also shows their config schedules")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		if len(pos) != 2 {
			return usageError{scheduleUsage}
		}
		sc := crawler.Schedule{Arena: pos[0], Spec: pos[1]}
		if _, err := crawler.ParseSchedule(sc.Spec); err != nil {
			return usageError{fmt.Sprintf("schedule %s: %v", sc.Arena, err)}
		}
		store, err := openScheduleStore(*dataDir)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := checkArenaKnown(store, *cfgPath, sc.Arena); err != nil {
			return err
		}
		if err := store.PutSchedule(sc); err != nil {
			return err
		}
		s, err := crawler.NewScheduler([]crawler.Schedule{sc}, crawler.SchedulerOptions{})
		if err != nil {
			return err
		}
		if due := s.Next(time.Now()); len(due) > 0 {
			fmt.Fprintf(stdout, "%s: %q, next crawl %s\n", sc.Arena, sc.Spec, bothZones(due[0].At))
		}
		return store.Close()
	case "remove", "rm":
		if len(pos) != 1 {
			return usageError{scheduleUsage}
		}
		store, err := openScheduleStore(*dataDir)
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.DeleteSchedule(pos[0]); err != nil {
			if errors.Is(err, crawler.ErrScheduleNotFound) {
				return fmt.Errorf("%w (a schedule in the arena config is removed there)", err)
			}
			return err
		}
		fmt.Fprintf(stdout, "%s: schedule removed\n", pos[0])
		return store.Close()
	case "list", "ls":
		if len(pos) != 0 {
			return usageError{scheduleUsage}
		}
		var stored []crawler.Schedule
		if _, err := os.Stat(filepath.Join(*dataDir, crawlStateFile)); err != nil {
			fmt.Fprintf(stderr, "no crawl state in %s: no stored schedules\n", *dataDir)
		} else {
			store, err := crawler.OpenStoreReadOnly(filepath.Join(*dataDir, crawlStateFile))
			if err != nil {
				return err
			}
			stored, err = store.Schedules()
			store.Close()
			if err != nil {
				return err
			}
		}
		scheds := stored
		if *cfgPath != "" {
			_, arenas, err := loadConfig(*cfgPath)
			if err != nil {
				return err
			}
			scheds = crawler.MergeSchedules(arenas, stored)
		}
		return printSchedules(stdout, scheds, time.Now())
	}
	return usageError{fmt.Sprintf("unknown schedule command %q\n%s", sub, scheduleUsage)}
}

// openScheduleStore opens the crawl state of an existing data directory
// for changing its schedules; a missing directory (a mistyped --data) is
// refused instead of created.
func openScheduleStore(dataDir string) (*crawler.Store, error) {
	if st, err := os.Stat(dataDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("no data directory %s: give --data DIR of the data directory 'adcensus run' uses (a new one is not created here: mkdir it first)", dataDir)
	}
	return crawler.OpenStore(filepath.Join(dataDir, crawlStateFile))
}

// checkArenaKnown returns an error unless arena is an arena of the main
// config (cfgPath, or configs/adcensus.yaml when it exists) or of a past
// run in store.
func checkArenaKnown(store *crawler.Store, cfgPath, arena string) error {
	known := map[string]bool{}
	var from []string
	if cfgPath == "" {
		if _, err := os.Stat(defaultConfigPath); err == nil {
			cfgPath = defaultConfigPath
		}
	}
	if cfgPath != "" {
		_, arenas, err := loadConfig(cfgPath)
		if err != nil {
			return err
		}
		for _, a := range arenas {
			known[a.Name] = true
		}
		from = append(from, cfgPath)
	}
	runs, err := store.Runs()
	if err != nil {
		return err
	}
	for _, r := range runs {
		known[r.Arena] = true
	}
	if known[arena] {
		return nil
	}
	from = append(from, "past runs")
	names := slices.Sorted(maps.Keys(known))
	list := "none"
	if len(names) > 0 {
		list = strings.Join(names, ", ")
	}
	return usageError{fmt.Sprintf("unknown arena %q: known arenas (%s) are %s; give the main config with --config FILE", arena, strings.Join(from, ", "), list)}
}

// stockholm is the team's time zone; the binary carries the zone database
// (time/tzdata), so this works on machines without one.
var stockholm = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		return time.UTC
	}
	return loc
})

// bothZones formats t in UTC and in Stockholm time.
func bothZones(t time.Time) string {
	return fmt.Sprintf("%s (%s Europe/Stockholm)", t.UTC().Format(time.RFC3339), t.In(stockholm()).Format("Mon 2006-01-02 15:04 MST"))
}

func printSchedules(w io.Writer, scheds []crawler.Schedule, now time.Time) error {
	s, err := crawler.NewScheduler(scheds, crawler.SchedulerOptions{})
	if err != nil {
		return err
	}
	next := map[string]time.Time{}
	for _, d := range s.Next(now) {
		next[d.Arena] = d.At
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "arena\tschedule\tsource\tnext (UTC)\tnext (Europe/Stockholm)")
	for _, sc := range scheds {
		n, local := "-", "-"
		if at, ok := next[sc.Arena]; ok {
			n, local = at.UTC().Format(time.RFC3339), at.In(stockholm()).Format("Mon 2006-01-02 15:04 MST")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", sc.Arena, sc.Spec, sc.Source, n, local)
	}
	return tw.Flush()
}

// scheduleCrawls crawls each arena of arenas that has a schedule (stored in
// crawl.db, else its config's schedule field) into the node's stream at the
// scheduled times, until ctx is cancelled; the node's stages must be
// running. A crawl interrupted by shutdown is resumed by the next one
// (AutoResume). It returns ctx.Err() after the crawls in progress have
// stopped; it returns at once with an error when a schedule is invalid.
// With no schedules it just waits for ctx. After each scheduled crawl it
// waits until the stages have processed its adverts and prints one line
// with the run's and the index's counts for the arena to stdout.
func scheduleCrawls(ctx context.Context, n *node, o runOptions, stdout io.Writer) error {
	log := n.log
	arenas := o.Arenas
	stored, err := n.crawls.Schedules()
	if err != nil {
		return err
	}
	scheds := crawler.MergeSchedules(arenas, stored)
	s, err := crawler.NewScheduler(scheds, crawler.SchedulerOptions{Logger: log, Now: o.Now})
	if err != nil {
		return err
	}
	byName := map[string]*crawler.ArenaConfig{}
	for _, a := range arenas {
		byName[a.Name] = a
	}
	for _, sc := range scheds {
		log.Info("crawl scheduled", "arena", sc.Arena, "schedule", sc.Spec, "source", sc.Source)
	}
	var outMu sync.Mutex
	return s.Run(ctx, func(ctx context.Context, arena string) error {
		cfg := byName[arena]
		crawl := o.Crawl
		if crawl == nil {
			crawl = func(ctx context.Context, cfg *crawler.ArenaConfig) (*crawler.Run, error) {
				c, err := n.newCrawler(cfg, o)
				if err != nil {
					return nil, err
				}
				return c.Run(ctx)
			}
		}
		run, err := crawl(ctx, cfg)
		if err != nil {
			return err
		}
		log.Info("scheduled crawl finished", "run", run.ID, "status", run.Status, "pages", run.Pages, "ads", run.Ads, "errors", run.ErrorCount())
		if err := n.waitIdle(ctx); err != nil {
			return fmt.Errorf("scheduled run %s: waiting for the stages: %w", run.ID, err)
		}
		indexed := index.CountRow{}
		if n.index == nil { // a crawl process: the counts are in the index replicas
			outMu.Lock()
			fmt.Fprintf(stdout, "scheduled run %s of %s %s: %d pages, %d ads, %d errors; processed by the stages\n",
				run.ID, arena, run.Status, run.Pages, run.Ads, run.ErrorCount())
			outMu.Unlock()
			return nil
		}
		rows, err := n.index.Counts(ctx, []string{"arena"}, index.CountOptions{})
		if err != nil {
			return err
		}
		for _, r := range rows {
			if !r.Total && len(r.Group) == 1 && r.Group[0] == arena {
				indexed = r
			}
		}
		outMu.Lock()
		fmt.Fprintf(stdout, "scheduled run %s of %s %s: %d pages, %d ads, %d errors; index: %d ads, %d persons in %s\n",
			run.ID, arena, run.Status, run.Pages, run.Ads, run.ErrorCount(), indexed.Ads, indexed.Persons, arena)
		outMu.Unlock()
		return nil
	})
}
