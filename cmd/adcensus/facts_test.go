package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
	indexbleve "adcensus/index/bleve"
)

// export facts on an index of 12 adverts: persons p0..p3 with 1, 2, 3 and
// 6 adverts (p3 over 6 cities), all in network n0 except p0 (n1).
func TestExportFactsCommand(t *testing.T) {
	dataDir := t.TempDir()
	x, err := indexbleve.Open(filepath.Join(dataDir, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	cities := []string{"Lund", "Malmö", "Umeå", "Kiruna", "Luleå", "Visby"}
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for p, n := range []int{1, 2, 3, 6} {
		for i := range n {
			id := fmt.Sprintf("p%d-%d", p, i)
			fps = append(fps, &ad.Fingerprinted{Ad: ad.Ad{ID: id, Arena: "blomstra", City: cities[i], Title: "Sällskap",
				PostedAt: time.Date(2026, 3, 2+i, 12, 0, 0, 0, time.UTC)}})
			network := "n0"
			if p == 0 {
				network = "n1"
			}
			asg = append(asg, ad.Assignment{AdID: id, PersonID: fmt.Sprintf("p%d", p), NetworkID: network})
		}
	}
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}

	out := runMain(t, "export", "facts", "--data", dataDir, "--min-cell", "0")
	for _, want := range []string{
		"table,unit,band,count\n",
		"persons_by_ads,persons,1,1\npersons_by_ads,persons,2-4,2\npersons_by_ads,persons,5-9,1\npersons_by_ads,persons,10+,0\npersons_by_ads,persons,*,4\n",
		"persons_by_cities,persons,0,0\npersons_by_cities,persons,1,1\npersons_by_cities,persons,2,1\npersons_by_cities,persons,3-5,1\npersons_by_cities,persons,6+,1\n",
		"networks_by_persons,networks,1,1\nnetworks_by_persons,networks,2,0\nnetworks_by_persons,networks,3-5,1\n",
		"networks_by_cities,networks,6+,1\nnetworks_by_cities,networks,*,2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("export facts CSV has no\n%s\nin\n%s", want, out)
		}
	}

	var rep index.FactsReport
	if err := json.Unmarshal([]byte(runMain(t, "export", "facts", "--data", dataDir, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.MinCell != 5 || rep.Provenance["adcensus_version"] != Version || len(rep.Tables) != 5 {
		t.Fatalf("json report: min_cell %d, provenance %v, %d tables", rep.MinCell, rep.Provenance, len(rep.Tables))
	}
	for _, tb := range rep.Tables { // 4 persons, 2 networks: everything below 5
		for _, r := range tb.Rows {
			if r.Count != nil && *r.Count != 0 {
				t.Errorf("%s band %s = %d shown at min cell 5", tb.Table, r.Band, *r.Count)
			}
		}
	}

	file := filepath.Join(t.TempDir(), "facts.csv")
	runMain(t, "export", "facts", "--data", dataDir, "--min-cell", "0", "--out", file)
	if b, err := os.ReadFile(file); err != nil || string(b) != out {
		t.Fatalf("--out wrote %q (%v), want the same as standard output", b, err)
	}

	for _, args := range [][]string{
		{"export", "facts", "--data", dataDir, "--format", "xml"},
		{"export", "facts", "--data", dataDir, "--min-cell", "-1"},
	} {
		var o, e bytes.Buffer
		if err := Main(context.Background(), args, &o, &e); !errors.As(err, new(usageError)) {
			t.Errorf("%v: err=%v, want a usage error", args, err)
		}
	}
}
