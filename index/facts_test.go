package index_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"adcensus/index"
)

// factDocs is an in-memory index.FactsSource.
type factDocs []*index.Doc

func (ds factDocs) ForEachFact(ctx context.Context, fn func(*index.Doc) error) error {
	var d index.Doc // reused, as the bleve store does
	for _, x := range ds {
		d = *x
		if err := fn(&d); err != nil {
			return err
		}
	}
	return nil
}

// personSpec is one person of the hand-built facts fixture: one advert per
// (arena, city) pair; an empty person id is an unassigned advert.
type personSpec struct {
	person, network string
	ads             [][2]string
}

// factsFixture: 12 persons, 7 networks. Hand-counted (see the want
// tables in TestFactsDistribution):
//
//	A1 1 ad  a      Lund                 N1
//	A2 1 ad  a      Lund                 N1
//	A3 1 ad  b      Malmö                N2
//	A4 1 ad  b      —                    N3
//	A5 1 ad  c      Umeå                 N4
//	A6 1 ad  a      Umeå                 N5
//	B1 3 ads a,b    Lund,Malmö           N2
//	B2 2 ads a      Lund                 N3
//	B3 4 ads a,b,c  Lund,Malmö,Umeå      N6
//	B4 2 ads a      —                    N3
//	C1 6 ads a,b,c  6 cities             N8
//	x  1 ad  c      Visby (unassigned: its own person, no network)
var factsFixture = []personSpec{
	{"A1", "N1", [][2]string{{"a", "Lund"}}},
	{"A2", "N1", [][2]string{{"a", "Lund"}}},
	{"A3", "N2", [][2]string{{"b", "Malmö"}}},
	{"A4", "N3", [][2]string{{"b", ""}}},
	{"A5", "N4", [][2]string{{"c", "Umeå"}}},
	{"A6", "N5", [][2]string{{"a", "Umeå"}}},
	{"B1", "N2", [][2]string{{"a", "Lund"}, {"b", "Malmö"}, {"a", "Lund"}}},
	{"B2", "N3", [][2]string{{"a", "Lund"}, {"a", "Lund"}}},
	{"B3", "N6", [][2]string{{"a", "Lund"}, {"b", "Malmö"}, {"c", "Umeå"}, {"a", "Umeå"}}},
	{"B4", "N3", [][2]string{{"a", ""}, {"a", " "}}},
	{"C1", "N8", [][2]string{{"a", "Lund"}, {"b", "Malmö"}, {"c", "Umeå"}, {"a", "Kiruna"}, {"b", "Luleå"}, {"c", "Visby"}}},
	{"", "", [][2]string{{"c", "Visby"}}},
}

func factsDocs(specs []personSpec) factDocs {
	var out factDocs
	for pi, p := range specs {
		for i, a := range p.ads {
			out = append(out, &index.Doc{
				ID: fmt.Sprintf("%s-%d-%d", p.person, pi, i), Arena: a[0], City: a[1],
				PersonID: p.person, NetworkID: p.network, Month: "2026-03",
			})
		}
	}
	// Order of adverts must not matter: interleave persons.
	slices.SortFunc(out, func(a, b *index.Doc) int {
		return strings.Compare(a.ID[strings.LastIndex(a.ID, "-"):]+a.ID, b.ID[strings.LastIndex(b.ID, "-"):]+b.ID)
	})
	return out
}

// tableOf returns a report's table by name as "band=count" strings, "s"
// for a suppressed count.
func tableOf(tb testing.TB, rep *index.FactsReport, name string) []string {
	tb.Helper()
	for _, t := range rep.Tables {
		if t.Table != name {
			continue
		}
		var out []string
		for _, r := range t.Rows {
			switch {
			case r.Suppressed && r.Count == nil && r.Suppression != "":
				out = append(out, r.Band+"="+r.Suppression[:1])
			case !r.Suppressed && r.Count != nil:
				out = append(out, fmt.Sprintf("%s=%d", r.Band, *r.Count))
			default:
				tb.Fatalf("%s band %s: inconsistent row %+v", name, r.Band, r)
			}
		}
		return out
	}
	tb.Fatalf("no table %s", name)
	return nil
}

func MustFactsReport(tb testing.TB, docs factDocs, minCell int) *index.FactsReport {
	tb.Helper()
	rep, err := index.ReportFacts(context.Background(), docs, index.FactsOptions{MinCell: minCell})
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func TestFactsDistribution(t *testing.T) {
	docs := factsDocs(factsFixture)
	for _, tc := range []struct {
		minCell int
		want    map[string][]string
	}{
		{0, map[string][]string{
			index.TablePersonsByAds:     {"1=7", "2-4=4", "5-9=1", "10+=0", "*=12"},
			index.TablePersonsByArenas:  {"1=9", "2=1", "3+=2", "*=12"},
			index.TablePersonsByCities:  {"0=2", "1=7", "2=1", "3-5=1", "6+=1", "*=12"},
			index.TableNetworksByPerson: {"1=4", "2=2", "3-5=1", "6-10=0", "11+=0", "*=7"},
			index.TableNetworksByCities: {"0=0", "1=4", "2=1", "3-5=1", "6+=1", "*=7"},
		}},
		{3, map[string][]string{
			// 5-9 is 12-7-4 once primary: 2-4 is withheld too.
			index.TablePersonsByAds: {"1=7", "2-4=s", "5-9=p", "10+=0", "*=12"},
			// 2 and 3+ share 3 persons, each at least 1: 1 or 2, not pinned.
			index.TablePersonsByArenas:  {"1=9", "2=p", "3+=p", "*=12"},
			index.TablePersonsByCities:  {"0=p", "1=7", "2=p", "3-5=p", "6+=p", "*=12"},
			index.TableNetworksByPerson: {"1=4", "2=p", "3-5=p", "6-10=0", "11+=0", "*=7"},
			// Three withheld bands sharing 7-4 = 3 networks would hold
			// one each: band 1 is withheld too.
			index.TableNetworksByCities: {"0=0", "1=s", "2=p", "3-5=p", "6+=p", "*=7"},
		}},
		{13, map[string][]string{
			index.TablePersonsByAds:     {"1=p", "2-4=p", "5-9=p", "10+=0", "*=p"},
			index.TablePersonsByArenas:  {"1=p", "2=p", "3+=p", "*=p"},
			index.TablePersonsByCities:  {"0=p", "1=p", "2=p", "3-5=p", "6+=p", "*=p"},
			index.TableNetworksByPerson: {"1=p", "2=p", "3-5=p", "6-10=0", "11+=0", "*=p"},
			index.TableNetworksByCities: {"0=0", "1=p", "2=p", "3-5=p", "6+=p", "*=p"},
		}},
	} {
		t.Run(fmt.Sprintf("min_cell=%d", tc.minCell), func(t *testing.T) {
			rep := MustFactsReport(t, docs, tc.minCell)
			if got, want := len(rep.Tables), 5; got != want {
				t.Fatalf("tables=%d, want %d", got, want)
			}
			for _, spec := range index.FactsTables() {
				if got, want := tableOf(t, rep, spec.Table), tc.want[spec.Table]; !slices.Equal(got, want) {
					t.Errorf("%s=%v, want %v", spec.Table, got, want)
				}
			}
			attackFacts(t, rep, tc.minCell)
		})
	}
}

// attackFacts checks that no withheld count of any table is pinned: it
// enumerates every assignment of the table's withheld bands (each from 1,
// as a withheld band is never empty) that adds up with the visible bands
// to the total, and wants at least two values for each withheld band. A
// withheld total is taken as unknown (the table then has no equation).
func attackFacts(tb testing.TB, rep *index.FactsReport, minCell int) {
	tb.Helper()
	if minCell <= 1 {
		return
	}
	for _, t := range rep.Tables {
		total := t.Rows[len(t.Rows)-1]
		if total.Count == nil {
			continue
		}
		rest := *total.Count
		var hidden []string
		for _, r := range t.Rows[:len(t.Rows)-1] {
			if r.Count != nil {
				rest -= *r.Count
			} else {
				hidden = append(hidden, r.Band)
			}
		}
		values := make([]map[int]bool, len(hidden))
		for i := range values {
			values[i] = map[int]bool{}
		}
		x := make([]int, len(hidden))
		var walk func(i, left int)
		walk = func(i, left int) {
			if i == len(hidden) {
				if left == 0 {
					for j, v := range x {
						values[j][v] = true
					}
				}
				return
			}
			for v := 1; v <= left; v++ {
				x[i] = v
				walk(i+1, left-v)
			}
		}
		walk(0, rest)
		for i, b := range hidden {
			if len(values[i]) < 2 {
				tb.Errorf("%s band %s: withheld but recoverable (values %v)", t.Table, b, values[i])
			}
		}
	}
}

// The attack finds what primary suppression alone would give away: the
// fixture's networks_by_cities with only its small bands withheld.
func TestFactsAttackCatchesPrimaryOnly(t *testing.T) {
	n := func(v int) *int { return &v }
	rep := &index.FactsReport{Tables: []index.FactsTable{{Table: index.TableNetworksByCities, Rows: []index.FactsRow{
		{Band: "0", Count: n(0)}, {Band: "1", Count: n(4)},
		{Band: "2", Suppressed: true}, {Band: "3-5", Suppressed: true}, {Band: "6+", Suppressed: true},
		{Band: "*", Count: n(7), Total: true},
	}}}}
	rec := &recorder{TB: t}
	attackFacts(rec, rep, 3)
	if len(rec.errs) != 3 {
		t.Fatalf("attack found %d recoverable bands, want 3: %v", len(rec.errs), rec.errs)
	}
}

// recorder collects Errorf calls instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, a...))
}

// Report can be called again, also after more adverts are added.
func TestFactsDistributionReportTwice(t *testing.T) {
	f := index.NewFactsDistribution()
	for _, d := range factsDocs(factsFixture) {
		f.Add(d)
	}
	first := f.Report(index.FactsOptions{})
	second := f.Report(index.FactsOptions{})
	for _, spec := range index.FactsTables() {
		if a, b := tableOf(t, first, spec.Table), tableOf(t, second, spec.Table); !slices.Equal(a, b) {
			t.Fatalf("%s: first %v, then %v", spec.Table, a, b)
		}
	}
	// A fourth person joins N3 (A4, B2, B4): 3-5 persons → 3-5 still, and
	// networks_by_persons keeps its shape; a new network N9 of one.
	f.Add(&index.Doc{ID: "late-1", Arena: "a", City: "Lund", PersonID: "D1", NetworkID: "N3"})
	f.Add(&index.Doc{ID: "late-2", Arena: "a", City: "Ystad", PersonID: "D2", NetworkID: "N9"})
	if got, want := tableOf(t, f.Report(index.FactsOptions{}), index.TableNetworksByPerson), []string{"1=5", "2=2", "3-5=1", "6-10=0", "11+=0", "*=8"}; !slices.Equal(got, want) {
		t.Fatalf("after adding: %v, want %v", got, want)
	}
	if got, want := f.Persons(), 14; got != want {
		t.Fatalf("persons=%d, want %d", got, want)
	}
}

func TestFactsReportWriters(t *testing.T) {
	rep := MustFactsReport(t, factsDocs(factsFixture), 3)
	rep.Provenance = map[string]any{"software": "adcensus test"}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if got, want := lines[0], "table,unit,band,count"; got != want {
		t.Fatalf("header %q, want %q", got, want)
	}
	for _, want := range []string{
		"persons_by_ads,persons,1,7", "persons_by_ads,persons,2-4,", "persons_by_ads,persons,*,12",
		"networks_by_persons,networks,1,4", "networks_by_cities,networks,1,", "networks_by_cities,networks,*,7",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("CSV has no line %q:\n%s", want, b.String())
		}
	}
	if got, want := len(lines), 1+5+4+6+6+6; got != want {
		t.Errorf("CSV has %d lines, want %d", got, want)
	}

	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Provenance map[string]any `json:"provenance"`
		MinCell    int            `json:"min_cell"`
		Tables     []struct {
			Table string `json:"table"`
			Unit  string `json:"unit"`
			Of    string `json:"of"`
			Rows  []struct {
				Band        string `json:"band"`
				Min         *int   `json:"min"`
				Max         *int   `json:"max"`
				Count       *int   `json:"count"`
				Suppression string `json:"suppression"`
				Total       bool   `json:"total"`
			} `json:"rows"`
		} `json:"tables"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Provenance["software"] != "adcensus test" || got.MinCell != 3 || len(got.Tables) != 5 {
		t.Fatalf("report header %+v", got)
	}
	ads := got.Tables[0]
	if ads.Table != index.TablePersonsByAds || ads.Unit != index.UnitPersons || ads.Of != "adverts" {
		t.Fatalf("first table %+v", ads)
	}
	r := ads.Rows[1] // 2-4, withheld
	if r.Band != "2-4" || *r.Min != 2 || *r.Max != 4 || r.Count != nil || r.Suppression != index.SuppressSecondary {
		t.Fatalf("band 2-4 = %+v", r)
	}
	if r := ads.Rows[3]; r.Band != "10+" || *r.Min != 10 || r.Max != nil || r.Count == nil || *r.Count != 0 {
		t.Fatalf("band 10+ = %+v", r)
	}
	if r := ads.Rows[4]; !r.Total || r.Band != "*" || r.Min != nil || *r.Count != 12 {
		t.Fatalf("total = %+v", r)
	}
}

func TestReportFactsErrors(t *testing.T) {
	if _, err := index.ReportFacts(context.Background(), factDocs{}, index.FactsOptions{MinCell: -1}); err == nil {
		t.Fatal("negative min cell accepted")
	}
	errBoom := errors.New("boom")
	if _, err := index.ReportFacts(context.Background(), failingFacts{errBoom}, index.FactsOptions{}); !errors.Is(err, errBoom) {
		t.Fatalf("err=%v, want %v", err, errBoom)
	}
	// An empty index: every count 0, nothing withheld.
	rep := MustFactsReport(t, factDocs{}, 5)
	if got, want := tableOf(t, rep, index.TablePersonsByArenas), []string{"1=0", "2=0", "3+=0", "*=0"}; !slices.Equal(got, want) {
		t.Fatalf("empty: %v, want %v", got, want)
	}
}

type failingFacts struct{ err error }

func (f failingFacts) ForEachFact(context.Context, func(*index.Doc) error) error { return f.err }
