package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	bolt "go.etcd.io/bbolt"
)

// ErrScheduleNotFound is returned when removing a schedule that is not stored.
var ErrScheduleNotFound = errors.New("schedule not found")

// cronParser reads standard 5-field cron (minute hour day-of-month month
// day-of-week) and the @hourly/@daily/@weekly/@monthly/@yearly descriptors,
// with an optional CRON_TZ=Area/City (or TZ=) prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron expression. Times without a CRON_TZ prefix
// are in the location the Scheduler is given (time.Local by default).
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("not a 5-field cron schedule (like \"0 6 * * 1\"): %v", err)
	}
	if _, every := s.(cron.ConstantDelaySchedule); every {
		return nil, errors.New("@every is not supported: use a cron expression")
	}
	return s, nil
}

// Schedule says when to crawl an arena.
type Schedule struct {
	Arena string `json:"arena"`
	Spec  string `json:"spec"` // cron expression
	// Source is "store" (adcensus schedule add) or "config" (the arena
	// config's schedule field); a stored schedule overrides the config's.
	Source string    `json:"source,omitempty"`
	Added  time.Time `json:"added,omitzero"`
}

var bucketSchedules = []byte("schedules")

// PutSchedule stores (or replaces) the schedule of an arena after checking
// its expression.
func (s *Store) PutSchedule(sc Schedule) error {
	if !nameRe.MatchString(sc.Arena) {
		return fmt.Errorf("schedule: bad arena name %q", sc.Arena)
	}
	if _, err := ParseSchedule(sc.Spec); err != nil {
		return fmt.Errorf("schedule %s: %w", sc.Arena, err)
	}
	sc.Source = "store"
	if sc.Added.IsZero() {
		sc.Added = time.Now().UTC()
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSchedules)
		if err != nil {
			return err
		}
		return putJSON(b, sc.Arena, sc)
	})
}

// DeleteSchedule removes the stored schedule of an arena; it returns
// ErrScheduleNotFound when there is none.
func (s *Store) DeleteSchedule(arena string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedules)
		if b == nil || b.Get([]byte(arena)) == nil {
			return fmt.Errorf("%w: %s", ErrScheduleNotFound, arena)
		}
		return b.Delete([]byte(arena))
	})
}

// Schedules lists the stored schedules by arena name.
func (s *Store) Schedules() ([]Schedule, error) {
	var out []Schedule
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSchedules)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var sc Schedule
			if err := json.Unmarshal(v, &sc); err != nil {
				return err
			}
			out = append(out, sc)
			return nil
		})
	})
	return out, err
}

// MergeSchedules returns the schedule of every arena that has one: the
// stored one when present, else the arena config's. Stored schedules of
// arenas not in arenas are dropped (nothing to crawl).
func MergeSchedules(arenas []*ArenaConfig, stored []Schedule) []Schedule {
	byName := map[string]Schedule{}
	for _, a := range arenas {
		if a.Schedule != "" {
			byName[a.Name] = Schedule{Arena: a.Name, Spec: a.Schedule, Source: "config"}
		}
	}
	known := map[string]bool{}
	for _, a := range arenas {
		known[a.Name] = true
	}
	for _, sc := range stored {
		if known[sc.Arena] {
			byName[sc.Arena] = sc
		}
	}
	out := make([]Schedule, 0, len(byName))
	for _, sc := range byName {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Arena < out[j].Arena })
	return out
}

// Scheduler starts crawls at the times of their cron schedules. A crawl of
// an arena that is still running when its next time comes is not started
// twice: that time is skipped (and logged).
type Scheduler struct {
	log     *slog.Logger
	loc     *time.Location
	entries []schedEntry
	now     func() time.Time
}

type schedEntry struct {
	Schedule
	cron cron.Schedule
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	Logger *slog.Logger
	// Location of expressions without CRON_TZ (default time.Local).
	Location *time.Location
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// NewScheduler checks every schedule and returns a scheduler for them.
func NewScheduler(schedules []Schedule, o SchedulerOptions) (*Scheduler, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Scheduler{log: o.Logger.With("stage", "scheduler"), loc: o.Location, now: o.Now}
	for _, sc := range schedules {
		c, err := ParseSchedule(sc.Spec)
		if err != nil {
			return nil, fmt.Errorf("schedule of %s: %w", sc.Arena, err)
		}
		s.entries = append(s.entries, schedEntry{sc, c})
	}
	return s, nil
}

// Due is one scheduled start.
type Due struct {
	Arena string
	At    time.Time
}

// Next returns the next start of every arena after t, earliest first
// (ties by arena name).
func (s *Scheduler) Next(t time.Time) []Due {
	out := make([]Due, 0, len(s.entries))
	for _, e := range s.entries {
		at := e.cron.Next(t.In(s.loc))
		if at.IsZero() { // an impossible date such as 30 February
			continue
		}
		out = append(out, Due{e.Arena, at})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].Arena < out[j].Arena
	})
	return out
}

// Run calls crawl(ctx, arena) at every scheduled time until ctx is
// cancelled, each call in its own goroutine; it then waits for the crawls
// in progress (which see the cancelled ctx) and returns ctx.Err(). Times
// missed while the process was down are not caught up. crawl's errors are
// logged; the schedule goes on.
func (s *Scheduler) Run(ctx context.Context, crawl func(ctx context.Context, arena string) error) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var mu sync.Mutex
	running := map[string]bool{}
	from := s.now()
	for {
		due := s.Next(from)
		if len(due) == 0 {
			<-ctx.Done()
			return ctx.Err()
		}
		at := due[0].At
		t := time.NewTimer(max(at.Sub(s.now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		// The timer may fire a little early with a coarse clock; never run
		// a time before it has come.
		if s.now().Before(at) {
			continue
		}
		for _, d := range due {
			if !d.At.Equal(at) {
				break
			}
			mu.Lock()
			busy := running[d.Arena]
			running[d.Arena] = true
			mu.Unlock()
			if busy {
				s.log.Warn("previous crawl still running: skipping this start", "arena", d.Arena, "at", d.At)
				continue
			}
			s.log.Info("scheduled crawl", "arena", d.Arena, "at", d.At)
			wg.Add(1)
			go func(arena string) {
				defer wg.Done()
				if err := crawl(ctx, arena); err != nil && ctx.Err() == nil {
					s.log.Error("scheduled crawl failed", "arena", arena, "err", err)
				}
				mu.Lock()
				delete(running, arena)
				mu.Unlock()
			}(d.Arena)
		}
		from = at
	}
}
