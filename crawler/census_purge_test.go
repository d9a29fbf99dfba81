package crawler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/ad"
	"adcensus/crawler"
	"adcensus/internal/contact"
)

// TestPurgeAdvertsForgetsAdvertsNotSighted crawls an arena, removes two
// adverts and crawls again a week later: a purge with a cutoff between the
// two crawls forgets the two (their "adverts" and "adurls" entries in
// crawl.db), keeps the others, gives an entry written before the last
// sighting was kept the purge's time, and a dry run reports the same and
// changes nothing. An advert forgotten and back is published again as
// new, the others are still asked conditionally.
func TestPurgeAdvertsForgetsAdvertsNotSighted(t *testing.T) {
	arena := newCensusArena(t, 6)
	path := filepath.Join(t.TempDir(), "crawl.db")
	open := func() *crawler.Store {
		t.Helper()
		s, err := crawler.OpenStore(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	store := open()
	defer func() { store.Close() }()
	sink := &censusSink{}
	day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var notModified int64
	crawl := func(at time.Time) {
		t.Helper()
		c, err := crawler.New(arena.config(t), crawler.Options{Store: store, Sink: sink, Pseudo: contact.New(bytes.Repeat([]byte{7}, 32)),
			AutoResume: true, RetryBase: time.Millisecond, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		notModified = c.Stats.NotModified.Load()
	}
	id := func(n int) string { return ad.ContentID("census", fmt.Sprint(n)) }
	crawl(day)
	saved := map[int]string{}
	arena.edit(func(text map[int]string, _ map[string]bool) {
		saved[5], saved[6] = text[5], text[6]
		delete(text, 5)
		delete(text, 6)
	})
	crawl(day.AddDate(0, 0, 7))
	sink.take()

	// Make advert 1's entry one written before the last sighting was kept.
	store.Close()
	raw := func(fn func(tx *bolt.Tx) error) {
		t.Helper()
		db, err := bolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(fn); err != nil {
			t.Fatal(err)
		}
	}
	entries := func() (adverts, urls map[string]map[string]any) {
		t.Helper()
		adverts, urls = map[string]map[string]any{}, map[string]map[string]any{}
		for name, dst := range map[string]map[string]map[string]any{"adverts": adverts, "adurls": urls} {
			raw(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
					var m map[string]any
					if err := json.Unmarshal(v, &m); err != nil {
						return err
					}
					dst[string(k)] = m
					return nil
				})
			})
		}
		return adverts, urls
	}
	adverts, urls := entries()
	if len(adverts) != 6 || len(urls) != 6 {
		t.Fatalf("before the purge: %d adverts, %d advert URLs remembered; want 6 and 6", len(adverts), len(urls))
	}
	if got, want := adverts[id(5)]["t"], float64(day.Unix()); got != want {
		t.Errorf("advert 5 last sighted %v, want the first crawl's %v", got, want)
	}
	raw(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("adverts"))
		var m map[string]any
		if err := json.Unmarshal(b.Get([]byte(id(1))), &m); err != nil {
			return err
		}
		delete(m, "t")
		v, _ := json.Marshal(m)
		return b.Put([]byte(id(1)), v)
	})
	store = open()

	cutoff, now := day.AddDate(0, 0, 3), day.AddDate(0, 0, 8)
	// Also the census buckets of the first run (ended before the cutoff).
	want := crawler.AdvertPurge{Adverts: 2, URLs: 2, Stamped: 1, Runs: 1}
	got, err := store.PurgeAdverts(cutoff, now, true)
	if err != nil || got != want {
		t.Fatalf("dry run: %+v, %v; want %+v", got, err, want)
	}
	if got, err = store.PurgeAdverts(cutoff, now, false); err != nil || got != want {
		t.Fatalf("purge: %+v, %v; want %+v (the dry run must change nothing)", got, err, want)
	}
	if got, err = store.PurgeAdverts(cutoff, now, false); err != nil || got != (crawler.AdvertPurge{}) {
		t.Fatalf("second purge: %+v, %v; want nothing left to purge", got, err)
	}
	store.Close()
	adverts, urls = entries()
	for _, n := range []int{5, 6} {
		if adverts[id(n)] != nil {
			t.Errorf("advert %d still remembered after the purge", n)
		}
	}
	for u, m := range urls {
		if m["i"] == id(5) || m["i"] == id(6) {
			t.Errorf("URL %s of a forgotten advert still remembered", u)
		}
	}
	if len(adverts) != 4 || len(urls) != 4 {
		t.Errorf("after the purge: %d adverts, %d URLs remembered; want 4 and 4", len(adverts), len(urls))
	}
	if got, want := adverts[id(1)]["t"], float64(now.Unix()); got != want {
		t.Errorf("advert 1 (no last sighting kept) stamped %v, want the purge's time %v", got, want)
	}
	var sighted []string
	raw(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if strings.HasPrefix(string(name), "sighted/") {
				sighted = append(sighted, string(name))
			}
			return nil
		})
	})
	if len(sighted) != 1 {
		t.Errorf("census buckets of runs left: %v, want the second run's only", sighted)
	}
	store = open()

	// Advert 5 comes back: published again as new; 1–4 asked conditionally.
	arena.edit(func(text map[int]string, _ map[string]bool) { text[5] = saved[5] })
	crawl(day.AddDate(0, 0, 14))
	ads, sightings, end := sink.take()
	if len(ads) != 1 || ads[0].ID != id(5) || ads[0].Version != "" || !end.Complete || len(sightings) != 5 {
		t.Fatalf("crawl after the purge published %v, %d sightings, end %+v; want advert 5 as new, 5 sightings", ads, len(sightings), end)
	}
	if notModified != 4 {
		t.Errorf("crawl after the purge: %d pages answered 304, want 4 (adverts 1–4)", notModified)
	}
}
