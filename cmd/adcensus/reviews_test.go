package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"adcensus/internal/contact"
	"adcensus/internal/synthetic/demoarena"
)

// checkDemoReviews checks the demo review forum's reviews, crawled into
// dataDir with the demo arenas, against the forum's truth exactly: every
// post linked to the person it reviews (strong evidence) or, for the posts
// naming only a name and a city, to that person as weak evidence; the
// distinct reviewers and reviewed persons; and the CLI on them.
func checkDemoReviews(t *testing.T, dataDir string, corpus *demoarena.Corpus) {
	t.Helper()
	ctx := context.Background()
	forum := corpus.Forum()
	truth := forum.Truth()
	if truth.Reviews < 30 || truth.Reviewers < 5 || len(truth.Reviewed) < 8 || len(truth.WeakOnly) < 1 {
		t.Fatalf("the forum's truth is too small to test: %+v", truth)
	}
	rep, err := demoReviews(ctx, dataDir, corpus)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Reviews != truth.Reviews || rep.Reviewers != truth.Reviewers {
		t.Errorf("%d reviews by %d reviewers, want %d by %d", rep.Reviews, rep.Reviewers, truth.Reviews, truth.Reviewers)
	}
	for _, th := range forum.Threads {
		for _, p := range th.Posts {
			strong, weak := rep.ByPost[p.ID], rep.WeakByPost[p.ID]
			want := []string{p.PersonID}
			if p.Ref == demoarena.RefNameCity {
				if len(strong) != 0 || !slices.Equal(weak, want) {
					t.Errorf("post %s (%s): strong %v weak %v, want weak %v only", p.ID, p.Ref, strong, weak, want)
				}
			} else if !slices.Equal(strong, want) {
				t.Errorf("post %s (%s): linked to %v, want %v", p.ID, p.Ref, strong, want)
			}
		}
	}
	if !slices.Equal(rep.Reviewed, truth.Reviewed) || !slices.Equal(rep.WeakOnly, truth.WeakOnly) || rep.Counted != len(truth.Reviewed) {
		t.Errorf("reviewed %v (as %d counted persons), weak only %v; want %v and %v", rep.Reviewed, rep.Counted, rep.WeakOnly, truth.Reviewed, truth.WeakOnly)
	}

	// export reviews: the total row without suppression is the truth.
	var exp struct {
		Rows []struct {
			Group     []string `json:"group"`
			Reviews   int      `json:"reviews"`
			Reviewers int      `json:"reviewers"`
			Reviewed  int      `json:"reviewed_persons"`
			Weak      int      `json:"weak_persons"`
			Total     bool     `json:"total"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(runMain(t, "export", "reviews", "--by", "arena,month,region", "--data", dataDir, "--min-cell", "0", "--format", "json")), &exp); err != nil {
		t.Fatal(err)
	}
	last := exp.Rows[len(exp.Rows)-1]
	if !last.Total || last.Reviews != truth.Reviews || last.Reviewers != truth.Reviewers || last.Reviewed != len(truth.Reviewed) || last.Weak != len(truth.WeakOnly) {
		t.Errorf("export total %+v, want %d reviews, %d reviewers, %d reviewed, %d weak", last, truth.Reviews, truth.Reviewers, len(truth.Reviewed), len(truth.WeakOnly))
	}
	sum := 0
	for _, r := range exp.Rows[:len(exp.Rows)-1] {
		sum += r.Reviews
	}
	if sum != truth.Reviews {
		t.Errorf("groups add up to %d reviews, want %d", sum, truth.Reviews)
	}
	// With the default min cell no visible group has 1-4 reviewers.
	recs, err := csv.NewReader(strings.NewReader(runMain(t, "export", "reviews", "--by", "month,region", "--data", dataDir))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if n, err := strconv.Atoi(r[3]); err == nil && n > 0 && n < 5 {
			t.Errorf("visible small cell: %v", r)
		}
	}

	// explain review names the person; reviews patterns flags the person
	// of the long thread with many reviewers in a few days.
	long := forum.Threads[0]
	for _, th := range forum.Threads {
		if len(th.Posts) > len(long.Posts) {
			long = th
		}
	}
	var ex reviewExplanation
	id := reviewIDOf(t, dataDir, long.Posts[0].ID)
	if err := json.Unmarshal([]byte(runMain(t, "explain", "review", "--data", dataDir, id)), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Link.Persons) != 1 || len(ex.Link.Evidence) == 0 || ex.Review.Author == "" {
		t.Errorf("explain review: %+v", ex)
	}
	if len(ex.Flags) != 1 || ex.Flags[0].Pattern != "review-many-reviewers" {
		t.Errorf("explain review: flags %+v, want review-many-reviewers", ex.Flags)
	}
	if out := runMain(t, "reviews", "patterns", "--data", dataDir); !strings.Contains(out, ex.Link.Persons[0]+"  review-many-reviewers") {
		t.Errorf("reviews patterns:\n%s", out)
	}
	// The flag feeds the person's page: /api/persons/{id} (apiReviewFlags,
	// as serve wires it) carries it with its reviews as evidence; another
	// person has none.
	ix, err := openIndex(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	flagsOf := apiReviewFlags(dataDir, ix, slog.New(slog.DiscardHandler))
	fl, err := flagsOf(ctx, ex.Link.Persons[0])
	if err != nil || len(fl) != 1 || fl[0].Pattern != "review-many-reviewers" || !slices.Contains(fl[0].Reviews, id) {
		t.Errorf("review flags of %s for the API: %+v, %v; want review-many-reviewers with review %s", ex.Link.Persons[0], fl, err, id)
	}
	if fl, err := flagsOf(ctx, "P-nobody"); err != nil || len(fl) != 0 {
		t.Errorf("review flags of a person with no review: %+v, %v", fl, err)
	}
	ix.Close()

	// No reviewer's handle is stored anywhere.
	filepath.Walk(dataDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, th := range forum.Threads {
			for _, p := range th.Posts {
				if bytes.Contains(data, []byte(p.Author)) {
					t.Errorf("raw handle %s found in %s", p.Author, path)
					return nil
				}
			}
		}
		return nil
	})
}

// reviewIDOf returns the stored id of the forum post with the page id post.
func reviewIDOf(t *testing.T, dataDir, post string) string {
	t.Helper()
	st, err := openReviews(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, _, err := st.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Post == post {
			return r.ID
		}
	}
	t.Fatalf("post %s not stored", post)
	return ""
}

// assertReviewTextPurged checks that a purge past advert_text dropped the
// text of the demo forum's reviews and kept the reviews.
func assertReviewTextPurged(t *testing.T, data, out string) {
	t.Helper()
	st, err := openReviews(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, _, err := st.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("review text (advert_text; the reviews' references stay): %d reviews", len(all)); len(all) == 0 || !strings.Contains(out, want) {
		t.Errorf("purge output lacks %q:\n%s", want, out)
	}
	for _, r := range all {
		if r.Text != "" || (r.Refs.IsZero() && r.Author == "") {
			t.Errorf("review %s after the purge: %+v", r.ID, r)
		}
	}
}

// TestReviewForumCheckAndCrawlOut: 'arena check' reads the demo forum's
// thread pages (pseudonyms only with the key, no raw number or handle),
// and 'crawl --out' writes its reviews as JSON Lines, each once.
func TestReviewForumCheckAndCrawlOut(t *testing.T) {
	corpus, d := startArenaCheckDemo(t)
	truth := corpus.Forum().Truth()
	dir := t.TempDir()
	path := mustArenaCheckConfig(t, dir, demoarena.Omdomen, d.URL(demoarena.Omdomen), nil)
	dataDir := filepath.Join(dir, "data")
	if _, err := contact.LoadOrCreateKey(dataDir); err != nil {
		t.Fatal(err)
	}
	for _, keyed := range []bool{false, true} {
		args := []string{"arena", "check", path, "--samples", "2"}
		if keyed {
			args = append(args, "--data", dataDir)
		}
		out := runMain(t, args...)
		for _, want := range []string{"thread \"101\"", "posts (reviews.posts article.inlagg)", "fields.author: matched", "refs.advert_url", "\nok\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("arena check (keyed %v) lacks %q:\n%s", keyed, want, out)
			}
		}
		if keyed != strings.Contains(out, "author: author:") {
			t.Errorf("keyed %v: author pseudonyms shown %v:\n%s", keyed, !keyed, out)
		}
		if p := phoneDigitsIn(corpus, out); p != "" {
			t.Errorf("raw phone %s in arena check output", p)
		}
		for _, h := range []string{"Resenar42", "Kaffekoppen", "Nordanvind"} {
			if strings.Contains(out, h) {
				t.Errorf("raw handle %s in arena check output", h)
			}
		}
	}

	outFile := filepath.Join(dir, "reviews.jsonl")
	runMain(t, "crawl", "--arena", path, "--out", outFile, "--data", dataDir, "--quiet")
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct {
			ID     string   `json:"id"`
			Author string   `json:"author"`
			Phones []string `json:"phones"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if ids[r.ID] || !strings.HasPrefix(r.Author, "author:") || len(r.Phones) > 0 {
			t.Errorf("review line %s", line)
		}
		ids[r.ID] = true
	}
	if len(ids) != truth.Reviews {
		t.Errorf("crawl --out wrote %d reviews, want %d", len(ids), truth.Reviews)
	}
}
