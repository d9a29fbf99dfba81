package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/configs"
	"adcensus/crawler"
	cluster "adcensus/dedup/cluster"
	"adcensus/index"
	"adcensus/internal/synthetic/demoarena"
)

// TestMain lets a test start this binary as the adcensus command in a child
// process (to kill it with SIGKILL): ADCENSUS_TEST_ARGS holds its arguments.
func TestMain(m *testing.M) {
	if args := os.Getenv("ADCENSUS_TEST_ARGS"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Args = append([]string{"adcensus"}, argv...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startDemo(t *testing.T) (*demoarena.Corpus, *demoarena.Demo) {
	t.Helper()
	corpus := demoarena.Generate(demoarena.DefaultSeed)
	demo, err := demoarena.Start(context.Background(), corpus)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { demo.Close() })
	return corpus, demo
}

// truthPartition maps advert ids to the demo's true person and network ids.
func truthPartition(c *demoarena.Corpus) (person, network map[string]string) {
	person, network = map[string]string{}, map[string]string{}
	for _, r := range c.Truth() {
		id := ad.ContentID(r.Arena, r.Key)
		person[id], network[id] = r.PersonID, r.NetworkID
	}
	return person, network
}

// samePartition reports how two labellings of the same items differ: the
// number of items whose group in got does not match their group in want.
func samePartition(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d adverts assigned, want %d", what, len(got), len(want))
	}
	g2w := map[string]string{}
	w2g := map[string]string{}
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			bad++
			continue
		}
		if prev, ok := g2w[g]; ok && prev != w {
			bad++
			continue
		}
		if prev, ok := w2g[w]; ok && prev != g {
			bad++
			continue
		}
		g2w[g], w2g[w] = w, g
	}
	if bad > 0 {
		t.Errorf("%s: %d adverts grouped differently from the truth", what, bad)
	}
}

func clusterAssignments(t *testing.T, dataDir string) (person, network map[string]string) {
	t.Helper()
	cl, err := cluster.Open(filepath.Join(dataDir, clusterStateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	person, network = map[string]string{}, map[string]string{}
	if err := cl.All(func(a ad.Assignment) error {
		person[a.AdID], network[a.AdID] = a.PersonID, a.NetworkID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return person, network
}

func totalRow(t *testing.T, rows []index.CountRow) index.CountRow {
	t.Helper()
	for _, r := range rows {
		if r.Total {
			return r
		}
	}
	t.Fatal("no total row")
	return index.CountRow{}
}

func indexCounts(t *testing.T, dataDir string, by ...string) []index.CountRow {
	t.Helper()
	ix, err := openIndex(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rows, err := ix.Counts(context.Background(), by, index.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func runMain(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if err := Main(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("adcensus %s: %v\nstderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// TestDemoEndToEnd runs the demo arenas through the embedded pipeline and
// checks the counts against the demo's truth exactly; then that a replay of
// the stream into fresh stores gives the same result, and that crawling the
// same arenas again does not count anyone twice.
func TestDemoEndToEnd(t *testing.T) {
	corpus, demo := startDemo(t)
	arenas, err := demoArenas(demo)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	var out bytes.Buffer
	rows, err := runPipeline(context.Background(), runOptions{DataDir: dataDir, Arenas: arenas, Quiet: true}, &out, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	total := totalRow(t, rows)
	if got, want := total.Persons, corpus.Persons(); got != want {
		t.Errorf("distinct persons = %d, want the demo's true %d", got, want)
	}
	if got, want := total.Ads, corpus.Ads(); got != want {
		t.Errorf("adverts = %d, want %d", got, want)
	}
	truePerson, trueNetwork := truthPartition(corpus)
	person, network := clusterAssignments(t, dataDir)
	samePartition(t, "persons", person, truePerson)
	samePartition(t, "networks", network, trueNetwork)

	// Per arena: adverts and distinct persons as in the truth.
	wantArena := map[string]map[string]bool{}
	wantAds := map[string]int{}
	for _, r := range corpus.Truth() {
		if wantArena[r.Arena] == nil {
			wantArena[r.Arena] = map[string]bool{}
		}
		wantArena[r.Arena][r.PersonID] = true
		wantAds[r.Arena]++
	}
	for _, r := range rows {
		if r.Total {
			continue
		}
		if got, want := r.Persons, len(wantArena[r.Group[0]]); got != want {
			t.Errorf("arena %s: %d persons, want %d", r.Group[0], got, want)
		}
		if got, want := r.Ads, wantAds[r.Group[0]]; got != want {
			t.Errorf("arena %s: %d adverts, want %d", r.Group[0], got, want)
		}
	}

	// No raw phone number anywhere in the data directory.
	assertNoRawPhones(t, dataDir, corpus)
	checkDemoReviews(t, dataDir, corpus) // the review forum (reviews_test.go)

	// The stream is the source of truth: delete state and index, replay.
	if err := rebuildStores(context.Background(), dataDir, "", &out, "cluster", "index"); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out.String())
	}
	rebuiltPerson, rebuiltNetwork := clusterAssignments(t, dataDir)
	if !mapsEqual(rebuiltPerson, person) || !mapsEqual(rebuiltNetwork, network) {
		t.Errorf("replay gave different assignments")
	}
	if got := totalRow(t, indexCounts(t, dataDir, "arena")); got.Ads != total.Ads || got.Persons != total.Persons {
		t.Errorf("after replay total = %+v, want %+v", got, total)
	}

	// The index alone, rebuilt from the stream, counts the same.
	runMain(t, "index", "rebuild", "--data", dataDir)
	if got := totalRow(t, indexCounts(t, dataDir, "arena")); got.Ads != total.Ads || got.Persons != total.Persons {
		t.Errorf("after index rebuild total = %+v, want %+v", got, total)
	}

	// CLI on the same data: export, search, explain.
	csvOut := runMain(t, "export", "counts", "--by", "arena,week", "--data", dataDir, "--format", "csv", "--min-cell", "0")
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(recs[0], ","), "arena,week,ads,persons,persons_low,persons_high"; got != want {
		t.Errorf("export header %q, want %q", got, want)
	}
	// The total row has the persons count with its 90 % interval (from the
	// cluster state), which holds the truth on the demo; group rows none.
	last := recs[len(recs)-1]
	if len(last) != 6 || last[3] != fmt.Sprint(corpus.Persons()) {
		t.Errorf("export total row %v, want %d persons", last, corpus.Persons())
	} else {
		lo, _ := strconv.Atoi(last[4])
		hi, _ := strconv.Atoi(last[5])
		if lo <= 0 || lo > corpus.Persons() || hi < corpus.Persons() {
			t.Errorf("export total row %v: interval %d–%d does not hold the %d persons", last, lo, hi, corpus.Persons())
		}
	}
	if first := recs[1]; first[4] != "" || first[5] != "" {
		t.Errorf("group row %v has an interval", first)
	}
	var exp struct {
		Provenance map[string]any `json:"provenance"`
	}
	if err := json.Unmarshal([]byte(runMain(t, "export", "counts", "--by", "arena", "--data", dataDir, "--format", "json")), &exp); err != nil {
		t.Fatal(err)
	}
	if runs, _ := exp.Provenance["runs"].([]any); len(runs) != len(arenas) {
		t.Errorf("export provenance lists %d runs, want %d", len(runs), len(arenas))
	}
	if s := runMain(t, "search", "--data", dataDir, "--json", "*"); !strings.Contains(s, `"total"`) && !strings.Contains(s, `"Total"`) {
		t.Errorf("search output has no total: %.200s", s)
	}
	var someAd string
	for id := range person {
		someAd = id
		break
	}
	if s := runMain(t, "explain", "--data", dataDir, someAd); !strings.Contains(s, person[someAd]) {
		t.Errorf("explain %s does not name its person %s: %.300s", someAd, person[someAd], s)
	}

	// A second snapshot of the same arenas counts nobody twice.
	arenas2, _ := demoArenas(demo)
	rows2, err := runPipeline(context.Background(), runOptions{DataDir: dataDir, Arenas: arenas2, Quiet: true}, &out, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got := totalRow(t, rows2); got.Ads != total.Ads || got.Persons != total.Persons {
		t.Errorf("after a second crawl total = %+v, want %+v", got, total)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// assertNoRawPhones checks that no digit string of a raw demo phone number
// was written anywhere under dir (stream, state, index).
func assertNoRawPhones(t *testing.T, dir string, c *demoarena.Corpus) {
	t.Helper()
	var needles [][]byte
	for _, a := range c.Adverts {
		for _, p := range a.Phones {
			d := regexp.MustCompile(`\D`).ReplaceAllString(p, "")
			if len(d) >= 8 {
				needles = append(needles, []byte(d[len(d)-8:]))
			}
		}
	}
	if len(needles) == 0 {
		t.Fatal("corpus has no phone numbers to look for")
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(data, n) {
				t.Errorf("raw phone digits %s found in %s", n, path)
				return nil
			}
		}
		return nil
	})
}

// writeArenaConfigs writes the demo arena configs pointed at the given base
// URLs into dir, and a main config listing them; it returns its path.
func writeArenaConfigs(t *testing.T, dir string, base map[string]string) string {
	t.Helper()
	hostRe := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	var names []string
	for name := range base {
		names = append(names, name)
	}
	sort.Strings(names)
	main := "data_dir: ./data\narenas:\n"
	for _, name := range names {
		data, err := configs.Arenas.ReadFile("arenas/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		data = hostRe.ReplaceAll(data, []byte(base[name]))
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		main += "  - " + name + ".yaml\n"
	}
	path := filepath.Join(dir, "adcensus.yaml")
	if err := os.WriteFile(path, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeDemoConfigs writes the demo arena configs pointed at the running demo
// servers into dir (see writeArenaConfigs).
func writeDemoConfigs(t *testing.T, dir string, demo *demoarena.Demo) string {
	t.Helper()
	base := map[string]string{}
	for _, name := range demo.Arenas() {
		base[name] = demo.URL(name)
	}
	return writeArenaConfigs(t, dir, base)
}

// slowProxy serves an arena with a delay per request and counts requests by
// path, so a test can interrupt a crawl half-way.
type slowProxy struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	paths    map[string]int
}

func newSlowProxy(t *testing.T, target string, delay time.Duration) *slowProxy {
	t.Helper()
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &slowProxy{paths: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		p.paths[r.URL.RequestURI()]++
		p.mu.Unlock()
		time.Sleep(delay)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// finishedPaths returns the request paths of the pages that the
// unfinished crawl runs in dataDir have committed as done or failed.
func finishedPaths(t *testing.T, dataDir string) map[string]bool {
	t.Helper()
	store, err := crawler.OpenStore(filepath.Join(dataDir, crawlStateFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs, err := store.Runs()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range runs {
		if r.Status != "running" {
			continue
		}
		entries, err := store.Finished(r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if u, err := url.Parse(e.URL); err == nil {
				out[u.RequestURI()] = true
			}
		}
	}
	return out
}

func startChild(t *testing.T, logPath string, args ...string) *exec.Cmd {
	t.Helper()
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ADCENSUS_TEST_ARGS="+string(enc))
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestRunKilledAndRestartedCountsTheSame kills `adcensus run` with SIGKILL in
// the middle of a crawl, starts it again, and checks that it resumes and
// ends with the same counts as an uninterrupted run (the demo's truth).
func TestRunKilledAndRestartedCountsTheSame(t *testing.T) {
	corpus, demo := startDemo(t)
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

	child := startChild(t, logPath, "run", "--config", cfg, "--data", dataDir, "--quiet")
	// Kill once a good part, but not all, of the arena has been fetched.
	target := int64(corpus.Ads()) / 2
	deadline := time.Now().Add(2 * time.Minute)
	for total() < target {
		if time.Now().After(deadline) {
			child.Process.Kill()
			log, _ := os.ReadFile(logPath)
			t.Fatalf("crawl did not reach %d requests: %d\n%s", target, total(), log)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := total()
	finished := finishedPaths(t, dataDir)
	if len(finished) == 0 {
		t.Fatal("no page was committed as finished before the kill")
	}

	child = startChild(t, logPath, "run", "--config", cfg, "--data", dataDir, "--quiet")
	if err := child.Wait(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("restarted run: %v\n%s", err, log)
	}
	if total() <= killedAt {
		t.Fatal("restarted run fetched nothing: was the first run already finished when killed?")
	}
	got := totalRow(t, indexCounts(t, dataDir, "arena"))
	if got.Persons != corpus.Persons() || got.Ads != corpus.Ads() {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("after kill and restart: %d ads, %d persons; want %d ads, %d persons (as uninterrupted)\n%s",
			got.Ads, got.Persons, corpus.Ads(), corpus.Persons(), log)
	}
	truePerson, _ := truthPartition(corpus)
	person, _ := clusterAssignments(t, dataDir)
	samePartition(t, "persons after restart", person, truePerson)

	// Resumed, not restarted: no page committed as finished before the kill
	// was fetched again; only pages in flight then were (being fetched, or
	// with their adverts not yet acknowledged by the stream: at most
	// concurrency + publish window per arena).
	refetched := 0
	for _, p := range proxies {
		p.mu.Lock()
		for path, n := range p.paths {
			if n > 1 && path != "/robots.txt" && !strings.HasPrefix(path, "/img/") {
				refetched++
				if finished[path] {
					t.Errorf("%s was finished before the kill and fetched again: the run restarted instead of resuming", path)
				}
			}
		}
		p.mu.Unlock()
	}
	if refetched > (4+crawler.DefaultPublishWindow)*len(proxies) {
		t.Errorf("%d pages fetched more than once: the run restarted instead of resuming", refetched)
	}
	out := runMain(t, "runs", "--data", dataDir)
	if !strings.Contains(out, "done") {
		t.Errorf("runs after restart:\n%s", out)
	}
}

// TestCrawlDedupEvalCommands drives the documented file-based path: crawl
// one arena to JSON Lines, de-duplicate the file offline, score it against
// the demo's truth.
func TestCrawlDedupEvalCommands(t *testing.T) {
	corpus, demo := startDemo(t)
	dir := t.TempDir()
	writeDemoConfigs(t, dir, demo)
	data := filepath.Join(dir, "data")
	adsPath := filepath.Join(dir, "ads.jsonl")
	runMain(t, "crawl", "--arena", filepath.Join(dir, "nattlinjen.yaml"), "--out", adsPath, "--data", data, "--quiet")

	f, err := os.Open(adsPath)
	if err != nil {
		t.Fatal(err)
	}
	r := ad.NewReader(f)
	n := 0
	for {
		a, err := r.Next()
		if err != nil {
			break
		}
		n++
		if len(a.Phones) != 0 {
			t.Fatalf("crawl --out wrote raw phones for %s", a.ID)
		}
	}
	f.Close()
	if want := corpus.ArenaAds("nattlinjen"); n != want {
		t.Fatalf("crawl wrote %d adverts, want %d", n, want)
	}

	predPath := filepath.Join(dir, "assignments.csv")
	runMain(t, "dedup", "--in", adsPath, "--out", predPath, "--data", data)
	pred, err := os.ReadFile(predPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pred), "ad_id,person_id,network_id\n") {
		t.Fatalf("dedup output header: %.60q", pred)
	}

	var truth bytes.Buffer
	truth.WriteString("ad_id,person_id,network_id\n")
	for _, line := range strings.Split(runMain(t, "demo", "truth"), "\n") {
		if strings.HasPrefix(line, "nattlinjen-") {
			truth.WriteString(line + "\n")
		}
	}
	truthPath := filepath.Join(dir, "truth.csv")
	if err := os.WriteFile(truthPath, truth.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Persons struct {
			CountError int `json:"count_error"`
			BCubed     struct {
				F1 float64 `json:"f1"`
			} `json:"bcubed"`
		} `json:"persons"`
	}
	out := runMain(t, "eval", "--truth", truthPath, "--pred", predPath, "--json")
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Persons.CountError != 0 || rep.Persons.BCubed.F1 != 1 {
		t.Fatalf("offline dedup on the demo arena: %s", out)
	}
}
