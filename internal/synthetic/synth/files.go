package synth

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"

	"adcensus/ad"
)

// The files of a corpus besides its images: the adverts (AdsFile) and the
// truth (TruthFile: ad_id, person_id, network_id; one row per advert, sorted
// by ad id).

func writeAds(path string, ads []*ad.Ad) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := ad.NewWriter(f)
	for _, a := range ads {
		if err := w.Write(a); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

func writeTruth(path string, ads []*ad.Ad, owners []*person) error {
	rows := make([][]string, len(ads))
	for i, a := range ads {
		rows[i] = []string{a.ID, owners[i].id, owners[i].net}
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"ad_id", "person_id", "network_id"})
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
