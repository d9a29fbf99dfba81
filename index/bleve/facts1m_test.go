package bleve_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"adcensus/index"
	"adcensus/index/bleve"
	"adcensus/index/overlap"
)

// BenchmarkFactsExport1M runs the facts export (min cell 5, CSV to
// io.Discard) on the 1,000,000-advert index, beside, in the same run, the
// counts export by arena (the same scan of the facts bucket) and the same
// distribution gathered from the full documents (ForEachDoc), which is
// what reading the facts bucket avoids.
func BenchmarkFactsExport1M(b *testing.B) {
	x := ours1M(b)
	ctx := context.Background()
	b.Run("export=facts", func(b *testing.B) {
		b.ReportAllocs()
		var rep *index.FactsReport
		var err error
		for b.Loop() {
			if rep, err = index.ReportFacts(ctx, x, index.FactsOptions{MinCell: 5}); err != nil {
				b.Fatal(err)
			}
			if err := rep.WriteCSV(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(*rep.Tables[0].Rows[len(rep.Tables[0].Rows)-1].Count), "persons")
		b.ReportMetric(float64(*rep.Tables[3].Rows[len(rep.Tables[3].Rows)-1].Count), "networks")
	})
	b.Run("baseline=counts-by-arena", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := x.Counts(ctx, []string{index.DimArena}, index.CountOptions{MinCell: 5})
			if err != nil {
				b.Fatal(err)
			}
			if err := index.WriteCountsCSV(io.Discard, []string{index.DimArena}, rows); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=full-documents", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := index.NewFactsDistribution()
			if err := x.ForEachDoc(ctx, func(d *index.Doc) error { f.Add(d); return nil }); err != nil {
				b.Fatal(err)
			}
			if err := f.Report(index.FactsOptions{MinCell: 5}).WriteCSV(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEntityFacts1M reads one person's and one network's facts (as
// /api/persons/{id} and /api/networks/{id} do) on the 1,000,000-advert
// index, beside the search for the person's first page of adverts that
// the endpoint already ran.
func BenchmarkEntityFacts1M(b *testing.B) {
	x := ours1M(b)
	ctx := context.Background()
	for _, c := range []struct{ name, field, id string }{
		{"person", index.FieldPersonID, "P0100000"},
		{"network", index.FieldNetworkID, "N0033333"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var f *index.Facts
			var err error
			for b.Loop() {
				if f, err = x.Facts(ctx, c.field, c.id); err != nil {
					b.Fatal(err)
				}
			}
			if f.Ads == 0 {
				b.Fatalf("%s %s has no adverts", c.field, c.id)
			}
			b.ReportMetric(float64(f.Ads), "ads")
		})
	}
	b.Run("baseline=person-page-search", func(b *testing.B) {
		for b.Loop() {
			if _, err := x.Search(ctx, index.Query{Text: index.FieldPersonID + `:"P0100000"`, Size: 100}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOverlapExport1M computes the arena overlap (export overlap) on
// the 1,000,000-advert index from the facts bucket, beside the same from
// the full documents (what it did before), in the same run.
func BenchmarkOverlapExport1M(b *testing.B) {
	x := ours1M(b)
	ctx := context.Background()
	b.Run("from=facts", func(b *testing.B) {
		for b.Loop() {
			if _, err := overlap.Compute(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=full-documents", func(b *testing.B) {
		for b.Loop() {
			c := overlap.NewCollector()
			if err := x.ForEachDoc(ctx, func(d *index.Doc) error { c.Add(d); return nil }); err != nil {
				b.Fatal(err)
			}
			c.Overlap()
		}
	})
}

// ours1M opens our index of the 1,000,000-advert benchmark corpus
// (bench1M), closed when the benchmark ends.
func ours1M(b *testing.B) *bleve.Index {
	dir, _ := bench1M(b)
	x, err := bleve.Open(filepath.Join(dir, "ours"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { x.Close() })
	return x
}
