package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"adcensus/crawler"
	"adcensus/index"
)

const scheduleUsage = `usage: adcensus schedule list [--config FILE] [--data DIR]
       adcensus schedule add ARENA "CRON" [--data DIR]     (e.g. "0 6 * * 1": Mondays 06:00)
       adcensus schedule remove ARENA [--data DIR]`

// cmdSchedule lists, adds and removes the crawl schedules stored in
// crawl.db; a stored schedule overrides the schedule field of the arena's
// config. 'adcensus run --schedule' starts crawls at these times.
func cmdSchedule(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := groupUsage(args, scheduleUsage, stdout); done {
		return err
	}
	sub := args[0]
	fs := newFlags("schedule "+sub, stderr)
	dataDir := fs.String("data", "./data", "data directory (schedules live in its crawl.db)")
	cfgPath := fs.String("config", "", "main config: also list the schedules of its arena configs (list only)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return err
	}
	store, err := crawler.OpenStore(filepath.Join(*dataDir, crawlStateFile))
	if err != nil {
		return err
	}
	defer store.Close()
	switch sub {
	case "add":
		if len(pos) != 2 {
			return usageError{scheduleUsage}
		}
		if err := store.PutSchedule(crawler.Schedule{Arena: pos[0], Spec: pos[1]}); err != nil {
			return err
		}
		s, _ := crawler.NewScheduler([]crawler.Schedule{{Arena: pos[0], Spec: pos[1]}}, crawler.SchedulerOptions{})
		if due := s.Next(time.Now()); len(due) > 0 {
			fmt.Fprintf(stdout, "%s: %q, next crawl %s\n", pos[0], pos[1], due[0].At.Format(time.RFC3339))
		}
		return nil
	case "remove", "rm":
		if len(pos) != 1 {
			return usageError{scheduleUsage}
		}
		if err := store.DeleteSchedule(pos[0]); err != nil {
			if errors.Is(err, crawler.ErrScheduleNotFound) {
				return fmt.Errorf("%w (a schedule in the arena config is removed there)", err)
			}
			return err
		}
		fmt.Fprintf(stdout, "%s: schedule removed\n", pos[0])
		return nil
	case "list", "ls":
		if len(pos) != 0 {
			return usageError{scheduleUsage}
		}
		stored, err := store.Schedules()
		if err != nil {
			return err
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
	return usageError{scheduleUsage}
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
	fmt.Fprintln(tw, "arena\tschedule\tsource\tnext")
	for _, sc := range scheds {
		n := "-"
		if at, ok := next[sc.Arena]; ok {
			n = at.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", sc.Arena, sc.Spec, sc.Source, n)
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
		c, err := n.newCrawler(cfg, o)
		if err != nil {
			return err
		}
		run, err := c.Run(ctx)
		if err != nil {
			return err
		}
		log.Info("scheduled crawl finished", "run", run.ID, "status", run.Status, "pages", run.Pages, "ads", run.Ads, "errors", run.ErrorCount())
		if err := n.waitIdle(ctx); err != nil {
			return fmt.Errorf("scheduled run %s: waiting for the stages: %w", run.ID, err)
		}
		rows, err := n.index.Counts(ctx, []string{"arena"}, index.CountOptions{})
		if err != nil {
			return err
		}
		indexed := index.CountRow{}
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
