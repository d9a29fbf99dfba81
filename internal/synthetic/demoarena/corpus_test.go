package demoarena_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corona10/goimagehash"

	"adcensus/internal/synthetic"
	"adcensus/internal/synthetic/demoarena"
	"adcensus/internal/synthetic/photoset"
)

func TestCorpusSizes(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	if c.Persons() < 70 {
		t.Errorf("Persons() = %d, want ≥ 70", c.Persons())
	}
	if c.Ads() < 220 {
		t.Errorf("Ads() = %d, want ≥ 220", c.Ads())
	}
	if got := c.Arenas(); !slices.Equal(got, []string{"blomstra", "nattlinjen"}) {
		t.Errorf("Arenas() = %v", got)
	}
	sum := 0
	for _, a := range c.Arenas() {
		sum += c.ArenaAds(a)
		if c.ArenaAds(a) < 80 || c.ArenaPersons(a) < 40 {
			t.Errorf("arena %s: %d ads by %d persons, want ≥ 80 by ≥ 40", a, c.ArenaAds(a), c.ArenaPersons(a))
		}
		t.Logf("%s: %d ads, %d persons, %d networks", a, c.ArenaAds(a), c.ArenaPersons(a), c.ArenaNetworks(a))
	}
	if sum != c.Ads() || len(c.Truth()) != c.Ads() {
		t.Errorf("per-arena ads sum to %d, Truth has %d rows, Ads() = %d", sum, len(c.Truth()), c.Ads())
	}
	t.Logf("%d persons, %d ads, %d networks, %d spare photos", c.Persons(), c.Ads(), c.Networks(), len(c.Extras))

	adsOf := map[string][]demoarena.Advert{}
	for _, a := range c.Adverts {
		adsOf[a.PersonID] = append(adsOf[a.PersonID], a)
	}
	members := map[string][]demoarena.Person{}
	var noPhotos, changers, reposted, bothArenas, foreign int
	start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var first, last time.Time
	for _, p := range c.People {
		members[p.NetworkID] = append(members[p.NetworkID], p)
		if p.Age < 21 || p.Age > 45 {
			t.Errorf("%s: age %d outside 21–45", p.ID, p.Age)
		}
		if len(p.Photos) > 3 {
			t.Errorf("%s: %d photos, want ≤ 3", p.ID, len(p.Photos))
		}
		if len(p.Photos) == 0 {
			noPhotos++
		}
		if !strings.HasPrefix(p.Phone, "+46") {
			foreign++
		}
		ads := adsOf[p.ID]
		if len(ads) == 0 || len(ads) > 5 {
			t.Errorf("%s: %d adverts, want 1–5", p.ID, len(ads))
		}
		if len(ads) >= 2 {
			reposted++
		}
		arenas := map[string]bool{}
		changed := false
		for _, a := range ads {
			arenas[a.Arena] = true
			if a.Age != p.Age || a.Name != p.Name {
				t.Errorf("%s %s: name/age %s/%d, person has %s/%d", a.Arena, a.Key, a.Name, a.Age, p.Name, p.Age)
			}
			if a.Posted.Before(start) || !a.Posted.Before(end) {
				t.Errorf("%s %s: posted %v, not in 2026", a.Arena, a.Key, a.Posted)
			}
			if first.IsZero() || a.Posted.Before(first) {
				first = a.Posted
			}
			if a.Posted.After(last) {
				last = a.Posted
			}
			if len(p.Photos) > 0 && len(a.Photos) == 0 {
				t.Errorf("%s %s: no photo although %s has photos", a.Arena, a.Key, p.ID)
			}
			if len(p.Photos) == 0 && !slices.Contains(a.Phones, p.Phone) {
				t.Errorf("%s %s: person %s has no photos but the ad lacks the own phone", a.Arena, a.Key, p.ID)
			}
			if p.Agency != "" && !slices.Contains(a.Phones, p.Agency) {
				t.Errorf("%s %s: network member %s without the agency phone", a.Arena, a.Key, p.ID)
			}
			if len(a.Phones) != len(a.Shown) {
				t.Errorf("%s %s: %d phones but %d shown", a.Arena, a.Key, len(a.Phones), len(a.Shown))
			}
			if p.AltPhone != "" && slices.Contains(a.Phones, p.AltPhone) {
				changed = true
				if len(a.Photos) == 0 {
					t.Errorf("%s %s: changed phone without a photo", a.Arena, a.Key)
				}
			}
		}
		if changed {
			changers++
		}
		if len(arenas) == 2 {
			bothArenas++
		}
	}
	if span := last.Sub(first); span < 35*24*time.Hour || span > 50*24*time.Hour {
		t.Errorf("adverts span %v, want about six weeks", span)
	}
	networks := 0
	for id, ms := range members {
		if len(ms) == 1 {
			continue
		}
		networks++
		if len(ms) < 3 || len(ms) > 5 {
			t.Errorf("network %s has %d persons, want 3–5", id, len(ms))
		}
	}
	n := c.Persons()
	for _, chk := range []struct {
		what     string
		got, min int
	}{
		{"networks of several persons", networks, 3},
		{"persons without photos", noPhotos, n / 12},
		{"persons who change phone", changers, n / 12},
		{"persons with reposts", reposted, n * 3 / 4},
		{"persons on both arenas", bothArenas, n / 2},
		{"persons with a foreign phone", foreign, 4},
	} {
		if chk.got < chk.min {
			t.Errorf("%s: %d, want ≥ %d", chk.what, chk.got, chk.min)
		}
	}
	if networks != 3 {
		t.Errorf("%d networks of several persons, want 3", networks)
	}
	if got := len(members); got != c.Networks() {
		t.Errorf("Networks() = %d, persons name %d networks", c.Networks(), got)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := demoarena.Generate(demoarena.DefaultSeed), demoarena.Generate(demoarena.DefaultSeed)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two corpora of the same seed differ")
	}
	if !reflect.DeepEqual(a.Truth(), b.Truth()) {
		t.Fatal("truths of the same seed differ")
	}
	other := demoarena.Generate(demoarena.DefaultSeed + 1)
	if reflect.DeepEqual(a.Truth(), other.Truth()) {
		t.Fatal("another seed gives the same truth")
	}
	for seed := int64(1); seed <= 20; seed++ {
		c := demoarena.Generate(seed)
		if err := checkLinking(c); err != nil {
			t.Errorf("seed %d: %v", seed, err)
		}
	}
}

// checkLinking applies the first-cut de-duplicator's rule to every pair of
// adverts — linked when they share a photo, or a phone and the same name —
// and compares the resulting clusters with the persons of the truth. It
// also checks the networks: persons connected by shared phones.
func checkLinking(c *demoarena.Corpus) error {
	ads := c.Adverts
	truth := map[string]demoarena.TruthRow{}
	for _, r := range c.Truth() {
		truth[r.Arena+"/"+r.Key] = r
	}
	person := func(i int) string { return truth[ads[i].Arena+"/"+ads[i].Key].PersonID }
	network := func(i int) string { return truth[ads[i].Arena+"/"+ads[i].Key].NetworkID }

	uf := synthetic.NewUnionFind(len(ads))
	phoneUF := synthetic.NewUnionFind(len(ads))
	for i := range ads {
		for j := i + 1; j < len(ads); j++ {
			a, b := &ads[i], &ads[j]
			sharePhoto, sharePhone := false, false
			for _, p := range a.Photos {
				sharePhoto = sharePhoto || slices.Contains(b.Photos, p)
			}
			for _, p := range a.Phones {
				sharePhone = sharePhone || slices.Contains(b.Phones, p)
			}
			sameName := strings.EqualFold(strings.TrimSpace(a.Name), strings.TrimSpace(b.Name))
			if sharePhoto && person(i) != person(j) {
				return fmt.Errorf("%s %s and %s %s share a photo but are persons %s and %s", a.Arena, a.Key, b.Arena, b.Key, person(i), person(j))
			}
			if sharePhone && sameName && person(i) != person(j) {
				return fmt.Errorf("%s %s and %s %s share a phone and the name %q but are persons %s and %s", a.Arena, a.Key, b.Arena, b.Key, a.Name, person(i), person(j))
			}
			if sharePhoto || (sharePhone && sameName) {
				uf.Union(i, j)
			}
			if sharePhone || person(i) == person(j) {
				phoneUF.Union(i, j)
			}
		}
	}
	clusterPerson := map[int]string{}
	netOf := map[int]string{}
	for i := range ads {
		root := uf.Find(i)
		if p, ok := clusterPerson[root]; ok && p != person(i) {
			return fmt.Errorf("cluster of %s %s mixes persons %s and %s", ads[i].Arena, ads[i].Key, p, person(i))
		}
		clusterPerson[root] = person(i)
		nroot := phoneUF.Find(i)
		if n, ok := netOf[nroot]; ok && n != network(i) {
			return fmt.Errorf("phones connect networks %s and %s", n, network(i))
		}
		netOf[nroot] = network(i)
	}
	if len(clusterPerson) != c.Persons() {
		return fmt.Errorf("the linking rule finds %d persons, the truth has %d", len(clusterPerson), c.Persons())
	}
	if len(netOf) != c.Networks() {
		return fmt.Errorf("shared phones make %d networks, the truth has %d", len(netOf), c.Networks())
	}
	return nil
}

func TestLinkingInvariant(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	if err := checkLinking(c); err != nil {
		t.Fatal(err)
	}
	// Photos belong to one person each; names within a network differ; some
	// names are shared by unrelated persons (the rule must not merge them).
	owner := map[string]string{}
	names := map[string][]demoarena.Person{}
	for _, p := range c.People {
		for _, ph := range p.Photos {
			if o, ok := owner[ph]; ok {
				t.Errorf("photo %s belongs to %s and %s", ph, o, p.ID)
			}
			owner[ph] = p.ID
		}
		names[strings.ToLower(p.Name)] = append(names[strings.ToLower(p.Name)], p)
	}
	collisions := 0
	for name, ps := range names {
		if len(ps) < 2 {
			continue
		}
		collisions++
		for i := range ps {
			for j := i + 1; j < len(ps); j++ {
				if ps[i].NetworkID == ps[j].NetworkID {
					t.Errorf("persons %s and %s are both %q in network %s", ps[i].ID, ps[j].ID, name, ps[i].NetworkID)
				}
			}
		}
	}
	if collisions == 0 {
		t.Error("no two persons share a name; the corpus should test that names alone do not link")
	}
	for _, a := range c.Adverts {
		for _, ph := range a.Photos {
			if owner[ph] != a.PersonID {
				t.Errorf("%s %s of %s shows photo %s of %s", a.Arena, a.Key, a.PersonID, ph, owner[ph])
			}
		}
	}
}

func phash(t *testing.T, data []byte) *goimagehash.ImageHash {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	h, err := goimagehash.PerceptionHash(img)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPhotosAreDistinct checks that no two photo tiles can be taken for the
// same photo by pHash, and that nattlinjen's re-encoded variant of a tile is
// near its original and far from every other tile.
func TestPhotosAreDistinct(t *testing.T) {
	names := photoset.Names()
	c := demoarena.Generate(demoarena.DefaultSeed)
	used := 0
	for _, p := range c.People {
		used += len(p.Photos)
	}
	if len(names) < used || len(names) < 100 {
		t.Fatalf("%d photos, %d used by persons", len(names), used)
	}
	orig := make([]*goimagehash.ImageHash, len(names))
	vari := make([]*goimagehash.ImageHash, len(names))
	total := 0
	for i, n := range names {
		data, err := photoset.JPEG(n)
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
		orig[i] = phash(t, data)
		v, err := demoarena.VariantJPEG(n)
		if err != nil {
			t.Fatal(err)
		}
		vi, err := jpeg.Decode(bytes.NewReader(v))
		if err != nil {
			t.Fatal(err)
		}
		if b := vi.Bounds(); b.Dx() != 216 || b.Dy() != 162 {
			t.Errorf("variant of %s is %v, want 216×162", n, b.Size())
		}
		vari[i] = phash(t, v)
	}
	if total > 3<<20 {
		t.Errorf("photos take %d bytes, want ≤ 3 MiB", total)
	}
	minPair, maxSelf, minCross := 64, 0, 64
	for i := range names {
		d, _ := orig[i].Distance(vari[i])
		maxSelf = max(maxSelf, d)
		for j := range names {
			if i == j {
				continue
			}
			if j > i {
				d, _ := orig[i].Distance(orig[j])
				if d < 22 {
					t.Errorf("pHash distance of %s and %s is %d, want ≥ 22", names[i], names[j], d)
				}
				minPair = min(minPair, d)
			}
			d, _ := vari[i].Distance(orig[j])
			minCross = min(minCross, d)
		}
	}
	if maxSelf > 6 {
		t.Errorf("a variant is %d bits from its original, want ≤ 6", maxSelf)
	}
	if minCross < 16 {
		t.Errorf("a variant is %d bits from another photo, want ≥ 16", minCross)
	}
	t.Logf("%d photos, %d bytes; pHash: min pair distance %d, variant–original max %d, variant–other min %d", len(names), total, minPair, maxSelf, minCross)
}

// TestDemoCorpusUnchanged pins the corpus `adcensus demo` serves (its
// persons, adverts, unused photos and truth): the demo's printed truth and
// the docs' numbers depend on it, and it draws from the shared vocabulary
// (package synthetic), so a word added there must not change it unnoticed.
func TestDemoCorpusUnchanged(t *testing.T) {
	c := demoarena.Generate(demoarena.DefaultSeed)
	data, err := json.Marshal(struct {
		People  []demoarena.Person
		Adverts []demoarena.Advert
		Extras  []string
		Truth   []demoarena.TruthRow
	}{c.People, c.Adverts, c.Extras, c.Truth()})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	const want = "a406cb751b771e550a35dd03eecb3f7bb2dd94d50e03a5fb2ac191220ab0123d"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("demo corpus digest %s, want %s (%d persons, %d adverts)", got, want, c.Persons(), c.Ads())
	}
}
