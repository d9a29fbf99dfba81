package cluster_test

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/internal/textsig"
)

// BenchmarkAddBatch adds batches of 1000 synthetic adverts to a growing
// state; ns/op is per batch.
func BenchmarkAddBatch(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			c := MustOpen(b, "")
			b.ReportAllocs()
			round := 0
			for b.Loop() {
				fps := synthetic(n, uint64(round))
				for _, f := range fps {
					f.Ad.ID = fmt.Sprintf("r%05d-%s", round, f.Ad.ID)
				}
				MustAdd(b, c, fps...)
				round++
			}
		})
	}
}

// BenchmarkCluster clusters a whole synthetic corpus (corpus below) into
// an empty state, in batches of clusterBatch adverts, one transaction
// each, as the cluster stage does. Each op is one full run; it reports
// the run's seconds, adverts per second, CPU seconds (user + system, all
// threads; on a busy machine wall time overstates) and the process's peak
// resident memory (VmHWM) and peak heap in use.
//
// The batches are pipelined as a stream of them would be (Begin: batch
// k+1 runs in memory while batch k commits): the corpus is generated,
// untimed, in windows of clusterWindow batches (CLUSTER_WINDOW=n sets it;
// 1 is one AddBatch after another); the time is from a window's first
// Begin until its last batch is durable, summed over the windows.
//
// Sizes: v1 100k, and 1M with CLUSTER_1M=1; robust 20k (each robust image
// is looked up by 28 hashes at radius 10, see docs/BENCHMARKS.md).
// CLUSTER_ADS=10000,30000 sets the sizes of both instead. E.g.
//
//	CLUSTER_1M=1 go test -run '^$' -bench 'Cluster/images=v1/ads=1000000' -benchtime 1x -timeout 30m ./dedup/cluster/
//
// images=v1 carries the pHash and mirror pHash per image (rule (a) v1);
// images=robust also carries the 26 robust hashes (rule (a) v1.1). Both
// carry text signatures (rule (d), templates); images=v1-notext is the
// v1 corpus without them (the same adverts otherwise), for comparison;
// images=v1-scratch is the v1 corpus clustered as `adcensus dedup` does
// it, into a scratch state whose commits are not fsynced (OpenScratch).
func BenchmarkCluster(b *testing.B) {
	v1, robust := []int{100_000}, []int{20_000}
	if os.Getenv("CLUSTER_1M") != "" {
		v1 = append(v1, 1_000_000)
	}
	if s := os.Getenv("CLUSTER_ADS"); s != "" { // e.g. CLUSTER_ADS=10000,30000
		v1 = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n <= 0 {
				b.Fatalf("CLUSTER_ADS: %q is not a positive number", f)
			}
			v1 = append(v1, n)
		}
		robust = v1
	}
	for _, kind := range []string{"v1", "v1-notext", "v1-scratch", "robust"} {
		sizes := v1
		if kind == "robust" {
			sizes = robust
		}
		for _, n := range sizes {
			b.Run(fmt.Sprintf("images=%s/ads=%d", kind, n), func(b *testing.B) {
				for b.Loop() {
					g := newCorpus(n, 1, kind == "robust")
					g.texts = kind != "v1-notext"
					runCluster(b, g, n, kind == "v1-scratch")
				}
			})
		}
	}
}

const clusterBatch = 1000

// clusterWindow is the number of batches generated ahead and pipelined.
const clusterWindow = 25

func runCluster(b *testing.B, g *corpus, n int, scratch bool) {
	b.StopTimer()
	var c *cluster.Cluster
	if scratch {
		var err error
		if c, err = cluster.OpenScratch(filepath.Join(b.TempDir(), "scratch.db")); err != nil {
			b.Fatal(err)
		}
		defer c.Close()
	} else {
		c = MustOpen(b, "")
	}
	window := clusterWindow
	if s := os.Getenv("CLUSTER_WINDOW"); s != "" {
		var err error
		if window, err = strconv.Atoi(s); err != nil || window < 1 {
			b.Fatalf("CLUSTER_WINDOW: %q is not a positive number", s)
		}
	}
	var peakHeap uint64
	var ms runtime.MemStats
	var busy, cpu time.Duration
	for done := 0; done < n; {
		var batches [][]*ad.Fingerprinted
		for k := done; k < n && len(batches) < window; k += clusterBatch {
			batches = append(batches, g.next(min(clusterBatch, n-k)))
		}
		b.StartTimer()
		t0, c0 := time.Now(), cpuTime()
		var prev *cluster.Pending
		for _, fps := range batches {
			p, err := c.Begin(fps)
			if err != nil {
				b.Fatal(err)
			}
			if prev != nil {
				if _, err := prev.Wait(); err != nil {
					b.Fatal(err)
				}
			}
			prev = p
			done += len(fps)
			if done%(20*clusterBatch) == 0 || done == n {
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
		}
		if _, err := prev.Wait(); err != nil {
			b.Fatal(err)
		}
		busy += time.Since(t0)
		cpu += cpuTime() - c0
		b.StopTimer()
	}
	ads, persons, networks, err := c.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if ads != n {
		b.Fatalf("%d adverts in the state, want %d", ads, n)
	}
	b.ReportMetric(busy.Seconds(), "s/run")
	b.ReportMetric(float64(n)/busy.Seconds(), "ads/s")
	b.ReportMetric(cpu.Seconds(), "cpu-s/run")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "peak-RSS-MiB")
	// A digest of every assignment, so runs of different code on the
	// same corpus can be checked for identical results, not only counts.
	sum := sha256.New()
	if err := c.All(func(as ad.Assignment) error {
		fmt.Fprintf(sum, "%s %s %s\n", as.AdID, as.PersonID, as.NetworkID)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	b.Logf("%d adverts (%d true persons, texts %v): %d persons, %d networks, %d stock-photo adverts, assignments sha256 %x", n, g.truePersons, g.texts, persons, networks, g.stockAds, sum.Sum(nil)[:8])
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set size in bytes (Linux), 0
// where unknown.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// corpus generates realistic synthetic fingerprints, advert by advert:
//
//   - advert ids like ad.ContentID's (arena, hash), so in random order;
//   - persons with 1–4 photos each and about 4 adverts on average, posted
//     in random order over the corpus, each advert showing 0–3 of the
//     person's photos, every copy perturbed (a few bits flipped in every
//     hash, as re-encoding, rescaling and watermarks do);
//   - names from a pool of 300, so unrelated persons share names; 8 % of
//     adverts without a name, 2 % blank (phone only);
//   - an own phone per person, a second one for a quarter of them (the
//     person changed phone), an e-mail address on 10 % of adverts, no
//     contact on 3 %;
//   - agencies: 10 % of persons belong to one of n/800 agencies (about 20
//     persons each) whose phone is on 80 % of their adverts;
//   - stock photos: 5 % of adverts add one of 200 stock photos;
//   - texts (unless turned off; their own random stream, so the rest is
//     the same either way): 10 % of adverts without one, 5 % an edited
//     copy of one of 50 web templates, 50 % of an agency person's
//     adverts on the agency phone an edited copy of the agency's text,
//     the rest an edited copy of the person's own text (up to 12 of 128
//     MinHash positions changed).
type corpus struct {
	r           *rand.Rand
	tr          *rand.Rand // texts
	texts       bool
	webTexts    []textsig.MinHash
	agencyTexts map[string]textsig.MinHash
	robust      bool
	persons     []cPerson
	stock       []cPhoto
	names       []string
	seq         int
	truePersons int
	stockAds    int

	// Shapes (shapes_bench_test.go); zero values keep the default shape
	// and its random draws.
	cum      []float64         // cumulative weights of the persons, nil: uniform
	stockPct int               // % of adverts adding a stock photo; 0: 5 %
	webPct   int               // % of adverts with a web template text; 0: 5 %
	logos    map[string]cPhoto // agency phone → its logo, on half its adverts
	sr       *rand.Rand        // the shapes' own draws
}

type cPerson struct {
	name   string
	phones []string
	agency string
	email  string
	photos []cPhoto
	text   textsig.MinHash
}

// cPhoto holds a photo's hashes: pHash, mirror pHash and, for robust
// corpora, the 2×4 centred and 2×9 shifted-window hashes.
type cPhoto []uint64

func newCorpus(n int, seed uint64, robust bool) *corpus {
	r := rand.New(rand.NewPCG(seed, 0xc1))
	g := &corpus{r: r, robust: robust, tr: rand.New(rand.NewPCG(seed, 0x7e)), agencyTexts: map[string]textsig.MinHash{}}
	for range 50 {
		g.webTexts = append(g.webTexts, randSig(g.tr))
	}
	for i := range 300 {
		g.names = append(g.names, fmt.Sprintf("name%03d", i))
	}
	agencies := max(1, n/800)
	np := max(1, n/4)
	g.truePersons = np
	for i := range np {
		p := cPerson{
			name:   g.names[r.IntN(len(g.names))],
			phones: []string{fmt.Sprintf("tel:%016x", r.Uint64())},
		}
		if r.IntN(4) == 0 {
			p.phones = append(p.phones, fmt.Sprintf("tel:%016x", r.Uint64()))
		}
		if r.IntN(10) == 0 {
			p.agency = fmt.Sprintf("tel:a%015x", r.IntN(agencies))
		}
		p.email = fmt.Sprintf("email:%016x", uint64(i)*0x9e3779b97f4a7c15^seed)
		for range 1 + r.IntN(4) {
			p.photos = append(p.photos, g.photo())
		}
		p.text = randSig(g.tr)
		if _, ok := g.agencyTexts[p.agency]; p.agency != "" && !ok {
			g.agencyTexts[p.agency] = randSig(g.tr)
		}
		g.persons = append(g.persons, p)
	}
	for range 200 {
		g.stock = append(g.stock, g.photo())
	}
	return g
}

// balanced returns a random 64-bit hash with 32 bits set, like the DCT
// pHashes (median threshold).
func (g *corpus) balanced() uint64 {
	h := g.r.Uint64()
	for bits.OnesCount64(h) != 32 {
		bit := uint64(1) << g.r.IntN(64)
		if bits.OnesCount64(h) > 32 {
			h &^= bit
		} else {
			h |= bit
		}
	}
	return h
}

func (g *corpus) photo() cPhoto {
	n := 2
	if g.robust {
		n += 2*cluster.NumScales + 2*cluster.NumTiles
	}
	ph := make(cPhoto, n)
	for i := range ph {
		ph[i] = g.balanced()
	}
	return ph
}

// perturb moves up to 2 set bits of h (distance ≤ 4), keeping 32 set.
func (g *corpus) perturb(h uint64) uint64 {
	for range g.r.IntN(3) {
		on, off := g.r.IntN(64), g.r.IntN(64)
		if h>>on&1 == 1 && h>>off&1 == 0 {
			h ^= 1<<on | 1<<off
		}
	}
	return h
}

func (g *corpus) image(ph cPhoto, id string, i int) ad.ImageFP {
	hex := func(hs []uint64) string {
		var sb strings.Builder
		for _, h := range hs {
			fmt.Fprintf(&sb, "%016x", g.perturb(h))
		}
		return sb.String()
	}
	m := map[string]string{"phash": hex(ph[:1]), "phash_mirror": hex(ph[1:2])}
	if g.robust {
		m["phash_centres"] = hex(ph[2 : 2+2*cluster.NumScales])
		m["phash_shifts"] = hex(ph[2+2*cluster.NumScales:])
	}
	return ad.ImageFP{Src: fmt.Sprintf("%s/%d.jpg", id, i), Hashes: m}
}

// text gives advert f of person p a text signature, or none.
func (g *corpus) text(f *ad.Fingerprinted, p *cPerson) {
	tr := g.tr
	base := p.text
	switch x := tr.IntN(100); {
	case x < 10:
		return
	case x < 10+cmp.Or(g.webPct, 5):
		base = g.webTexts[tr.IntN(len(g.webTexts))]
	case x < 65 && p.agency != "" && slices.Contains(f.Contacts, p.agency):
		base = g.agencyTexts[p.agency]
	}
	for range tr.IntN(13) {
		base[tr.IntN(textsig.Size)] = uint16(tr.Uint32())
	}
	f.TextMinHash = base.String()
}

// next returns the next k adverts.
func (g *corpus) next(k int) []*ad.Fingerprinted {
	r := g.r
	out := make([]*ad.Fingerprinted, 0, k)
	for range k {
		var p *cPerson
		if g.cum != nil {
			i, _ := slices.BinarySearch(g.cum, g.sr.Float64()*g.cum[len(g.cum)-1])
			p = &g.persons[min(i, len(g.persons)-1)]
		} else {
			p = &g.persons[r.IntN(len(g.persons))]
		}
		// Like ad.ContentID: arena name and 16 hex digits of a hash.
		id := fmt.Sprintf("arena%d-%016x", r.IntN(4), r.Uint64())
		g.seq++
		f := &ad.Fingerprinted{Ad: ad.Ad{ID: id}, Name: p.name}
		switch x := r.IntN(100); {
		case x < 3: // no contact
		case p.agency != "" && x < 83:
			f.Contacts = []string{p.agency}
		default:
			f.Contacts = []string{p.phones[r.IntN(len(p.phones))]}
		}
		if r.IntN(10) == 0 {
			f.Contacts = append(f.Contacts, p.email)
		}
		if g.texts {
			g.text(f, p)
		}
		if p.agency == "" && len(f.Contacts) > 0 && r.IntN(50) == 0 {
			f.Name = "" // blank: phone only
			out = append(out, f)
			continue
		}
		if r.IntN(100) < 8 {
			f.Name = ""
		}
		nimg := [...]int{0, 1, 1, 1, 1, 1, 2, 2, 2, 3}[r.IntN(10)]
		if nimg == 0 && f.Name == "" {
			nimg = 1
		}
		for i := range nimg {
			f.Images = append(f.Images, g.image(p.photos[r.IntN(len(p.photos))], id, i))
		}
		if g.stockPct == 0 && r.IntN(20) == 0 || g.stockPct > 0 && g.sr.IntN(100) < g.stockPct {
			g.stockAds++
			f.Images = append(f.Images, g.image(g.stock[r.IntN(len(g.stock))], id, nimg))
		}
		if logo, ok := g.logos[p.agency]; ok && g.sr.IntN(2) == 0 {
			f.Images = append(f.Images, g.image(logo, id, len(f.Images)))
		}
		out = append(out, f)
	}
	return out
}
