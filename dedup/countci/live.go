package countci

import (
	"slices"
	"strings"

	"adcensus/dedup/cluster"
)

// Replicates and Seed are what the count's interval is simulated with
// everywhere (offline report, exports, the API), so the same adverts give
// the same interval.
const (
	Replicates = 2000
	Seed       = 1
)

// FromState computes the interval of the persons of ads from the cluster
// stage's state: ads carry the advert id under which the cluster stage
// placed it (ad.VersionedID), its person as counted (Person), its city and
// age; their names, contacts, photos and texts are read from cl
// (cluster.ComparedOf). An advert the state does not hold keeps what the
// caller gave. The evidence is gathered afresh from the state as it is,
// so it follows every rebuild of persons and networks; nothing is kept
// between calls. ads is sorted by id in place.
func FromState(cl *cluster.Cluster, ads []Advert, cal *Calibration) (Interval, *Evidence, error) {
	ids := make([]string, len(ads))
	for i := range ads {
		ids[i] = ads[i].ID
	}
	cmp, err := cl.ComparedOf(ids)
	if err != nil {
		return Interval{}, nil, err
	}
	for i := range ads {
		c := &cmp[i]
		if !c.Known {
			continue
		}
		ads[i].Name, ads[i].Contacts, ads[i].Images, ads[i].Text = c.Name, c.Contacts, c.Images, c.Text
	}
	iv, ev := Of(ads, cal)
	return iv, ev, nil
}

// Of computes the interval of the persons of ads (sorted by id in place,
// so the answer does not depend on their order) under cal (nil: Default).
func Of(ads []Advert, cal *Calibration) (Interval, *Evidence) {
	slices.SortFunc(ads, func(a, b Advert) int { return strings.Compare(a.ID, b.ID) })
	if cal == nil {
		cal = &Default
	}
	ev := Collect(ads)
	return Simulate(ev, cal, Replicates, Seed), ev
}

// Method describes the interval in one sentence, for reports and exports.
const Method = "candidate links between persons by kind of declined evidence, kept with calibrated rates (Beta posterior), union-find, minus the calibrated residual share; median and 5/95 % quantiles of 2000 replicates (docs/DEDUP.md)"
