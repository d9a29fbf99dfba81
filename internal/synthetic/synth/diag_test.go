package synth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"adcensus/dedup/cluster"
	"adcensus/dedup/eval"
	"adcensus/internal/synthetic"
	"adcensus/internal/synthetic/synth"
)

// TestDiagLinks (SYNTH_DIAG=1): which pairwise links join different true
// persons on the default corpus.
func TestDiagLinks(t *testing.T) {
	if os.Getenv("SYNTH_DIAG") == "" {
		t.Skip("SYNTH_DIAG=1")
	}
	// The corpus and fingerprints are cached between runs in SYNTH_DIAG_DIR
	// (default: a folder under the system's temporary directory).
	base := os.Getenv("SYNTH_DIAG_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "adcensus-synth-diag")
	}
	dir := filepath.Join(base, "corpus")
	if _, err := os.Stat(dir); err != nil {
		if _, err := synth.Generate(context.Background(), synth.DefaultOptions(), dir); err != nil {
			t.Fatal(err)
		}
	}
	truth := readTruth(t, dir)
	ads := readAds(t, dir)
	cache := filepath.Join(base, "profiles.json")
	var profs []*cluster.Profile
	if b, err := os.ReadFile(cache); err == nil {
		json.Unmarshal(b, &profs)
	} else {
		profs = fingerprintProfiles(dir, ads, 16)
		b, _ := json.Marshal(profs)
		os.WriteFile(cache, b, 0o644)
	}
	n := len(ads)
	// image neighbourhoods: per ad image, the ads with a matching image
	type key struct{ ad, im int }
	nb := map[key][]int{}
	for i := range n {
		for j := i + 1; j < n; j++ {
			for x := range profs[i].Images {
				for y := range profs[j].Images {
					d, _, _ := cluster.ScaleDistance(&profs[i].Images[x], &profs[j].Images[y])
					if d <= 12 || cluster.ShiftDistance(&profs[i].Images[x], &profs[j].Images[y]) <= 12 {
						nb[key{i, x}] = append(nb[key{i, x}], j)
						nb[key{j, y}] = append(nb[key{j, y}], i)
					}
				}
			}
		}
	}
	for _, cfg := range [][3]int{{10, 3, 3}, {12, 3, 3}, {84, 3, 3}} {
		T, K, KC := cfg[0], cfg[1], cfg[2]
		same := func(a, b *cluster.ImageHash) bool {
			d, _, _ := cluster.ScaleDistance(a, b)
			return d <= T || cluster.ShiftDistance(a, b) <= T
		}
		sameStock := same
		if T == 84 {
			sameStock = func(a, b *cluster.ImageHash) bool {
				d, _, _ := cluster.ScaleDistance(a, b)
				return d <= 12 || cluster.ShiftDistance(a, b) <= 12
			}
		}
		stock := func(i, x int, K int) bool {
			if K == 0 {
				return false
			}
			names, contacts := map[string]bool{}, map[string]bool{}
			for _, a := range append([]int{i}, nb[key{i, x}]...) {
				if a != i && !slices.ContainsFunc(profs[a].Images, func(h cluster.ImageHash) bool { return sameStock(&profs[i].Images[x], &h) }) {
					continue
				}
				if profs[a].Name != "" {
					names[profs[a].Name] = true
				}
				for _, c := range profs[a].Contacts {
					contacts[c] = true
				}
			}
			return len(names) >= K && len(contacts) >= KC
		}
		u, un := synthetic.NewUnionFind(n), synthetic.NewUnionFind(n)
		counts := map[string]int{}
		for i := range n {
			for j := i + 1; j < n; j++ {
				l := cluster.Compare(profs[i], profs[j])
				if l.Scope == "" {
					continue
				}
				if l.Rule == cluster.RuleImage {
					// keep only if some matching image pair is non-stock on both sides
					keep := false
					for x := range profs[i].Images {
						for y := range profs[j].Images {
							if ok := same(&profs[i].Images[x], &profs[j].Images[y]); ok && !stock(i, x, K) && !stock(j, y, K) {
								keep = true
							}
						}
					}
					if !keep {
						l = cluster.Compare(&cluster.Profile{Name: profs[i].Name, Contacts: profs[i].Contacts, Images: []cluster.ImageHash{{PHash: 0}}}, &cluster.Profile{Name: profs[j].Name, Contacts: profs[j].Contacts, Images: []cluster.ImageHash{{PHash: ^uint64(0)}}})
						if l.Scope == "" {
							counts["image-suppressed"]++
							continue
						}
					}
				}
				ti, tj := truth[ads[i].ID], truth[ads[j].ID]
				tag := l.Scope + "/" + l.Rule
				if l.Scope == cluster.ScopePerson {
					if ti.Person != tj.Person {
						tag += " FALSE-person"
						if false && l.Rule == cluster.RuleImage && counts[tag] < 40 {
							info := func(i int) string {
								s := ""
								for x := range profs[i].Images {
									names, contacts := map[string]bool{}, map[string]bool{}
									for _, a := range append([]int{i}, nb[key{i, x}]...) {
										names[profs[a].Name] = true
										for _, c := range profs[a].Contacts {
											contacts[c] = true
										}
									}
									s += fmt.Sprintf("[nb%d n%d c%d]", len(nb[key{i, x}]), len(names), len(contacts))
								}
								return s
							}
							t.Logf("%s %s(%s,%d ads) vs %s(%s) %s | %s %s", l.Detail, profs[i].Name, ti.Person, 0, profs[j].Name, tj.Person, cluster.SharedContact(profs[i].Contacts, profs[j].Contacts), info(i), info(j))
						}
					}
					u.Union(i, j)
				} else if ti.Network != tj.Network {
					tag += " FALSE-network"
				}
				un.Union(i, j)
				counts[tag]++
			}
		}
		pred := map[string]eval.Labels{}
		for i, a := range ads {
			pred[a.ID] = eval.Labels{Person: fmt.Sprint(u.Find(i)), Network: fmt.Sprint(un.Find(i))}
		}
		rep, err := eval.Evaluate(truth, pred)
		if err != nil {
			t.Fatal(err)
		}
		ks := make([]string, 0, len(counts))
		for k := range counts {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			t.Logf("T=%d K=%d KC=%d %-40s %d", T, K, KC, k, counts[k])
		}
		p, nn := rep.Persons, rep.Networks
		t.Logf("T=%d K=%d KC=%d persons %d→%d (%+.1f%%) F1 %.3f P %.3f | networks %d→%d (%+.1f%%) F1 %.3f P %.3f",
			T, K, KC, p.TrueClusters, p.PredClusters, 100*p.RelativeCountError, p.BCubed.F1, p.BCubed.Precision,
			nn.TrueClusters, nn.PredClusters, 100*nn.RelativeCountError, nn.BCubed.F1, nn.BCubed.Precision)
	}
	_ = slices.Sort[[]int]
}
