package mse

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// MaxLists is the largest number of lists a Table may have. The fit works on
// all 2^k cells, so memory and time grow as 2^k; stepwise selection over the
// k(k-1)/2 candidate interactions is practical up to about 12 lists.
const MaxLists = 20

// Table is a capture-history table: for every pattern of presence on the
// lists, the number of persons with exactly that pattern. Pattern bit i (1<<i)
// is list i, in the order of Lists. The all-zero pattern (persons on no list)
// is what is estimated and is never part of a Table.
type Table struct {
	// Lists are the list (arena) names, in column order.
	Lists []string
	// CountName is the header of the count column ("count" for NewTable).
	CountName string

	counts []int64 // indexed by pattern; len 1<<len(Lists); counts[0] == 0
}

// ParseError is a malformed-input error from ReadTable, naming the CSV line
// (1-based, the header is line 1) and, where it applies, the column (1-based)
// and its header name.
type ParseError struct {
	Line   int
	Column int    // 0 when the error concerns the whole line or file
	Name   string // header of Column, when known
	Msg    string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line == 0:
		return "mse: " + e.Msg
	case e.Column == 0:
		return fmt.Sprintf("mse: line %d: %s", e.Line, e.Msg)
	case e.Name != "":
		return fmt.Sprintf("mse: line %d, column %d (%s): %s", e.Line, e.Column, e.Name, e.Msg)
	default:
		return fmt.Sprintf("mse: line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
}

// ReadTable reads a capture-history CSV as shipped in shared/data/mse: a
// header of list names followed by the name of the count column, then one row
// per observed pattern: a 0 or 1 for each list and a non-negative integer
// count. Patterns that are not listed have count 0. Fields may be surrounded
// by spaces; blank lines are skipped; a UTF-8 byte-order mark is ignored.
//
// Errors are *ParseError values naming line and column for: a value other
// than 0 or 1, a negative or non-integer count, a wrong number of columns, a
// duplicate pattern, an all-zero pattern (that cell is what is estimated), a
// header with fewer than 2 or more than MaxLists lists, and empty or
// duplicate list names.
func ReadTable(r io.Reader) (*Table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // column counts are checked here, with better messages
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Msg: "empty input: no header line"}
	}
	if err != nil {
		return nil, csvError(err)
	}
	line, _ := cr.FieldPos(0)
	hdr := make([]string, len(header))
	for i, h := range header {
		hdr[i] = strings.TrimSpace(h)
	}
	hdr[0] = strings.TrimPrefix(hdr[0], "\ufeff")
	k := len(hdr) - 1
	if k < 2 {
		msg := fmt.Sprintf("header has %d column(s); need at least 2 list columns and a count column", len(hdr))
		for _, sep := range []struct{ char, name string }{{";", "semicolons"}, {"\t", "tabs"}, {"|", "bars"}} {
			if len(hdr) == 1 && strings.Contains(hdr[0], sep.char) {
				msg += fmt.Sprintf(" (the header is separated by %s: the file must be comma-separated; save it as CSV with commas)", sep.name)
				break
			}
		}
		return nil, &ParseError{Line: line, Msg: msg}
	}
	if k > MaxLists {
		return nil, &ParseError{Line: line, Msg: fmt.Sprintf("header has %d lists; at most %d are supported", k, MaxLists)}
	}
	seen := make(map[string]int, len(hdr))
	for i, h := range hdr {
		if h == "" {
			return nil, &ParseError{Line: line, Column: i + 1, Msg: "empty column name"}
		}
		if j, dup := seen[h]; dup {
			return nil, &ParseError{Line: line, Column: i + 1, Name: h, Msg: fmt.Sprintf("duplicate column name (also column %d)", j+1)}
		}
		seen[h] = i
	}

	t := &Table{
		Lists:     append([]string(nil), hdr[:k]...),
		CountName: hdr[k],
		counts:    make([]int64, 1<<k),
	}
	firstLine := make(map[uint32]int) // pattern -> line where first seen
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != k+1 {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("has %d columns; the header has %d (%d lists and a count)", len(rec), k+1, k)}
		}
		var pat uint32
		for i := 0; i < k; i++ {
			switch strings.TrimSpace(rec[i]) {
			case "0":
			case "1":
				pat |= 1 << i
			default:
				return nil, &ParseError{Line: line, Column: i + 1, Name: hdr[i], Msg: fmt.Sprintf("value %q is not 0 or 1", rec[i])}
			}
		}
		n, perr := parseCount(strings.TrimSpace(rec[k]))
		if perr != "" {
			return nil, &ParseError{Line: line, Column: k + 1, Name: hdr[k], Msg: perr}
		}
		if pat == 0 {
			return nil, &ParseError{Line: line, Msg: "all-zero pattern: persons on no list are what is estimated and cannot be given"}
		}
		if prev, dup := firstLine[pat]; dup {
			return nil, &ParseError{Line: line, Msg: fmt.Sprintf("duplicate pattern %s (first given on line %d)", patternString(pat, k), prev)}
		}
		firstLine[pat] = line
		t.counts[pat] = n
	}
	if err := t.checkTotal(); err != nil {
		return nil, err
	}
	return t, nil
}

// parseCount parses a non-negative integer count, returning a message on
// failure.
func parseCount(s string) (int64, string) {
	if s == "" {
		return 0, "empty count"
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		if n < 0 {
			return 0, fmt.Sprintf("negative count %s", s)
		}
		return n, ""
	}
	if errors.Is(err, strconv.ErrRange) {
		if strings.HasPrefix(s, "-") {
			return 0, fmt.Sprintf("negative count %s", s)
		}
		return 0, fmt.Sprintf("count %s is too large (at most %d)", s, int64(math.MaxInt64))
	}
	if f, ferr := strconv.ParseFloat(s, 64); ferr == nil {
		if f < 0 {
			return 0, fmt.Sprintf("negative count %s", s)
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) {
			return 0, fmt.Sprintf("count %q is not an integer", s)
		}
		if f > math.MaxInt64 {
			return 0, fmt.Sprintf("count %s is too large (at most %d)", s, int64(math.MaxInt64))
		}
		return 0, fmt.Sprintf("count %q must be written as a plain integer", s)
	}
	return 0, fmt.Sprintf("count %q is not a non-negative integer", s)
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Column: pe.Column, Msg: "CSV syntax: " + pe.Err.Error()}
	}
	return fmt.Errorf("mse: reading table: %w", err)
}

// NewTable builds a Table from counts keyed by pattern, bit i (1<<i) meaning
// presence on lists[i]. Missing patterns have count 0. It applies the same
// checks as ReadTable (2..MaxLists distinct, non-empty names; no all-zero
// pattern; no pattern outside the lists; non-negative counts; a positive
// total).
func NewTable(lists []string, counts map[uint32]int64) (*Table, error) {
	k := len(lists)
	if k < 2 || k > MaxLists {
		return nil, fmt.Errorf("mse: %d lists; need 2 to %d", k, MaxLists)
	}
	seen := make(map[string]bool, k)
	for _, l := range lists {
		if l == "" || seen[l] {
			return nil, fmt.Errorf("mse: list names must be non-empty and distinct: %q", lists)
		}
		seen[l] = true
	}
	t := &Table{Lists: append([]string(nil), lists...), CountName: "count", counts: make([]int64, 1<<k)}
	for p, n := range counts {
		switch {
		case p == 0:
			return nil, errors.New("mse: all-zero pattern: persons on no list are what is estimated and cannot be given")
		case p >= 1<<k:
			return nil, fmt.Errorf("mse: pattern %#x names a list beyond the %d given", p, k)
		case n < 0:
			return nil, fmt.Errorf("mse: negative count %d for pattern %s", n, patternString(p, k))
		}
		t.counts[p] = n
	}
	if err := t.checkTotal(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Table) checkTotal() error {
	var sum int64
	for _, n := range t.counts {
		if n > math.MaxInt64-sum {
			return &ParseError{Msg: "total count overflows int64"}
		}
		sum += n
	}
	if sum == 0 {
		return &ParseError{Msg: "table has no observed persons (all counts are 0)"}
	}
	return nil
}

// NumLists is the number of lists k.
func (t *Table) NumLists() int { return len(t.Lists) }

// Count is the number of persons with exactly the given pattern (bit i =
// list i); 0 for the all-zero pattern and for patterns out of range.
func (t *Table) Count(pattern uint32) int64 {
	if int(pattern) >= len(t.counts) {
		return 0
	}
	return t.counts[pattern]
}

// Observed is the number of persons on at least one list.
func (t *Table) Observed() int64 {
	var s int64
	for _, n := range t.counts {
		s += n
	}
	return s
}

// patternString renders a pattern in column order, e.g. "1,0,1".
func patternString(p uint32, k int) string {
	b := make([]byte, 0, 2*k)
	for i := 0; i < k; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if p&(1<<i) != 0 {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	return string(b)
}
