package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/index/bleve"
)

const patternsDir = "../../configs/patterns"

func TestPatternsList(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := cmdPatterns(context.Background(), []string{"list", "--dir", patternsDir}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	for _, name := range []string{"shared-contact", "touring", "many-ads-per-day", "foreign-contact", "third-person", "signs-of-youth"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("list lacks %s:\n%s", name, out.String())
		}
	}
}

func TestPatternsRun(t *testing.T) {
	dataDir := t.TempDir()
	x, err := bleve.Open(filepath.Join(dataDir, indexDir))
	if err != nil {
		t.Fatal(err)
	}
	var fps []*ad.Fingerprinted
	var asg []ad.Assignment
	for i, body := range []string{"Hon är här i veckan.", "Trädgårdshjälp.", "Boka henne på fredag."} {
		id := string(rune('a'+i)) + "1"
		fps = append(fps, &ad.Fingerprinted{Ad: ad.Ad{ID: id, Arena: "blomstra", Body: body}})
		asg = append(asg, ad.Assignment{AdID: id, PersonID: "p" + id})
	}
	if err := x.Apply(context.Background(), fps, asg); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := cmdPatterns(context.Background(), []string{"run", "third-person", "--dir", patternsDir, "--data", dataDir, "--format", "json"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	var rep struct {
		Pattern string `json:"pattern"`
		Persons int    `json:"persons"`
		Matches []struct {
			Key string `json:"key"`
		} `json:"matches"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err, out.String())
	}
	if rep.Pattern != "third-person" || rep.Persons != 2 || len(rep.Matches) != 2 {
		t.Fatalf("report=%s", out.String())
	}
	out.Reset()
	if err := cmdPatterns(context.Background(), []string{"run", "third-person", "--dir", patternsDir, "--data", dataDir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 matches, 2 persons") || !strings.Contains(out.String(), "never proof") {
		t.Fatalf("text report:\n%s", out.String())
	}
	for _, args := range [][]string{{"run"}, {"run", "nope", "--dir", patternsDir, "--data", dataDir}, {"run", "touring", "--format", "xml"}, {"frobnicate"}} {
		err := cmdPatterns(context.Background(), args, &out, &errOut)
		if !errors.As(err, new(usageError)) {
			t.Errorf("%v: err=%v, want a usage error", args, err)
		}
	}
}
