package reviews

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"adcensus/ad"
	"adcensus/index"
)

// Review patterns: indicators read in the reviews of a person that feed the
// person's flags, each with its evidence (the reviews). Like the advert
// patterns (docs/PATTERNS.md) they are prompts for review by people, never
// findings about anyone.
const (
	// PatternYouth: a review of the person mentions a sign of youth
	// (index.SignsOfYouth on the review's text).
	PatternYouth = "review-signs-of-youth"
	// PatternThirdParty: a review mentions someone else arranging,
	// watching or taking the money, or the person seeming unwilling.
	PatternThirdParty = "review-third-party"
	// PatternManyReviewers: at least ManyReviewers distinct reviewers of
	// the person within ManyReviewersWindow.
	PatternManyReviewers = "review-many-reviewers"
)

// Thresholds of PatternManyReviewers.
const (
	ManyReviewers       = 5
	ManyReviewersWindow = 7 * 24 * time.Hour
)

// thirdPartyPhrases are phrases of a third party or coercion in a buyer's
// words (Swedish and English), matched as whole words, case-insensitively.
var thirdPartyPhrases = []string{
	"hennes chef", "chefen", "hallick", "kompisen tog betalt", "någon annan tog betalt", "någon annan svarade",
	"en man svarade", "mannen svarade", "väntade utanför", "vakt utanför", "fick inte gå", "verkade rädd",
	"verkade ovillig", "ville inte", "tog pengarna", "pimp", "her boss", "a man answered", "someone else answered",
	"waited outside", "seemed scared", "seemed unwilling", "took the money",
}

var thirdPartyRe = regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])(` + phraseAlternation(thirdPartyPhrases) + `)(?:$|[^\p{L}\p{N}])`)

func phraseAlternation(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = strings.ReplaceAll(regexp.QuoteMeta(p), " ", `\s+`)
	}
	return strings.Join(q, "|")
}

// genericYouth are youth phrases of adverts that buyers use of any adult
// ("trevlig tjej", "young woman"): in reviews they would flag nearly every
// person, so review patterns leave them out.
var genericYouth = []string{"tjej", "girl", "ung", "young"}

// statedAgeRe finds an age stated of the person in a review: "hon var 17",
// "hon är 16 år", "en 16-åring", "17 år gammal", "she was 17", "17 years
// old", "16yo" (not "var 2 år sedan").
var statedAgeRe = regexp.MustCompile(`(?i)(?:(?:hon|han|hen|she|he)\s+(?:var|är|is|was|sa\s+sig\s+vara|said\s+she\s+was)\s+(\d{1,2})(?:$|[^\p{N}])|(?:^|[^\p{L}\p{N}])(\d{1,2})\s*(?:-\s*åring|år\s+gammal|years?\s+old|yo|y/o)(?:$|[^\p{L}\p{N}]))`)

// SignsOfYouth returns the signs of youth in a review's text: the advert
// youth phrases (index.YouthPhrases) but the generic ones, and "age<18"
// for a stated age under 18.
func SignsOfYouth(text string) []string {
	var phrases []string
	for _, p := range index.YouthPhrases() {
		if !slices.Contains(genericYouth, p) {
			phrases = append(phrases, p)
		}
	}
	out := index.MatchPhrases(text, phrases)
	for _, m := range statedAgeRe.FindAllStringSubmatch(text, -1) {
		if n, err := strconv.Atoi(m[1] + m[2]); err == nil && n > 0 && n < 18 && !slices.Contains(out, "age<18") {
			out = append(out, "age<18")
		}
	}
	return out
}

// Flag is one pattern found for one person, with its evidence.
type Flag struct {
	PersonID string `json:"person_id"`
	Pattern  string `json:"pattern"`
	// Reviews are the ids of the reviews that show it; Signs what was
	// found in them (phrases, or the number of reviewers and the window).
	Reviews []string `json:"reviews"`
	Signs   []string `json:"signs"`
}

// Patterns finds the review patterns of every person that strong evidence
// links a review to, sorted by person then pattern.
func Patterns(ctx context.Context, st *Store, lk *Linker) ([]Flag, error) {
	type hit struct {
		review, author string
		at             time.Time
	}
	byPerson := map[string][]hit{}
	flags := map[string]*Flag{}
	flag := func(person, pattern, review string, signs ...string) {
		k := person + "\x00" + pattern
		f := flags[k]
		if f == nil {
			f = &Flag{PersonID: person, Pattern: pattern}
			flags[k] = f
		}
		if !slices.Contains(f.Reviews, review) {
			f.Reviews = append(f.Reviews, review)
		}
		for _, s := range signs {
			if !slices.Contains(f.Signs, s) {
				f.Signs = append(f.Signs, s)
			}
		}
	}
	_, err := st.ForEach(ctx, func(r *ad.Review) error {
		ln := lk.Link(r)
		if len(ln.Persons) == 0 {
			return nil
		}
		youth := SignsOfYouth(r.Text)
		var third []string
		for _, m := range thirdPartyRe.FindAllStringSubmatch(r.Text, -1) {
			third = append(third, strings.ToLower(strings.Join(strings.Fields(m[1]), " ")))
		}
		for _, p := range ln.Persons {
			if len(youth) > 0 {
				flag(p, PatternYouth, r.ID, youth...)
			}
			if len(third) > 0 {
				flag(p, PatternThirdParty, r.ID, third...)
			}
			byPerson[p] = append(byPerson[p], hit{review: r.ID, author: cmpAuthor(r), at: r.Time()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for p, hits := range byPerson {
		slices.SortFunc(hits, func(a, b hit) int { return a.at.Compare(b.at) })
		// The window with the most distinct reviewers, sliding over the
		// reviews in time order.
		best, bestFrom, bestTo := 0, 0, 0
		for i := range hits {
			authors := map[string]bool{}
			j := i
			for ; j < len(hits) && hits[j].at.Sub(hits[i].at) <= ManyReviewersWindow; j++ {
				authors[hits[j].author] = true
			}
			if len(authors) > best {
				best, bestFrom, bestTo = len(authors), i, j
			}
		}
		if best >= ManyReviewers {
			for _, h := range hits[bestFrom:bestTo] {
				flag(p, PatternManyReviewers, h.review)
			}
			f := flags[p+"\x00"+PatternManyReviewers]
			f.Signs = []string{fmt.Sprintf("%d reviewers within %d days", best, int(ManyReviewersWindow/(24*time.Hour)))}
		}
	}
	out := make([]Flag, 0, len(flags))
	for _, f := range flags {
		slices.Sort(f.Reviews)
		out = append(out, *f)
	}
	slices.SortFunc(out, func(a, b Flag) int {
		if c := strings.Compare(a.PersonID, b.PersonID); c != 0 {
			return c
		}
		return strings.Compare(a.Pattern, b.Pattern)
	})
	return out, nil
}

// cmpAuthor is the reviewer of a review: its author pseudonym, or the
// review itself when it shows no author.
func cmpAuthor(r *ad.Review) string {
	if r.Author != "" {
		return r.Author
	}
	return "review:" + r.ID
}
