package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"adcensus/index"
)

// AdvertResponse is the body of /api/adverts/{id}: the indexed document of
// one advert. Contacts are pseudonyms (keyed HMAC), never raw.
type AdvertResponse struct {
	ID               string    `json:"id"`
	Arena            string    `json:"arena"`
	URL              string    `json:"url,omitempty"`
	Title            string    `json:"title,omitempty"`
	Body             string    `json:"body,omitempty"`
	Age              int       `json:"age,omitempty"`
	City             string    `json:"city,omitempty"`
	Region           string    `json:"region,omitempty"`
	Gender           string    `json:"gender,omitempty"`
	Lang             string    `json:"lang,omitempty"`
	Contacts         []string  `json:"contacts"`
	ContactCountries []string  `json:"contact_countries"`
	PossibleMinor    bool      `json:"possible_minor"`
	PostedAt         time.Time `json:"posted_at,omitzero"`
	FetchedAt        time.Time `json:"fetched_at,omitzero"`
	Week             string    `json:"week,omitempty"`
	PersonID         string    `json:"person_id,omitempty"`
	NetworkID        string    `json:"network_id,omitempty"`
}

func (s *server) advert(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setWhat(r, "ad", id)
	if !validID.MatchString(id) {
		return badRequest("advert id %q is malformed", shortValue(id))
	}
	d, ok, err := s.store.Doc(r.Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("advert %q: %w", id, errNotFound)
	}
	setRows(r, 1)
	writeJSON(w, http.StatusOK, AdvertResponse{
		ID: d.ID, Arena: d.Arena, URL: d.URL, Title: d.Title, Body: d.Body, Age: d.Age, City: d.City, Region: d.Region,
		Gender: d.Gender, Lang: d.Lang, Contacts: nonNil(d.Contacts), ContactCountries: nonNil(d.ContactCountries),
		PossibleMinor: d.PossibleMinor, PostedAt: d.PostedAt, FetchedAt: d.FetchedAt, Week: d.Week,
		PersonID: d.PersonID, NetworkID: d.NetworkID,
	})
	return nil
}

// ExplainFunc returns why an advert belongs to its person and network (the
// cluster state's explanation, as 'adcensus explain' prints it), false
// when the advert is not in the cluster state.
type ExplainFunc func(ctx context.Context, adID string) (v any, ok bool, err error)

func (s *server) explain(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	setWhat(r, "ad", id)
	if !validID.MatchString(id) {
		return badRequest("advert id %q is malformed", shortValue(id))
	}
	if s.opt.Explain == nil {
		return fmt.Errorf("explain: %w: this server has no cluster state", errNotImplemented)
	}
	v, ok, err := s.opt.Explain(r.Context(), id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("advert %q is not in the cluster state: %w", id, errNotFound)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// schedules answers the crawl schedules (Options.Schedules).
func (s *server) schedules(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Schedules == nil {
		return fmt.Errorf("schedules: %w: this server was not given the crawl state", errNotImplemented)
	}
	v, n, err := s.opt.Schedules(r.Context())
	if err != nil {
		return err
	}
	setRows(r, n)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// exportFormat reads the format parameter: json (the default), or a CSV
// dialect (csv, csv-excel).
func exportFormat(r *http.Request) (format string, d index.CSVDialect, err error) {
	format = r.URL.Query().Get("format")
	if format == "" || format == "json" {
		return "json", d, nil
	}
	d, ok := index.CSVDialectOf(format)
	if !ok {
		return "", d, badRequest("format=%q: want json, %s or %s", format, index.FormatCSV, index.FormatCSVExcel)
	}
	return format, d, nil
}

// writeCSV answers a CSV download named name.
func writeCSV(w http.ResponseWriter, name string, body []byte) {
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	writeBody(w, http.StatusOK, "text/csv; charset=utf-8", body)
}

// csvName is the file name of a CSV export in a dialect.
func csvName(base, format string) string {
	if format == index.FormatCSVExcel {
		return base + "-excel.csv"
	}
	return base + ".csv"
}
