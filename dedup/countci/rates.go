package countci

// Default is the calibration `adcensus dedup --report` uses; see
// docs/DEDUP.md ("The count's interval") for the corpora and commands that
// produced it. Regenerate it with TestCalibrate.
var Default = Calibration{
	Source:   "uncalibrated",
	Rates:    map[string]Rate{},
	Residual: []float64{0},
}
