package mse

import (
	"errors"
	"strings"
	"testing"
)

// FuzzReadTable: the capture-history CSV reader never panics; every error
// is a *ParseError (or a read error), and an accepted table has 2 to
// MaxLists lists and a positive total.
func FuzzReadTable(f *testing.F) {
	for _, s := range []string{
		"A,B,C,count\n1,0,0,40\n0,1,0,35\n1,1,1,4\n",
		"\ufeffLA, NG ,n\n1, 0, 3\n0,1,0\n1,1,2\n",
		"A;B;n\n1;0;3\n",
		"A,B,n\n1,0,12345678901234567890\n",
		"A,B,n\n1,0,2.0\n1,0,3\n",
		"A,B,n\n0,0,3\n",
		"A,B,n\n1,\"0,3\n",
		strings.Repeat("L,", 21) + "n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tb, err := ReadTable(strings.NewReader(s))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !strings.HasPrefix(err.Error(), "mse: ") {
				t.Fatalf("error %v (%T) is neither a *ParseError nor an mse read error", err, err)
			}
			return
		}
		if k := tb.NumLists(); k < 2 || k > MaxLists {
			t.Fatalf("accepted %d lists", k)
		}
		if tb.Observed() <= 0 {
			t.Fatalf("accepted a table with total %d", tb.Observed())
		}
	})
}
