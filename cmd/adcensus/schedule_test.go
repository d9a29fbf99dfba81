package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// growingArena serves a small arena whose listing links adverts 1..n; n
// grows when the test says so, and every request is recorded.
type growingArena struct {
	*httptest.Server
	name  string
	digit int // keeps phone numbers apart between arenas
	n     atomic.Int64
	mu    sync.Mutex
	hits  map[string][]time.Time
}

func newGrowingArena(t *testing.T, name string, digit, n int) *growingArena {
	t.Helper()
	a := &growingArena{name: name, digit: digit, hits: map[string][]time.Time{}}
	a.n.Store(int64(n))
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits[r.URL.Path] = append(a.hits[r.URL.Path], time.Now())
		a.mu.Unlock()
		var id int
		switch {
		case r.URL.Path == "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /privat/\n")
		case r.URL.Path == "/list":
			for i := 1; i <= int(a.n.Load()); i++ {
				fmt.Fprintf(w, `<a class="ad" href="/ad/%d?utm_source=list">ad</a>`, i)
			}
		case func() bool { _, err := fmt.Sscanf(r.URL.Path, "/ad/%d", &id); return err == nil }():
			// Each advert its own person: its own number, name and city.
			fmt.Fprintf(w, `<h1>%s %d</h1><p class="text">Hej från %s annons %d.</p><span class="name">Person%s%d</span>
<span class="city">Malmö</span><span class="tel">070-%d%02d %02d 11</span>`, a.name, id, a.name, id, a.name, id, a.digit, id, id)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *growingArena) requests(path string) []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Time(nil), a.hits[path]...)
}

func (a *growingArena) config(schedule string) string {
	return fmt.Sprintf(`name: %s
start_urls: [%s/list]
allow_private: true
schedule: %q
limits: {concurrency: 2, delay: 0s, timeout: 5s}
listing: {match: '^/list$', links: a.ad}
detail:
  match: '^/ad/(\d+)$'
  fields:
    title: {selector: h1}
    body: {selector: .text}
    name: {selector: .name}
    city: {selector: .city}
    phones: {selector: .tel}
`, a.name, a.URL, schedule)
}

// TestRunScheduleCrawlsAtTheScheduledTime drives 'adcensus run --schedule'
// with two arenas, one scheduled by its config, one by 'adcensus schedule
// add' (overriding a config schedule that would not fire). The scheduler's
// clock is the real clock shifted so that a cron minute comes one second
// after the scheduler starts; everything else is the production path. Both
// arenas grow between the first crawl and the scheduled one: the scheduled
// runs must start at the cron time, not before, be recorded ('adcensus
// runs'), and bring the new adverts into the index.
func TestRunScheduleCrawlsAtTheScheduledTime(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	initial := map[string]int{"kvarn": 3, "lykta": 2}
	byConfig := newGrowingArena(t, "kvarn", 1, initial["kvarn"])
	byStore := newGrowingArena(t, "lykta", 2, initial["lykta"])
	arenas := []*growingArena{byConfig, byStore}
	for _, f := range []struct{ name, body string }{
		{"kvarn.yaml", byConfig.config("* * * * *")},
		{"lykta.yaml", byStore.config("0 3 1 1 *")}, // 1 January 03:00
		{"adcensus.yaml", "data_dir: ./data\narenas: [kvarn.yaml, lykta.yaml]\n"},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "adcensus.yaml")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	runMain(t, "schedule", "add", "lykta", "* * * * *", "--data", data, "--config", cfg)
	if out := runMain(t, "schedule", "list", "--config", cfg, "--data", data); !regexp.MustCompile(`kvarn\s+\* \* \* \* \*\s+config`).MatchString(out) ||
		!regexp.MustCompile(`lykta\s+\* \* \* \* \*\s+store`).MatchString(out) {
		t.Fatalf("schedule list:\n%s", out)
	}

	// The clock: on its first reading (the scheduler starting, after the
	// first crawl) it jumps to one second before the next whole minute and
	// the arenas grow; from then on it runs at the real pace.
	var (
		once      sync.Once
		offset    atomic.Int64
		cronAtRaw atomic.Int64 // real time (UnixNano) of the cron minute
	)
	clock := func() time.Time {
		once.Do(func() {
			real := time.Now()
			minute := real.Truncate(time.Minute).Add(time.Minute)
			offset.Store(int64(minute.Add(-time.Second).Sub(real)))
			cronAtRaw.Store(real.Add(time.Second).UnixNano())
			byConfig.n.Store(5)
			byStore.n.Store(4)
		})
		return time.Now().Add(time.Duration(offset.Load()))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runCommand(ctx, []string{"--config", cfg, "--data", data, "--schedule", "--quiet"}, &stdout, &stderr, clock)
	}()
	lineRe := regexp.MustCompile(`scheduled run (\S+) of (\w+) done: (\d+) pages, (\d+) ads, (\d+) errors; index: (\d+) ads, (\d+) persons`)
	deadline := time.After(60 * time.Second)
	for len(lineRe.FindAllString(stdout.String(), -1)) < 2 {
		select {
		case err := <-done:
			t.Fatalf("run --schedule returned before the scheduled crawls: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("no scheduled crawls within 60s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("run --schedule after cancel: %v\nstderr:\n%s", err, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "waiting for scheduled crawls") {
		t.Errorf("stdout lacks the scheduler's start:\n%s", out)
	}
	// Exactly one scheduled run per arena in the 1 s before the cron
	// minute and the ~seconds after it (the next one is a minute later).
	want := map[string]int{"kvarn": 5, "lykta": 4}
	got := map[string]int{}
	for _, m := range lineRe.FindAllStringSubmatch(out, -1) {
		arena := m[2]
		got[arena]++
		// 1 listing + adverts; robots.txt is not a page.
		if m[4] != fmt.Sprint(want[arena]) || m[3] != fmt.Sprint(1+want[arena]) || m[5] != "0" {
			t.Errorf("scheduled run of %s: %s", arena, m[0])
		}
		if m[6] != fmt.Sprint(want[arena]) || m[7] != fmt.Sprint(want[arena]) {
			t.Errorf("after the scheduled run of %s the index has %s ads, %s persons; want %d each", arena, m[6], m[7], want[arena])
		}
	}
	if got["kvarn"] != 1 || got["lykta"] != 1 {
		t.Errorf("scheduled runs by arena %v, want one each:\n%s", got, out)
	}

	// At the servers: the first crawl saw the old adverts; the scheduled
	// one started at the cron time, not before, and fetched every advert
	// (old ones again: a snapshot), each once.
	cronAt := time.Unix(0, cronAtRaw.Load())
	for _, a := range arenas {
		lists := a.requests("/list")
		if len(lists) != 2 {
			t.Errorf("%s: listing fetched %d times, want 2 (first crawl, scheduled crawl)", a.name, len(lists))
			continue
		}
		if lists[0].After(cronAt) || lists[1].Before(cronAt) {
			t.Errorf("%s: listing fetched at %v and %v relative to the cron time; want before and at/after",
				a.name, lists[0].Sub(cronAt), lists[1].Sub(cronAt))
		}
		for i := 1; i <= want[a.name]; i++ {
			reqs := a.requests(fmt.Sprintf("/ad/%d", i))
			wantN := 2
			if i > initial[a.name] {
				wantN = 1 // added after the first crawl
			}
			if len(reqs) != wantN {
				t.Errorf("%s: /ad/%d fetched %d times, want %d", a.name, i, len(reqs), wantN)
				continue
			}
			if last := reqs[len(reqs)-1]; last.Before(cronAt) {
				t.Errorf("%s: /ad/%d last fetched %v before the cron time", a.name, i, cronAt.Sub(last))
			}
		}
	}

	// Recorded: 'adcensus runs' lists two finished runs per arena.
	runsOut := runMain(t, "runs", "--data", data)
	for _, name := range []string{"kvarn", "lykta"} {
		if n := len(regexp.MustCompile(`(?m)^\S+\s+`+name+`\s+\S+\s+\S+\s+done\s`).FindAllString(runsOut, -1)); n != 2 {
			t.Errorf("runs: %d finished runs of %s, want 2\n%s", n, name, runsOut)
		}
	}
	// And in the index, read after shutdown: every advert, each a person.
	for _, r := range indexCounts(t, data, "arena") {
		if r.Total {
			continue
		}
		if w := want[r.Group[0]]; r.Ads != w || r.Persons != w {
			t.Errorf("index after shutdown: %s has %d ads, %d persons; want %d", r.Group[0], r.Ads, r.Persons, w)
		}
	}
	if hits := runMain(t, "search", "--data", data, "lykta"); !strings.Contains(hits, "lykta 4") || !strings.Contains(hits, "4 ") {
		t.Errorf("search does not find the adverts the scheduled crawl added:\n%s", hits)
	}
}
