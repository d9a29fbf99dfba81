package dedup_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup"
	"adcensus/dedup/eval"
	"adcensus/internal/contact"
	"adcensus/internal/synthetic/synth"
)

func TestTextSentences(t *testing.T) {
	got := dedup.TextSentences("HEJ och välkommen till GO\u0308TEBORG! Pris 1.500 kr, 2 tim.\nRing [tel] eller mejla [email]; snap: [handle]… Straße ÅÄÖ")
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
	if got := dedup.TextSentences(" .,!? [tel] "); got != nil {
		t.Fatalf("no words: %q", got)
	}
}

const textA = "Hej och välkommen till en lugn stund i centrala Göteborg. Jag finns här hela veckan och svarar på sms. " +
	"Trevlig och glad tjej som gillar god mat och långa promenader. Boka gärna i förväg, inga dolda nummer."

func TestTextMinHash(t *testing.T) {
	a, ok := dedup.TextMinHash(textA)
	if !ok {
		t.Fatal("no signature")
	}
	// The Unicode form, case, placeholders and the order of sentences do not
	// matter.
	reordered := "Boka gärna i förväg, inga dolda nummer. TREVLIG och glad tjej som gillar god mat och långa promenader. " +
		"Hej och välkommen till en lugn stund i centrala Go\u0308teborg. Jag finns här hela veckan och svarar på sms [tel]."
	if b, _ := dedup.TextMinHash(reordered); b != a {
		t.Fatalf("reordered text: jaccard %.2f, want identical signatures", a.Jaccard(&b))
	}
	edited, _ := dedup.TextMinHash(strings.Replace(textA, "långa promenader", "korta promenader", 1) + " Nya bilder!")
	other, _ := dedup.TextMinHash("Trevlig massage i Malmö med olja och varma handdukar. Boka gärna via mejl, jag svarar snabbt.")
	if j := a.Jaccard(&edited); j < 0.6 || j > 0.95 {
		t.Fatalf("one-word edit: jaccard %.2f, want 0.6–0.95", j)
	}
	if j := a.Jaccard(&other); j > 0.1 {
		t.Fatalf("unrelated texts: jaccard %.2f", j)
	}
	if _, ok := dedup.TextMinHash(" ,.! [tel] "); ok {
		t.Fatal("text without words: want ok=false")
	}
	s := a.String()
	if !strings.HasPrefix(s, dedup.MinHashKind+":") || len(s) != len(dedup.MinHashKind)+1+342 {
		t.Fatalf("encoding %q (%d characters)", s, len(s))
	}
	if back, err := dedup.ParseMinHash(s); err != nil || back != a {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "simhash:00ff", dedup.MinHashKind + ":" + strings.Repeat("A", 10), dedup.MinHashKind + ":!!", s + "AA"} {
		if _, err := dedup.ParseMinHash(bad); err == nil {
			t.Errorf("ParseMinHash(%.30q): want an error", bad)
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
			a, _ := dedup.NewMinHash(x)
			b, _ := dedup.NewMinHash(y)
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

// variant is a near-duplicate of base: one sentence of its own added.
func variant(base []string, i int) string {
	return strings.Join(base, " ") + fmt.Sprintf(" Uppdaterad vecka %d.", i+1)
}

var templateText = []string{
	"Välkommen till en lugn och avslappnad stund i centrala stan.",
	"Vi har öppet alla dagar mellan tio och tjugotvå.",
	"Boka gärna i förväg så har vi tid för dig.",
	"Lokalen ligger nära stationen med parkering utanför.",
	"Vi talar svenska, engelska och lite tyska.",
	"Duschen och handdukar finns på plats.",
	"Betalning med kort eller kontant går bra.",
	"Varmt välkommen önskar vi på mottagningen.",
}

var ownText = []string{
	"Hej, jag heter Mira och bor sedan länge i Lund.",
	"Jag gillar långa promenader längs havet på morgonen.",
	"På kvällarna läser jag gärna en god bok med te.",
	"Jag är en lugn och glad person som tycker om musik.",
	"Nya bilder kommer upp i slutet av veckan.",
	"Skicka gärna ett meddelande om du har frågor.",
	"Jag svarar så fort jag kan, oftast samma dag.",
	"Ha en fin dag och tack för att du läste.",
}

type textAd struct {
	id, name, text string
	contacts       []string
}

func addAll(t *testing.T, g *dedup.TextGroups, ads []textAd) {
	t.Helper()
	for _, a := range ads {
		sig, ok := dedup.TextMinHash(a.text)
		if !ok {
			t.Fatalf("%s: no signature", a.id)
		}
		if err := g.Add(a.id, sig, a.name, a.contacts); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTextGroupsTemplates(t *testing.T) {
	ads := []textAd{
		// a template used by four persons with their own names and phones
		{"t1", "anna", variant(templateText, 0), []string{"tel:a"}},
		{"t2", "bea", variant(templateText, 1), []string{"tel:b"}},
		{"t3", "cleo", variant(templateText, 2), []string{"tel:c", "tel:x"}},
		{"t4", "dana", variant(templateText, 3), []string{"tel:d"}},
		// one person reposting her own text with a new phone
		{"m1", "mira", variant(ownText, 4), []string{"tel:m"}},
		{"m2", "mira", variant(ownText, 5), []string{"tel:n"}},
		{"m3", "", variant(ownText, 6), nil},
	}
	var templates []string
	var pairs []string
	for order := range 6 {
		r := rand.New(rand.NewPCG(uint64(order), 9))
		shuffled := slices.Clone(ads)
		if order > 0 {
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		}
		g := dedup.NewTextGroups()
		addAll(t, g, shuffled)
		var tpl, pr []string
		for _, a := range ads {
			if g.Template(a.id) != "" {
				tpl = append(tpl, a.id)
			}
			for _, b := range ads {
				if ok, ev := g.Pair(a.id, b.id); ok && a.id < b.id {
					pr = append(pr, a.id+"-"+b.id+" "+ev)
				}
				if ok1, _ := g.Pair(a.id, b.id); ok1 != func() bool { ok2, _ := g.Pair(b.id, a.id); return ok2 }() {
					t.Fatalf("Pair(%s, %s) is not symmetric", a.id, b.id)
				}
			}
		}
		if order == 0 {
			templates, pairs = tpl, pr
			continue
		}
		if !reflect.DeepEqual(tpl, templates) || !reflect.DeepEqual(pr, pairs) {
			t.Fatalf("order %d: templates %q pairs %q; first order: %q %q", order, tpl, pr, templates, pairs)
		}
	}
	if want := []string{"t1", "t2", "t3", "t4"}; !reflect.DeepEqual(templates, want) {
		t.Fatalf("templates=%q, want %q", templates, want)
	}
	want := []string{"m1-m2 ", "m1-m3 ", "m2-m3 "}
	if len(pairs) != len(want) {
		t.Fatalf("pairs=%q, want the three of m1, m2, m3", pairs)
	}
	for i, p := range pairs {
		if !strings.HasPrefix(p, want[i]+"text jaccard 0.") {
			t.Fatalf("pair %q, want %q + \"text jaccard 0.nn\"", p, want[i])
		}
	}
	g := dedup.NewTextGroups()
	addAll(t, g, ads)
	if ev := g.Template("t1"); !strings.Contains(ev, "3 or more names and 3 or more contacts") {
		t.Fatalf("evidence %q", ev)
	}
	if got := g.Neighbours("t1"); !reflect.DeepEqual(got, []string{"t2", "t3", "t4"}) {
		t.Fatalf("neighbours of t1 = %q", got)
	}
	if err := g.Add("t1", dedup.MinHash{}, "", nil); err == nil {
		t.Fatal("duplicate id: want an error")
	}
	if ok, _ := g.Pair("t1", "nope"); ok || g.Template("nope") != "" || g.Neighbours("nope") != nil {
		t.Fatal("unknown id: want nothing")
	}
}

// With three names but only two contacts the near-duplicates are no
// template; a fourth contact makes them one.
func TestTextGroupsNeedsBothCounts(t *testing.T) {
	ads := []textAd{
		{"a", "anna", variant(templateText, 0), []string{"tel:a"}},
		{"b", "bea", variant(templateText, 1), []string{"tel:a"}},
		{"c", "cleo", variant(templateText, 2), []string{"tel:b"}},
	}
	g := dedup.NewTextGroups()
	addAll(t, g, ads)
	if g.Template("a") != "" {
		t.Fatal("two contacts: want no template")
	}
	if ok, ev := g.Pair("a", "b"); !ok {
		t.Fatalf("a, b not near (%s)", ev)
	}
	addAll(t, g, []textAd{{"d", "anna", variant(templateText, 3), []string{"tel:c"}}})
	for _, id := range []string{"a", "b", "c", "d"} {
		if g.Template(id) == "" {
			t.Fatalf("%s: want a template after the third contact", id)
		}
	}
	if ok, _ := g.Pair("a", "b"); ok {
		t.Fatal("template pair still linked")
	}
}

func TestBoilerplate(t *testing.T) {
	greeting := dedup.SentenceHashes(dedup.TextSentences("Varmt välkommen!"))[0]
	own := dedup.SentenceHashes(dedup.TextSentences("Jag heter Mira."))[0]
	b := dedup.NewBoilerplate()
	for i := range dedup.DefaultBoilerplateContacts - 1 {
		b.Add(fmt.Sprint("ad", i), []uint64{greeting, own}, []string{fmt.Sprint("tel:", i)})
		b.Add(fmt.Sprint("again", i), []uint64{greeting}, []string{fmt.Sprint("tel:", i)})
	}
	if b.Is(greeting) {
		t.Fatalf("greeting with %d contacts is boilerplate", dedup.DefaultBoilerplateContacts-1)
	}
	b.Add("last", []uint64{greeting}, nil) // no contacts: counts as its own
	if !b.Is(greeting) || b.Is(own) {
		t.Fatalf("greeting boilerplate=%v, own=%v", b.Is(greeting), b.Is(own))
	}
	sents := dedup.TextSentences("Varmt välkommen! Jag heter Mira.")
	if got, all := dedup.TextShingles(sents, b.Is), dedup.TextShingles(sents, nil); len(got) != 1 || len(all) != 2 {
		t.Fatalf("shingles without boilerplate %d, all %d", len(got), len(all))
	}
}

// TestTextDiag (TEXT_DIAG=1) measures how much near-duplicate text says
// about persons on the default synthetic corpus: for every pair of adverts
// whose texts are near (NearText) at threshold t, whether they are the same
// true person, with and without the template filter (TextGroups) and with
// boilerplate sentences left out of the signatures. The corpus is cached in
// TEXT_DIAG_DIR (default: a folder under the system's temporary directory).
func TestTextDiag(t *testing.T) {
	if os.Getenv("TEXT_DIAG") == "" {
		t.Skip("TEXT_DIAG=1")
	}
	base := os.Getenv("TEXT_DIAG_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "adcensus-text-diag")
	}
	dir := filepath.Join(base, "corpus")
	if _, err := os.Stat(filepath.Join(dir, synth.TruthFile)); err != nil {
		if _, err := synth.Generate(context.Background(), synth.DefaultOptions(), dir); err != nil {
			t.Fatal(err)
		}
	}
	tf, err := os.Open(filepath.Join(dir, synth.TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	truth, err := eval.ReadAssignments(tf)
	tf.Close()
	if err != nil {
		t.Fatal(err)
	}
	af, err := os.Open(filepath.Join(dir, synth.AdsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	type diagAd struct {
		id, name, city, person, network string
		contacts                        []string
		sents                           [][]string
		raw, clean                      dedup.MinHash
		ok, okClean                     bool
	}
	pseudo := contact.New(make([]byte, contact.KeySize))
	var ads []*diagAd
	for r := ad.NewReader(af); ; {
		a, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pseudo.Apply(a)
		d := &diagAd{id: a.ID, name: dedup.NormaliseName(a.Name), city: a.City, contacts: a.Contacts,
			person: truth[a.ID].Person, network: truth[a.ID].Network}
		d.sents = dedup.TextSentences(a.Title + "\n" + a.Body)
		d.raw, d.ok = dedup.NewMinHash(dedup.TextShingles(d.sents, nil))
		ads = append(ads, d)
	}
	bp := dedup.NewBoilerplate()
	for _, d := range ads {
		bp.Add(d.id, dedup.SentenceHashes(d.sents), d.contacts)
	}
	nBoiler := 0
	for _, d := range ads {
		d.clean, d.okClean = dedup.NewMinHash(dedup.TextShingles(d.sents, bp.Is))
		for _, h := range dedup.SentenceHashes(d.sents) {
			if bp.Is(h) {
				nBoiler++
			}
		}
	}
	persons := map[string]bool{}
	for _, d := range ads {
		persons[d.person] = true
	}
	t.Logf("corpus %s: %d adverts, %d persons; %d advert sentences are boilerplate (seen with ≥ %d contacts)",
		dir, len(ads), len(persons), nBoiler, dedup.DefaultBoilerplateContacts)

	type counts struct{ same, sameNoContact, sameNoContactName, diff, diffNet, sameName, sameNameDiff, sameCity, sameCityDiff int }
	sharesContact := func(a, b *diagAd) bool {
		return slices.ContainsFunc(a.contacts, func(c string) bool { return slices.Contains(b.contacts, c) })
	}
	// same: same-person pairs; new: of those, sharing no contact (what
	// the contact rules cannot link); new+name: and with the same name;
	// diff: different persons; net: of those, in the same true network;
	// +name, +city: pairs that also have the same name / city, same/diff.
	t.Logf("%-4s %-27s %7s %6s %8s %6s %6s %13s %13s", "t", "signature / filter", "same", "new", "new+name", "diff", "net", "+name s/d", "+city s/d")
	for _, th := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		for _, clean := range []bool{false, true} {
			sig := func(d *diagAd) (*dedup.MinHash, bool) {
				if clean {
					return &d.clean, d.okClean
				}
				return &d.raw, d.ok
			}
			g := dedup.NewTextGroups()
			g.Threshold = th
			for _, d := range ads {
				if s, ok := sig(d); ok {
					if err := g.Add(d.id, *s, d.name, d.contacts); err != nil {
						t.Fatal(err)
					}
				}
			}
			var all, filtered counts
			for i, a := range ads {
				sa, okA := sig(a)
				if !okA {
					continue
				}
				for _, b := range ads[i+1:] {
					sb, okB := sig(b)
					if !okB {
						continue
					}
					if _, near := dedup.NearText(sa, sb, th); !near {
						continue
					}
					add := func(c *counts) {
						same := a.person == b.person
						if same {
							c.same++
							if !sharesContact(a, b) {
								c.sameNoContact++
								if a.name != "" && a.name == b.name {
									c.sameNoContactName++
								}
							}
						} else {
							c.diff++
							if a.network == b.network {
								c.diffNet++
							}
						}
						if a.name != "" && a.name == b.name {
							if same {
								c.sameName++
							} else {
								c.sameNameDiff++
							}
						}
						if a.city != "" && a.city == b.city {
							if same {
								c.sameCity++
							} else {
								c.sameCityDiff++
							}
						}
					}
					add(&all)
					if ok, _ := g.Pair(a.id, b.id); ok {
						add(&filtered)
					}
				}
			}
			kind := "raw"
			if clean {
				kind = "no boilerplate"
			}
			for _, row := range []struct {
				name string
				c    counts
			}{{kind + ", all", all}, {kind + ", no template", filtered}} {
				c := row.c
				t.Logf("%-4.2f %-27s %7d %6d %8d %6d %6d %7d/%-5d %7d/%-5d", th, row.name, c.same, c.sameNoContact, c.sameNoContactName, c.diff, c.diffNet,
					c.sameName, c.sameNameDiff, c.sameCity, c.sameCityDiff)
			}
		}
	}
	var sameTotal, sameNoContactTotal, sameNoContactName int
	for i, a := range ads {
		for _, b := range ads[i+1:] {
			if a.person == b.person {
				sameTotal++
				if !sharesContact(a, b) {
					sameNoContactTotal++
					if a.name != "" && a.name == b.name {
						sameNoContactName++
					}
				}
			}
		}
	}
	t.Logf("all same-person pairs: %d; sharing no contact: %d; of those with the same name: %d", sameTotal, sameNoContactTotal, sameNoContactName)
}
