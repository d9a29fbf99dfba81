package demoarena

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// The demo's clock: simulated weeks 0 … weeks−1 in which persons start
// and stop advertising, adverts appear, change, disappear and come back.
// Corpus.AtWeek gives what the arenas publish in a week (Demo.Show serves
// it); Corpus.LiveAt and ActivePersons are the truth a census of weekly
// crawls must find. The rules, all derived from the person's number and
// the advert's key, so any seed gives the same shape:
//
//   - person n (P001 → 1) starts in week n mod 3 and stops after week
//     weeks−1−(n/3 mod 3): some start late, some stop early;
//   - one advert in five of a person who advertises at least three weeks
//     disappears in the person's second week and is back in the third;
//   - one advert in four changes its title and text from the person's
//     third week on (same person, same photos and phone).

// span returns the first and last week in which person id advertises.
func span(id string, weeks int) (first, last int) {
	n, _ := strconv.Atoi(strings.TrimLeft(id, "P"))
	return n % 3, weeks - 1 - (n/3)%3
}

func keyHash(a *Advert) uint32 {
	h := fnv.New32a()
	h.Write([]byte(a.Arena + "/" + a.Key))
	return h.Sum32()
}

// LiveAt reports whether advert a is published in simulated week w of
// weeks.
func (c *Corpus) LiveAt(a *Advert, w, weeks int) bool {
	first, last := span(a.PersonID, weeks)
	if w < first || w > last {
		return false
	}
	if keyHash(a)%5 == 0 && last-first >= 2 && w == first+1 {
		return false // away for a week, back the next
	}
	return true
}

// ChangedAt reports whether advert a shows its edited text in week w.
func (c *Corpus) ChangedAt(a *Advert, w, weeks int) bool {
	first, _ := span(a.PersonID, weeks)
	return keyHash(a)%4 == 1 && w >= first+2
}

// AtWeek returns the corpus as the arenas publish it in simulated week w
// of weeks: only the adverts live then, edited ones with their new text.
func (c *Corpus) AtWeek(w, weeks int) *Corpus {
	out := &Corpus{Seed: c.Seed, People: c.People, Extras: c.Extras}
	for i := range c.Adverts {
		a := c.Adverts[i]
		if !c.LiveAt(&a, w, weeks) {
			continue
		}
		if c.ChangedAt(&a, w, weeks) {
			a.Title += " (uppdaterad)"
			a.Body = "Nya tider från och med denna vecka.\n" + a.Body
		}
		out.Adverts = append(out.Adverts, a)
	}
	out.reindex()
	return out
}

// ActivePersons is the number of distinct persons with at least one
// advert published in week w of weeks.
func (c *Corpus) ActivePersons(w, weeks int) int {
	seen := map[string]bool{}
	for i := range c.Adverts {
		if a := &c.Adverts[i]; c.LiveAt(a, w, weeks) {
			seen[a.PersonID] = true
		}
	}
	return len(seen)
}
