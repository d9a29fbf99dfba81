package dedup

import (
	"encoding/json"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/dedup/countci"
	"adcensus/internal/textsig"
)

// keep records what the count's interval needs of one fingerprinted
// advert (a record that does not decode is left out: the cluster stage
// sets it aside too).
func (o *offline) keep(data []byte) {
	var fp ad.Fingerprinted
	if json.Unmarshal(data, &fp) != nil {
		return
	}
	p := cluster.ProfileOf(&fp)
	a := countci.Advert{ID: fp.Ad.ID, Name: p.Name, City: fp.Ad.City, Age: fp.Ad.Age, Contacts: p.Contacts, Images: p.Images}
	if fp.TextMinHash != "" {
		if m, err := textsig.Parse(fp.TextMinHash); err == nil {
			a.Text = &m
		}
	}
	o.adverts = append(o.adverts, a)
}

// countInterval fills st.Count from the kept adverts and the clusters.
func (o *offline) countInterval(cl *cluster.Cluster, st *OfflineStats, opt OfflineOptions) error {
	person := make(map[string]string, len(o.adverts))
	if err := cl.All(func(a ad.Assignment) error {
		person[a.AdID] = a.PersonID
		return nil
	}); err != nil {
		return err
	}
	ads := o.adverts[:0]
	for _, a := range o.adverts {
		if p, ok := person[a.ID]; ok {
			a.Person = p
			ads = append(ads, a)
		}
	}
	// The fingerprints arrive in the workers' order: Of sorts them, so
	// that the interval does not depend on it.
	cal := opt.Calibration
	if cal == nil {
		cal = &countci.Default
	}
	iv, ev := countci.Of(ads, cal)
	rep := &CountReport{Interval: iv, Evidence: ev.Counts, ImagesCompared: ev.ImagesCompared, Calibration: cal.Source}
	if opt.Truth != nil {
		links, truePersons := countci.Label(ev, ads, opt.Truth)
		rep.Labelled = &countci.Corpus{Persons: len(ev.Persons), TruePersons: truePersons, Links: links}
	}
	st.Count = rep
	return nil
}
