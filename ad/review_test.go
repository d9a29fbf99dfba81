package ad_test

import (
	"errors"
	"strings"
	"testing"

	"adcensus/ad"
)

func TestReviewID(t *testing.T) {
	a := ad.ReviewID("forum", "12", "i12-3")
	if a != ad.ReviewID("forum", "12", "i12-3") || !strings.HasPrefix(a, "forum-r") || len(a) != len("forum-r")+16 {
		t.Fatalf("ReviewID = %q", a)
	}
	for _, other := range []string{ad.ReviewID("forum", "12", "i12-4"), ad.ReviewID("forum", "13", "i12-3"), ad.ReviewID("other", "12", "i12-3")} {
		if other == a {
			t.Errorf("%q collides", other)
		}
	}
	if ad.ReviewID("forum", "1", "2") == ad.ContentID("forum", "1") {
		t.Error("a review id equals an advert id")
	}
}

func TestCheckReview(t *testing.T) {
	ok := &ad.Review{ID: "f-r1", Arena: "f", Author: ad.AuthorPrefix + "00"}
	if err := ad.CheckReview(ok); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*ad.Review{
		"nil":        nil,
		"no id":      {Arena: "f"},
		"no arena":   {ID: "x"},
		"newer":      {ID: "x", Arena: "f", V: ad.ReviewSchemaVersion + 1},
		"raw phones": {ID: "x", Arena: "f", Phones: []string{"070"}},
		"raw author": {ID: "x", Arena: "f", Author: "Kalle"},
	} {
		if err := ad.CheckReview(r); !errors.Is(err, ad.ErrBadReview) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
