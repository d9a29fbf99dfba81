package bleve

import (
	"context"
	"fmt"
	"slices"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"adcensus/index"
)

// sortOrder is best score first, ties by advert id, so pages are stable.
var sortOrder = []string{"-_score", "_id"}

// Search runs q. Text is parsed with the bleve query-string syntax; terms on
// text fields (or on no field) are analysed with both the Swedish and the
// English analyzer, so each advert is matched in the language it was indexed
// in. Facet counts are over all matching adverts, also with GroupByPerson.
func (x *Index) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	bq, err := parseQuery(q.Text)
	if err != nil {
		return nil, err
	}
	if q.From < 0 {
		return nil, fmt.Errorf("%w: from %d is negative", index.ErrBadQuery, q.From)
	}
	size := q.Size
	if size <= 0 {
		size = index.DefaultSize
	}
	size = min(size, index.MaxSize)
	facetSize := q.FacetSize
	if facetSize <= 0 {
		facetSize = index.DefaultFacetSize
	}
	var req *blevelib.SearchRequest
	if q.GroupByPerson {
		req = blevelib.NewSearchRequestOptions(bq, index.MaxGroupScan, 0, false)
		req.Fields = []string{index.FieldPersonID}
	} else {
		req = blevelib.NewSearchRequestOptions(bq, size, q.From, false)
	}
	req.SortBy(sortOrder)
	for _, f := range q.Facets {
		if !slices.Contains(index.FacetFields(), f) {
			return nil, fmt.Errorf("%w: cannot facet on %q: facet fields are %v", index.ErrBadQuery, f, index.FacetFields())
		}
		req.AddFacet(f, blevelib.NewFacetRequest(f, facetSize))
	}
	res, err := x.bi.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := &index.Result{Total: res.Total, Facets: facets(res.Facets)}
	var hits []index.Hit
	if q.GroupByPerson {
		if res.Total > index.MaxGroupScan {
			return nil, fmt.Errorf("%w: %d adverts match, at most %d can be grouped", index.ErrTooBroad, res.Total, index.MaxGroupScan)
		}
		groups := groupByPerson(res.Hits)
		out.Total = uint64(len(groups))
		if q.From < len(groups) {
			hits = groups[q.From:min(q.From+size, len(groups))]
		}
	} else {
		for _, h := range res.Hits {
			hits = append(hits, index.Hit{ID: h.ID, Score: h.Score})
		}
	}
	if err := x.fillHits(hits); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out.Hits = hits
	return out, nil
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

// parseQuery parses query-string text into a query whose text-field terms
// are analysed in both languages. Empty text matches everything.
func parseQuery(text string) (query.Query, error) {
	if text == "" {
		return blevelib.NewMatchAllQuery(), nil
	}
	q, err := query.NewQueryStringQuery(text).Parse()
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", index.ErrBadQuery, text, err)
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
// same query analysed with the Swedish and with the English analyzer, and a
// quoted value on a keyword field into an exact term query.
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
		s.Analyzer, e.Analyzer = sv.AnalyzerName, en.AnalyzerName
		return query.NewDisjunctionQuery([]query.Query{&s, &e})
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
		s.Analyzer, e.Analyzer = sv.AnalyzerName, en.AnalyzerName
		return query.NewDisjunctionQuery([]query.Query{&s, &e})
	}
	return q
}

func isTextField(f string) bool {
	return f == "" || f == "_all" || slices.Contains(index.TextFields(), f)
}
