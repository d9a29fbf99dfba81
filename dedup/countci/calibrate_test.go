package countci

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// reportFile is the part of `adcensus dedup --report --truth` this test
// reads.
type reportFile struct {
	Labelled *Corpus `json:"labelled"`
}

func loadCorpora(t *testing.T, env string) []Corpus {
	var out []Corpus
	for _, dir := range strings.Fields(os.Getenv(env)) {
		b, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		var r reportFile
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if r.Labelled == nil {
			t.Fatalf("%s: report written without --truth", dir)
		}
		r.Labelled.Name = filepath.Base(dir)
		out = append(out, *r.Labelled)
	}
	return out
}

// TestCalibrate pools the labelled reports of the corpora in
// $COUNTCI_CAL into a Calibration (printed as the Go literal of rates.go)
// and evaluates it on the corpora in $COUNTCI_EVAL: the 90 % interval of
// each, whether it holds the true count, and its width. See docs/DEDUP.md
// for the corpora and commands.
func TestCalibrate(t *testing.T) {
	if os.Getenv("COUNTCI_CAL") == "" {
		t.Skip("set COUNTCI_CAL (and COUNTCI_EVAL) to folders holding report.json from `adcensus dedup --report --truth`")
	}
	model := os.Getenv("COUNTCI_MODEL")
	if model == "" {
		model = "rates"
	}
	cal := Calibrate(loadCorpora(t, "COUNTCI_CAL"), model, os.Getenv("COUNTCI_CAL_NAME"))
	var kinds []string
	for k := range cal.Rates {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Println("var Default = Calibration{")
	fmt.Printf("\tModel: %q,\n\tSource: %q,\n\tPersons: %d,\n\tRates: map[string]Rate{\n", cal.Model, cal.Source, cal.Persons)
	for _, k := range kinds {
		fmt.Printf("\t\t%q: {Pairs: %d, True: %d},\n", k, cal.Rates[k].Pairs, cal.Rates[k].True)
	}
	fmt.Printf("\t},\n\tFalse: map[string]int{\n")
	for _, k := range kinds {
		fmt.Printf("\t\t%q: %d,\n", k, cal.False[k])
	}
	fmt.Printf("\t},\n\tUsed: %#v,\n\tResidual: %#v,\n}\n", cal.Used, cal.Residual)
	evalWith := func(name string, c *Calibration) {
		covered, n, width := 0, 0, 0.0
		for _, co := range loadCorpora(t, "COUNTCI_EVAL") {
			iv := Simulate(co.Evidence(), c, 2000, 1)
			in := iv.Low <= float64(co.TruePersons) && float64(co.TruePersons) <= iv.High
			if in {
				covered++
			}
			n++
			width += iv.High - iv.Low
			fmt.Printf("%s %-10s persons %d truth %d estimate %.1f 90%% %.1f–%.1f width %.1f (%.1f%% of persons) covered %v\n",
				name, co.Name, co.Persons, co.TruePersons, iv.Estimate, iv.Low, iv.High, iv.High-iv.Low, 100*(iv.High-iv.Low)/float64(co.Persons), in)
		}
		if n > 0 {
			fmt.Printf("%s: covered %d of %d, mean width %.1f\n", name, covered, n, width/float64(n))
		}
	}
	// Leave-one-out on the calibration corpora alone: how the model does
	// on a corpus it was not calibrated on (used to choose the model, so
	// that the evaluation corpora play no part in the choice).
	cals := loadCorpora(t, "COUNTCI_CAL")
	for _, m := range []string{"rates", "background", "background-persons"} {
		covered, width := 0, 0.0
		for i := range cals {
			rest := append(append([]Corpus(nil), cals[:i]...), cals[i+1:]...)
			iv := Simulate(cals[i].Evidence(), Calibrate(rest, m, ""), 2000, 1)
			if iv.Low <= float64(cals[i].TruePersons) && float64(cals[i].TruePersons) <= iv.High {
				covered++
			}
			width += iv.High - iv.Low
			fmt.Printf("loo %s %s truth %d estimate %.1f 90%% %.1f–%.1f\n", m, cals[i].Name, cals[i].TruePersons, iv.Estimate, iv.Low, iv.High)
		}
		fmt.Printf("loo %s: covered %d of %d, mean width %.1f\n", m, covered, len(cals), width/float64(len(cals)))
	}
	evalWith("new", cal)
	evalWith("default", &Default)
}
