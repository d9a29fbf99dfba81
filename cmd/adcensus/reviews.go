package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/index"
	"adcensus/index/reviews"
	"adcensus/internal/synthetic/demoarena"
)

// Review forums (arenas of kind: reviews): the crawler stores their posts
// in DATA/reviews.db (index/reviews); the commands here export, explain and
// flag them against the index. docs/FORMAT-reviews.md.

// reviewStore returns the node's review store, opened on first use: only
// a node that crawls a review forum has one.
func (n *node) reviewStore() (*reviews.Store, error) {
	n.reviewsMu.Lock()
	defer n.reviewsMu.Unlock()
	if n.reviews == nil {
		st, err := reviews.Open(filepath.Join(n.dataDir, reviews.File), false)
		if err != nil {
			return nil, err
		}
		n.reviews = st
	}
	return n.reviews, nil
}

// reviewSinkFor returns the review store for a review forum's crawler, nil
// for an advert arena.
func (n *node) reviewSinkFor(cfg *crawler.ArenaConfig) (crawler.ReviewSink, error) {
	if cfg.Kind != crawler.KindReviews {
		return nil, nil
	}
	return n.reviewStore()
}

// nodeReviews is the node's review store (embedded in node).
type nodeReviews struct {
	reviewsMu sync.Mutex
	reviews   *reviews.Store
}

// closeReviews closes the review store if it was opened.
func (r *nodeReviews) closeReviews() error {
	r.reviewsMu.Lock()
	defer r.reviewsMu.Unlock()
	if r.reviews == nil {
		return nil
	}
	err := r.reviews.Close()
	r.reviews = nil
	return err
}

// openReviews opens the review store of dataDir read-only.
func openReviews(dataDir string) (*reviews.Store, error) {
	path := filepath.Join(dataDir, reviews.File)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no reviews in %s (crawl a review forum, an arena of kind: reviews, with 'adcensus run' or 'adcensus demo --data %s'): %w", dataDir, dataDir, err)
	}
	st, err := reviews.Open(path, true)
	if err != nil {
		return nil, explainHeld(dataDir, err)
	}
	return st, nil
}

func cmdExportReviews(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export reviews", stderr)
	by := fs.String("by", "arena", "comma-separated dimensions: "+strings.Join(reviews.Dimensions(), ", "))
	format := fs.String("format", "csv", "csv or json")
	dataDir := fs.String("data", "./data", "data directory")
	minCell := fs.Int("min-cell", 5, "suppress groups with fewer distinct reviewers than this, and reviewed or advertised persons counts below it (0: no suppression)")
	out := fs.String("out", "", "output file (default: standard output)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *format != "csv" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be csv or json, not %q", *format)}
	}
	if *minCell < 0 {
		return usageError{"--min-cell must be 0 or more"}
	}
	st, err := openReviews(*dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	rep, err := reviews.Export(ctx, st, ix, reviews.ExportOptions{By: splitList(*by), MinCell: *minCell})
	if errors.Is(err, index.ErrBadDimension) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	if rep.Bad > 0 {
		fmt.Fprintf(stderr, "warning: %d stored reviews could not be read and were left out\n", rep.Bad)
	}
	auditRead(stderr, *dataDir, "export reviews", map[string]string{"by": *by, "min_cell": fmt.Sprint(*minCell)}, len(rep.Rows))
	return writeOutput(stdout, *out, func(w io.Writer) error {
		if *format == "csv" {
			return rep.WriteCSV(w)
		}
		return rep.WriteJSON(w)
	})
}

// reviewExplanation is what 'explain review' prints.
type reviewExplanation struct {
	Review *ad.Review     `json:"review"`
	Link   reviews.Link   `json:"link"`
	Flags  []reviews.Flag `json:"flags,omitempty"`
}

// cmdExplainReview shows a stored review (pseudonymised) and whom the
// index links it to, with every piece of evidence.
func cmdExplainReview(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("explain review", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: adcensus explain review [--data DIR] REVIEW_ID"}
	}
	st, err := openReviews(*dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Review(pos[0])
	if errors.Is(err, reviews.ErrNotFound) {
		return fmt.Errorf("review %s is not in %s", pos[0], filepath.Join(*dataDir, reviews.File))
	}
	if err != nil {
		return err
	}
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	lk, err := reviews.NewLinker(ctx, ix)
	if err != nil {
		return err
	}
	ex := reviewExplanation{Review: r, Link: lk.Link(r)}
	flags, err := reviews.Patterns(ctx, st, lk)
	if err != nil {
		return err
	}
	for _, f := range flags {
		if slices.Contains(f.Reviews, r.ID) {
			ex.Flags = append(ex.Flags, f)
		}
	}
	auditRead(stderr, *dataDir, "explain review", map[string]string{"review": pos[0]}, -1)
	return writeJSON(stdout, ex)
}

// cmdReviewPatterns prints the review patterns of every reviewed person.
func cmdReviewPatterns(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reviews patterns", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	format := fs.String("format", "text", "text or json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	st, err := openReviews(*dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ix, err := openIndex(*dataDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	lk, err := reviews.NewLinker(ctx, ix)
	if err != nil {
		return err
	}
	flags, err := reviews.Patterns(ctx, st, lk)
	if err != nil {
		return err
	}
	auditRead(stderr, *dataDir, "reviews patterns", nil, len(flags))
	if *format == "json" {
		return writeJSON(stdout, flags)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "person\tpattern\treviews\tsigns")
	for _, f := range flags {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", f.PersonID, f.Pattern, len(f.Reviews), strings.Join(f.Signs, "; "))
	}
	return tw.Flush()
}

// demoReviewReport is what the demo found on its review forum, next to
// the forum's truth (demoarena.Forum).
type demoReviewReport struct {
	Reviews, Reviewers int
	// ByPost is, per post id, the truth persons the review's strong
	// evidence names (through the adverts the evidence points at); Weak
	// the same for weak evidence.
	ByPost, WeakByPost map[string][]string
	// Reviewed and WeakOnly are the truth persons named, sorted.
	Reviewed, WeakOnly []string
	// Counted is the number of distinct counted persons strong evidence
	// names.
	Counted int
}

// demoReviews links the demo forum's stored reviews to the index and maps
// them to the corpus's truth.
func demoReviews(ctx context.Context, dataDir string, corpus *demoarena.Corpus) (*demoReviewReport, error) {
	st, err := openReviews(dataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ix, err := openIndex(dataDir)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	lk, err := reviews.NewLinker(ctx, ix)
	if err != nil {
		return nil, err
	}
	truthOf := map[string]string{} // advert id → truth person
	for _, a := range corpus.Adverts {
		truthOf[ad.ContentID(a.Arena, a.Key)] = a.PersonID
	}
	rep := &demoReviewReport{ByPost: map[string][]string{}, WeakByPost: map[string][]string{}}
	authors, strong, weak, counted := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	_, err = st.ForEach(ctx, func(r *ad.Review) error {
		rep.Reviews++
		authors[r.Author] = true
		ln := lk.Link(r)
		for _, p := range ln.Persons {
			counted[p] = true
		}
		for _, e := range ln.Evidence {
			tp := truthOf[e.AdID]
			m := rep.ByPost
			if e.Weak {
				m = rep.WeakByPost
				weak[tp] = true
			} else {
				strong[tp] = true
			}
			if !slices.Contains(m[r.Post], tp) {
				m[r.Post] = append(m[r.Post], tp)
				slices.Sort(m[r.Post])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Reviewers, rep.Counted = len(authors), len(counted)
	for p := range strong {
		rep.Reviewed = append(rep.Reviewed, p)
	}
	for p := range weak {
		if !strong[p] {
			rep.WeakOnly = append(rep.WeakOnly, p)
		}
	}
	sort.Strings(rep.Reviewed)
	sort.Strings(rep.WeakOnly)
	return rep, nil
}

// printDemoReviews prints the demo forum's reviewers and reviewed persons
// next to their truth.
func printDemoReviews(ctx context.Context, w io.Writer, dataDir string, corpus *demoarena.Corpus) error {
	rep, err := demoReviews(ctx, dataDir, corpus)
	if err != nil {
		return err
	}
	truth := corpus.Forum().Truth()
	fmt.Fprintf(w, "\nreview forum %s: %d reviews by %d distinct reviewers (truth: %d reviews by %d reviewers)\n",
		demoarena.Omdomen, rep.Reviews, rep.Reviewers, truth.Reviews, truth.Reviewers)
	fmt.Fprintf(w, "reviewed persons (advert link, advert id or phone): %d, as %d counted persons (truth: %d)\n",
		len(rep.Reviewed), rep.Counted, len(truth.Reviewed))
	fmt.Fprintf(w, "named by name and city only (weak evidence, not counted): %d (truth: %d)\n", len(rep.WeakOnly), len(truth.WeakOnly))
	perPerson := map[string]int{}
	for _, th := range corpus.Forum().Threads {
		perPerson[th.PersonID] += len(th.Posts)
	}
	found := map[string]int{}
	for post, ps := range rep.ByPost {
		if len(ps) == 1 && ps[0] == truth.ByPost[post] {
			found[ps[0]]++
		}
	}
	for post, ps := range rep.WeakByPost {
		if len(rep.ByPost[post]) == 0 && len(ps) == 1 && ps[0] == truth.ByPost[post] {
			found[ps[0]]++
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "person\treviews (truth)\tlinked to the right person\tevidence")
	for _, p := range slices.Concat(truth.Reviewed, truth.WeakOnly) {
		kind := "strong"
		if slices.Contains(truth.WeakOnly, p) {
			kind = "weak: name + city"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", p, perPerson[p], found[p], kind)
	}
	return tw.Flush()
}

// printReviewRuns says how many reviews the review forums' runs stored
// (their ads column is 0).
func printReviewRuns(w io.Writer, runs []*crawler.Run) {
	for _, r := range runs {
		if r != nil && r.Reviews > 0 {
			fmt.Fprintf(w, "%s: %d reviews stored (review forum; 'adcensus export reviews')\n", r.ID, r.Reviews)
		}
	}
}

// reviewFileSink writes a review forum's reviews to a JSON Lines file
// (crawl --out): one pseudonymised ad.Review a line, synced before the
// pages are marked done.
type reviewFileSink struct {
	mu sync.Mutex
	f  *os.File
}

func (s *reviewFileSink) PublishReviews(_ context.Context, rs []*ad.Review) error {
	var b []byte
	for _, r := range rs {
		if err := ad.CheckReview(r); err != nil {
			return err
		}
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b = append(append(b, line...), '\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(b); err != nil {
		return err
	}
	return s.f.Sync()
}

// printThread prints what one thread page of a review forum yielded for
// 'arena check': the thread, its further pages, and each post's fields and
// references (no raw contact: phones are pseudonyms with the operator's
// key, else left out; authors likewise).
func printThread(w io.Writer, cfg *crawler.ArenaConfig, smp crawler.CheckSample, keyed bool) {
	tp := smp.Thread
	fmt.Fprintf(w, "  thread %q, title %q: %d posts (reviews.posts %s)\n", tp.Thread, tp.Title, len(tp.Reviews), cfg.Reviews.Posts)
	if cfg.Reviews.Next != "" {
		fmt.Fprintf(w, "  next (%s): %d pages\n", cfg.Reviews.Next, len(tp.Next))
		for _, u := range tp.Next {
			fmt.Fprintf(w, "    %s\n", u)
		}
		printDropped(w, tp.Dropped)
	}
	for _, k := range slices.Sorted(maps.Keys(tp.Matches)) {
		state := "matched"
		if tp.Matches[k] < 0 {
			state = "(none)"
		} else if tp.Matches[k] > 0 {
			state = fmt.Sprintf("matched (alternative %d)", tp.Matches[k]+1)
		}
		fmt.Fprintf(w, "  %s: %s\n", k, state)
	}
	for i, r := range tp.Reviews {
		if i == 5 {
			fmt.Fprintf(w, "  … %d more posts\n", len(tp.Reviews)-5)
			break
		}
		author := "(none)"
		switch {
		case r.Author != "":
			author = r.Author
		case !keyed && tp.Matches["fields.author"] >= 0:
			author = "(found; pseudonym shown with --data)"
		}
		posted := "(none)"
		if !r.PostedAt.IsZero() {
			posted = r.PostedAt.Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(w, "  post %s  id %s\n    author: %s\n    posted_at: %s\n    text: %s\n", r.ID, r.Post, author, posted, clip(r.Text, 120))
		ref := r.Refs
		fmt.Fprintf(w, "    refs: advert_urls %v, advert_ids %v, contacts %d, name %q, city %q, region %q\n",
			ref.AdvertURLs, ref.AdvertIDs, len(ref.Contacts), ref.Name, ref.City, ref.Region)
	}
}

// openedReviews is the node's review store when it is open, else nil.
func (r *nodeReviews) openedReviews() *reviews.Store {
	r.reviewsMu.Lock()
	defer r.reviewsMu.Unlock()
	return r.reviews
}

// purgeReviewText drops the text of reviews fetched before cutoff (none
// when cutoff is zero): with rv, the node's open store; otherwise
// DATA/reviews.db when it exists. A dry run counts them.
func purgeReviewText(ctx context.Context, dataDir string, rv *reviews.Store, cutoff time.Time, dryRun bool) (int, error) {
	if cutoff.IsZero() {
		return 0, nil
	}
	if rv == nil {
		path := filepath.Join(dataDir, reviews.File)
		if _, err := os.Stat(path); err != nil {
			return 0, nil
		}
		st, err := reviews.Open(path, dryRun)
		if err != nil {
			return 0, err
		}
		defer st.Close()
		rv = st
	}
	if !dryRun {
		return rv.DropText(ctx, cutoff)
	}
	n := 0
	_, err := rv.ForEach(ctx, func(r *ad.Review) error {
		if r.Text != "" && r.FetchedAt.Before(cutoff) {
			n++
		}
		return nil
	})
	return n, err
}

// advertArenas are the advert arenas (kind: ads) among arenas: a review
// forum's links to their adverts are resolved by their rules.
func advertArenas(arenas []*crawler.ArenaConfig) []*crawler.ArenaConfig {
	var out []*crawler.ArenaConfig
	for _, a := range arenas {
		if a.Kind == crawler.KindAds {
			out = append(out, a)
		}
	}
	return out
}
