package crawler_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// TestTrustUnchangedListings crawls an arena with revisit.listings: trust
// daily. A re-crawl of the unchanged arena fetches its listing pages only
// and sights every advert from the crawl state (nothing published, the
// run complete). An advert edited without its listing changing is sighted
// as it was (the documented trade-off) until its listing changes: then
// every advert of the changed listing pages is asked for again and the
// edit published. After revisit.refresh the advert pages are asked for
// again even under an unchanged listing.
func TestTrustUnchangedListings(t *testing.T) {
	arena := newCensusArena(t, 6)
	cfg := arena.config(t)
	cfg.Revisit = crawler.Revisit{Listings: crawler.RevisitTrust, Refresh: crawler.Duration(72 * time.Hour)}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	store := mustStore(t, t.TempDir())
	sink := &censusSink{}
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var stats struct{ trusted, notModified, requests int64 }
	var run *crawler.Run
	crawl := func() {
		t.Helper()
		now := day
		r0 := arena.requests.Load()
		c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
			AutoResume: true, RetryBase: time.Millisecond, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		var err2 error
		if run, err2 = c.Run(context.Background()); err2 != nil {
			t.Fatal(err2)
		}
		stats.trusted, stats.notModified, stats.requests = c.Stats.Trusted.Load(), c.Stats.NotModified.Load(), arena.requests.Load()-r0
		day = day.AddDate(0, 0, 1)
	}
	id := func(n int) string { return ad.ContentID("census", fmt.Sprint(n)) }

	crawl() // day 0: every page fetched, the listings' hashes kept
	ads, sightings, end := sink.take()
	if len(ads) != 6 || len(sightings) != 6 || !end.Complete || stats.trusted != 0 {
		t.Fatalf("first crawl: %d adverts, %d sightings, %d trusted, end %+v", len(ads), len(sightings), stats.trusted, end)
	}
	firstHash := map[string]string{}
	for _, sg := range sightings {
		firstHash[sg.AdID] = sg.Hash
	}

	crawl() // day 1: unchanged
	ads, sightings, end = sink.take()
	if len(ads) != 0 || len(sightings) != 6 || !end.Complete || end.Sighted != 6 || stats.trusted != 6 || stats.notModified != 0 {
		t.Fatalf("unchanged crawl: %d published, %d sightings, %d trusted, %d answered 304, end %+v; want 0, 6, 6, 0, complete",
			len(ads), len(sightings), stats.trusted, stats.notModified, end)
	}
	if run.Trusted != 6 || run.NotModified != 0 || run.Ads != 6 {
		t.Errorf("unchanged crawl's run record: %d trusted, %d not modified, %d adverts; want 6, 0, 6", run.Trusted, run.NotModified, run.Ads)
	}
	if stats.requests != 3 {
		t.Errorf("unchanged crawl made %d requests, want 3: robots.txt and the 2 listing pages", stats.requests)
	}
	for _, sg := range sightings {
		if sg.Changed || sg.Hash != firstHash[sg.AdID] || sg.Run != end.Run {
			t.Errorf("trusted sighting %+v: want unchanged, the first hash, this run", sg)
		}
	}

	// Day 2: advert 2 edited, its listing unchanged: sighted as it was.
	arena.edit(func(text map[int]string, _ map[string]bool) { text[2] = "Ny text för annons två." })
	crawl()
	ads, sightings, _ = sink.take()
	if len(ads) != 0 || len(sightings) != 6 || stats.trusted != 6 {
		t.Fatalf("crawl after an edit under an unchanged listing: %d published, %d sightings, %d trusted; want 0, 6, 6", len(ads), len(sightings), stats.trusted)
	}

	// Day 3: advert 6 removed, so listing page 2 changes (page 1 does
	// not): adverts 4 and 5 are asked for again, 1–3 are trusted — the
	// edit of advert 2 stays unseen until page 1 changes or the refresh.
	arena.edit(func(text map[int]string, _ map[string]bool) { delete(text, 6) })
	crawl()
	ads, sightings, end = sink.take()
	if len(ads) != 0 || len(sightings) != 5 || stats.trusted != 3 || stats.notModified != 2 || !end.Complete {
		t.Fatalf("crawl after a listing changed: %d published, %d sightings, %d trusted, %d answered 304, end %+v; want 0, 5, 3, 2, complete",
			len(ads), len(sightings), stats.trusted, stats.notModified, end)
	}
	if run.Trusted != 3 || run.NotModified != 2 {
		t.Errorf("run record: %d trusted, %d not modified; want 3 and 2", run.Trusted, run.NotModified)
	}

	// Day 4: advert 2's page was last fetched on day 0, more than
	// revisit.refresh (72h) ago: asked for again, its edit published.
	// Adverts 4 and 5 (fetched on day 3) are still trusted.
	crawl()
	ads, sightings, end = sink.take()
	if len(ads) != 1 || ads[0].ID != id(2) || len(ads[0].Version) != 12 || len(sightings) != 5 || stats.trusted != 2 || !end.Complete {
		t.Fatalf("crawl after the refresh: published %v, %d sightings, %d trusted; want advert 2 with a version, 5, 2", ads, len(sightings), stats.trusted)
	}
}

// A bad revisit section is a config error naming the field.
func TestRevisitConfigErrors(t *testing.T) {
	base := `
name: r
start_urls: [http://127.0.0.1/list]
listing: {match: '^/list$', links: a}
detail:
  match: '^/ad/(\d+)$'
  fields: {title: {selector: h1}}
`
	for _, tc := range []struct{ extra, want string }{
		{"revisit: {listings: sometimes}\n", "revisit.listings"},
		{"revisit: {listings: trust, refresh: 1m}\n", "revisit.refresh"},
		{"revisit: {listings: trust}\ndetail_links_placeholder", "revisit.listings"},
	} {
		yml := base + tc.extra
		if strings.Contains(yml, "detail_links_placeholder") {
			yml = strings.Replace(base, "  fields:", "  links: a.more\n  fields:", 1) + "revisit: {listings: trust}\n"
		}
		_, err := crawler.ParseArena("r.yaml", []byte(yml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err %v, want one naming %s", tc.extra, err, tc.want)
		}
	}
	cfg, err := crawler.ParseArena("r.yaml", []byte(base+"revisit: {listings: trust, refresh: 48h}\n"))
	if err != nil || cfg.Revisit.Listings != crawler.RevisitTrust || time.Duration(cfg.Revisit.Refresh) != 48*time.Hour {
		t.Fatalf("good revisit section: %+v, %v", cfg, err)
	}
}

// cancellingSink cancels the crawl after n sightings.
type cancellingSink struct {
	*censusSink
	n      atomic.Int64
	after  int64
	cancel context.CancelFunc
}

func (s *cancellingSink) PublishSightingAsync(ctx context.Context, sg *ad.Sighting, done func(error)) error {
	if s.n.Add(1) == s.after {
		s.cancel()
	}
	return s.censusSink.PublishSightingAsync(ctx, sg, done)
}

// A re-crawl under revisit.listings: trust interrupted part way and
// resumed ends as one uninterrupted: the run sights every advert (once in
// its run end), complete, nothing published, no advert page asked for.
func TestTrustedRecrawlInterruptedAndResumed(t *testing.T) {
	arena := newCensusArena(t, 30)
	cfg := arena.config(t)
	cfg.Revisit.Listings = crawler.RevisitTrust
	store := mustStore(t, t.TempDir())
	sink := &censusSink{}
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	crawl := func(ctx context.Context, s crawler.Sink) (*crawler.Run, error) {
		t.Helper()
		now := day
		c, err := crawler.New(cfg, crawler.Options{Store: store, Sink: s, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
			AutoResume: true, RetryBase: time.Millisecond, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return c.Run(ctx)
	}
	if _, err := crawl(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	sink.take()
	day = day.AddDate(0, 0, 1)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r0 := arena.adPages.Load()
	if _, err := crawl(ctx, &cancellingSink{censusSink: sink, after: 8, cancel: cancel}); err == nil {
		t.Fatal("the interrupted re-crawl ended without an error")
	}
	_, first, _ := sink.take()
	run, err := crawl(context.Background(), sink)
	if err != nil {
		t.Fatal(err)
	}
	ads, second, end := sink.take()
	ids := map[string]bool{}
	for _, sg := range append(first, second...) {
		if sg.Run != run.ID || sg.Changed {
			t.Errorf("sighting %+v: want unchanged, of the resumed run %s", sg, run.ID)
		}
		ids[sg.AdID] = true
	}
	if len(first) == 0 || len(first) >= 30 || len(ids) != 30 || len(ads) != 0 {
		t.Fatalf("interrupted %d sightings, resumed %d; %d adverts sighted, %d published; want part, the rest, 30, 0", len(first), len(second), len(ids), len(ads))
	}
	if !end.Complete || end.Sighted != 30 || end.Changed != 0 || end.Run != run.ID {
		t.Fatalf("run end %+v: want run %s complete with 30 sighted", end, run.ID)
	}
	if n := arena.adPages.Load() - r0; n != 0 {
		t.Errorf("interrupted and resumed re-crawl asked for %d advert pages, want none", n)
	}
}
