package crawler

import (
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// PurgeFrontiers deletes the frontier (the URLs a run queued and fetched)
// of every finished run that ended before cutoff, keeping the run record
// itself (its counts and config hash are provenance). A run still
// "running" keeps its frontier: it is resumed from it. It returns the
// number of frontiers deleted, or with dryRun that would be.
func (s *Store) PurgeFrontiers(cutoff time.Time, dryRun bool) (int, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).ForEach(func(_, v []byte) error {
			var r Run
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.Status != "running" && !r.Ended.IsZero() && r.Ended.Before(cutoff) && tx.Bucket(frontierBucket(r.ID)) != nil {
				ids = append(ids, r.ID)
			}
			return nil
		})
	})
	if err != nil || dryRun || len(ids) == 0 {
		return len(ids), err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if err := tx.DeleteBucket(frontierBucket(id)); err != nil {
				return err
			}
			// The run's census buckets served its run end, published.
			for _, b := range [][]byte{sightedBucket(id), failedBucket(id)} {
				if tx.Bucket(b) == nil {
					continue
				}
				if err := tx.DeleteBucket(b); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return len(ids), err
}
