package eval

import (
	"encoding/csv"
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestReadAssignments(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     map[string]Labels
	}{
		{"plain", "ad_id,person_id,network_id\na1,p1,n1\na2,p1,n1\na3,p2,\n",
			map[string]Labels{"a1": {"p1", "n1"}, "a2": {"p1", "n1"}, "a3": {"p2", ""}}},
		{"reordered, case, extra columns, spaces, CRLF",
			"Network_ID , Arena,PERSON_ID,Ad_Id\r\n n1 ,site, p1 , a1 \r\n\r\nn2,site,p2,a2\r\n",
			map[string]Labels{"a1": {"p1", "n1"}, "a2": {"p2", "n2"}}},
		{"BOM", "\ufeffad_id,person_id,network_id\na1,p1,n1\n",
			map[string]Labels{"a1": {"p1", "n1"}}},
		{"BOM and quoted header", "\ufeff\"ad_id\",\"person_id\"\n\"a,1\",p1\n",
			map[string]Labels{"a,1": {"p1", ""}}},
		{"no network column", "person_id,ad_id\np1,a1\np1,a2\n",
			map[string]Labels{"a1": {"p1", ""}, "a2": {"p1", ""}}},
		{"identical duplicate accepted", "ad_id,person_id,network_id\na1,p1,n1\na1,p1,n1\n",
			map[string]Labels{"a1": {"p1", "n1"}}},
		{"header only", "ad_id,person_id\n", map[string]Labels{}},
	} {
		got, err := ReadAssignments(strings.NewReader(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestReadAssignmentsErrors(t *testing.T) {
	for _, c := range []struct {
		name, in string
		is       error  // want errors.Is(err, is) unless nil
		line     string // the error must contain this
	}{
		{"empty input", "", ErrNoHeader, "line 1"},
		{"missing ad_id", "person_id,network_id\np1,n1\n", ErrMissingColumn, "line 1: missing column ad_id"},
		{"missing person_id", "ad_id,network_id\na1,n1\n", ErrMissingColumn, "line 1: missing column person_id"},
		{"missing ad_id after blank lines", "\n\nperson,network_id\n", ErrMissingColumn, "line 3"},
		{"duplicate column", "ad_id,person_id,AD_ID\n", ErrDuplicateCol, "line 1"},
		{"empty ad_id", "ad_id,person_id\na1,p1\n  ,p2\n", ErrEmptyAdID, "line 3: empty ad_id"},
		{"conflicting duplicate", "ad_id,person_id,network_id\na1,p1,n1\na2,p1,n1\na1,p2,n1\n",
			ErrConflictingAds, "line 4: ad_id repeated with different labels"},
		{"conflicting network", "ad_id,person_id,network_id\na1,p1,n1\na1,p1,n2\n", ErrConflictingAds, "line 3"},
		{"wrong field count", "ad_id,person_id\na1,p1\na2\n", csv.ErrFieldCount, "line 3"},
		{"bad quote", "ad_id,person_id\na1,\"p1\n", csv.ErrQuote, "line 2"},
	} {
		_, err := ReadAssignments(strings.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.line) {
			t.Errorf("%s: error %q, want %v containing %q", c.name, err, c.is, c.line)
		}
	}
}

// TestReadAndEvaluate runs the researchers' path: two CSV files, the
// prediction without a network column.
func TestReadAndEvaluate(t *testing.T) {
	truth, err := ReadAssignments(strings.NewReader(
		"ad_id,person_id,network_id\na1,p1,n1\na2,p1,n1\na3,p2,n1\na4,p3,n2\n"))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := ReadAssignments(strings.NewReader(
		"\ufeffperson_id,ad_id,score\nX,a1,0.9\nX,a2,0.8\nX,a3,0.4\nY,a9,0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	rep := mustEvaluate(t, truth, pred)
	if rep.Networks != nil || rep.NetworksSkipped != "prediction has no network_id labels" {
		t.Errorf("networks %v skipped %q", rep.Networks, rep.NetworksSkipped)
	}
	if len(rep.MissingInPred) != 1 || rep.MissingInPred[0] != "a4" || len(rep.ExtraInPred) != 1 || rep.ExtraInPred[0] != "a9" {
		t.Errorf("missing %v extra %v", rep.MissingInPred, rep.ExtraInPred)
	}
	if m := rep.Persons; m.TrueClusters != 3 || m.PredClusters != 2 || m.CountError != -1 || m.Pairwise.SharedPairs != 1 {
		t.Errorf("persons %+v", m)
	}
}
