package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"adcensus/index/census"
)

// TestRecrawlKilledAndResumedSameCensus crawls the demo arenas (week 0 of
// the clock), then the next week's arenas with `adcensus run` killed by
// SIGKILL in the middle of the re-crawl and started again: the census
// records every advert of the re-crawl once, the same new and gone
// adverts as the clock says, and the same active persons per week.
func TestRecrawlKilledAndResumedSameCensus(t *testing.T) {
	corpus, demo := startDemo(t)
	const weeks = 3
	if err := demo.Show(corpus.AtWeek(0, weeks)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	proxies := map[string]*slowProxy{}
	base := map[string]string{}
	for _, name := range demo.Arenas() {
		proxies[name] = newSlowProxy(t, demo.URL(name), 10*time.Millisecond)
		base[name] = proxies[name].URL
	}
	cfg := writeArenaConfigs(t, dir, base)
	dataDir := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "run.log")
	total := func() int64 {
		var n int64
		for _, p := range proxies {
			n += p.requests.Load()
		}
		return n
	}
	run := func() {
		t.Helper()
		if err := startChild(t, logPath, "run", "--config", cfg, "--data", dataDir, "--quiet").Wait(); err != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("run: %v\n%s", err, log)
		}
	}
	run()

	if err := demo.Show(corpus.AtWeek(1, weeks)); err != nil {
		t.Fatal(err)
	}
	live, newAds, gone := 0, 0, 0
	for i := range corpus.Adverts {
		a := &corpus.Adverts[i]
		l0, l1 := corpus.LiveAt(a, 0, weeks), corpus.LiveAt(a, 1, weeks)
		if l1 {
			live++
		}
		if l1 && !l0 {
			newAds++
		}
		if l0 && !l1 {
			gone++
		}
	}
	start := total()
	child := startChild(t, logPath, "run", "--config", cfg, "--data", dataDir, "--quiet")
	deadline := time.Now().Add(2 * time.Minute)
	for total()-start < int64(live)/2 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			log, _ := os.ReadFile(logPath)
			t.Fatalf("re-crawl did not reach %d requests\n%s", live/2, log)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := total()
	run() // resumes the re-crawl
	if total() <= killedAt {
		t.Fatal("the resumed re-crawl fetched nothing: was it already finished when killed?")
	}

	st, err := census.OpenReadOnly(filepath.Join(dataDir, census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("%d runs recorded, want 4 (two arenas, two crawls)", len(runs))
	}
	sighted, gotNew, gotGone := 0, 0, 0
	for _, r := range runs[2:] {
		if !r.Complete {
			t.Errorf("resumed run %s incomplete: %s", r.Run, r.Why)
		}
		sighted += r.Sighted
		gotNew += r.New
		gotGone += r.Gone
	}
	if sighted != live || gotNew != newAds || gotGone != gone {
		t.Errorf("killed and resumed re-crawl: sighted/new/gone %d/%d/%d, want %d/%d/%d", sighted, gotNew, gotGone, live, newAds, gone)
	}
	life, err := st.Lifetimes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for id, l := range life {
		seen := map[string]bool{}
		for _, s := range l.Sightings {
			if seen[s.Run] {
				t.Errorf("advert %s sighted twice by run %s", id, s.Run)
			}
			seen[s.Run] = true
		}
	}
	st.Close()
	// Both crawls ran this (real) week: the persons active in it are those
	// live in week 0 or week 1 of the clock.
	union := map[string]bool{}
	for i := range corpus.Adverts {
		a := &corpus.Adverts[i]
		if corpus.LiveAt(a, 0, weeks) || corpus.LiveAt(a, 1, weeks) {
			union[a.PersonID] = true
		}
	}
	got := activePersonsByWeek(t, dataDir)
	if len(got) == 1 { // not run across a week's end
		for wk, n := range got {
			if n != len(union) {
				t.Errorf("week %s: %d active persons, want %d", wk, n, len(union))
			}
		}
	}
	t.Logf("active persons by week %v; sighted/new/gone %d/%d/%d", got, sighted, gotNew, gotGone)
}
