package crawler

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AdvertPurge is what PurgeAdverts removed (or would, in a dry run).
type AdvertPurge struct {
	// Adverts and URLs are the entries of the buckets "adverts" and
	// "adurls" removed; Stamped the adverts entries written before the
	// last sighting was kept, given the purge's time as their last
	// sighting (so they go one retention period later at the earliest).
	Adverts int `json:"adverts"`
	URLs    int `json:"urls"`
	Stamped int `json:"stamped"`
	// Listings are the entries of "listings" (a listing page's body
	// hash, revisit.go) last committed before the cutoff.
	Listings int `json:"listings"`
	// Runs are the finished runs ended before the cutoff whose census
	// buckets (sighted/RUN, failed/RUN: what built their run end, which
	// is published) were removed.
	Runs int `json:"runs"`
}

// PurgeAdverts forgets the adverts that no run has sighted since cutoff:
// their entry in the bucket "adverts" (last content hash, image
// fingerprints, empty fields) and the entries of "adurls" (advert page
// URL, validators) that point to them or to no remembered advert; and the
// listing pages (bucket "listings") no run has committed since cutoff;
// and the census buckets of finished runs ended before cutoff (their run
// end is published: a run whose end was not is still "running"). Without
// it both buckets keep one entry per advert ever seen. An advert forgotten
// and sighted again later is published as new (docs/CENSUS.md, "Memory
// of adverts"). Entries without a last sighting (written before it was
// kept) are stamped with now, unless dryRun. Checking and deleting happen
// in one transaction, so an advert sighted while the purge runs is kept.
func (s *Store) PurgeAdverts(cutoff, now time.Time, dryRun bool) (AdvertPurge, error) {
	var st AdvertPurge
	if cutoff.IsZero() {
		return st, nil
	}
	fn := func(tx *bolt.Tx) error {
		ab, ub := tx.Bucket(bucketAdverts), tx.Bucket(bucketAdURLs)
		gone := map[string]bool{}
		var stamp [][2][]byte
		if ab != nil {
			err := ab.ForEach(func(k, v []byte) error {
				var m adMemory
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("advert %q: %w", k, err)
				}
				switch {
				case m.Seen == 0:
					m.Seen = now.Unix()
					nv, err := json.Marshal(&m)
					if err != nil {
						return err
					}
					stamp = append(stamp, [2][]byte{append([]byte(nil), k...), nv})
				case time.Unix(m.Seen, 0).Before(cutoff):
					gone[string(k)] = true
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		var urls [][]byte
		if ub != nil {
			err := ub.ForEach(func(k, v []byte) error {
				var um urlMemory
				if err := json.Unmarshal(v, &um); err != nil {
					return fmt.Errorf("advert URL %q: %w", k, err)
				}
				if gone[um.ID] || ab == nil || ab.Get([]byte(um.ID)) == nil {
					urls = append(urls, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		var listings [][]byte
		if lb := tx.Bucket(bucketListings); lb != nil {
			err := lb.ForEach(func(k, v []byte) error {
				var lm listingMemory
				if err := json.Unmarshal(v, &lm); err != nil {
					return fmt.Errorf("listing %q: %w", k, err)
				}
				if time.Unix(lm.Seen, 0).Before(cutoff) {
					listings = append(listings, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		var runs []string
		if rb := tx.Bucket(bucketRuns); rb != nil {
			err := rb.ForEach(func(k, v []byte) error {
				var r Run
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("run %q: %w", k, err)
				}
				if r.Status != "running" && !r.Ended.IsZero() && r.Ended.Before(cutoff) &&
					(tx.Bucket(sightedBucket(r.ID)) != nil || tx.Bucket(failedBucket(r.ID)) != nil) {
					runs = append(runs, r.ID)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		st = AdvertPurge{Adverts: len(gone), URLs: len(urls), Stamped: len(stamp), Listings: len(listings), Runs: len(runs)}
		if dryRun {
			return nil
		}
		for _, id := range runs {
			for _, b := range [][]byte{sightedBucket(id), failedBucket(id)} {
				if tx.Bucket(b) == nil {
					continue
				}
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		}
		for _, k := range listings {
			if err := tx.Bucket(bucketListings).Delete(k); err != nil {
				return err
			}
		}
		for id := range gone {
			if err := ab.Delete([]byte(id)); err != nil {
				return err
			}
		}
		for _, kv := range stamp {
			if err := ab.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		for _, k := range urls {
			if err := ub.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}
	if dryRun {
		return st, s.db.View(fn)
	}
	return st, s.db.Update(fn)
}
