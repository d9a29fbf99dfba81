package countci

// Default is the calibration `adcensus dedup --report` uses: produced by
// TestCalibrate from the labelled corpora named in Source, none of which is
// among the corpora the interval was evaluated on (docs/DEDUP.md, "The
// count's interval", has the commands and the evaluation).
var Default = Calibration{
	Model:   "rates",
	Source:  "6 labelled corpora: adcensus synth --seed 6, 7, 8 and --style varied --seed 4, 5, 6 (4,000 adverts, 600 persons each); model chosen by leave-one-out on them",
	Persons: 3795,
	Rates: map[string]Rate{
		"contact_names":    {Pairs: 173, True: 5},
		"contact_noname":   {Pairs: 11, True: 1},
		"image_12":         {Pairs: 1413, True: 16},
		"image_14_16":      {Pairs: 70833, True: 22},
		"image_le10":       {Pairs: 237, True: 4},
		"name_city":        {Pairs: 907, True: 6},
		"name_city_age":    {Pairs: 122, True: 70},
		"text_near":        {Pairs: 573, True: 42},
		"text_near_noname": {Pairs: 62, True: 32},
		"text_near_weak":   {Pairs: 311, True: 0},
	},
	False: map[string]int{
		"contact_names":    168,
		"contact_noname":   10,
		"image_12":         1397,
		"image_14_16":      70811,
		"image_le10":       233,
		"name_city":        901,
		"name_city_age":    52,
		"text_near":        531,
		"text_near_noname": 30,
		"text_near_weak":   311,
	},
	Used:     []string{"text_near_noname", "text_near", "name_city_age", "contact_noname"},
	Residual: []float64{-0.027881147540983687, -0.02215517241379302, -0.03503327787021622, 0.01088573619631897, 0.04050599700149931, 0.02082698170731711},
}
