package textsig_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/internal/textsig"
)

func TestTextSentences(t *testing.T) {
	got := textsig.Sentences("HEJ och välkommen till GO\u0308TEBORG! Pris 1.500 kr, 2 tim.\nRing [tel] eller mejla [email]; snap: [handle]… Straße ÅÄÖ")
	want := [][]string{
		{"hej", "och", "välkommen", "till", "göteborg"},
		{"pris", "1", "500", "kr", "2", "tim"},
		{"ring", "eller", "mejla"},
		{"snap"},
		{"strasse", "åäö"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sentences=%q\nwant %q", got, want)
	}
	if got := textsig.Sentences(" .,!? [tel] "); got != nil {
		t.Fatalf("no words: %q", got)
	}
}

const textA = "Hej och välkommen till en lugn stund i centrala Göteborg. Jag finns här hela veckan och svarar på sms. " +
	"Trevlig och glad tjej som gillar god mat och långa promenader. Boka gärna i förväg, inga dolda nummer."

func TestTextMinHash(t *testing.T) {
	a, ok := textsig.Sign(textA)
	if !ok {
		t.Fatal("no signature")
	}
	// The Unicode form, case, placeholders and the order of sentences do not
	// matter.
	reordered := "Boka gärna i förväg, inga dolda nummer. TREVLIG och glad tjej som gillar god mat och långa promenader. " +
		"Hej och välkommen till en lugn stund i centrala Go\u0308teborg. Jag finns här hela veckan och svarar på sms [tel]."
	if b, _ := textsig.Sign(reordered); b != a {
		t.Fatalf("reordered text: jaccard %.2f, want identical signatures", a.Jaccard(&b))
	}
	edited, _ := textsig.Sign(strings.Replace(textA, "långa promenader", "korta promenader", 1) + " Nya bilder!")
	other, _ := textsig.Sign("Trevlig massage i Malmö med olja och varma handdukar. Boka gärna via mejl, jag svarar snabbt.")
	if j := a.Jaccard(&edited); j < 0.6 || j > 0.95 {
		t.Fatalf("one-word edit: jaccard %.2f, want 0.6–0.95", j)
	}
	if j := a.Jaccard(&other); j > 0.1 {
		t.Fatalf("unrelated texts: jaccard %.2f", j)
	}
	if _, ok := textsig.Sign(" ,.! [tel] "); ok {
		t.Fatal("text without words: want ok=false")
	}
	s := a.String()
	if !strings.HasPrefix(s, textsig.Kind+":") || len(s) != len(textsig.Kind)+1+342 {
		t.Fatalf("encoding %q (%d characters)", s, len(s))
	}
	if back, err := textsig.Parse(s); err != nil || back != a {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "simhash:00ff", textsig.Kind + ":" + strings.Repeat("A", 10), textsig.Kind + ":!!", s + "AA"} {
		if _, err := textsig.Parse(bad); err == nil {
			t.Errorf("Parse(%.30q): want an error", bad)
		}
	}
}

// shingleSets returns two sets of n shingles with Jaccard exactly j.
func shingleSets(r *rand.Rand, n int, j float64) ([]uint64, []uint64) {
	// |A∩B| = s, |A| = |B| = n, J = s / (2n − s).
	s := int(math.Round(2 * float64(n) * j / (1 + j)))
	a := make([]uint64, 0, n)
	b := make([]uint64, 0, n)
	for range s {
		x := r.Uint64()
		a, b = append(a, x), append(b, x)
	}
	for len(a) < n {
		a, b = append(a, r.Uint64()), append(b, r.Uint64())
	}
	slices.Sort(a)
	slices.Sort(b)
	return a, b
}

func TestMinHashEstimateAndBands(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		j              float64
		minLSH, maxLSH float64 // share of pairs that are LSH candidates
	}{
		{0.3, 0, 0.02},
		{0.5, 0, 0.15},
		{0.8, 0.88, 1},
		{0.9, 0.99, 1},
	} {
		const pairs = 400
		var sumErr float64
		cand := 0
		for range pairs {
			x, y := shingleSets(r, 60, tt.j)
			a, _ := textsig.New(x)
			b, _ := textsig.New(y)
			sumErr += a.Jaccard(&b) - tt.j
			ka, kb := a.BandKeys(), b.BandKeys()
			for i := range ka {
				if ka[i] == kb[i] {
					cand++
					break
				}
			}
		}
		if bias := sumErr / pairs; math.Abs(bias) > 0.02 {
			t.Errorf("J=%.1f: mean estimate off by %.3f", tt.j, bias)
		}
		if share := float64(cand) / pairs; share < tt.minLSH || share > tt.maxLSH {
			t.Errorf("J=%.1f: %.3f of pairs are LSH candidates, want %.2f–%.2f", tt.j, share, tt.minLSH, tt.maxLSH)
		}
	}
}

func TestTokens(t *testing.T) {
	// "Göteborg" with a combining diaeresis is one word, like the NFC form.
	if got := textsig.Tokens("Ny i Go\u0308teborg, 24 år!"); strings.Join(got, "|") != "ny|i|göteborg|24|år" {
		t.Fatalf("tokens=%q", got)
	}
}
