package countci

import (
	"math"
	"math/rand/v2"
	"testing"

	"adcensus/dedup/cluster"
	"adcensus/internal/textsig"
)

func text(t *testing.T, s string) *textsig.MinHash {
	t.Helper()
	m, ok := textsig.Sign(s)
	if !ok {
		t.Fatalf("no signature for %q", s)
	}
	return &m
}

// photo is a random robust image hash; flipped(h, n) moves every hash of
// h by n bits, so their robust distance is n.
func photo(r *rand.Rand) cluster.ImageHash {
	h := cluster.ImageHash{PHash: r.Uint64(), Scales: make([]uint64, 2*cluster.NumScales), Grid: make([]uint64, 2*cluster.NumTiles)}
	for i := range h.Scales {
		h.Scales[i] = r.Uint64()
	}
	for i := range h.Grid {
		h.Grid[i] = r.Uint64()
	}
	return h
}

func flipped(h cluster.ImageHash, n int) cluster.ImageHash {
	o := cluster.ImageHash{PHash: h.PHash ^ 1, Scales: append([]uint64(nil), h.Scales...), Grid: append([]uint64(nil), h.Grid...)}
	mask := uint64(1)<<n - 1
	for i := range o.Scales {
		o.Scales[i] ^= mask
	}
	for i := range o.Grid {
		o.Grid[i] ^= mask
	}
	return o
}

func TestCollectKinds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ph := photo(r)
	long := "Hello and welcome, I am new in town this week and happy to meet you for a coffee and a talk in a calm place near the station"
	ads := []Advert{
		// same name, city and age, no contact: name_city_age
		{ID: "1", Person: "P1", Name: "anna", City: "Lund", Age: 25},
		{ID: "2", Person: "P2", Name: "anna", City: "Lund", Age: 25},
		// a shared contact, names disagreeing: contact_names
		{ID: "3", Person: "P3", Name: "bea", Contacts: []string{"tel:aa"}},
		{ID: "4", Person: "P4", Name: "cia", Contacts: []string{"tel:aa"}},
		// near texts, one without a name: text_near_noname
		{ID: "5", Person: "P5", Name: "dora", Text: text(t, long)},
		{ID: "6", Person: "P6", Text: text(t, long+" call")},
		// a photo 12 bits away: image_12
		{ID: "7", Person: "P7", Name: "eva", Images: []cluster.ImageHash{ph}},
		{ID: "8", Person: "P8", Name: "fia", Images: []cluster.ImageHash{flipped(ph, 12)}},
		// the same name and city shared by five persons: too common
		{ID: "9", Person: "Q1", Name: "gia", City: "Malmö"},
		{ID: "10", Person: "Q2", Name: "gia", City: "Malmö"},
		{ID: "11", Person: "Q3", Name: "gia", City: "Malmö"},
		{ID: "12", Person: "Q4", Name: "gia", City: "Malmö"},
		{ID: "13", Person: "Q5", Name: "gia", City: "Malmö"},
	}
	ev := Collect(ads)
	want := map[string]int{KindNameCityAge: 1, KindContact: 1, KindTextNoName: 1, KindImage12: 1}
	if len(ev.Counts) != len(want) {
		t.Errorf("counts %v, want %v", ev.Counts, want)
	}
	for k, n := range want {
		if ev.Counts[k] != n {
			t.Errorf("%s: %d links, want %d (all %v)", k, ev.Counts[k], n, ev.Counts)
		}
	}
	if len(ev.Persons) != 13 || !ev.ImagesCompared {
		t.Errorf("persons %d, images compared %v", len(ev.Persons), ev.ImagesCompared)
	}
	// P1 and P2 also agree on name and city: one link, under the stronger kind
	for _, l := range ev.Links {
		if ev.Persons[l.A] == "P1" && l.Kind != KindNameCityAge {
			t.Errorf("P1 link %v", l)
		}
	}
	// Labels: P1/P2 one true person, the others not.
	links, truePersons := Label(ev, ads, map[string]string{"1": "T1", "2": "T1", "3": "T3", "4": "T4", "5": "T5", "6": "T6", "7": "T7", "8": "T8",
		"9": "T9", "10": "T10", "11": "T11", "12": "T12", "13": "T13"})
	if truePersons != 12 {
		t.Errorf("true persons %d", truePersons)
	}
	for _, l := range links {
		if l.True != (l.Kind == KindNameCityAge) {
			t.Errorf("label %+v", l)
		}
	}
}

func TestSimulate(t *testing.T) {
	// 10 persons, a chain of 4 links of one kind
	ev := &Evidence{Persons: make([]string, 10), ImagesCompared: true}
	for i := 0; i < 4; i++ {
		ev.Links = append(ev.Links, Link{A: i, B: i + 1, Kind: KindTextName})
	}
	// every such link true on the labelled corpora, no residual: 6 persons
	sure := &Calibration{Model: "rates", Rates: map[string]Rate{KindTextName: {Pairs: 100000, True: 100000}}, Residual: []float64{0}}
	iv := Simulate(ev, sure, 500, 1)
	if iv.Estimate != 6 || iv.Low != 6 || iv.High != 6 {
		t.Errorf("sure links: %+v", iv)
	}
	// never true: 10 persons; a residual of +10 % removes one
	never := &Calibration{Model: "rates", Rates: map[string]Rate{KindTextName: {Pairs: 100000, True: 0}}, Residual: []float64{0.1, 0.1}}
	iv = Simulate(ev, never, 500, 1)
	if math.Abs(iv.Estimate-9) > 1e-9 || iv.LinkedMean != 10 {
		t.Errorf("no links, residual 0.1: %+v", iv)
	}
	// half true: the count varies between 6 and 10, the interval inside
	half := &Calibration{Model: "rates", Rates: map[string]Rate{KindTextName: {Pairs: 1000, True: 500}}, Residual: []float64{0}}
	iv = Simulate(ev, half, 2000, 1)
	if !(iv.Low >= 6 && iv.Low < iv.Estimate && iv.Estimate < iv.High && iv.High <= 10) || math.Abs(iv.LinkedMean-8) > 0.1 {
		t.Errorf("half: %+v", iv)
	}
	// deterministic in the seed
	if a, b := Simulate(ev, half, 300, 7), Simulate(ev, half, 300, 7); a != b {
		t.Errorf("not reproducible: %+v %+v", a, b)
	}
	// a kind the calibration never saw is kept with probability ~1/2
	// (Beta(0.5, 0.5)), not dropped silently
	if iv := Simulate(ev, &Calibration{Model: "rates", Rates: map[string]Rate{}}, 2000, 1); iv.LinkedMean < 7 || iv.LinkedMean > 9 {
		t.Errorf("uncalibrated kind: %+v", iv)
	}
}

// Calibrate pools the corpora and measures each one's residual.
func TestCalibrateResidual(t *testing.T) {
	// corpus A: 10 persons, one true link (truth 9); corpus B: 10 persons,
	// one false link, truth 8 (a split no evidence shows)
	a := Corpus{Persons: 10, TruePersons: 9, Links: []LabelledLink{{A: 0, B: 1, Kind: KindNameCityAge, True: true}}}
	b := Corpus{Persons: 10, TruePersons: 8, Links: []LabelledLink{{A: 2, B: 3, Kind: KindNameCityAge, True: false}}}
	cal := Calibrate([]Corpus{a, b}, "rates", "test")
	if r := cal.Rates[KindNameCityAge]; r.Pairs != 2 || r.True != 1 {
		t.Errorf("rates %+v", cal.Rates)
	}
	// each corpus keeps its link half the time: mean 9.5 persons
	if len(cal.Residual) != 2 || math.Abs(cal.Residual[0]-0.05) > 0.02 || math.Abs(cal.Residual[1]-0.15) > 0.02 {
		t.Errorf("residual %v", cal.Residual)
	}
}

// The background model: a kind's links beyond its background are true.
func TestSimulateBackground(t *testing.T) {
	ev := &Evidence{Persons: make([]string, 1000), Counts: map[string]int{}}
	for i := 0; i < 40; i++ {
		ev.Links = append(ev.Links, Link{A: 2 * i, B: 2*i + 1, Kind: KindNameCityAge})
	}
	ev.Counts[KindNameCityAge] = 40
	// background of 10 per 1,000 persons (10,000 seen on the calibration
	// corpora): about 30 of the 40 links are true
	cal := &Calibration{Model: "background", False: map[string]int{KindNameCityAge: 100}, Used: []string{KindNameCityAge}, Persons: 10000, Residual: []float64{0}}
	iv := Simulate(ev, cal, 2000, 1)
	if math.Abs(iv.TrueLinks-30) > 1 || math.Abs(iv.Estimate-970) > 3 || !(iv.Low < 970 && iv.High > 970) {
		t.Errorf("background 10: %+v", iv)
	}
	// a residual of 0.5 per true link removes 15 more
	cal.Residual = []float64{0.5, 0.5}
	if iv := Simulate(ev, cal, 2000, 1); math.Abs(iv.Estimate-955) > 3 {
		t.Errorf("residual 0.5: %+v", iv)
	}
	// a background as large as the links: nothing is true
	cal = &Calibration{Model: "background", False: map[string]int{KindNameCityAge: 4000}, Used: []string{KindNameCityAge}, Persons: 10000, Residual: []float64{0}}
	if iv := Simulate(ev, cal, 2000, 1); iv.Estimate < 995 {
		t.Errorf("background 400: %+v", iv)
	}
	// Calibrate measures the residual per true link found
	c := Corpus{Persons: 1000, TruePersons: 950, Links: make([]LabelledLink, 40)}
	for i := range c.Links {
		c.Links[i] = LabelledLink{A: 2 * i, B: 2*i + 1, Kind: KindNameCityAge, True: i < 30}
	}
	got := Calibrate([]Corpus{c}, "background", "test")
	if got.False[KindNameCityAge] != 10 || got.Persons != 1000 || len(got.Residual) != 1 || math.Abs(got.Residual[0]-20.0/30) > 0.1 {
		t.Errorf("calibrate: %+v", got)
	}
}
