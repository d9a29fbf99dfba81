package demoarena_test

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"adcensus/internal/synthetic/demoarena"
)

// TestForumTruth: the forum is deterministic, reviews persons of the
// corpus, and its truth covers every kind of reference.
func TestForumTruth(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	f, g := c.Forum(), c.Forum()
	tr := f.Truth()
	if gt := g.Truth(); !slices.Equal(gt.Reviewed, tr.Reviewed) || gt.Reviews != tr.Reviews {
		t.Fatal("the forum is not deterministic")
	}
	kinds := map[string]int{}
	for _, th := range f.Threads {
		p, ok := c.Person(th.PersonID)
		if !ok {
			t.Fatalf("thread %d reviews unknown person %s", th.ID, th.PersonID)
		}
		for _, post := range th.Posts {
			kinds[post.Ref]++
			switch post.Ref {
			case demoarena.RefAdvertURL, demoarena.RefAdvertID:
				if a, ok := c.Advert(demoarena.Blomstra, post.AdvertKey); !ok || a.PersonID != p.ID {
					t.Errorf("post %s names advert %s, not of %s", post.ID, post.AdvertKey, p.ID)
				}
			case demoarena.RefPhone:
				if post.Phone != p.Phone || p.Agency != "" {
					t.Errorf("post %s: phone not the person's own", post.ID)
				}
			}
		}
	}
	for _, k := range []string{demoarena.RefAdvertURL, demoarena.RefAdvertID, demoarena.RefPhone, demoarena.RefThread, demoarena.RefNameCity} {
		if kinds[k] == 0 {
			t.Errorf("no post with reference %s", k)
		}
	}
	if tr.Reviews != 39 || tr.Reviewers != 9 || len(tr.Reviewed) != 10 || len(tr.WeakOnly) != 2 {
		t.Errorf("truth %d reviews, %d reviewers, %d reviewed, %d weak only: the demo's numbers changed", tr.Reviews, tr.Reviewers, len(tr.Reviewed), len(tr.WeakOnly))
	}
}

// TestForumServes: the forum's thread list and thread pages as served,
// bland and adults-only, paged, linking blomstra's running server.
func TestForumServes(t *testing.T) {
	c, d := startDemo(t)
	if got := d.Forums(); !slices.Equal(got, []string{demoarena.Omdomen}) || slices.Contains(d.Arenas(), demoarena.Omdomen) {
		t.Fatalf("forums %v, arenas %v", got, d.Arenas())
	}
	get := func(u string, want int) string {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", u, resp.StatusCode, want)
		}
		return string(b)
	}
	base := d.URL(demoarena.Omdomen)
	list := get(base+"/forum", http.StatusOK)
	if !strings.Contains(list, "Endast vuxna") || !strings.Contains(list, `rel="next"`) {
		t.Errorf("thread list: %s", list)
	}
	f := c.Forum()
	var long demoarena.ForumThread
	for _, th := range f.Threads {
		if len(th.Posts) > len(long.Posts) {
			long = th
		}
	}
	page1 := get(base+"/trad/"+strconv.Itoa(long.ID), http.StatusOK)
	if n := strings.Count(page1, `class="inlagg"`); n != demoarena.ForumPostsPerPage || !strings.Contains(page1, `class="nasta"`) {
		t.Errorf("first page of thread %d: %d posts", long.ID, n)
	}
	if strings.Contains(page1, d.URL(demoarena.Blomstra)) == (long.Posts[0].Ref != demoarena.RefAdvertURL && long.Posts[0].Ref != demoarena.RefThread) {
		t.Errorf("links to blomstra wrong on thread %d (%s)", long.ID, long.Posts[0].Ref)
	}
	get(base+"/trad/"+strconv.Itoa(long.ID)+"?sida=99", http.StatusNotFound)
	get(base+"/trad/1", http.StatusNotFound)
	if !regexp.MustCompile(`Disallow: /konto/`).MatchString(get(base+"/robots.txt", http.StatusOK)) {
		t.Error("robots.txt")
	}
}
