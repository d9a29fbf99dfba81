package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"adcensus/index/reviews"
	"adcensus/web/api"
)

// A person's page carries the review patterns of the reviews linked to
// the person, with the reviews as evidence; a person without any has no
// review_flags at all.
func TestPersonReviewFlags(t *testing.T) {
	x := MustIndex(t)
	srv := MustServer(t, x, docSource(x), api.Options{
		ReviewFlags: func(_ context.Context, person string) ([]reviews.Flag, error) {
			if person != "P2" {
				return nil, nil
			}
			return []reviews.Flag{{PersonID: "P2", Pattern: reviews.PatternManyReviewers, Reviews: []string{"r1", "r2"}, Signs: []string{"5 reviewers within 7 days"}}}, nil
		}})
	r := MustGet(t, srv, "/api/persons/P2")
	wantStatus(t, r, "P2", http.StatusOK)
	got := decode[api.PersonResponse](t, r)
	if len(got.ReviewFlags) != 1 || got.ReviewFlags[0].Pattern != reviews.PatternManyReviewers || len(got.ReviewFlags[0].Reviews) != 2 {
		t.Errorf("review flags of P2: %+v", got.ReviewFlags)
	}
	r = MustGet(t, srv, "/api/persons/P1")
	wantStatus(t, r, "P1", http.StatusOK)
	if strings.Contains(string(r.body), "review_flags") {
		t.Errorf("P1 has no review flag, but the answer names them: %s", r.body)
	}
}
