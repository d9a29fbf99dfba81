package bleve_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/index"
)

// shardFixture: adverts over four months, some on the edge of a month in
// Swedish time (23:30 UTC on the last day is the next month there), some
// with only a fetch time, one with no time at all.
func shardFixture() []*ad.Fingerprinted {
	r := rand.New(rand.NewPCG(5, 5))
	stockholm, _ := time.LoadLocation("Europe/Stockholm")
	var fps []*ad.Fingerprinted
	add := func(posted, fetched time.Time) {
		i := len(fps)
		arena := []string{"blomstra", "annonsia"}[i%2]
		fps = append(fps, &ad.Fingerprinted{Ad: ad.Ad{
			ID: fmt.Sprintf("s%03d", i), Arena: arena, City: []string{"Göteborg", "Malmö", "Umeå"}[i%3],
			Title: []string{"Trevlig massage", "Sällskap i stan", "Relaxing massage"}[r.IntN(3)], Body: "Hej och välkommen.",
			PostedAt: posted, FetchedAt: fetched,
		}})
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, stockholm)
	for d := range 120 {
		day := start.AddDate(0, 0, d)
		add(day.Add(time.Duration(r.IntN(24*3600))*time.Second), day.AddDate(0, 0, 1))
	}
	for _, m := range []time.Month{2, 3, 4} {
		edge := time.Date(2026, m, 1, 0, 0, 0, 0, stockholm)
		add(edge, edge.Add(time.Hour))                   // first instant of the month
		add(edge.Add(-time.Nanosecond), edge)            // last instant of the one before
		add(edge.Add(-30*time.Minute).UTC(), edge.UTC()) // 23:30 UTC the day before
	}
	add(time.Time{}, start.AddDate(0, 1, 3)) // fetched only
	add(time.Time{}, time.Time{})            // no time
	return fps
}

// Every query gives what one index of all adverts would: the shards a
// posted_at range cannot match are skipped and the range is dropped where
// it covers the whole month, without changing a result.
func TestShardedSearchMatchesBruteForce(t *testing.T) {
	x := MustOpen(t, "")
	fps := shardFixture()
	MustApply(t, x, fps, nil)
	if got := x.Shards(); !slices.Equal(got, []string{"f2026-02", "p2025-12", "p2026-01", "p2026-02", "p2026-03", "p2026-04", "undated"}) &&
		!slices.Equal(got, []string{"f2026-02", "p2026-01", "p2026-02", "p2026-03", "p2026-04", "undated"}) {
		t.Fatalf("shards=%v", got)
	}
	type rng struct {
		lo, hi         string // RFC 3339 or date; empty: open
		loIncl, hiIncl bool
	}
	ranges := []rng{
		{"2026-02-01", "2026-03-01", true, false},
		{"2026-01-31T23:00:00Z", "2026-03-01", true, false}, // = Feb 1 00:00 Stockholm
		{"2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z", false, true},
		{"2026-02-10", "2026-02-11", true, true},
		{"2026-01-15", "", true, false},
		{"", "2026-03-15", false, false},
		{"2026-02-01", "2026-04-30", true, true},
		{"2027-01-01", "", true, false},
		{"2026-03-01", "2026-03-01", true, true},
	}
	op := func(incl bool, gt string) string {
		if incl {
			return gt + "="
		}
		return gt
	}
	parse := func(s string) time.Time {
		if tm, err := time.Parse(time.RFC3339, s); err == nil {
			return tm
		}
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, r := range ranges {
		for _, extra := range []string{"", "+arena:blomstra", "+massage", "-city:Malmö"} {
			text := extra
			if r.lo != "" {
				text += fmt.Sprintf(` +posted_at:%s"%s"`, op(r.loIncl, ">"), r.lo)
			}
			if r.hi != "" {
				text += fmt.Sprintf(` +posted_at:%s"%s"`, op(r.hiIncl, "<"), r.hi)
			}
			// Brute force over the documents.
			var want []string
			facet := map[string]int{}
			all := MustSearch(t, x, index.Query{Text: extra, Size: index.MaxSize})
			for _, h := range all.Hits {
				d, _, _ := x.Doc(t.Context(), h.ID)
				p := d.PostedAt
				if p.IsZero() {
					continue
				}
				if r.lo != "" {
					lo := parse(r.lo)
					if p.Before(lo) || (!r.loIncl && p.Equal(lo)) {
						continue
					}
				}
				if r.hi != "" {
					hi := parse(r.hi)
					if p.After(hi) || (!r.hiIncl && p.Equal(hi)) {
						continue
					}
				}
				want = append(want, h.ID)
				facet[d.Arena]++
			}
			slices.Sort(want)
			res := MustSearch(t, x, index.Query{Text: text, Size: index.MaxSize, Facets: []string{"arena"}})
			if got := ids(res.Hits); !slices.Equal(got, want) || res.Total != uint64(len(want)) {
				t.Fatalf("%s: total %d hits %v\nwant %v", text, res.Total, got, want)
			}
			got := map[string]int{}
			for _, f := range res.Facets["arena"] {
				got[f.Term] = f.Count
			}
			if fmt.Sprint(got) != fmt.Sprint(facet) {
				t.Fatalf("%s: facets %v, want %v", text, got, facet)
			}
		}
	}
}

// Pages over several shards are a partition of the results in the order
// best score first, then advert id.
func TestShardedPaging(t *testing.T) {
	x := MustOpen(t, "")
	MustApply(t, x, shardFixture(), nil)
	for _, text := range []string{"", "massage", "+massage +arena:blomstra", `+posted_at:>="2026-02-15"`} {
		full := MustSearch(t, x, index.Query{Text: text, Size: index.MaxSize})
		for i := 1; i < len(full.Hits); i++ {
			a, b := full.Hits[i-1], full.Hits[i]
			if a.Score < b.Score || (a.Score == b.Score && a.ID > b.ID) {
				t.Fatalf("%q: hits %d,%d out of order: %v %v", text, i-1, i, a, b)
			}
		}
		var paged []string
		for from := 0; from < len(full.Hits); from += 7 {
			res := MustSearch(t, x, index.Query{Text: text, Size: 7, From: from})
			for _, h := range res.Hits {
				paged = append(paged, h.ID)
			}
		}
		var want []string
		for _, h := range full.Hits {
			want = append(want, h.ID)
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("%q: pages %v\nwant %v", text, paged, want)
		}
	}
}

// An advert whose posted time moves to another month leaves its old shard.
func TestAdvertMovesShard(t *testing.T) {
	x := MustOpen(t, "")
	f := fp("m1", "blomstra", "Hej", "Välkommen.", "Umeå", 30, "2026-02-10")
	MustApply(t, x, []*ad.Fingerprinted{f}, nil)
	moved := fp("m1", "blomstra", "Hej", "Välkommen.", "Umeå", 30, "2026-04-10")
	MustApply(t, x, []*ad.Fingerprinted{moved}, nil)
	if got := MustSearch(t, x, index.Query{Text: "id:m1"}).Total; got != 1 {
		t.Fatalf("advert found %d times, want once", got)
	}
	if got := MustSearch(t, x, index.Query{Text: `+id:m1 +posted_at:<"2026-03-01"`}).Total; got != 0 {
		t.Fatalf("advert still in its old month")
	}
	if got := MustSearch(t, x, index.Query{Text: "+month:2026-04 +id:m1"}).Total; got != 1 {
		t.Fatalf("advert not in its new month")
	}
}
