package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adcensus/web/api"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

// fakeCrawls is an api.CrawlControl whose one arena's crawl advances a
// page each time it is looked at, and finishes at 5 pages.
type fakeCrawls struct {
	mu     sync.Mutex
	crawls []*api.CrawlStatus
	done   chan struct{}
}

func (f *fakeCrawls) Arenas() []string { return []string{"blomstra"} }

func (f *fakeCrawls) Start(arena, who string) (api.CrawlStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if arena != "blomstra" {
		return api.CrawlStatus{}, api.ErrUnknownArena
	}
	for _, c := range f.crawls {
		if !c.Finished {
			return api.CrawlStatus{}, api.ErrCrawlRunning
		}
	}
	c := &api.CrawlStatus{ID: "crawl-1", Arena: arena, By: who, Status: "running", Started: time.Now(), Errors: map[string]int{}}
	f.crawls = append(f.crawls, c)
	return *c, nil
}

func (f *fakeCrawls) Crawls() []api.CrawlStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.CrawlStatus
	for _, c := range f.crawls {
		out = append(out, *c)
	}
	return out
}

func (f *fakeCrawls) Crawl(id string) (api.CrawlStatus, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == "crawl-stuck" { // never moves: its stream ends with the server
		return api.CrawlStatus{ID: id, Arena: "blomstra", Status: "running", Errors: map[string]int{}}, true
	}
	for _, c := range f.crawls {
		if c.ID == id {
			if !c.Finished {
				c.Pages++
				c.Errors["http_404"] = c.Pages / 2
				if c.Pages >= 5 {
					c.Status, c.Finished = "done", true
				}
			}
			return *c, true
		}
	}
	return api.CrawlStatus{}, false
}

func (f *fakeCrawls) Done() <-chan struct{} { return f.done }

func (f *fakeCrawls) Stop(id, who string) (api.CrawlStatus, error) {
	st, ok := f.Crawl(id)
	switch {
	case !ok:
		return st, api.ErrUnknownCrawl
	case st.Finished:
		return st, api.ErrCrawlFinished
	}
	return st, nil
}

// The crawl routes: start (operator only, 400, 409), the event stream
// (progress events, then end; audited once, when it starts), 404 for an
// unknown crawl before any stream, a run's errors, 501 without a pipeline.
func TestCrawlRoutes(t *testing.T) {
	x := MustIndex(t)
	st, err := auth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	operator, admin := MustToken(t, st, auth.Operator), MustToken(t, st, auth.Admin)
	auditDir := t.TempDir()
	fc := &fakeCrawls{done: make(chan struct{})}
	srv := MustServer(t, x, docSource(x), api.Options{Auth: st, Audit: audit.Open(auditDir), Crawls: fc,
		RunErrors: func(_ context.Context, run string) ([]api.RunError, bool, error) {
			if run != "r1" {
				return nil, false, nil
			}
			return []api.RunError{{URL: "http://127.0.0.1:1/ad/5", Kind: "detail", Depth: 1, Error: "HTTP 404"}}, true, nil
		}})
	do := func(method, path, token, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b strings.Builder
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
		}
		return res, b.String()
	}
	for _, c := range []struct {
		body, token string
		want        int
	}{
		{`{"arena":""}`, operator, http.StatusBadRequest},
		{`{"arena":"nowhere"}`, operator, http.StatusBadRequest},
		{`{"arena":"blomstra"}`, admin, http.StatusForbidden},
		{`{"arena":"blomstra"}`, operator, http.StatusAccepted},
		{`{"arena":"blomstra"}`, operator, http.StatusConflict},
	} {
		if res, body := do("POST", "/api/crawls", c.token, c.body); res.StatusCode != c.want {
			t.Errorf("POST %s: %d %s, want %d", c.body, res.StatusCode, body, c.want)
		} else if c.want == http.StatusAccepted && res.Header.Get("Location") != "/api/crawls/crawl-1/events" {
			t.Errorf("Location %q", res.Header.Get("Location"))
		}
	}
	if res, body := do("GET", "/api/crawls", admin, ""); res.StatusCode != http.StatusOK || !strings.Contains(body, `"arenas":["blomstra"]`) || !strings.Contains(body, `"id":"crawl-1"`) {
		t.Errorf("GET /api/crawls: %d %s", res.StatusCode, body)
	}
	res, body := do("GET", "/api/crawls/crawl-1/events", admin, "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("events: %d %v", res.StatusCode, res.Header)
	}
	// Every state change is a progress event, then the end.
	var names []string
	var last api.CrawlStatus
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		for _, line := range strings.Split(block, "\n") {
			if n, ok := strings.CutPrefix(line, "event: "); ok {
				names = append(names, n)
			}
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				if err := json.Unmarshal([]byte(d), &last); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if got := strings.Join(names, ","); got != "progress,progress,progress,end" || !last.Finished || last.Pages != 5 || last.Errors["http_404"] != 2 {
		t.Errorf("events %s, last %+v\n%s", got, last, body)
	}
	if !strings.HasPrefix(body, "retry: 2000\n") {
		t.Errorf("the stream does not start with its retry: %.40q", body)
	}
	// HEAD answers the headers at once.
	start := time.Now()
	if res, _ := do("HEAD", "/api/crawls/crawl-stuck/events", admin, ""); res.StatusCode != http.StatusOK || time.Since(start) > 5*time.Second {
		t.Errorf("HEAD events: %d after %s", res.StatusCode, time.Since(start))
	}
	// An unknown crawl is a JSON 404, not a stream.
	if res, body := do("GET", "/api/crawls/crawl-9/events", admin, ""); res.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown crawl's events: %d %s", res.StatusCode, body)
	}
	// Stop: operators only; 404 unknown, 409 over, 202 running.
	for _, c := range []struct {
		id, token string
		want      int
	}{
		{"crawl-stuck", admin, http.StatusForbidden},
		{"crawl-9", operator, http.StatusNotFound},
		{"crawl-1", operator, http.StatusConflict},
		{"crawl-stuck", operator, http.StatusAccepted},
	} {
		if res, body := do("POST", "/api/crawls/"+c.id+"/stop", c.token, ""); res.StatusCode != c.want {
			t.Errorf("stop %s: %d %s, want %d", c.id, res.StatusCode, body, c.want)
		}
	}
	if res, body := do("GET", "/api/runs/r1/errors", operator, ""); res.StatusCode != http.StatusOK || !strings.Contains(body, `"kind":"detail"`) {
		t.Errorf("run errors: %d %s", res.StatusCode, body)
	}
	if res, _ := do("GET", "/api/runs/r2/errors", operator, ""); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown run's errors: %d", res.StatusCode)
	}
	// The audit log: the stream once, with its status.
	var events []int
	if err := audit.Read(filepath.Join(auditDir, audit.FileName), time.Time{}, func(_ int, e audit.Entry) error {
		if e.Action == "crawlEvents" {
			events = append(events, e.Status)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// The stream, the HEAD and the 404.
	if fmt.Sprint(events) != "[200 200 404]" {
		t.Errorf("audited crawlEvents: %v, want [200 200 404]", events)
	}
	// A stream of a crawl that does not move ends when the server stops
	// (Done), not at its time limit.
	req, _ := http.NewRequest("GET", srv.URL+"/api/crawls/crawl-stuck/events", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	stuck, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1)
	if _, err := stuck.Body.Read(first); err != nil {
		t.Fatalf("the stuck crawl's stream: %v", err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stuck.Body)
		ended <- err
	}()
	close(fc.done)
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("the stream ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the stream did not end when the server stopped")
	}
	stuck.Body.Close()

	// Without a pipeline: 501.
	none := MustServer(t, x, docSource(x), api.Options{Auth: st})
	for _, p := range []string{"/api/crawls", "/api/crawls/crawl-1/events", "/api/runs/r1/errors"} {
		req, _ := http.NewRequest("GET", none.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+operator)
		res, err := none.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotImplemented {
			t.Errorf("%s without a pipeline: %d, want 501", p, res.StatusCode)
		}
	}
}
