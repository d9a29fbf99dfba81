package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"adcensus/dedup"
	"adcensus/dedup/countci"
)

// dedupReport is what `adcensus dedup --report` writes.
type dedupReport struct {
	Persons         int            `json:"persons"` // the rules' count
	PersonsEstimate float64        `json:"persons_estimate"`
	PersonsLow      int            `json:"persons_low"`
	PersonsHigh     int            `json:"persons_high"`
	Level           float64        `json:"level"`
	Networks        int            `json:"networks"`
	Adverts         int            `json:"adverts"`
	Evidence        map[string]int `json:"evidence"`
	ImagesCompared  bool           `json:"images_compared"`
	Method          string         `json:"method"`
	Calibration     string         `json:"calibration"`
	// Without a contact nor a photo: the old bound (persons − this, persons).
	PersonsWithoutContactOrPhoto int `json:"persons_without_contact_or_photo"`
	// Labelled is the calibration input (with --truth).
	Labelled *countci.Corpus `json:"labelled,omitempty"`
}

// countBounds rounds the interval outwards to whole persons.
func countBounds(iv countci.Interval) (int, int) {
	return int(math.Floor(iv.Low)), int(math.Ceil(iv.High))
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func writeDedupReport(path string, st dedup.OfflineStats) error {
	c := st.Count
	if c == nil {
		return errors.New("dedup: no count interval computed")
	}
	lo, hi := countBounds(c.Interval)
	rep := dedupReport{
		Persons: st.Persons, PersonsEstimate: math.Round(c.Interval.Estimate*10) / 10, PersonsLow: lo, PersonsHigh: hi,
		Level: c.Interval.Level, Networks: st.Networks, Adverts: st.AdsWritten, Evidence: c.Evidence, ImagesCompared: c.ImagesCompared,
		Method:      fmt.Sprintf("candidate links between persons by kind of declined evidence, kept with calibrated rates (Beta posterior), union-find, minus the calibrated residual share; median and 5/95 %% quantiles of %d replicates (docs/DEDUP.md)", c.Interval.Replicates),
		Calibration: c.Calibration, PersonsWithoutContactOrPhoto: st.PersonsWithoutContactOrPhoto, Labelled: c.Labelled,
	}
	if rep.Evidence == nil {
		rep.Evidence = map[string]int{}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeJSON(f, rep); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readTruthPersons reads a labelled truth CSV with a header naming ad_id
// and person_id columns (as `adcensus synth` writes truth.csv).
func readTruthPersons(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	ia, ip := -1, -1
	for i, h := range head {
		switch strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) {
		case "ad_id":
			ia = i
		case "person_id":
			ip = i
		}
	}
	if ia < 0 || ip < 0 {
		return nil, fmt.Errorf("%s: header must name ad_id and person_id columns", path)
	}
	m := map[string]string{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= max(ia, ip) {
			return nil, fmt.Errorf("%s: line %d: %d fields, want at least %d", path, line, len(rec), max(ia, ip)+1)
		}
		m[rec[ia]] = rec[ip]
	}
}
