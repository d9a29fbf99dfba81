package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adcensus/crawler"
	"adcensus/index"
	"adcensus/index/census"
	"adcensus/internal/synthetic/demoarena"
)

// TestCensusOverSimulatedWeeks crawls the demo arenas once a week through
// five simulated weeks in which persons start and stop, adverts disappear
// and come back and some change, and checks the census against the demo's
// truth: active persons per week, the runs' new/changed/gone/back counts,
// the posted-basis counts, and the same tables after a replay.
func TestCensusOverSimulatedWeeks(t *testing.T) {
	corpus, demo := startDemo(t)
	const weeks = 5
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday, week 2026-W45
	dataDir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	for w := range weeks {
		if err := demo.Show(corpus.AtWeek(w, weeks)); err != nil {
			t.Fatal(err)
		}
		arenas, err := demoArenas(demo)
		if err != nil {
			t.Fatal(err)
		}
		now := start.AddDate(0, 0, 7*w)
		if _, err := runPipeline(ctx, runOptions{DataDir: dataDir, Arenas: arenas, Quiet: true, CrawlNow: func() time.Time { return now }}, &out, &out); err != nil {
			t.Fatalf("week %d: %v\n%s", w, err, out.String())
		}
	}

	wantWeeks := map[string]int{}
	for w := range weeks {
		wantWeeks[census.WeekOf(start.AddDate(0, 0, 7*w))] = corpus.ActivePersons(w, weeks)
	}
	checkActiveWeeks := func(when string) {
		t.Helper()
		got := activePersonsByWeek(t, dataDir)
		t.Logf("%s: active persons by week %v (truth %v)", when, got, wantWeeks)
		for wk, want := range wantWeeks {
			if got[wk] != want {
				t.Errorf("%s: week %s: %d active persons, want the truth's %d", when, wk, got[wk], want)
			}
		}
		if len(got) != len(wantWeeks) {
			t.Errorf("%s: active weeks %v, want %v", when, got, wantWeeks)
		}
	}
	checkActiveWeeks("after five weekly crawls")

	// Per run: adverts new, changed, gone and back, as the clock says.
	want := make([]census.Run, weeks)
	for w := range weeks {
		for i := range corpus.Adverts {
			a := &corpus.Adverts[i]
			live, before := corpus.LiveAt(a, w, weeks), w > 0 && corpus.LiveAt(a, w-1, weeks)
			everBefore := false
			for v := range w {
				everBefore = everBefore || corpus.LiveAt(a, v, weeks)
			}
			switch {
			case live && !everBefore:
				want[w].New++
			case live && !before:
				want[w].Back++
			case !live && before:
				want[w].Gone++
			}
			if live && everBefore && corpus.ChangedAt(a, w, weeks) != changedBefore(corpus, a, w, weeks) {
				want[w].Changed++
			}
		}
	}
	got := runsByWeek(t, dataDir, start, weeks)
	for w := range weeks {
		t.Logf("week %d: new/changed/gone/back %d/%d/%d/%d", w, want[w].New, want[w].Changed, want[w].Gone, want[w].Back)
	}
	for w := range weeks {
		g := got[w]
		if g.New != want[w].New || g.Changed != want[w].Changed || g.Gone != want[w].Gone || g.Back != want[w].Back {
			t.Errorf("week %d: new/changed/gone/back %d/%d/%d/%d, want %d/%d/%d/%d", w,
				g.New, g.Changed, g.Gone, g.Back, want[w].New, want[w].Changed, want[w].Gone, want[w].Back)
		}
	}

	// What changed since week 3 began: the runs of weeks 3 and 4.
	checkChanges(t, dataDir, corpus, start, 3, weeks)

	// explain of a changed advert explains its current content.
	checkExplainChanged(t, dataDir)

	// Search in a period: the adverts live in week 2.
	liveW2 := 0
	for i := range corpus.Adverts {
		if corpus.LiveAt(&corpus.Adverts[i], 2, weeks) {
			liveW2++
		}
	}
	w2 := census.WeekOf(start.AddDate(0, 0, 14))
	var res struct{ Total int }
	if err := json.Unmarshal([]byte(runMain(t, "search", "--data", dataDir, "--from", w2, "--to", w2, "--json", "*")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Total != liveW2 {
		t.Errorf("search --from %s --to %s: %d adverts, want the %d live then", w2, w2, res.Total, liveW2)
	}
	if err := json.Unmarshal([]byte(runMain(t, "search", "--data", dataDir, "--from", w2, "--to", w2, "--by-person", "--json", "*")), &res); err != nil {
		t.Fatal(err)
	}
	if want := corpus.ActivePersons(2, weeks); res.Total != want {
		t.Errorf("search --by-person in %s: %d persons, want %d", w2, res.Total, want)
	}

	var rep struct{ Examined int }
	if err := json.Unmarshal([]byte(runMain(t, "patterns", "run", "shared-contact", "--data", dataDir, "--from", w2, "--to", w2, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Examined != liveW2 {
		t.Errorf("patterns run in %s examined %d adverts, want the %d live then", w2, rep.Examined, liveW2)
	}

	// Trend and snapshots: per arena and week, as the clock says.
	checkTrendAndSnapshots(t, dataDir, corpus, start, weeks)

	// Posted basis: what export counts gave before the census, by posting
	// week, from the truth of every advert ever published.
	checkPosted(t, dataDir, corpus)

	// Replay from the stream gives the same tables.
	if err := rebuildStores(ctx, dataDir, "", &out, "census"); err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out.String())
	}
	checkActiveWeeks("after replaying the census")
}

// changedBefore reports whether the advert's last sighting before week w
// showed the edited text.
func changedBefore(c *demoarena.Corpus, a *demoarena.Advert, w, weeks int) bool {
	for v := w - 1; v >= 0; v-- {
		if c.LiveAt(a, v, weeks) {
			return c.ChangedAt(a, v, weeks)
		}
	}
	return false
}

func activePersonsByWeek(t *testing.T, dataDir string) map[string]int {
	t.Helper()
	ix, err := openIndex(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	st, err := census.OpenReadOnly(filepath.Join(dataDir, census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := census.Counts(context.Background(), ix, st, []string{index.DimWeek}, census.Query{Basis: census.BasisSeen}, index.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		if !r.Total {
			out[r.Group[0]] = r.Persons
		}
	}
	return out
}

// runsByWeek sums the census's runs of both arenas per simulated week.
func runsByWeek(t *testing.T, dataDir string, start time.Time, weeks int) []census.Run {
	t.Helper()
	st, err := census.OpenReadOnly(filepath.Join(dataDir, census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]census.Run, weeks)
	for _, r := range runs {
		w := int(r.Ended.Sub(start) / (7 * 24 * time.Hour))
		if !r.Complete {
			t.Errorf("run %s incomplete: %s", r.Run, r.Why)
		}
		out[w].New += r.New
		out[w].Changed += r.Changed
		out[w].Gone += r.Gone
		out[w].Back += r.Back
	}
	return out
}

func checkPosted(t *testing.T, dataDir string, c *demoarena.Corpus) {
	t.Helper()
	type key struct{ arena, week string }
	want := map[key]map[string]bool{}
	for _, a := range c.Adverts {
		wk, _ := index.Period(a.Posted)
		k := key{a.Arena, wk}
		if want[k] == nil {
			want[k] = map[string]bool{}
		}
		want[k][a.PersonID] = true
	}
	ix, err := openIndex(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	rows, err := periodCounts(context.Background(), dataDir, ix, []string{index.DimArena, index.DimWeek}, census.Query{Basis: census.BasisPosted}, index.CountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Total {
			if r.Persons != c.Persons() {
				t.Errorf("posted basis: %d persons in total, want %d", r.Persons, c.Persons())
			}
			continue
		}
		n++
		if got, want := r.Persons, len(want[key{r.Group[0], r.Group[1]}]); got != want {
			t.Errorf("posted basis: %v: %d persons, want %d", r.Group, got, want)
		}
	}
	if n != len(want) {
		t.Errorf("posted basis: %d cells, want %d", n, len(want))
	}
}

// checkChanges runs 'adcensus changes --since' the start of week k and
// compares it with the clock's truth.
func checkChanges(t *testing.T, dataDir string, c *demoarena.Corpus, start time.Time, k, weeks int) {
	t.Helper()
	since := census.WeekOf(start.AddDate(0, 0, 7*k))
	var got census.Changes
	if err := json.Unmarshal([]byte(runMain(t, "changes", "--data", dataDir, "--since", since, "--format", "json", "--min-cell", "0")), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]*census.ArenaChange{}
	sighted := map[string][]int{}
	type life struct{ first, last int }
	persons := map[string]*life{}
	for i := range c.Adverts {
		a := &c.Adverts[i]
		w := want[a.Arena]
		if w == nil {
			w = &census.ArenaChange{Arena: a.Arena}
			want[a.Arena] = w
			sighted[a.Arena] = make([]int, weeks)
		}
		first, last, prev := -1, -1, -1
		changed, back := false, false
		for v := range weeks {
			if !c.LiveAt(a, v, weeks) {
				continue
			}
			sighted[a.Arena][v]++
			if first < 0 {
				first = v
			}
			if v >= k && prev >= 0 && c.ChangedAt(a, v, weeks) != c.ChangedAt(a, prev, weeks) {
				changed = true
			}
			if v >= k && prev >= 0 && prev < v-1 {
				back = true
			}
			prev, last = v, v
		}
		if first >= k {
			w.New++
		}
		if changed {
			w.Changed++
		}
		if back {
			w.Back++
		}
		if last < weeks-1 && last+1 >= k {
			w.Gone++
		}
		p := persons[a.PersonID]
		if p == nil {
			p = &life{first, last}
			persons[a.PersonID] = p
		}
		p.first, p.last = min(p.first, first), max(p.last, last)
	}
	newP, goneP := 0, 0
	for _, p := range persons {
		if p.first >= k {
			newP++
		}
		if p.last < weeks-1 && p.last+1 >= k {
			goneP++
		}
	}
	if got.PersonsNew != newP || got.PersonsGone != goneP {
		t.Errorf("changes since %s: persons new %d gone %d, want %d and %d", since, got.PersonsNew, got.PersonsGone, newP, goneP)
	}
	wantFlags := 0
	for name, w := range want {
		w.Before, w.Now = sighted[name][k-1], sighted[name][weeks-1]
		for v := k; v < weeks; v++ {
			if 2*sighted[name][v] < sighted[name][v-1] {
				wantFlags++
			}
		}
	}
	if len(got.Arenas) != len(want) {
		t.Fatalf("changes: %d arenas, want %d", len(got.Arenas), len(want))
	}
	for _, g := range got.Arenas {
		w := want[g.Arena]
		if g.New != w.New || g.Changed != w.Changed || g.Gone != w.Gone || g.Back != w.Back || g.Before != w.Before || g.Now != w.Now {
			t.Errorf("changes since %s, %s: %+v, want %+v", since, g.Arena, g, *w)
		}
	}
	if len(got.Flags) != wantFlags {
		t.Errorf("changes: %d runs flagged (%+v), want %d", len(got.Flags), got.Flags, wantFlags)
	}
	t.Logf("changes since %s: %+v", since, got)
}

// checkTrendAndSnapshots compares 'export trend --by arena --period week'
// and 'export counts --by snapshot' with the clock's truth.
func checkTrendAndSnapshots(t *testing.T, dataDir string, c *demoarena.Corpus, start time.Time, weeks int) {
	t.Helper()
	// live[arena][week] = persons with a live advert there then.
	live := map[string][]map[string]bool{}
	for i := range c.Adverts {
		a := &c.Adverts[i]
		if live[a.Arena] == nil {
			live[a.Arena] = make([]map[string]bool, weeks)
			for w := range weeks {
				live[a.Arena][w] = map[string]bool{}
			}
		}
		for w := range weeks {
			if c.LiveAt(a, w, weeks) {
				live[a.Arena][w][a.PersonID] = true
			}
		}
	}
	want := map[string]string{}
	wantSnap := map[string]int{}
	for arena, byWeek := range live {
		ever := map[string]bool{}
		for w, ps := range byWeek {
			n, g := 0, 0
			for p := range ps {
				if !ever[p] {
					n++
				}
				ever[p] = true
			}
			if w > 0 {
				for p := range byWeek[w-1] {
					if !ps[p] {
						g++
					}
				}
			}
			wk := census.WeekOf(start.AddDate(0, 0, 7*w))
			want[wk+","+arena] = fmt.Sprintf("%d,%d,%d", len(ps), n, g)
			wantSnap[arena+"-"+start.AddDate(0, 0, 7*w).Format("20060102T150405.000Z")] = len(ps)
		}
	}
	recs, err := csv.NewReader(strings.NewReader(runMain(t, "export", "trend", "--data", dataDir, "--by", "arena", "--period", "week", "--min-cell", "0"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "week,arena,active,new,gone" {
		t.Errorf("trend header %q", got)
	}
	got := map[string]string{}
	for _, r := range recs[1:] {
		got[r[0]+","+r[1]] = strings.Join(r[2:], ",")
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("trend %s: active,new,gone %q, want %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("trend has %d rows, want %d", len(got), len(want))
	}
	checkTrendSuppressed(t, dataDir, want)
	recs, err = csv.NewReader(strings.NewReader(runMain(t, "export", "counts", "--data", dataDir, "--by", "snapshot", "--min-cell", "0"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "snapshot,ads,persons" {
		t.Errorf("snapshot header %q", got)
	}
	for _, r := range recs[1 : len(recs)-1] {
		if w, ok := wantSnap[r[0]]; !ok || r[2] != fmt.Sprint(w) {
			t.Errorf("snapshot %s: %s persons, want %d (known %v)", r[0], r[2], w, ok)
		}
	}
	if n := len(recs) - 2; n != len(wantSnap) {
		t.Errorf("%d snapshots, want %d", n, len(wantSnap))
	}
}

// TestRevisitCostsAFraction crawls the unchanged demo arenas twice and
// compares what the arenas served: the second crawl asks for advert pages
// conditionally (304 without a body) and reuses the image fingerprints, so
// it sends a fraction of the first crawl's bytes. The numbers are in
// docs/BENCHMARKS.md.
func TestRevisitCostsAFraction(t *testing.T) {
	corpus, demo := startDemo(t)
	dataDir := t.TempDir()
	var out bytes.Buffer
	crawl := func(trust bool) (requests, sent int64) {
		t.Helper()
		r0, b0 := demo.Requests(), demo.Bytes()
		arenas, err := demoArenas(demo)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arenas {
			if trust && a.Kind != crawler.KindReviews && a.Detail.Links == "" && a.Listing.Items == "" {
				a.Revisit.Listings = crawler.RevisitTrust
				if err := a.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := runPipeline(context.Background(), runOptions{DataDir: dataDir, Arenas: arenas, Quiet: true}, &out, &out); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		return demo.Requests() - r0, demo.Bytes() - b0
	}
	r1, b1 := crawl(false)
	r2, b2 := crawl(false)
	t.Logf("demo arenas (%d adverts): first crawl %d requests, %d bytes; second %d requests, %d bytes (%.1f%% of the requests, %.1f%% of the bytes)",
		corpus.Ads(), r1, b1, r2, b2, 100*float64(r2)/float64(r1), 100*float64(b2)/float64(b1))
	// A third crawl with revisit.listings: trust asks for no advert page
	// (the listings are unchanged) and still sights every advert.
	r3, b3 := crawl(true)
	t.Logf("third crawl, revisit.listings: trust: %d requests, %d bytes (%.1f%% of the first crawl's requests, %.1f%% of its bytes)",
		r3, b3, 100*float64(r3)/float64(r1), 100*float64(b3)/float64(b1))
	if r3 >= r2-int64(corpus.Ads())/2 {
		t.Errorf("third crawl (trust) made %d requests, the second %d: advert pages were asked for", r3, r2)
	}
	if b2*10 > b1 {
		t.Errorf("second crawl sent %d bytes, more than a tenth of the first's %d", b2, b1)
	}
	if r2 >= r1 {
		t.Errorf("second crawl made %d requests, the first %d: images were fetched again", r2, r1)
	}
	// The second crawl sighted every advert and published none.
	st, err := census.OpenReadOnly(filepath.Join(dataDir, census.File))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs()
	if err != nil {
		t.Fatal(err)
	}
	for crawl, rs := range [][]census.Run{runs[len(runs)/3 : 2*len(runs)/3], runs[2*len(runs)/3:]} {
		sighted, changed, gone := 0, 0, 0
		for _, r := range rs {
			sighted += r.Sighted
			changed += r.Changed
			gone += r.Gone
		}
		if sighted != corpus.Ads() || changed != 0 || gone != 0 {
			t.Errorf("crawl %d sighted %d adverts (%d changed, %d gone), want %d, 0 and 0", crawl+2, sighted, changed, gone, corpus.Ads())
		}
	}
}
