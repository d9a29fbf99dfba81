package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"adcensus/crawler"
	"adcensus/web/audit"
)

// The web app end to end: 'adcensus serve' on loopback over the demo's
// data, driven in headless Chromium (docs/WEBAPP.md). Skipped where no
// Chromium is installed, unless ADCENSUS_REQUIRE_CHROMIUM is set (.ci/run
// sets it after installing chromium): then it fails.

const webappPassword = "correct-horse-battery-staple"

// webappUsers are the test's users, one per role.
var webappUsers = map[string]string{"admin": "ada", "operator": "ole", "analyst": "ana", "researcher": "rut"}

// MustWebappData runs the demo into a data directory, adds a user of each
// role with webappPassword and a crawl schedule for blomstra.
func MustWebappData(t *testing.T) string {
	t.Helper()
	dataDir := filepath.Join(t.TempDir(), "data")
	runMain(t, "demo", "--data", dataDir, "--quiet")
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(webappPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for role, name := range webappUsers {
		runMain(t, "user", "add", name, "--role", role, "--password-file", pw, "--data", dataDir)
	}
	runMain(t, "schedule", "add", "blomstra", "0 6 * * 1", "--data", dataDir)
	return dataDir
}

// tab is one browser tab on the served app.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// MustBrowser starts headless Chromium for the test.
func MustBrowser(t *testing.T, base string) *tab {
	t.Helper()
	path, err := crawler.ChromiumPath()
	if err != nil {
		if os.Getenv("ADCENSUS_REQUIRE_CHROMIUM") != "" {
			t.Fatalf("ADCENSUS_REQUIRE_CHROMIUM is set but: %v", err)
		}
		t.Skipf("skipping the web app browser test: %v (.ci/run installs it)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &tab{t: t, ctx: ctx, base: base}
}

// open navigates to the app's fragment (#/search…).
func (b *tab) open(frag string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(b.base+"/"+frag)); err != nil {
		b.t.Fatalf("open %s: %v", frag, err)
	}
}

// evalJS evaluates js in the page.
func evalJS[T any](b *tab, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80s: %v", js, err)
	}
	return v
}

// waitFor polls the page until js is true (at most 15 s).
func (b *tab) waitFor(what, js string) {
	b.t.Helper()
	b.waitWithin(15*time.Second, what, js)
}

// waitWithin polls the page until js is true, at most d.
func (b *tab) waitWithin(d time.Duration, what, js string) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && v {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.hash + "\n" + document.body.innerText.slice(0, 600)`))
			b.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, js, err, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heading waits for the page's h1 to contain text.
func (b *tab) heading(text string) {
	b.t.Helper()
	b.waitFor("heading "+text, fmt.Sprintf(`document.querySelector("main h1") && document.querySelector("main h1").textContent.includes(%q)`, text))
}

// signIn signs in through the form as the user of role and waits for the
// menu.
func (b *tab) signIn(role string) {
	b.t.Helper()
	// Whoever is still signed in (a subtest that failed half-way) is
	// signed out first, and the app loaded afresh.
	evalJS[bool](b, `fetch("/api/session").then(r => r.ok ? r.json() : null)
		.then(s => s ? fetch("/api/session", {method: "DELETE", headers: {"X-CSRF-Token": s.csrf_token}}) : null).then(() => true)`)
	b.open("?as=" + role + "#/signin")
	b.waitFor("the sign-in form", `document.getElementById("signin-form")`)
	if err := chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.CSS("#user"), webappUsers[role]),
		chromedp.SendKeys(chromedp.CSS("#password"), webappPassword),
		chromedp.Click(chromedp.CSS("#signin-submit"))); err != nil {
		b.t.Fatalf("sign in as %s: %v", role, err)
	}
	b.waitFor("signed in as "+role, fmt.Sprintf(`document.getElementById("who").textContent.includes(%q)`, webappUsers[role]))
}

func (b *tab) signOut() {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#signout"))); err != nil {
		b.t.Fatalf("sign out: %v", err)
	}
	b.waitFor("the sign-in form", `document.getElementById("signin-form")`)
}

// axe runs axe-core on the page and fails on serious and critical
// violations of WCAG 2 A and AA.
func (b *tab) axe(page string) {
	b.t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "web", "app", "testdata", "axe-core", "axe.min.js"))
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(src)+"\n;true")); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	out := evalJS[string](b, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))))`)
	if out != "[]" {
		b.t.Errorf("axe-core on the %s page: %s", page, out)
	}
}

// shot saves a PNG of the window as $ADCENSUS_SCREENSHOTS/name.png
// when that variable names a folder (docs/screenshots: see
// docs/WEBAPP.md).
func (b *tab) shot(name string) {
	b.t.Helper()
	dir := os.Getenv("ADCENSUS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// download clicks the link sel and returns the name and the content of
// the file the browser saved.
func (b *tab) download(sel string) (string, []byte) {
	b.t.Helper()
	dir := b.t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior,
		browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		b.t.Fatalf("download to %s: %v", dir, err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("download %s: %v", sel, err)
	}
	var name string
	var body []byte
	checkFor(b.t, 15*time.Second, "the download of "+sel, func() bool {
		es, _ := os.ReadDir(dir)
		if len(es) != 1 || strings.HasSuffix(es[0].Name(), ".crdownload") {
			return false
		}
		p, err := os.ReadFile(filepath.Join(dir, es[0].Name()))
		name, body = es[0].Name(), p
		return err == nil && len(p) > 0
	})
	return name, body
}

func TestWebApp(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	dataDir := MustWebappData(t)
	base, stop := startServe(t, dataDir)
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	b := MustBrowser(t, base)

	// Not signed in: the app asks to sign in, in Swedish, then English.
	b.open("")
	b.heading("Logga in")
	b.shot("signin")
	b.axe("sign-in")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	b.heading("Sign in")
	if got := evalJS[string](b, `document.documentElement.lang`); got != "en" {
		t.Errorf("html lang=%q after switching to English", got)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#lang"))); err != nil {
		t.Fatal(err)
	}
	b.heading("Logga in")

	t.Run("analyst", func(t *testing.T) {
		b.t = t
		// By keyboard alone: the form has the focus, Tab to the password,
		// Enter to sign in.
		b.waitFor("the user field focused", `document.activeElement && document.activeElement.id === "user"`)
		if err := chromedp.Do(b.ctx, chromedp.KeyEvent(webappUsers["analyst"]), chromedp.KeyEvent("\t"),
			chromedp.KeyEvent(webappPassword), chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
		b.waitFor("signed in by keyboard", fmt.Sprintf(`document.getElementById("who").textContent.includes(%q)`, webappUsers["analyst"]))
		b.heading("Sök annonser")
		// Search without diacritics finds Göteborg, grouped by person.
		b.waitFor("everything, before a search", `document.querySelectorAll("#results li.hit").length > 0`)
		all := evalJS[int](b, `+document.getElementById("results").dataset.total`)
		if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#q"), "goteborg"), chromedp.Click(chromedp.CSS("#search-form button[type=submit]"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("search results", `document.getElementById("results").dataset.q === "goteborg" && document.querySelectorAll("#results li.hit").length > 0`)
		got := evalJS[int](b, `+document.getElementById("results").dataset.total`)
		if got == 0 || got >= all {
			t.Errorf("goteborg finds %d persons of %d", got, all)
		}
		if text := evalJS[string](b, `document.querySelector("#results li.hit").innerText`); !strings.Contains(text, "Göteborg") {
			t.Errorf("the first result of goteborg is not a Göteborg advert: %.300s", text)
		}
		// A facet narrows the search: the first arena.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#facets input[type=checkbox]"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("the facet applied", `(document.getElementById("results").dataset.q || "").startsWith("+(goteborg) +(arena:")`)
		if n := evalJS[int](b, `+document.getElementById("results").dataset.total`); n == 0 || n > got {
			t.Errorf("goteborg in one arena: %d persons, of %d in all", n, got)
		}
		// The other arena can still be added: the field's counts are
		// without its own filter.
		b.waitFor("both arenas offered", `document.querySelectorAll("#facets fieldset:first-of-type input[type=checkbox]").length >= 2`)
		if n := evalJS[int](b, `document.querySelectorAll("#facets input[type=checkbox]").length`); n == 0 {
			t.Error("no facets")
		}
		b.shot("search")
		ms := evalJS[string](b, `document.body.dataset.searchMs`)
		t.Logf("first results of goteborg in %s ms (browser)", ms)
		b.axe("search")

		// A person of the results: its adverts and its evidence tree.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#results a.person-link"))); err != nil {
			t.Fatal(err)
		}
		b.heading("Person P")
		b.waitFor("the evidence", `document.querySelector("#evidence p, #evidence .evidence")`)
		if n := evalJS[int](b, `document.querySelectorAll("#evidence-tree li").length`); n < 1 {
			t.Errorf("person page shows no evidence tree: %.300s", evalJS[string](b, `document.getElementById("evidence").innerText`))
		}
		b.shot("person")
		b.axe("person")
		personHash := evalJS[string](b, `location.hash`)

		// An advert and a network of that person.
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#evidence-tree a"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("the advert", `document.getElementById("advert-facts")`)
		if got := evalJS[string](b, `document.getElementById("advert-facts").innerText`); !strings.Contains(got, "Arena") {
			t.Errorf("advert page: %.300s", got)
		}
		// Its photos' fingerprints: 16 hex digits each (the demo's adverts
		// have photos), never an image.
		b.waitFor("the photo fingerprints", `document.querySelector("#photos table, #photos p:not(.meta)")`)
		if fps := evalJS[[]string](b, `[...document.querySelectorAll("#photos td code")].map(c => c.textContent)`); len(fps) == 0 {
			t.Errorf("advert page shows no photo fingerprints: %.300s", evalJS[string](b, `document.getElementById("photos").innerText`))
		} else if len(fps[0]) != 16 {
			t.Errorf("photo fingerprint %q: want 16 hex digits", fps[0])
		}
		if evalJS[bool](b, `document.querySelector("main").innerText.split("\n").some(l => l.trim() === "null")`) {
			t.Error(`the advert page shows "null" (a null child given to Node.append)`)
		}
		if n := evalJS[int](b, `document.querySelectorAll("main img").length`); n != 0 {
			t.Errorf("advert page shows %d images", n)
		}
		b.shot("advert")
		b.axe("advert")
		if n := evalJS[int](b, `document.querySelectorAll("#advert-facts a[href^='#/network/']").length`); n > 0 {
			if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#advert-facts a[href^='#/network/']"))); err != nil {
				t.Fatal(err)
			}
			b.heading("Nätverk")
			b.waitFor("the network graph", `document.querySelector("#graph-svg circle")`)
			b.shot("network")
			b.axe("network")
		}
		b.open(personHash)
		b.heading("Person P")

		// Run a pattern.
		b.open("#/patterns")
		b.heading("Mönster")
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("a[id^='run-']"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("the pattern's matches", `document.getElementById("pattern-result")`)
		b.shot("patterns")
		b.axe("patterns")

		// A CSRF attempt: a write of the session without its token is
		// refused, and so is a cross-site one with it; the session lives on.
		if got := evalJS[int](b, `fetch("/api/session", {method: "DELETE"}).then(r => r.status)`); got != http.StatusForbidden {
			t.Errorf("DELETE /api/session without X-CSRF-Token: %d, want 403", got)
		}
		res0, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base}})
		if err != nil || len(res0.Cookies) == 0 {
			t.Fatalf("session cookie: %v %v", res0, err)
		}
		cookies := res0.Cookies
		csrfToken := evalJS[string](b, `fetch("/api/session").then(r => r.json()).then(s => s.csrf_token)`)
		req, _ := http.NewRequest(http.MethodDelete, base+"/api/session", nil)
		req.Header.Set("Cookie", cookies[0].Name+"="+cookies[0].Value)
		req.Header.Set("X-CSRF-Token", csrfToken)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site DELETE /api/session: %d, want 403", res.StatusCode)
		}
		if got := evalJS[int](b, `fetch("/api/session").then(r => r.status)`); got != http.StatusOK {
			t.Errorf("session after the CSRF attempts: %d, want 200", got)
		}
		b.signOut()
	})

	t.Run("researcher", func(t *testing.T) {
		b.t = t
		b.signIn("researcher")
		b.heading("Antal")
		for _, id := range []string{"chart-arena", "chart-region", "chart-month", "chart-month-arena", "chart-split"} {
			b.waitFor("chart "+id, fmt.Sprintf(`document.querySelectorAll("#%s rect").length > 0`, id))
		}
		b.waitFor("the estimate", `document.getElementById("mse-text")`)
		// The persons count with its 90 % interval (the demo has a cluster state).
		b.waitFor("the count's interval", `/\(90 % intervall [\d\s]+–[\d\s]+\)/.test(document.getElementById("counts-total").textContent)`)
		// The län as a tile map: 21 tiles, each with the bar chart's number.
		if n := evalJS[int](b, `document.querySelectorAll("#map-region g.tile").length`); n != 21 {
			t.Errorf("the län map has %d tiles, want 21", n)
		}
		if got := evalJS[string](b, `document.querySelector("#map-region g[data-lan='Stockholms län']").dataset.value`); got == "0" || got == "" {
			t.Errorf("Stockholms län on the map: %q, want the demo's persons there", got)
		}
		if os.Getenv("ADCENSUS_SCREENSHOTS") != "" {
			evalJS[bool](b, `document.getElementById("map-region").closest("section").scrollIntoView(); true`)
			b.shot("counts-map")
			evalJS[bool](b, `window.scrollTo(0, 0); true`)
		}
		b.shot("counts")
		b.axe("counts")
		// Download the Swedish-Excel counts and parse them.
		name, body := b.download("#dl-counts-excel")
		if name != "counts-excel.csv" {
			t.Errorf("the Excel download is named %q, want counts-excel.csv", name)
		}
		rest, ok := bytes.CutPrefix(body, []byte("\xef\xbb\xbf"))
		if !ok {
			t.Fatalf("counts-excel.csv has no byte-order mark: %.40q", body)
		}
		r := csv.NewReader(bytes.NewReader(rest))
		r.Comma = ';'
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("parse counts-excel.csv: %v", err)
		}
		if len(recs) < 3 || strings.Join(recs[0], ",") != "arena,region,month,ads,persons,persons_low,persons_high" {
			t.Fatalf("counts-excel.csv: %q", recs[:min(3, len(recs))])
		}
		_, js := b.download("#dl-counts-json")
		var rep struct {
			Rows []map[string]any `json:"rows"`
		}
		if err := json.Unmarshal(js, &rep); err != nil || len(rep.Rows) == 0 {
			t.Errorf("counts JSON download: %v, %d rows", err, len(rep.Rows))
		}
		// What changed since a date before the demo's crawl: every advert
		// new, both arenas new, per arena in a chart and a table.
		b.open("#/changes?since=2026-01-01")
		b.heading("Förändringar")
		b.waitFor("the changes chart", `document.querySelectorAll("#chart-changes rect").length > 0`)
		got := evalJS[string](b, `document.getElementById("changes-table").innerText`)
		for _, want := range []string{"blomstra", "nattlinjen", "ny arena"} {
			if !strings.Contains(got, want) {
				t.Errorf("changes table does not show %q: %.400s", want, got)
			}
		}
		if got := evalJS[string](b, `document.getElementById("changes-summary").innerText`); !strings.Contains(got, "76 nya") {
			t.Errorf("changes summary: %q, want the demo's 76 persons new", got)
		}
		// Persons active per week and arena since then: a chart, and the
		// Excel download opens into its columns.
		b.waitFor("the trend chart", `document.querySelectorAll("#chart-trend rect").length > 0`)
		b.shot("changes")
		b.axe("changes")
		name, trend := b.download("#dl-trend-excel")
		if name != "trend-excel.csv" || !bytes.HasPrefix(trend, []byte("\xef\xbb\xbfweek;arena;active;new;gone\r\n")) {
			t.Errorf("trend download %s: %.80q", name, trend)
		}
		// A bad date is the API's 400, shown on the page.
		b.open("#/changes?since=2026-W60")
		b.waitFor("the error", `document.querySelector("p.error[data-status='400']")`)
		// Adverts, persons and networks are refused: the 403 page.
		for _, frag := range []string{"#/advert/x1", "#/person/P1", "#/network/N1"} {
			b.open(frag)
			b.waitFor("the 403 page for "+frag, `document.querySelector("h1[data-status='403']")`)
		}
		b.shot("forbidden")
		b.axe("forbidden")
		b.signOut()
	})

	t.Run("operator", func(t *testing.T) {
		b.t = t
		b.signIn("operator")
		b.heading("Arenor och körningar")
		got := evalJS[string](b, `document.querySelector("main").innerText`)
		if !strings.Contains(got, "blomstra") || !strings.Contains(got, "nattlinjen") {
			t.Errorf("runs page does not name the demo's arenas: %.300s", got)
		}
		if !strings.Contains(got, "0 6 * * 1") || !strings.Contains(got, "UTC") {
			t.Errorf("runs page does not show blomstra's schedule and next run: %.500s", got)
		}
		b.shot("runs")
		b.axe("runs")
		b.open("#/search")
		b.waitFor("the 403 page", `document.querySelector("h1[data-status='403']")`)
		b.signOut()
	})

	t.Run("admin", func(t *testing.T) {
		b.t = t
		b.signIn("admin")
		b.open("#/admin")
		b.heading("Granskningslogg")
		b.waitFor("the audit log", `document.querySelector("#audit")`)
		got := evalJS[string](b, `document.querySelector("main").innerText`)
		for _, want := range []string{"rut", "person", "ana", "signIn"} {
			if !strings.Contains(got, want) {
				t.Errorf("admin page does not show %q", want)
			}
		}
		b.shot("admin")
		b.axe("admin")
		// A write through the app (it sends the CSRF token): a new token,
		// its secret shown once.
		if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#nt-name"), "export-bot"), chromedp.SendKeys(chromedp.CSS("#nt-roles"), "researcher"),
			chromedp.Click(chromedp.CSS("form:has(#nt-name) button[type=submit]"))); err != nil {
			t.Fatal(err)
		}
		b.waitFor("the new token's secret", `(document.querySelector("#token-secret .secret") || {}).textContent?.startsWith("adc_")`)
		b.signOut()
	})

	// The researcher's refused person, advert and network pages are in the
	// audit log.
	refused := map[string]bool{}
	created := false
	if err := audit.Read(filepath.Join(dataDir, "audit.log"), time.Time{}, func(_ int, e audit.Entry) error {
		if e.Who == webappUsers["researcher"] && e.Status == http.StatusForbidden {
			refused[e.Action] = true
		}
		created = created || e.Who == webappUsers["admin"] && e.Action == "createToken" && e.Status == http.StatusCreated
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Error("the token the admin created in the app is not in the audit log")
	}
	for _, op := range []string{"advert", "person", "network"} {
		if !refused[op] {
			t.Errorf("the researcher's refused %s is not in the audit log (refused: %v)", op, refused)
		}
	}
}
