package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"adcensus/web/api"
	"adcensus/web/audit"
)

// failingArena serves an arena through a proxy that answers 404 for the
// adverts whose number is a multiple of 5, and records those paths.
type failingArena struct {
	*httptest.Server
	mu     sync.Mutex
	failed map[string]bool
}

var nattlinjenAd = regexp.MustCompile(`^/ad/[a-z0-9-]+-(\d+)\.html$`)

func newFailingArena(t *testing.T, target string) *failingArena {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	f := &failingArena{failed: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := nattlinjenAd.FindStringSubmatch(r.URL.Path); m != nil {
			if n, _ := strconv.Atoi(m[1]); n%5 == 0 {
				f.mu.Lock()
				f.failed[r.URL.Path] = true
				f.mu.Unlock()
				http.NotFound(w, r)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *failingArena) failedPaths() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]bool{}
	for p := range f.failed {
		out[p] = true
	}
	return out
}

// tokenDo makes an API request with a bearer token and returns the status
// and body.
func tokenDo(t *testing.T, method, u, token, body string) (int, []byte, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvents reads the event stream at u until an "end" event (or 60 s).
func readEvents(t *testing.T, u, token string) []sseEvent {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 60 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s: %s", u, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	var out []sseEvent
	var ev sseEvent
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				out = append(out, ev)
				if ev.name == "end" {
					return out
				}
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
	t.Fatalf("the event stream ended without an end event (%v): %d events", sc.Err(), len(out))
	return nil
}

// 'serve --pipeline' hosts the pipeline: a crawl started over the API
// (and in the browser) runs in the server process, its progress comes as
// server-sent events, and its failed pages are listed; the web app's runs
// page starts one and follows it, keyboard-free but axe-checked.
func TestWebAppCrawl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the pipeline and a browser: not in -short")
	}
	_, demo := startDemo(t)
	failing := newFailingArena(t, demo.URL("nattlinjen"))
	slow := newSlowProxy(t, demo.URL("blomstra"), 100*time.Millisecond) // to be stopped in the browser
	dir := t.TempDir()
	cfg := writeArenaConfigs(t, dir, map[string]string{"blomstra": slow.URL, "nattlinjen": failing.URL})
	dataDir := filepath.Join(dir, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(webappPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"operator", "admin"} {
		runMain(t, "user", "add", webappUsers[role], "--role", role, "--password-file", pw, "--data", dataDir)
	}
	operator := MustAccessToken(t, dataDir, "operator")
	researcher := MustAccessToken(t, dataDir, "researcher")
	base, stop := startServe(t, dataDir, "--pipeline", "--config", cfg)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()

	// Over the API: the arenas, a bad arena, a crawl and its events.
	code, body, _ := tokenDo(t, "GET", base+"/api/crawls", operator, "")
	if code != http.StatusOK || !strings.Contains(string(body), `"arenas":["blomstra","nattlinjen"]`) {
		t.Fatalf("GET /api/crawls: %d %s", code, body)
	}
	if code, body, _ := tokenDo(t, "POST", base+"/api/crawls", operator, `{"arena":"nowhere"}`); code != http.StatusBadRequest || !strings.Contains(string(body), "blomstra, nattlinjen") {
		t.Errorf("start an unknown arena: %d %s", code, body)
	}
	if code, _, _ := tokenDo(t, "POST", base+"/api/crawls", researcher, `{"arena":"nattlinjen"}`); code != http.StatusForbidden {
		t.Errorf("a researcher starts a crawl: %d, want 403", code)
	}
	code, body, hdr := tokenDo(t, "POST", base+"/api/crawls", operator, `{"arena":"nattlinjen"}`)
	if code != http.StatusAccepted {
		t.Fatalf("start nattlinjen: %d %s", code, body)
	}
	var started api.CrawlStatus
	if err := json.Unmarshal(body, &started); err != nil || started.Arena != "nattlinjen" || started.Finished {
		t.Fatalf("start nattlinjen: %v %s", err, body)
	}
	if code, body, _ := tokenDo(t, "POST", base+"/api/crawls", operator, `{"arena":"nattlinjen"}`); code != http.StatusConflict {
		t.Errorf("a second crawl of nattlinjen while the first runs: %d %s, want 409", code, body)
	}
	events := readEvents(t, base+hdr.Get("Location"), operator)
	var end api.CrawlStatus
	if err := json.Unmarshal([]byte(events[len(events)-1].data), &end); err != nil {
		t.Fatal(err)
	}
	t.Logf("nattlinjen crawled and processed in %s (%d events)", end.Ended.Sub(end.Started).Round(time.Millisecond), len(events))
	if len(events) < 2 || events[0].name != "progress" {
		t.Errorf("events: %d, the first %q; want progress events before the end", len(events), events[0].name)
	}
	failed := failing.failedPaths()
	nErrs := 0
	for _, n := range end.Errors {
		nErrs += n
	}
	if end.Status != "done" || !end.Finished || end.Run == "" || end.Ads == 0 || len(failed) == 0 || nErrs != len(failed) {
		t.Errorf("the crawl's end: %+v; the arena failed %d pages", end, len(failed))
	}
	if end.Stages["indexed"] < int64(end.Ads) {
		t.Errorf("the crawl ended before its %d adverts were indexed: %v", end.Ads, end.Stages)
	}
	// Its failed pages, each with its error.
	code, body, _ = tokenDo(t, "GET", base+"/api/runs/"+end.Run+"/errors", operator, "")
	var runErrs struct{ Errors []api.RunError }
	if err := json.Unmarshal(body, &runErrs); code != http.StatusOK || err != nil {
		t.Fatalf("run errors: %d %v %s", code, err, body)
	}
	for _, e := range runErrs.Errors {
		u, _ := url.Parse(e.URL)
		if u == nil || !failed[u.Path] || e.Kind != "detail" || !strings.Contains(e.Error, "404") {
			t.Errorf("run error %+v: not one of the failed adverts", e)
		}
	}
	if len(runErrs.Errors) != len(failed) {
		t.Errorf("run errors: %d, the arena failed %d pages", len(runErrs.Errors), len(failed))
	}
	// The index the server reads has them at once.
	analyst := MustAccessToken(t, dataDir, "analyst")
	if code, body, _ := tokenDo(t, "GET", base+"/api/search?q=*&size=1", analyst, ""); code != http.StatusOK ||
		!strings.Contains(string(body), fmt.Sprintf(`"total":%d`, end.Ads)) {
		t.Errorf("search after the crawl: %d %.200s; want %d adverts", code, body, end.Ads)
	}

	// In the browser: the operator starts blomstra and follows it.
	b := MustBrowser(t, base)
	b.open("")
	b.heading("Logga in")
	t.Run("operator", func(t *testing.T) {
		b.t = t
		b.signIn("operator")
		b.heading("Arenor och körningar")
		b.waitFor("the crawl form", `document.getElementById("crawl-form")`)
		if n := evalJS[int](b, `document.querySelectorAll("#crawl-list .crawl").length`); n != 1 {
			t.Errorf("crawls listed before starting one: %d, want the API's one", n)
		}
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS("#crawl-arena"), "blomstra"),
			chromedp.Click(chromedp.CSS("#crawl-start"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("blomstra's crawl", `[...document.querySelectorAll("#crawl-list .crawl")].some(c => c.textContent.includes("blomstra"))`)
		// Stop it once it has pages; it says who stopped it.
		b.waitWithin(60*time.Second, "blomstra's first pages", `+document.querySelector("#crawl-list .crawl").dataset.pages > 0`)
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#crawl-list .crawl .crawl-stop"))); err != nil {
			t.Fatal(err)
		}
		b.waitWithin(60*time.Second, "blomstra's crawl stopped", `document.querySelector("#crawl-list .crawl").dataset.status === "stopped"`)
		if got := evalJS[string](b, `document.querySelector("#crawl-list .crawl").innerText`); !strings.Contains(got, "stopped by ole") {
			t.Errorf("the stopped crawl: %q", got)
		}
		// Started again, it resumes the run and finishes.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#crawl-start"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("blomstra's second crawl", `document.querySelectorAll("#crawl-list .crawl").length === 3`)
		// A crawl and its processing by the stages: up to a minute on a
		// loaded machine under -race.
		b.waitWithin(90*time.Second, "blomstra's crawl done", `[...document.querySelectorAll("#crawl-list .crawl")].some(c => c.textContent.includes("blomstra") && c.dataset.finished === "true" && c.dataset.status === "done")`)
		if got := evalJS[string](b, `document.querySelector("#crawl-list .crawl").innerText`); !strings.Contains(got, "Klar") || !strings.Contains(got, "blomstra-") {
			t.Errorf("the finished crawl: %q", got)
		}
		// The runs table is refreshed with blomstra's run.
		b.waitFor("blomstra's run in the table", `document.getElementById("runs-tables").innerText.includes("blomstra-")`)
		b.shot("crawl")
		b.axe("runs with crawls")
		// nattlinjen's run has errors: its list.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`#runs-tables a[href*="errors="]`))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("the run's errors", `document.querySelector("#run-errors table")`)
		if n := evalJS[int](b, `document.querySelectorAll("#run-errors tbody tr").length`); n != len(failed) {
			t.Errorf("the run's error list has %d rows, want %d", n, len(failed))
		}
		b.axe("run errors")
		// A run's id leads to what changed since it.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`#runs-tables a[href^="#/changes"]`))); err != nil {
			t.Fatal(err)
		}
		b.heading("Förändringar")
		b.waitFor("changes since the run", `(document.getElementById("changes-result") || {}).textContent?.startsWith("Sedan körningen")`)
		b.signOut()
	})
	t.Run("admin", func(t *testing.T) {
		b.t = t
		b.signIn("admin")
		b.open("#/runs")
		b.heading("Arenor och körningar")
		b.waitFor("the crawls", `document.querySelectorAll("#crawl-list .crawl").length === 3`)
		if evalJS[bool](b, `document.querySelector("main").innerText.split("\n").some(l => l.trim() === "null")`) {
			t.Error(`the runs page shows "null"`)
		}
		if evalJS[bool](b, `!!document.getElementById("crawl-form")`) {
			t.Error("the admin is offered to start a crawl (operators only)")
		}
		// In English too.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
			t.Fatal(err)
		}
		b.heading("Arenas and runs")
		b.waitFor("the crawls in English", `document.getElementById("crawls").innerText.includes("Crawls since the server started")`)
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
			t.Fatal(err)
		}
		b.heading("Arenor och körningar")
		b.signOut()
	})
	stopped = true
	if err := stop(); err != nil {
		t.Errorf("serve: %v", err)
	}
	// The starts are in the audit log, with who and which arena.
	var starts []string
	if err := audit.Read(filepath.Join(dataDir, "audit.log"), time.Time{}, func(_ int, e audit.Entry) error {
		if e.Action == "startCrawl" && e.Status == http.StatusAccepted {
			starts = append(starts, e.Who+" "+e.What["arena"])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(starts, "; "); !strings.Contains(got, "nattlinjen") || !strings.Contains(got, webappUsers["operator"]+" blomstra") {
		t.Errorf("audited crawl starts: %s", got)
	}
}

// serve --pipeline: a crawl stopped from the API stops after its current
// pages and leaves its run open; a scheduled crawl is a crawl of the host,
// refused while the browser's crawl of the arena runs, and resumes the
// stopped run.
func TestServePipelineStopAndScheduledCrawl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the pipeline: not in -short")
	}
	_, demo := startDemo(t)
	slow := newSlowProxy(t, demo.URL("blomstra"), 30*time.Millisecond)
	dir := t.TempDir()
	cfgPath := writeArenaConfigs(t, dir, map[string]string{"blomstra": slow.URL})
	cfg, arenas, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := openCrawlHost(ctx, filepath.Join(dir, "data"), cfg, arenas, newLogger(io.Discard, slog.LevelInfo))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := h.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	first, err := h.Start("blomstra", "ole")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.scheduled(ctx, arenas[0]); !errors.Is(err, api.ErrCrawlRunning) {
		t.Errorf("a scheduled crawl while the browser's runs: %v, want ErrCrawlRunning", err)
	}
	checkFor(t, 60*time.Second, "the first pages", func() bool { st, _ := h.Crawl(first.ID); return st.Pages > 0 })
	if _, err := h.Stop(first.ID, "ole"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 60*time.Second, "the crawl to stop", func() bool { st, _ := h.Crawl(first.ID); return st.Finished })
	stopped, _ := h.Crawl(first.ID)
	if stopped.Status != "stopped" || !strings.Contains(stopped.Error, "stopped by ole") || stopped.Run == "" || stopped.Pages >= 137 {
		t.Fatalf("the stopped crawl: %+v", stopped)
	}
	if _, err := h.Stop(first.ID, "ole"); !errors.Is(err, api.ErrCrawlFinished) {
		t.Errorf("stop a stopped crawl: %v, want ErrCrawlFinished", err)
	}
	if _, err := h.Stop("crawl-99", "ole"); !errors.Is(err, api.ErrUnknownCrawl) {
		t.Errorf("stop an unknown crawl: %v, want ErrUnknownCrawl", err)
	}
	run, err := h.scheduled(ctx, arenas[0])
	if err != nil || run.Status != "done" || run.ID != stopped.Run || run.Ads != 130 {
		t.Fatalf("the scheduled crawl: %+v, %v; want the stopped run %s resumed to its 130 adverts", run, err, stopped.Run)
	}
	crawls := h.Crawls()
	if len(crawls) != 2 || crawls[0].By != "schedule" || crawls[0].Run != run.ID || !crawls[0].Finished || crawls[0].Status != "done" {
		t.Errorf("crawls: %+v", crawls)
	}
}
