package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"adcensus/index/census"
)

// ChangesFunc reports what changed since a crawl run (run not empty: the
// changes of the runs ended after it; ok=false when there is no such run)
// or since a time (census.ReportChanges), with person counts under minCell
// suppressed; Options.Changes.
type ChangesFunc func(ctx context.Context, run string, since time.Time, minCell int) (ch *census.Changes, ok bool, err error)

// ErrNoCensus is what a ChangesFunc returns when there is no census of
// crawl sightings yet: answered 501.
var ErrNoCensus = fmt.Errorf("no census of crawl sightings (census.db is written by 'adcensus run' as it crawls): %w", errNotImplemented)

// changesReport is the answer of /api/changes: census.Changes with every
// count from 1 to min_cell-1 withheld (null, named in the row's
// suppressed), as the other exports do (docs/EXPORTS.md).
type changesReport struct {
	Since   time.Time      `json:"since"`
	SinceAs string         `json:"since_as"` // "run" or "date"
	Runs    int            `json:"runs"`
	MinCell int            `json:"min_cell"`
	Arenas  []arenaChanges `json:"arenas"`
	Persons struct {
		New        *int     `json:"new"`
		Gone       *int     `json:"gone"`
		Suppressed []string `json:"suppressed,omitempty"`
	} `json:"persons"`
	Flags []census.Flag `json:"flags"`
}

type arenaChanges struct {
	Arena   string `json:"arena"`
	New     *int   `json:"new"`
	Changed *int   `json:"changed"`
	Gone    *int   `json:"gone"`
	Back    *int   `json:"back"`
	// Before is null for a new arena (trend "new arena") or when
	// suppressed.
	Before     *int     `json:"before"`
	Now        *int     `json:"now"`
	Trend      string   `json:"trend"`
	Suppressed []string `json:"suppressed,omitempty"`
}

// changes answers GET /api/changes?since=RUN|DATE (or from=DATE):
// adverts new, changed, gone and back per arena, arenas grown or shrunk,
// persons new and gone, and the runs to look at.
func (s *server) changes(w http.ResponseWriter, r *http.Request) error {
	if s.opt.Changes == nil {
		return fmt.Errorf("changes: %w: this server has no census of crawl sightings", errNotImplemented)
	}
	v := r.URL.Query()
	since, from := v.Get("since"), v.Get("from")
	switch {
	case since != "" && from != "":
		return badRequest("give since or from, not both")
	case since == "" && from == "":
		return badRequest("since is required: a crawl run id, a date (2026-12-01), an ISO week (2026-W49) or a month (2026-11)")
	case v.Get("to") != "":
		return badRequest("to: changes run from a time to now (the latest runs); ask for counts of a closed period with /api/export/counts")
	}
	if b := v.Get("basis"); b != "" && b != census.BasisSeen {
		return badRequest("basis=%q: changes are by crawl sightings only (seen)", shortValue(b))
	}
	minCell, err := s.minCell(r)
	if err != nil {
		return err
	}
	rep := changesReport{MinCell: minCell, SinceAs: "date"}
	var ch *census.Changes
	if from != "" {
		start, _, err := census.ParseSpan(from)
		if err != nil {
			return badRequest("from=%q: %v", shortValue(from), err)
		}
		ch, _, err = s.opt.Changes(r.Context(), "", start, minCell)
		if err != nil {
			return err
		}
		setWhat(r, "since", from)
	} else {
		// A run id first (as 'adcensus changes --since'), then a date.
		var ok bool
		ch, ok, err = s.opt.Changes(r.Context(), since, time.Time{}, minCell)
		if err != nil {
			return err
		}
		rep.SinceAs = "run"
		if !ok {
			start, _, perr := census.ParseSpan(since)
			if perr != nil {
				return badRequest("since=%q is neither an ended crawl run nor a date: %v", shortValue(since), perr)
			}
			if ch, _, err = s.opt.Changes(r.Context(), "", start, minCell); err != nil {
				return err
			}
			rep.SinceAs = "date"
		}
		setWhat(r, "since", since)
	}
	setWhat(r, "min_cell", strconv.Itoa(minCell))
	rep.Since, rep.Runs = ch.Since, ch.Runs
	rep.Flags = nonNil(ch.Flags)
	rep.Arenas = make([]arenaChanges, 0, len(ch.Arenas))
	for _, a := range ch.Arenas {
		out := arenaChanges{Arena: a.Arena, Trend: a.Trend}
		cell := func(name string, n int) *int {
			if n > 0 && n < minCell {
				out.Suppressed = append(out.Suppressed, name)
				return nil
			}
			return &n
		}
		out.New, out.Changed, out.Gone, out.Back = cell("new", a.New), cell("changed", a.Changed), cell("gone", a.Gone), cell("back", a.Back)
		if a.Before >= 0 {
			out.Before = cell("before", a.Before)
		}
		out.Now = cell("now", a.Now)
		rep.Arenas = append(rep.Arenas, out)
	}
	// census.ReportChanges gives -1 for a suppressed person count.
	person := func(name string, n int) *int {
		if n < 0 || n > 0 && n < minCell {
			rep.Persons.Suppressed = append(rep.Persons.Suppressed, name)
			return nil
		}
		return &n
	}
	rep.Persons.New, rep.Persons.Gone = person("new", ch.PersonsNew), person("gone", ch.PersonsGone)
	setRows(r, len(rep.Arenas))
	writeJSON(w, http.StatusOK, rep)
	return nil
}
