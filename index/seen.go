package index

// Seen is the interval of a count of distinct persons: how many persons
// the de-duplication counted (Persons), and where the true number of
// persons among the same adverts lies, from the evidence the rules
// declined (dedup/countci; docs/DEDUP.md, "The count's interval"). It is
// computed outside the index (by cmd/adcensus from the cluster stage's
// state) and written beside the count it belongs to: the total row of
// export counts, the total of an overlap report.
type Seen struct {
	Persons  int     `json:"persons"`          // the rules' count
	Estimate float64 `json:"persons_estimate"` // median of the simulation, one decimal
	Low      int     `json:"persons_low"`      // 5 % quantile, rounded down
	High     int     `json:"persons_high"`     // 95 % quantile, rounded up
	Level    float64 `json:"level"`            // 0.9
	// Evidence counts the candidate links between persons by kind of
	// declined evidence (countci.Kinds). It is left out (nil) for a
	// subset of the arenas: set beside the whole's, the difference would
	// count pairs of persons among the adverts left out.
	Evidence       map[string]int `json:"evidence,omitempty"`
	ImagesCompared bool           `json:"images_compared"`
	Method         string         `json:"method"`
	Calibration    string         `json:"calibration"`
}

// AttachSeen puts s on the total row of rows, when the count is not split,
// its total is not suppressed and s is of the same number of persons; it
// reports whether it did. A count split in two tables has two totals that
// s is neither of.
func AttachSeen(rows []CountRow, s *Seen) bool {
	if s == nil {
		return false
	}
	for i := range rows {
		r := &rows[i]
		if r.Total && r.Table == "" && !r.Suppressed && r.Persons == s.Persons {
			r.Seen = s
			return true
		}
	}
	return false
}

// seenOf returns the Seen of the first row that has one.
func seenOf(rows []CountRow) *Seen {
	for _, r := range rows {
		if r.Seen != nil {
			return r.Seen
		}
	}
	return nil
}
