package synth_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/cluster"
	"adcensus/dedup/eval"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/textsig"
)

// profilesOf fingerprints the adverts of a corpus as the pipeline does
// (a fixed key) and applies the marks over all of them.
func profilesOf(t *testing.T, dir string, ads []*ad.Ad) []*cluster.Profile {
	profs := fingerprintProfiles(dir, ads, 4)
	cluster.MarkStock(profs)
	cluster.MarkTemplates(profs)
	cluster.MarkMultiName(profs)
	return profs
}

// fingerprintProfiles fingerprints the adverts of the corpus in dir as
// the pipeline does (a fixed key), workers at a time, without marks.
func fingerprintProfiles(dir string, ads []*ad.Ad, workers int) []*cluster.Profile {
	lim := imagehash.DefaultLimits()
	f := dedup.NewFingerprinter(contact.New(make([]byte, 32)), imagehash.FileOrHTTPLoader{BaseDir: dir, MaxBytes: lim.MaxBytes}, lim)
	profs := make([]*cluster.Profile, len(ads))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for i, a := range ads {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fp, err := f.Process(context.Background(), a)
			if err != nil {
				panic(err)
			}
			profs[i] = cluster.ProfileOf(fp)
		}()
	}
	wg.Wait()
	return profs
}

// diagCorpus reads the corpus of SYNTH_SPLITS_DIR (skipping the test
// when unset) with the prediction SYNTH_SPLITS_PRED (default pred.csv in
// the corpus), and fingerprints and marks its adverts.
func diagCorpus(t *testing.T) (map[string]eval.Labels, []*ad.Ad, map[string]eval.Labels, []*cluster.Profile) {
	t.Helper()
	dir := os.Getenv("SYNTH_SPLITS_DIR")
	if dir == "" {
		t.Skip("SYNTH_SPLITS_DIR=corpus SYNTH_SPLITS_PRED=pred.csv")
	}
	predPath := os.Getenv("SYNTH_SPLITS_PRED")
	if predPath == "" {
		predPath = filepath.Join(dir, "pred.csv")
	}
	truth := readTruth(t, dir)
	ads := readAds(t, dir)
	pf, err := os.Open(predPath)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := eval.ReadAssignments(pf)
	pf.Close()
	if err != nil {
		t.Fatal(err)
	}
	return truth, ads, pred, profilesOf(t, dir, ads)
}

// TestDiagSplits (SYNTH_SPLITS_DIR=corpus, SYNTH_SPLITS_PRED=pred.csv):
// for every true person the prediction splits, the closest evidence
// between a fragment and the rest of the person, by kind. It reads the
// truth, so it is a diagnostic, not a rule.
func TestDiagSplits(t *testing.T) {
	truth, ads, pred, profs := diagCorpus(t)
	idx := map[string]int{}
	for i, a := range ads {
		idx[a.ID] = i
	}
	// fragments per true person
	frags := map[string]map[string][]int{}
	for i, a := range ads {
		tp, pp := truth[a.ID].Person, pred[a.ID].Person
		if frags[tp] == nil {
			frags[tp] = map[string][]int{}
		}
		frags[tp][pp] = append(frags[tp][pp], i)
	}
	// Adverts with neither a contact nor an image: only their text can
	// tie them to anyone.
	predSize := map[string]int{}
	for _, a := range ads {
		predSize[pred[a.ID].Person]++
	}
	bare, bareAlone := 0, 0
	for i, p := range profs {
		if len(p.Contacts) == 0 && len(p.Images) == 0 {
			bare++
			if predSize[pred[ads[i].ID].Person] == 1 {
				bareAlone++
			}
		}
	}
	t.Logf("%d adverts with neither contact nor image, %d of them a person alone", bare, bareAlone)
	kinds := map[string]int{}
	examples := map[string][]string{}
	var tps []string
	for tp := range frags {
		tps = append(tps, tp)
	}
	sort.Strings(tps)
	for _, tp := range tps {
		fr := frags[tp]
		if len(fr) < 2 {
			continue
		}
		var keys []string
		for k := range fr {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return len(fr[keys[i]]) > len(fr[keys[j]]) || len(fr[keys[i]]) == len(fr[keys[j]]) && keys[i] < keys[j]
		})
		// every fragment but the largest: its closest pair to the others
		for _, k := range keys[1:] {
			best, bestRank, ex := "", 99, ""
			for _, i := range fr[k] {
				for _, k2 := range keys {
					if k2 == k {
						continue
					}
					for _, j := range fr[k2] {
						kind, rank := splitKind(profs[i], profs[j])
						if rank < bestRank {
							best, bestRank = kind, rank
							ex = fmt.Sprintf("%s %q / %s %q", ads[i].ID, ads[i].Name, ads[j].ID, ads[j].Name)
							if rank == 1 {
								ex += stockOwners(profs, ads, truth, i)
							}
						}
					}
				}
			}
			kinds[best]++
			if len(examples[best]) < 4 {
				examples[best] = append(examples[best], tp+": "+ex)
			}
		}
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return kinds[ks[i]] > kinds[ks[j]] })
	for _, k := range ks {
		t.Logf("%4d  %s", kinds[k], k)
		for _, e := range examples[k] {
			t.Logf("        %s", e)
		}
	}
}

// splitKind names the closest evidence between two adverts of one person
// that the rules did not link, with a rank (lower is closer).
func splitKind(a, b *cluster.Profile) (string, int) {
	contact := cluster.SharedContact(a.Contacts, b.Contacts) != ""
	agree := cluster.NamesAgree(a.Name, b.Name)
	img, stock := 99, false
	for x := range a.Images {
		for y := range b.Images {
			d, _ := cluster.RobustDistance(&a.Images[x], &b.Images[y])
			if d < img {
				img = d
				stock = a.Images[x].Stock != "" || b.Images[y].Stock != ""
			}
		}
	}
	near, tpl := false, false
	if a.Text != nil && b.Text != nil {
		_, near = textsig.Near(&a.Text.Sig, &b.Text.Sig, 0.7)
		tpl = a.Text.Template || b.Text.Template
	}
	switch {
	case img <= 10 && stock:
		return "same photo (≤10) but stock", 1
	case img <= 10:
		return "photo at 9–10 without a second signal", 2
	case contact && a.Name != "" && b.Name != "" && !agree:
		return "shared contact, names disagree", 3
	case contact && (a.Name == "" || b.Name == ""):
		return "shared contact, one nameless (with photos)", 4
	case contact:
		return "shared contact, other (multi-name contact?)", 5
	case near && tpl && agree:
		return "near text + name, but a template", 6
	case near && !agree:
		return "near text, names disagree/missing", 7
	case img <= 16:
		return "photo at 11–16 only", 8
	case a.Name != "" && agree && len(a.Images) > 0 && len(b.Images) > 0:
		return "same name, different-looking photos, no contact, text not near", 9
	case len(a.Images) == 0 || len(b.Images) == 0:
		return "no shared contact, a side without photos, text not near", 10
	}
	return "nothing shared", 11
}

// TestDiagMerges (SYNTH_SPLITS_DIR, SYNTH_SPLITS_PRED as TestDiagSplits):
// the links (cluster.Compare, marks over the whole corpus) between adverts of
// different true persons, or of different true networks, inside one
// predicted network, by rule.
func TestDiagMerges(t *testing.T) {
	truth, ads, pred, profs := diagCorpus(t)
	byNet := map[string][]int{}
	for i, a := range ads {
		byNet[pred[a.ID].Network] = append(byNet[pred[a.ID].Network], i)
	}
	kinds := map[string]int{}
	examples := map[string][]string{}
	for _, members := range byNet {
		for x, i := range members {
			for _, j := range members[x+1:] {
				ti, tj := truth[ads[i].ID], truth[ads[j].ID]
				if ti.Person == tj.Person {
					continue
				}
				l := cluster.Compare(profs[i], profs[j])
				if l.Scope == "" {
					continue
				}
				kind := l.Scope + "/" + l.Rule
				if l.Scope == cluster.ScopePerson {
					kind += " (different persons)"
				} else if ti.Network != tj.Network {
					kind += " (different networks)"
				} else {
					continue
				}
				kinds[kind]++
				if len(examples[kind]) < 5 {
					examples[kind] = append(examples[kind], fmt.Sprintf("%s %q (%s) / %s %q (%s): %s",
						ads[i].ID, ads[i].Name, ti.Person, ads[j].ID, ads[j].Name, tj.Person, l.Detail))
				}
			}
		}
	}
	for k, n := range kinds {
		t.Logf("%5d  %s", n, k)
		for _, e := range examples[k] {
			t.Logf("        %s", e)
		}
	}
}

// stockOwners describes who posts the stock images of advert i: the true
// persons of the adverts with a matching image, and their names.
func stockOwners(profs []*cluster.Profile, ads []*ad.Ad, truth map[string]eval.Labels, i int) string {
	out := ""
	for x := range profs[i].Images {
		h := &profs[i].Images[x]
		if h.Stock == "" {
			continue
		}
		persons, names := map[string]bool{}, map[string]bool{}
		for j, q := range profs {
			if slices.ContainsFunc(q.Images, func(y cluster.ImageHash) bool { return cluster.ImagesMatch(h, &y) }) {
				persons[truth[ads[j].ID].Person] = true
				names[q.Name] = true
			}
		}
		out += fmt.Sprintf(" [image %d: %d true persons, names %v]", x, len(persons), slices.Sorted(maps.Keys(names)))
	}
	return out
}

// TestDiagTextPairs (SYNTH_SPLITS_DIR): pairs of adverts with
// near-duplicate texts (textsig.Near 0.7), neither a template, by how their
// names relate, counted by truth: would rule (d) gain or lose if it
// accepted a pair where one advert gives no name?
func TestDiagTextPairs(t *testing.T) {
	dir := os.Getenv("SYNTH_SPLITS_DIR")
	if dir == "" {
		t.Skip("SYNTH_SPLITS_DIR=corpus")
	}
	truth := readTruth(t, dir)
	ads := readAds(t, dir)
	profs := profilesOf(t, dir, ads)
	type key struct {
		rel  string
		same bool
	}
	counts := map[key]int{}
	for i, a := range profs {
		if a.Text == nil || a.Text.Template {
			continue
		}
		for j := i + 1; j < len(profs); j++ {
			b := profs[j]
			if b.Text == nil || b.Text.Template {
				continue
			}
			if _, near := textsig.Near(&a.Text.Sig, &b.Text.Sig, 0.7); !near {
				continue
			}
			rel := "names disagree"
			switch {
			case cluster.NamesAgree(a.Name, b.Name):
				rel = "names agree"
			case a.Name == "" && b.Name == "":
				rel = "both nameless"
			case a.Name == "" || b.Name == "":
				rel = "one nameless"
			}
			counts[key{rel, truth[ads[i].ID].Person == truth[ads[j].ID].Person}]++
		}
	}
	for _, rel := range []string{"names agree", "one nameless", "both nameless", "names disagree"} {
		t.Logf("%-15s same person %6d, different persons %6d", rel, counts[key{rel, true}], counts[key{rel, false}])
	}
}
