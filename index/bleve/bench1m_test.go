package bleve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/sv"
	"github.com/blevesearch/bleve/v2/mapping"

	"adcensus/ad"
	"adcensus/index"
	"adcensus/index/bleve"
)

// The baseline the issue names: bare bleve, one index, an explicit mapping
// with the Swedish analyzer for every text field, keyword fields with
// docvalues, numeric age and datetime fields; batches of 1,000.
func bareMapping() mapping.IndexMapping {
	im := blevelib.NewIndexMapping()
	im.DefaultAnalyzer = sv.AnalyzerName
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	dm := blevelib.NewDocumentStaticMapping()
	for _, f := range index.TextFields() {
		fm := blevelib.NewTextFieldMapping()
		fm.Analyzer, fm.Store, fm.IncludeInAll, fm.IncludeTermVectors = sv.AnalyzerName, false, true, true
		dm.AddFieldMappingsAt(f, fm)
	}
	for _, f := range index.FacetFields() {
		fm := blevelib.NewKeywordFieldMapping()
		fm.Analyzer, fm.Store, fm.DocValues, fm.IncludeInAll = keyword.Name, false, true, false
		dm.AddFieldMappingsAt(f, fm)
	}
	age := blevelib.NewNumericFieldMapping()
	age.Store, age.IncludeInAll = false, false
	dm.AddFieldMappingsAt(index.FieldAge, age)
	for _, f := range []string{index.FieldPostedAt, index.FieldFetchedAt} {
		fm := blevelib.NewDateTimeFieldMapping()
		fm.Store, fm.IncludeInAll = false, false
		dm.AddFieldMappingsAt(f, fm)
	}
	im.DefaultMapping = dm
	return im
}

// bareDocs is what the bare index is given: the same fields as ours, built
// before the clock starts.
func bareDocs(fps []*ad.Fingerprinted, asg []ad.Assignment) []map[string]any {
	out := make([]map[string]any, len(fps))
	for i, fp := range fps {
		d := index.NewDoc(fp)
		d.PersonID, d.NetworkID = asg[i].PersonID, asg[i].NetworkID
		out[i] = bleve.BleveDoc(d)
	}
	return out
}

func bareBatch(bi blevelib.Index, docs []map[string]any) error {
	b := bi.NewBatch()
	for _, d := range docs {
		if err := b.Index(d[index.FieldID].(string), d); err != nil {
			return err
		}
	}
	return bi.Batch(b)
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// BenchmarkIndexThroughput indexes the same synthetic adverts, in batches
// of 1,000, through Index.Apply (documents in bbolt, monthly shards) and
// into bare bleve with an explicit sv mapping, in the same run; it reports
// both rates and their ratio. Each side's time runs until its index is
// closed, so background persisting and merging are counted where they
// belong. ADCENSUS_BENCH_INDEX_N sets the number of
// adverts (default 20,000).
func BenchmarkIndexThroughput(b *testing.B) {
	n := 20_000
	if v := os.Getenv("ADCENSUS_BENCH_INDEX_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	s := newSynth(n, 1)
	type batch struct {
		fps  []*ad.Fingerprinted
		asg  []ad.Assignment
		bare []map[string]any
	}
	var batches []batch
	for {
		fps, asg := s.batch(1000)
		if len(fps) == 0 {
			break
		}
		batches = append(batches, batch{fps, asg, bareDocs(fps, asg)})
	}
	ctx := context.Background()
	var ours, bare time.Duration
	for b.Loop() {
		x, err := bleve.Open(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		for _, bt := range batches {
			if err := x.Apply(ctx, bt.fps, bt.asg); err != nil {
				b.Fatal(err)
			}
		}
		if err := x.Close(); err != nil { // timed: background persisting and merging finish here
			b.Fatal(err)
		}
		ours += time.Since(t0)

		bi, err := blevelib.New(filepath.Join(b.TempDir(), "bare.bleve"), bareMapping())
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		for _, bt := range batches {
			if err := bareBatch(bi, bt.bare); err != nil {
				b.Fatal(err)
			}
		}
		if err := bi.Close(); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(t0)
	}
	total := float64(n * b.N)
	b.ReportMetric(total/ours.Seconds(), "ours_ads/s")
	b.ReportMetric(total/bare.Seconds(), "bare_docs/s")
	b.ReportMetric(bare.Seconds()/ours.Seconds(), "ratio")
}

// The 1,000,000-advert benchmarks build their indexes once into the
// directory ADCENSUS_BENCH_1M names (ours in ours/, bare bleve in
// bare.bleve/, build figures in build.json) and skip without it.
// ADCENSUS_BENCH_N changes the number of adverts (use another directory).

type buildInfo struct {
	Adverts     int     `json:"adverts"`
	OursSeconds float64 `json:"ours_seconds"`
	BareSeconds float64 `json:"bare_seconds"`
	OursBytes   int64   `json:"ours_bytes"`
	OursBleve   int64   `json:"ours_bleve_bytes"`
	BareBytes   int64   `json:"bare_bytes"`
	Shards      int     `json:"shards"`
}

func bench1M(b *testing.B) (dir string, info buildInfo) {
	dir = os.Getenv("ADCENSUS_BENCH_1M")
	if dir == "" {
		b.Skip("set ADCENSUS_BENCH_1M=/some/dir to build (once) and benchmark 1,000,000 adverts")
	}
	n := 1_000_000
	if v := os.Getenv("ADCENSUS_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	infoPath := filepath.Join(dir, "build.json")
	if raw, err := os.ReadFile(infoPath); err == nil {
		if err := json.Unmarshal(raw, &info); err != nil {
			b.Fatal(err)
		}
		if info.Adverts != n {
			b.Fatalf("%s holds %d adverts, want %d: use another directory", dir, info.Adverts, n)
		}
		return dir, info
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	info.Adverts = n
	ctx := context.Background()
	x, err := bleve.Open(filepath.Join(dir, "ours"))
	if err != nil {
		b.Fatal(err)
	}
	bi, err := blevelib.New(filepath.Join(dir, "bare.bleve"), bareMapping())
	if err != nil {
		b.Fatal(err)
	}
	s := newSynth(n, 1)
	var ours, bare time.Duration
	for done := 0; ; {
		fps, asg := s.batch(1000)
		if len(fps) == 0 {
			break
		}
		bd := bareDocs(fps, asg)
		t0 := time.Now()
		if err := x.Apply(ctx, fps, asg); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := bareBatch(bi, bd); err != nil {
			b.Fatal(err)
		}
		ours += t1.Sub(t0)
		bare += time.Since(t1)
		if done += len(fps); done%100_000 == 0 {
			b.Logf("built %d: ours %.0fs, bare %.0fs", done, ours.Seconds(), bare.Seconds())
		}
	}
	info.Shards = len(x.Shards())
	if err := x.Close(); err != nil {
		b.Fatal(err)
	}
	if err := bi.Close(); err != nil {
		b.Fatal(err)
	}
	info.OursSeconds, info.BareSeconds = ours.Seconds(), bare.Seconds()
	info.OursBytes = dirSize(filepath.Join(dir, "ours"))
	info.OursBleve = dirSize(filepath.Join(dir, "ours", bleve.IndexFile))
	info.BareBytes = dirSize(filepath.Join(dir, "bare.bleve"))
	raw, _ := json.MarshalIndent(info, "", "  ")
	if err := os.WriteFile(infoPath, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir, info
}

func reportBuild(b *testing.B, info buildInfo) {
	b.Logf("build: %d adverts; ours %.0f s (%.0f ads/s), %d shards, %.0f MiB (bleve %.0f MiB); bare bleve %.0f s (%.0f docs/s), %.0f MiB",
		info.Adverts, info.OursSeconds, float64(info.Adverts)/info.OursSeconds, info.Shards,
		float64(info.OursBytes)/(1<<20), float64(info.OursBleve)/(1<<20),
		info.BareSeconds, float64(info.Adverts)/info.BareSeconds, float64(info.BareBytes)/(1<<20))
}

var benchWords = []string{"massage", "sällskap", "trevlig", "diskret", "hotell", "kväll", "välkommen", "lugn", "company", "relaxing"}

// queryMix returns n query texts: a word, a posted_at range of 7, 30 or 90
// days starting on a random day of the two years, all required.
func queryMix(n int, withDates bool) []string {
	r := rand.New(rand.NewPCG(42, 1))
	start := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for i := range n {
		w := benchWords[r.IntN(len(benchWords))]
		if !withDates {
			out = append(out, "+"+w)
			continue
		}
		days := []int{7, 30, 90}[i%3]
		from := start.AddDate(0, 0, r.IntN(730-days))
		to := from.AddDate(0, 0, days)
		out = append(out, fmt.Sprintf(`+%s +posted_at:>="%s" +posted_at:<"%s"`, w, from.Format(time.DateOnly), to.Format(time.DateOnly)))
	}
	return out
}

var benchFacets = []string{index.FieldArena, index.FieldRegion, index.FieldWeek}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkFacetedQuery1M measures, on 1,000,000 indexed adverts, the
// latency of a text match + posted_at range + 3 facets (arena, region,
// week) through Index.Search and through bare bleve (one index, same
// documents, same query texts, same facets, default score sort), queries
// alternating between the two, and reports p50/p95/p99 of each and the
// ratio of the p99s. The "all dates" variant drops the date range, so
// every shard is searched.
func BenchmarkFacetedQuery1M(b *testing.B) {
	dir, info := bench1M(b)
	reportBuild(b, info)
	x, err := bleve.Open(filepath.Join(dir, "ours"))
	if err != nil {
		b.Fatal(err)
	}
	defer x.Close()
	bi, err := blevelib.Open(filepath.Join(dir, "bare.bleve"))
	if err != nil {
		b.Fatal(err)
	}
	defer bi.Close()
	ctx := context.Background()
	for _, variant := range []struct {
		name  string
		dates bool
	}{{"date_range", true}, {"all_dates", false}} {
		b.Run(variant.name, func(b *testing.B) {
			mix := queryMix(300, variant.dates)
			run := func(text string) (ours, bare time.Duration, oursTotal, bareTotal uint64) {
				t0 := time.Now()
				res, err := x.Search(ctx, index.Query{Text: text, Facets: benchFacets})
				if err != nil {
					b.Fatal(err)
				}
				ours = time.Since(t0)
				req := blevelib.NewSearchRequest(blevelib.NewQueryStringQuery(text))
				for _, f := range benchFacets {
					req.AddFacet(f, blevelib.NewFacetRequest(f, index.DefaultFacetSize))
				}
				t0 = time.Now()
				bres, err := bi.SearchInContext(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				bare = time.Since(t0)
				return ours, bare, res.Total, bres.Total
			}
			for _, text := range mix[:20] { // warm up caches
				run(text)
			}
			var ours, bare []time.Duration
			// Totals differ only where the bare sv analyzer stems an English
			// advert's word differently from ours (en); counted, not fatal.
			var hits, differ int
			for b.Loop() {
				for _, text := range mix {
					o, bb, ot, bt := run(text)
					if ot != bt {
						differ++
					}
					ours, bare, hits = append(ours, o), append(bare, bb), hits+int(ot)
				}
			}
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(percentile(ours, .5)), "ours_p50_ms")
			b.ReportMetric(ms(percentile(ours, .95)), "ours_p95_ms")
			b.ReportMetric(ms(percentile(ours, .99)), "ours_p99_ms")
			b.ReportMetric(ms(percentile(bare, .5)), "bare_p50_ms")
			b.ReportMetric(ms(percentile(bare, .95)), "bare_p95_ms")
			b.ReportMetric(ms(percentile(bare, .99)), "bare_p99_ms")
			b.ReportMetric(ms(percentile(bare, .99))/ms(percentile(ours, .99)), "p99_ratio")
			b.ReportMetric(float64(hits)/float64(len(ours)), "hits/query")
			b.ReportMetric(float64(differ), "totals_differ")
		})
	}
}

// BenchmarkCounts1M exports counts by arena × week × region (min cell 5,
// with secondary suppression) from the 1,000,000-advert index, CSV
// written to io.Discard.
func BenchmarkCounts1M(b *testing.B) {
	x := ours1M(b)
	by := []string{index.DimArena, index.DimWeek, index.DimRegion}
	var rows []index.CountRow
	var err error
	for b.Loop() {
		rows, err = x.Counts(context.Background(), by, index.CountOptions{MinCell: 5})
		if err != nil {
			b.Fatal(err)
		}
		if err := index.WriteCountsCSV(io.Discard, by, rows); err != nil {
			b.Fatal(err)
		}
	}
	sup := 0
	for _, r := range rows {
		if r.Suppressed {
			sup++
		}
	}
	b.ReportMetric(float64(len(rows)), "rows")
	b.ReportMetric(float64(sup), "suppressed")
}
