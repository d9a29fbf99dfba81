package bleve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"adcensus/index"
)

// sortOrder is best score first, ties by advert id, so pages are stable.
// The id is read from the "id" keyword field's docvalues rather than "_id",
// which would load a stored field for every matching advert.
var sortOrder = []string{"-_score", index.FieldID}

// allFacetTerms is the facet size asked of each shard when several are
// searched: every term, so that the merged counts are exact.
const allFacetTerms = 1 << 24

// Search runs q. Text is parsed with the bleve query-string syntax; terms on
// text fields (or on no field) are analysed with both the Swedish and the
// English analyzer, so each advert is matched in the language it was indexed
// in. Facet counts are over all matching adverts, also with GroupByPerson.
//
// The shards the query can match (see plan) are searched in parallel and
// their hits merged by score, then advert id; facet counts are summed.
// Scores are computed per shard (term statistics of that month), so a hit's
// score can differ from what one index of every advert would give.
func (x *Index) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	bq, err := checkQuery(q)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parts := plan(bq, x.shards.list())
	if q.Only != nil {
		for i := range parts {
			b := query.NewBooleanQuery([]query.Query{parts[i].q}, nil, nil)
			b.AddFilter(query.NewDocIDQuery(q.Only))
			parts[i].q = b
		}
	}
	r := newSearchRun(q, len(parts) == 1)
	results, err := r.searchParts(ctx, parts)
	if err != nil {
		return nil, err
	}
	out, all := r.merge(results)
	hits, err := r.page(out, all)
	if err != nil {
		return nil, err
	}
	if err := x.fillHits(hits); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out.Hits = hits
	return out, nil
}

// checkQuery parses q's text and checks its paging and facets.
func checkQuery(q index.Query) (query.Query, error) {
	bq, err := parseQuery(q.Text)
	if err != nil {
		return nil, err
	}
	if err := q.CheckWindow(); err != nil {
		return nil, err
	}
	for _, f := range q.Facets {
		if !slices.Contains(index.FacetFields(), f) {
			return nil, fmt.Errorf("%w: cannot facet on %q: facet fields are %v", index.ErrBadQuery, f, index.FacetFields())
		}
	}
	return bq, nil
}

// searchRun is one Search: the query with its page and facet sizes
// resolved, and whether a single shard is searched (then that shard pages
// and cuts facets itself; otherwise each shard returns enough to merge).
type searchRun struct {
	q               index.Query
	size, facetSize int
	one             bool
}

func newSearchRun(q index.Query, one bool) *searchRun {
	size := q.Size
	if size <= 0 {
		size = index.DefaultSize
	}
	size = min(size, index.MaxSize)
	facetSize := q.FacetSize
	if facetSize <= 0 {
		facetSize = index.DefaultFacetSize
	}
	return &searchRun{q: q, size: size, facetSize: facetSize, one: one}
}

// request returns the bleve request of sq on one shard.
func (r *searchRun) request(sq query.Query) *blevelib.SearchRequest {
	q := r.q
	var req *blevelib.SearchRequest
	switch {
	case q.GroupByPerson:
		req = blevelib.NewSearchRequestOptions(sq, index.MaxGroupScan+1, 0, false)
		req.Fields = []string{index.FieldPersonID}
	case r.one:
		req = blevelib.NewSearchRequestOptions(sq, r.size, q.From, false)
	default:
		req = blevelib.NewSearchRequestOptions(sq, q.From+r.size, 0, false)
	}
	req.SortBy(sortOrder)
	fs := r.facetSize
	if !r.one {
		fs = allFacetTerms
	}
	for _, f := range q.Facets {
		req.AddFacet(f, blevelib.NewFacetRequest(f, fs))
	}
	return req
}

// searchParts searches the shards of parts, in parallel when there are
// several.
func (r *searchRun) searchParts(ctx context.Context, parts []part) ([]*blevelib.SearchResult, error) {
	results := make([]*blevelib.SearchResult, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, p := range parts {
		run := func() { results[i], errs[i] = p.bi.SearchInContext(ctx, r.request(p.q)) }
		if len(parts) == 1 {
			run()
			break
		}
		wg.Go(run)
	}
	wg.Wait()
	if err := errors.Join(distinctErrors(errs)...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return results, nil
}

// distinctErrors drops nil errors and those whose message an earlier one
// has: every shard fails the same way on a bad query, and the message is
// shown once.
func distinctErrors(errs []error) []error {
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err != nil && !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return out
}

// merge sums the shards' totals and facet counts into a Result and returns
// their hits, sorted by score then advert id.
func (r *searchRun) merge(results []*blevelib.SearchResult) (*index.Result, search.DocumentMatchCollection) {
	out := &index.Result{}
	var all search.DocumentMatchCollection
	fr := search.FacetResults{}
	for _, res := range results {
		out.Total += res.Total
		all = append(all, res.Hits...)
		fr.Merge(res.Facets)
	}
	for name := range fr {
		fr.Fixup(name, r.facetSize)
	}
	if len(r.q.Facets) > 0 {
		out.Facets = facets(fr)
		if out.Facets == nil {
			out.Facets = map[string][]index.FacetCount{}
		}
		for _, f := range r.q.Facets { // a facet with no shard to search
			if _, ok := out.Facets[f]; !ok {
				out.Facets[f] = []index.FacetCount{}
			}
		}
	}
	if !r.one {
		slices.SortFunc(all, func(a, b *search.DocumentMatch) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
		})
	}
	return out, all
}

// page returns the hits of the requested page: adverts, or with
// GroupByPerson persons (then out.Total becomes the number of persons).
func (r *searchRun) page(out *index.Result, all search.DocumentMatchCollection) ([]index.Hit, error) {
	q := r.q
	var hits []index.Hit
	if q.GroupByPerson {
		if out.Total > index.MaxGroupScan {
			return nil, fmt.Errorf("%w: %d adverts match, at most %d can be grouped", index.ErrTooBroad, out.Total, index.MaxGroupScan)
		}
		groups := groupByPerson(all)
		out.Total = uint64(len(groups))
		if q.From < len(groups) {
			hits = groups[q.From:min(q.From+r.size, len(groups))]
		}
	} else {
		if !r.one {
			all = all[min(q.From, len(all)):min(q.From+r.size, len(all))]
		}
		for _, h := range all {
			hits = append(hits, index.Hit{ID: h.ID, Score: h.Score})
		}
	}
	return hits, nil
}

// part is the query to run on one shard.
type part struct {
	key string
	bi  blevelib.Index
	q   query.Query
}

// plan returns the shards q can match, each with the query to run on it.
// A required posted_at range (a DateRangeQuery among the Must clauses of
// the query-string's boolean query) skips posted shards outside the range
// and every shard of adverts without posted_at; it is dropped on a shard
// whose whole month lies inside it (every advert there satisfies it, and
// a range over many numeric terms is the costliest part of such a query),
// and made an unscored filter on the shards it cuts. Either way it adds
// nothing to the score, so scores agree between shards; a query of only
// ranges matches everything in the covered shards.
func plan(q query.Query, all []shard) []part {
	bq, ok := q.(*query.BooleanQuery)
	var conj *query.ConjunctionQuery
	if ok {
		conj, _ = bq.Must.(*query.ConjunctionQuery)
	}
	var ranges []int // positions in conj.Conjuncts
	if conj != nil {
		for i, c := range conj.Conjuncts {
			if r, ok := c.(*query.DateRangeQuery); ok && r.FieldVal == index.FieldPostedAt {
				ranges = append(ranges, i)
			}
		}
	}
	if len(ranges) == 0 {
		out := make([]part, len(all))
		for i, s := range all {
			out[i] = part{key: s.key, bi: s.bi, q: q}
		}
		return out
	}
	var out []part
	for _, s := range all {
		start, end, posted := postedSpan(s.key)
		if !posted {
			continue // no posted_at: a required range cannot match
		}
		var kept []query.Query
		disjoint := false
		for _, i := range ranges {
			r := conj.Conjuncts[i].(*query.DateRangeQuery)
			switch relate(r, start, end) {
			case outside:
				disjoint = true
			case overlaps:
				kept = append(kept, r)
			}
		}
		if disjoint {
			continue
		}
		nc := *conj
		nc.Conjuncts = nil
		for i, c := range conj.Conjuncts {
			if !slices.Contains(ranges, i) {
				nc.Conjuncts = append(nc.Conjuncts, c)
			}
		}
		if len(nc.Conjuncts) == 0 {
			nc.Conjuncts = []query.Query{query.NewMatchAllQuery()}
		}
		nb := *bq
		nb.Must = &nc
		switch {
		case len(kept) == 1 && bq.Filter == nil:
			nb.Filter = kept[0]
		case len(kept) > 0:
			f := query.NewConjunctionQuery(kept)
			if bq.Filter != nil {
				f.AddQuery(bq.Filter)
			}
			nb.Filter = f
		}
		out = append(out, part{key: s.key, bi: s.bi, q: &nb})
	}
	return out
}

// How a date range relates to a shard's [start, end).
const (
	overlaps = iota
	outside  // no time of the shard is in the range
	covers   // every time of the shard is in the range
)

func relate(r *query.DateRangeQuery, start, end time.Time) int {
	incl := func(p *bool, def bool) bool {
		if p == nil {
			return def
		}
		return *p
	}
	lo, hi := r.Start.Time, r.End.Time
	loIncl, hiIncl := incl(r.InclusiveStart, true), incl(r.InclusiveEnd, false)
	// Outside: the range ends before start, or starts at or after end.
	if !hi.IsZero() && (hi.Before(start) || (hi.Equal(start) && !hiIncl)) {
		return outside
	}
	if !lo.IsZero() && !lo.Before(end) {
		return outside
	}
	// Covers: the range starts at or before start and ends at or after end
	// (the shard's times are all before end).
	loOK := lo.IsZero() || lo.Before(start) || (lo.Equal(start) && loIncl)
	hiOK := hi.IsZero() || !hi.Before(end)
	if loOK && hiOK {
		return covers
	}
	return overlaps
}

// groupByPerson folds hits, best first, into one hit per person in the order
// of each person's best advert. An advert without a person is its own group.
func groupByPerson(hits search.DocumentMatchCollection) []index.Hit {
	var groups []index.Hit
	at := map[string]int{}
	for _, h := range hits {
		key := "ad:" + h.ID
		if p, ok := h.Fields[index.FieldPersonID].(string); ok && p != "" {
			key = p
		}
		i, ok := at[key]
		if !ok {
			i = len(groups)
			at[key] = i
			groups = append(groups, index.Hit{ID: h.ID, Score: h.Score})
		}
		groups[i].AdIDs = append(groups[i].AdIDs, h.ID)
	}
	return groups
}

// fillHits completes hits (ID and Score set) from the stored documents.
func (x *Index) fillHits(hits []index.Hit) error {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	docs, err := x.docs(ids)
	if err != nil {
		return err
	}
	for i := range hits {
		h := &hits[i]
		if d := docs[h.ID]; d != nil {
			h.Arena, h.Title, h.City = d.Arena, d.Title, d.City
			h.PersonID, h.NetworkID, h.PostedAt = d.PersonID, d.NetworkID, d.PostedAt
		}
	}
	return nil
}

func facets(fr search.FacetResults) map[string][]index.FacetCount {
	if len(fr) == 0 {
		return nil
	}
	out := make(map[string][]index.FacetCount, len(fr))
	for name, r := range fr {
		terms := []index.FacetCount{}
		for _, t := range r.Terms.Terms() {
			terms = append(terms, index.FacetCount{Term: t.Term, Count: t.Count})
		}
		out[name] = terms
	}
	return out
}

// parseQuery parses query text (query-string runs, optionally combined
// with AND, OR, NOT and parentheses: querylang.go) into a query whose
// text-field terms are analysed in both languages, within the limits of
// index (MaxQueryText, MaxQueryTerms, MaxExpensiveTerms, MaxFuzziness).
// Empty text matches everything.
func parseQuery(text string) (query.Query, error) {
	q, err := parseText(text)
	if err != nil {
		return nil, err
	}
	if err := checkComplexity(text, q); err != nil {
		return nil, err
	}
	q = bilingual(q)
	if v, ok := q.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %q: %v", index.ErrBadQuery, text, err)
		}
	}
	return q, nil
}

// bilingual rewrites match and phrase queries on text fields (or on no field,
// which searches _all, made only of text fields) into a disjunction of the
// same query analysed with the Swedish and with the English analyzer (both
// fold diacritics), and a quoted value on a keyword field into an exact term
// query. A one-word match that is another name of a municipality
// ("Gothenburg") also matches the municipality's name; prefix, wildcard and
// fuzzy terms on text fields are lower-cased and folded as indexed terms are.
func bilingual(q query.Query) query.Query {
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q.Must != nil {
			q.Must = bilingual(q.Must)
		}
		if q.Should != nil {
			q.Should = bilingual(q.Should)
		}
		if q.MustNot != nil {
			q.MustNot = bilingual(q.MustNot)
		}
		if q.Filter != nil {
			q.Filter = bilingual(q.Filter)
		}
		return q
	case *query.ConjunctionQuery:
		for i, c := range q.Conjuncts {
			q.Conjuncts[i] = bilingual(c)
		}
		return q
	case *query.DisjunctionQuery:
		for i, c := range q.Disjuncts {
			q.Disjuncts[i] = bilingual(c)
		}
		return q
	case *query.MatchQuery:
		if q.Analyzer != "" || !isTextField(q.FieldVal) {
			return q
		}
		s, e := *q, *q
		s.Analyzer, e.Analyzer = svFolded, enFolded
		out := []query.Query{&s, &e}
		if kommun, ok := placeAlias(q.Match); ok {
			// "Gothenburg" also finds the adverts that write Göteborg, as
			// the counts already fold it (internal/places).
			ps, pe := *q, *q
			ps.Match, pe.Match = kommun, kommun
			ps.Analyzer, pe.Analyzer = svFolded, enFolded
			out = append(out, &ps, &pe)
		}
		return query.NewDisjunctionQuery(out)
	case *query.PrefixQuery:
		if isTextField(q.FieldVal) {
			q.Prefix = foldTerm(q.Prefix)
		}
		return q
	case *query.WildcardQuery:
		if isTextField(q.FieldVal) {
			q.Wildcard = foldTerm(q.Wildcard)
		}
		return q
	case *query.FuzzyQuery:
		if isTextField(q.FieldVal) {
			q.Term = foldTerm(q.Term)
		}
		return q
	case *query.MatchPhraseQuery:
		if q.Analyzer == "" && slices.Contains(index.FacetFields(), q.FieldVal) {
			// A quoted keyword value ("Västra Götalands län") is one exact
			// term; keyword fields keep no term vectors for phrase matching.
			t := query.NewTermQuery(q.MatchPhrase)
			t.SetField(q.FieldVal)
			if q.BoostVal != nil {
				t.SetBoost(q.BoostVal.Value())
			}
			return t
		}
		if q.Analyzer != "" || !isTextField(q.FieldVal) {
			return q
		}
		s, e := *q, *q
		s.Analyzer, e.Analyzer = svFolded, enFolded
		return query.NewDisjunctionQuery([]query.Query{&s, &e})
	}
	return q
}

func isTextField(f string) bool {
	return f == "" || f == "_all" || slices.Contains(index.TextFields(), f)
}
