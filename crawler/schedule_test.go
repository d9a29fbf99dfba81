package crawler_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"adcensus/crawler"
)

func TestParseSchedule(t *testing.T) {
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"0 6 * * 1", true},
		{"*/15 * * * *", true},
		{"CRON_TZ=Europe/Stockholm 0 6 * * 1-5", true},
		{"@daily", true},
		{"0 6 * *", false},     // four fields
		{"0 0 6 * * 1", false}, // seconds are not standard cron
		{"61 * * * *", false},
		{"@every 1h", false},
		{"", false},
	} {
		_, err := crawler.ParseSchedule(tc.spec)
		if got := err == nil; got != tc.ok {
			t.Errorf("ParseSchedule(%q) error %v, want ok=%v", tc.spec, err, tc.ok)
		}
	}
}

func TestSchedulerNext(t *testing.T) {
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	s, err := crawler.NewScheduler([]crawler.Schedule{
		{Arena: "blomstra", Spec: "0 6 * * 1"},        // Mondays 06:00
		{Arena: "nattlinjen", Spec: "30 5 * * *"},     // daily 05:30
		{Arena: "utc", Spec: "CRON_TZ=UTC 0 4 * * *"}, // daily 04:00 UTC = 05:00 CET
	}, crawler.SchedulerOptions{Location: stockholm})
	if err != nil {
		t.Fatal(err)
	}
	// Sunday 1 March 2026, 12:00 in Stockholm (CET, UTC+1).
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, stockholm)
	due := s.Next(from)
	want := []struct {
		arena string
		at    time.Time
	}{
		{"utc", time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)},
		{"nattlinjen", time.Date(2026, 3, 2, 5, 30, 0, 0, stockholm)},
		{"blomstra", time.Date(2026, 3, 2, 6, 0, 0, 0, stockholm)},
	}
	if len(due) != len(want) {
		t.Fatalf("due = %v", due)
	}
	for i, w := range want {
		if due[i].Arena != w.arena || !due[i].At.Equal(w.at) {
			t.Errorf("due[%d] = %s %s, want %s %s", i, due[i].Arena, due[i].At, w.arena, w.at)
		}
	}
	// Across the change to summer time (29 March 2026): still 06:00 local.
	due = s.Next(time.Date(2026, 3, 28, 12, 0, 0, 0, stockholm))
	for _, d := range due {
		if d.Arena == "blomstra" && !d.At.Equal(time.Date(2026, 3, 30, 6, 0, 0, 0, stockholm)) {
			t.Errorf("blomstra after DST: %s", d.At)
		}
	}
}

func TestSchedulesInStore(t *testing.T) {
	s := mustStore(t, t.TempDir())
	if err := s.PutSchedule(crawler.Schedule{Arena: "blomstra", Spec: "0 6 * * 1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSchedule(crawler.Schedule{Arena: "blomstra", Spec: "0 7 * * 1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSchedule(crawler.Schedule{Arena: "x", Spec: "every monday"}); err == nil {
		t.Fatal("bad spec stored")
	}
	got, err := s.Schedules()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Spec != "0 7 * * 1" || got[0].Source != "store" {
		t.Fatalf("schedules = %+v", got)
	}
	arenas := []*crawler.ArenaConfig{{Name: "blomstra", Schedule: "0 5 * * *"}, {Name: "nattlinjen", Schedule: "0 5 * * *"}, {Name: "none"}}
	merged := crawler.MergeSchedules(arenas, got)
	if len(merged) != 2 || merged[0].Spec != "0 7 * * 1" || merged[1].Source != "config" {
		t.Fatalf("merged = %+v", merged)
	}
	if err := s.DeleteSchedule("blomstra"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSchedule("blomstra"); !errors.Is(err, crawler.ErrScheduleNotFound) {
		t.Fatalf("second delete: %v, want ErrScheduleNotFound", err)
	}
}

// TestSchedulerRunStartsCrawls runs the scheduler on a clock set just
// before a minute boundary, so an every-minute schedule fires at once.
func TestSchedulerRunStartsCrawls(t *testing.T) {
	real := time.Now()
	offset := real.Truncate(time.Minute).Add(time.Minute).Sub(real) - 50*time.Millisecond
	now := func() time.Time { return time.Now().Add(offset) }
	s, err := crawler.NewScheduler([]crawler.Schedule{{Arena: "a", Spec: "* * * * *"}, {Arena: "b", Spec: "* * * * *"}, {Arena: "c", Spec: "0 0 1 1 *"}},
		crawler.SchedulerOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	started := map[string]int{}
	all := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, func(ctx context.Context, arena string) error {
			mu.Lock()
			started[arena]++
			if started["a"] == 1 && started["b"] == 1 {
				close(all)
			}
			mu.Unlock()
			<-ctx.Done() // a long crawl: runs until shutdown
			return ctx.Err()
		})
	}()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("scheduled crawls did not start")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if started["c"] != 0 || started["a"] != 1 {
		t.Fatalf("started = %v", started)
	}
}
