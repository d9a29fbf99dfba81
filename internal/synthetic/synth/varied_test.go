package synth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adcensus/dedup"
	"adcensus/internal/contact"
	"adcensus/internal/synthetic/synth"
)

// corpusDigest is the sha256 of the ads.jsonl and truth.csv of the corpus
// o generates (the image files are named by hashes of seed and number,
// checked by TestDeterministic).
func corpusDigest(t *testing.T, o synth.Options) string {
	t.Helper()
	dir, _ := MustGenerate(t, o)
	h := sha256.New()
	for _, name := range []string{synth.AdsFile, synth.TruthFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDefaultStyleUnchanged pins the default corpus: the varied style must
// not change a byte of it.
func TestDefaultStyleUnchanged(t *testing.T) {
	const want = "2270792a143b23690b6555050f586fe977373ce2b967c2ea0246b81a6f585235"
	if got := corpusDigest(t, tinyOptions(11)); got != want {
		t.Fatalf("default corpus digest %s, want %s", got, want)
	}
}

// TestVariedStyleUnchanged pins the varied corpus as
// TestDefaultStyleUnchanged pins the default one: both draw from the
// fixtures' shared vocabulary (package synthetic).
func TestVariedStyleUnchanged(t *testing.T) {
	o := tinyOptions(11)
	o.Style = synth.StyleVaried
	const want = "ae38ee3361021e0aea595670d779f100f5f096e2533c727a08394338c341cc9e"
	if got := corpusDigest(t, o); got != want {
		t.Fatalf("varied corpus digest %s, want %s", got, want)
	}
}

// TestVariedStyle checks the varied style: deterministic, different from
// the default, with what it promises (nameless adverts, names in
// capitals or with emoji, touring numbers), and the truth's meaning
// kept: no number is shown by two persons of different networks.
func TestVariedStyle(t *testing.T) {
	o := smallOptions(3)
	o.Style = synth.StyleVaried
	a, st := MustGenerate(t, o)
	o.Workers = 1
	b, _ := MustGenerate(t, o)
	for _, name := range []string{synth.AdsFile, synth.TruthFile} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if len(x) == 0 || !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two runs", name)
		}
	}
	d, _ := MustGenerate(t, smallOptions(3))
	x, _ := os.ReadFile(filepath.Join(a, synth.AdsFile))
	y, _ := os.ReadFile(filepath.Join(d, synth.AdsFile))
	if bytes.Equal(x, y) {
		t.Fatal("the varied style wrote the default corpus")
	}
	ads := readAds(t, a)
	truth := readTruth(t, a)
	if len(ads) != st.Ads || len(truth) != st.Ads {
		t.Fatalf("%d adverts, %d truth rows, stats say %d", len(ads), len(truth), st.Ads)
	}
	var nameless, shouted, decorated int
	netOf := map[string]string{} // number → network
	for _, ad := range ads {
		switch {
		case ad.Name == "":
			nameless++
		case ad.Name == strings.ToUpper(ad.Name) && ad.Name != strings.ToLower(ad.Name):
			shouted++
		}
		if ad.Name != "" && dedup.NormaliseName(ad.Name) != strings.ToLower(strings.Trim(ad.Name, " *~")) {
			decorated++
		}
		for _, raw := range ad.Phones {
			e, ok := contact.NormalisePhone(raw)
			if !ok {
				continue
			}
			nw := truth[ad.ID].Network
			if prev, ok := netOf[e]; ok && prev != nw {
				t.Errorf("a number is shown by networks %s and %s", prev, nw)
			}
			netOf[e] = nw
		}
	}
	if nameless == 0 || shouted == 0 || decorated == 0 {
		t.Errorf("nameless %d, capitals %d, decorated %d adverts: want some of each", nameless, shouted, decorated)
	}
	if o := (synth.Options{Style: "other"}); o.Validate() == nil {
		t.Error("Validate accepted an unknown style")
	}
}
