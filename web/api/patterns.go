package api

import (
	"errors"
	"fmt"
	"net/http"

	"adcensus/index/patterns"
)

// PatternInfo is one pattern in GET /api/patterns.
type PatternInfo struct {
	Name        string   `json:"name"`
	Version     int      `json:"version"`
	Level       string   `json:"level"`
	Description string   `json:"description"`
	Conditions  []string `json:"conditions"`
}

func (s *server) loadPatterns() ([]*patterns.Pattern, error) {
	if s.opt.Patterns == nil {
		return nil, fmt.Errorf("patterns: %w: this server was not given the patterns", errNotImplemented)
	}
	return s.opt.Patterns()
}

func (s *server) listPatterns(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.loadPatterns()
	if err != nil {
		return err
	}
	out := []PatternInfo{}
	for _, p := range ps {
		out = append(out, PatternInfo{Name: p.Name, Version: p.Version, Level: p.Level, Description: p.Description, Conditions: nonNil(p.Conditions())})
	}
	setRows(r, len(out))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// runPattern runs one pattern over the index: the persons or networks it
// matches, with the evidence (an indicator for review, never proof).
func (s *server) runPattern(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	setWhat(r, "pattern", name)
	ps, err := s.loadPatterns()
	if err != nil {
		return err
	}
	p, err := patterns.Find(ps, name)
	if err != nil {
		return fmt.Errorf("%w: %v", errNotFound, err)
	}
	st, err := s.periodStore(r)
	if err != nil {
		return err
	}
	rep, err := patterns.Run(r.Context(), st, p)
	if err != nil {
		var perr *patterns.Error
		if errors.As(err, &perr) {
			return badRequest("%v", err)
		}
		return err
	}
	setRows(r, len(rep.Matches))
	writeJSON(w, http.StatusOK, rep)
	return nil
}
