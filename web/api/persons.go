package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"adcensus/index"
	"adcensus/index/reviews"
)

// PersonResponse is the body of /api/persons/{id}. Everything but Adverts
// is over all of the person's adverts (index.Facts).
type PersonResponse struct {
	PersonID string `json:"person_id"`
	// Ads is the number of the person's adverts; Adverts is one page of
	// them (size, from).
	Ads      uint64             `json:"ads"`
	Arenas   []index.FacetCount `json:"arenas"`
	Networks []index.FacetCount `json:"networks"`
	// Cities counts adverts per city: touring shows as many cities.
	Cities []index.FacetCount `json:"cities"`
	// FirstSeen and LastSeen are the earliest and latest advert time
	// (posted_at, else fetched_at); absent when no advert is dated.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// MonthsActive is the number of months with an advert; Months counts
	// adverts per month, in month order.
	MonthsActive int                `json:"months_active"`
	Months       []index.FacetCount `json:"months"`
	// Contacts counts adverts per contact pseudonym (keyed HMAC, never a
	// raw number).
	Contacts []index.FacetCount `json:"contacts"`
	Adverts  []index.Hit        `json:"adverts"`
	// ReviewFlags are the review patterns buyers' reviews linked to the
	// person show (index/reviews: signs of youth, a third party, many
	// reviewers in a short time), each with its reviews as evidence; absent
	// without review forums. Indicators for review, never findings.
	ReviewFlags []reviews.Flag `json:"review_flags,omitempty"`
}

func newPersonResponse(id string, f *index.Facts, adverts []index.Hit) PersonResponse {
	return PersonResponse{
		PersonID: id, Ads: uint64(f.Ads), Arenas: nonNil(f.Arenas), Networks: nonNil(f.Networks), Cities: nonNil(f.Cities),
		FirstSeen: f.FirstSeen, LastSeen: f.LastSeen, MonthsActive: f.MonthsActive, Months: nonNil(f.Months),
		Contacts: nonNil(f.Contacts), Adverts: nonNil(adverts),
	}
}

func (s *server) person(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setWhat(r, "person", id)
	if !validID.MatchString(id) {
		return badRequest("person id %q is malformed", shortValue(id))
	}
	size, from, err := s.page(r)
	if err != nil {
		return err
	}
	if adID, ok := strings.CutPrefix(id, "ad:"); ok {
		return s.unassigned(w, r, id, adID, from)
	}
	f, err := s.store.Facts(r.Context(), index.FieldPersonID, id)
	if err != nil {
		return err
	}
	if f.Ads == 0 {
		return fmt.Errorf("person %q: %w", id, errNotFound)
	}
	res, err := s.store.Search(r.Context(), index.Query{Text: index.FieldPersonID + ":" + quote(id), Size: size, From: from})
	if err != nil {
		return err
	}
	setRows(r, len(res.Hits))
	resp := newPersonResponse(id, f, res.Hits)
	if s.opt.ReviewFlags != nil {
		if resp.ReviewFlags, err = s.opt.ReviewFlags(r.Context(), id); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// unassigned answers for "ad:<id>", the person of an advert not yet
// assigned (index.Doc.Person).
func (s *server) unassigned(w http.ResponseWriter, r *http.Request, id, adID string, from int) error {
	d, ok, err := s.store.Doc(r.Context(), adID)
	if err != nil {
		return err
	}
	if !ok || d.PersonID != "" {
		return fmt.Errorf("person %q: %w", id, errNotFound)
	}
	b := index.NewFactsBuilder()
	b.Add(d)
	var adverts []index.Hit
	if from == 0 {
		adverts = []index.Hit{{ID: d.ID, Arena: d.Arena, Title: d.Title, City: d.City, NetworkID: d.NetworkID, PostedAt: d.PostedAt}}
	}
	setRows(r, len(adverts))
	writeJSON(w, http.StatusOK, newPersonResponse(id, b.Facts(), adverts))
	return nil
}
