package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Labels is the assignment of one advert: the person advertised and the
// network (third party) behind it. An empty label means "not assigned": the
// advert is then a cluster of its own (a singleton) for that level.
type Labels struct {
	Person  string `json:"person_id"`
	Network string `json:"network_id"`
}

// Errors returned (wrapped, with the line number) by ReadAssignments; test
// with errors.Is.
var (
	ErrNoHeader       = errors.New("no header line")
	ErrMissingColumn  = errors.New("missing column")
	ErrDuplicateCol   = errors.New("duplicate column")
	ErrEmptyAdID      = errors.New("empty ad_id")
	ErrConflictingAds = errors.New("ad_id repeated with different labels")
)

const (
	colAd      = "ad_id"
	colPerson  = "person_id"
	colNetwork = "network_id"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// ReadAssignments reads a CSV file of assignments with the header
// ad_id,person_id,network_id. Columns may come in any order, header names are
// case-insensitive, extra columns are ignored and a UTF-8 BOM is skipped.
// The ad_id and person_id columns are required; network_id may be missing
// (every advert then has an empty Network, and Evaluate skips the network
// metrics when that file is the prediction). Values are trimmed of
// surrounding white space.
//
// An ad_id that repeats with identical labels is accepted (the same advert
// listed twice); one that repeats with different labels is an error. Every
// error names the line it was found on.
func ReadAssignments(r io.Reader) (map[string]Labels, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("line 1: %w", ErrNoHeader)
	}
	if err != nil {
		return nil, err // *csv.ParseError names the line
	}
	hline, _ := cr.FieldPos(0)
	cols := map[string]int{colAd: -1, colPerson: -1, colNetwork: -1}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		j, known := cols[name]
		if !known {
			continue
		}
		if j >= 0 {
			return nil, fmt.Errorf("line %d: %w %q (columns %d and %d)", hline, ErrDuplicateCol, name, j+1, i+1)
		}
		cols[name] = i
	}
	for _, name := range []string{colAd, colPerson} {
		if cols[name] < 0 {
			return nil, fmt.Errorf("line %d: %w %s", hline, ErrMissingColumn, name)
		}
	}
	ad, person, network := cols[colAd], cols[colPerson], cols[colNetwork]

	out := make(map[string]Labels)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // *csv.ParseError, e.g. "record on line 7: wrong number of fields"
		}
		line, _ := cr.FieldPos(0)
		id := strings.TrimSpace(rec[ad])
		if id == "" {
			return nil, fmt.Errorf("line %d: %w", line, ErrEmptyAdID)
		}
		l := Labels{Person: strings.TrimSpace(rec[person])}
		if network >= 0 {
			l.Network = strings.TrimSpace(rec[network])
		}
		if prev, dup := out[id]; dup {
			if prev != l {
				return nil, fmt.Errorf("line %d: %w: ad_id %q has person %q network %q here, person %q network %q earlier",
					line, ErrConflictingAds, id, l.Person, l.Network, prev.Person, prev.Network)
			}
			continue
		}
		out[id] = l
	}
	return out, nil
}
