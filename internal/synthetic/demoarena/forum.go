package demoarena

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Omdomen is the demo's review forum (an arena of kind: reviews): threads of
// bland, non-explicit buyer reviews of the demo persons, with the truth of
// whom each post reviews.
const Omdomen = "omdomen"

var forumNames = []string{Omdomen}

// Reference kinds of a forum post (ForumPost.Ref): what the post shows
// about whom it reviews.
const (
	RefAdvertURL = "advert_url" // a link to the person's blomstra advert
	RefAdvertID  = "advert_id"  // the blomstra advert's id in the text
	RefPhone     = "phone"      // the person's own phone number
	RefThread    = "thread"     // nothing of its own: the thread's advert link
	RefNameCity  = "name_city"  // the thread's name and city only (weak)
)

// ForumPost is one review on the forum.
type ForumPost struct {
	ID       string // the post's id on the page ("i12-3")
	Author   string // the reviewer's handle
	Posted   time.Time
	Text     string
	PersonID string // truth: the person reviewed
	Ref      string // what the post shows (RefAdvertURL, …)
	// AdvertKey is the blomstra advert key a RefAdvertURL or RefAdvertID
	// post shows; Phone the E.164 number a RefPhone post shows.
	AdvertKey string
	Phone     string
}

// ForumThread is one thread: posts about one person.
type ForumThread struct {
	ID       int
	Title    string
	PersonID string
	// Name and City are shown in the thread header of RefNameCity threads;
	// AdvertKey (blomstra) in the header of RefThread threads.
	Name, City, AdvertKey string
	Posts                 []ForumPost
}

// ForumPostsPerPage is how many posts a thread page shows.
const ForumPostsPerPage = 4

// Forum is the review forum's content.
type Forum struct {
	Threads []ForumThread
}

var forumHandles = []string{"Resenar42", "Kaffekoppen", "Nordanvind", "Tallbacken", "Sommarregn", "Fjallvandraren", "Blabarsris", "Stugan7", "Kvallssol"}

var forumTexts = []string{
	"Trevligt och punktligt möte, vänligt bemötande.",
	"Allt gick lugnt till, tydlig kommunikation innan.",
	"Lugn och respektfull, kom i tid.",
	"Rent och städat, tydliga överenskommelser.",
	"Vänlig och pratglad, inga konstigheter.",
	"Bra kontakt via meddelanden, svarade snabbt.",
}

// Forum returns the review forum of the corpus: deterministic for its
// seed, drawn from a random source of its own so the adverts do not change.
func (c *Corpus) Forum() *Forum {
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x666f72756d))
	// Candidates per kind of reference.
	var withBlomstra, ownPhone, uniqueName []string
	nameCity := map[string]map[string]bool{} // name\x00city → persons
	for _, a := range c.Adverts {
		k := strings.ToLower(a.Name) + "\x00" + strings.ToLower(a.City)
		if nameCity[k] == nil {
			nameCity[k] = map[string]bool{}
		}
		nameCity[k][a.PersonID] = true
	}
	for _, p := range c.People {
		if len(c.personAds(p.ID, Blomstra)) > 0 {
			withBlomstra = append(withBlomstra, p.ID)
		}
		if p.Agency == "" && p.AltPhone == "" {
			ownPhone = append(ownPhone, p.ID)
		}
		if p.TourCity == "" && len(nameCity[strings.ToLower(p.Name)+"\x00"+strings.ToLower(p.City)]) == 1 {
			uniqueName = append(uniqueName, p.ID)
		}
	}
	used := map[string]bool{}
	choose := func(from []string) string {
		from = slices.DeleteFunc(slices.Clone(from), func(id string) bool { return used[id] })
		if len(from) == 0 {
			return ""
		}
		id := from[r.IntN(len(from))]
		used[id] = true
		return id
	}
	f := &Forum{}
	plan := []struct {
		ref   string
		posts int
	}{
		{RefThread, 6}, {RefAdvertURL, 3}, {RefAdvertID, 2}, {RefPhone, 5}, {RefNameCity, 2},
		{RefThread, 2}, {RefAdvertURL, 9}, {RefPhone, 1}, {RefAdvertID, 4}, {RefNameCity, 1},
		{RefAdvertURL, 1}, {RefThread, 3},
	}
	for i, pl := range plan {
		var pid string
		switch pl.ref {
		case RefPhone:
			pid = choose(intersect(ownPhone, withBlomstra))
		case RefNameCity:
			pid = choose(uniqueName)
		default:
			pid = choose(withBlomstra)
		}
		if pid == "" {
			continue
		}
		p, _ := c.Person(pid)
		t := ForumThread{ID: 101 + i, PersonID: pid, Title: fmt.Sprintf("Omdöme %d", 101+i)}
		ads := c.personAds(pid, Blomstra)
		switch pl.ref {
		case RefThread:
			t.AdvertKey = ads[r.IntN(len(ads))].Key
		case RefNameCity:
			t.Name, t.City = p.Name, p.City
			t.Title = fmt.Sprintf("Omdöme: %s, %s", p.Name, p.City)
		}
		start := windowStart.Add(time.Duration(10+r.IntN(30)) * 24 * time.Hour)
		// The longest thread has many reviewers in a few days (the
		// many-reviewers pattern); the others spread over weeks.
		step := 3 * 24 * time.Hour
		if pl.posts >= 9 {
			step = 14 * time.Hour
		}
		for n := range pl.posts {
			post := ForumPost{
				ID:       fmt.Sprintf("i%d-%d", t.ID, n+1),
				Author:   forumHandles[(i*2+n*(1+i%3))%len(forumHandles)],
				Posted:   start.Add(time.Duration(n)*step + time.Duration(r.IntN(600))*time.Minute).UTC(),
				Text:     forumTexts[r.IntN(len(forumTexts))],
				PersonID: pid,
				Ref:      pl.ref,
			}
			switch pl.ref {
			case RefAdvertURL, RefAdvertID:
				post.AdvertKey = ads[r.IntN(len(ads))].Key
			case RefPhone:
				post.Phone = p.Phone
			}
			t.Posts = append(t.Posts, post)
		}
		f.Threads = append(f.Threads, t)
	}
	return f
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// personAds returns the person's adverts on one arena.
func (c *Corpus) personAds(personID, arena string) []*Advert {
	var out []*Advert
	for i := range c.Adverts {
		if a := &c.Adverts[i]; a.PersonID == personID && a.Arena == arena {
			out = append(out, a)
		}
	}
	return out
}

// ForumTruth is what the forum's truth says a crawl should count.
type ForumTruth struct {
	Reviews   int
	Reviewers int // distinct handles
	// Reviewed are the persons strong evidence names (advert link or id,
	// own phone, the thread's advert link); WeakOnly those named by name
	// and city only. Both sorted.
	Reviewed, WeakOnly []string
	// ByPost is the person each post reviews, by post id.
	ByPost map[string]string
}

// Truth returns the forum's truth.
func (f *Forum) Truth() ForumTruth {
	t := ForumTruth{ByPost: map[string]string{}}
	handles, strong, weak := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, th := range f.Threads {
		for _, p := range th.Posts {
			t.Reviews++
			handles[p.Author] = true
			t.ByPost[p.ID] = p.PersonID
			if p.Ref == RefNameCity {
				weak[p.PersonID] = true
			} else {
				strong[p.PersonID] = true
			}
		}
	}
	t.Reviewers = len(handles)
	for p := range strong {
		t.Reviewed = append(t.Reviewed, p)
	}
	for p := range weak {
		if !strong[p] {
			t.WeakOnly = append(t.WeakOnly, p)
		}
	}
	sort.Strings(t.Reviewed)
	sort.Strings(t.WeakOnly)
	return t
}
