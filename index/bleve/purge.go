package bleve

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"adcensus/index"
)

// purgeBatch is the most documents one purge transaction rewrites.
const purgeBatch = 1000

// Purge removes, from every advert observed before a cutoff (its
// fetched_at, else its posted_at; an advert with neither is never purged),
// the data classes whose retention has passed: with TextBefore its text
// (title, body and URL), with ContactsBefore its contact pseudonyms. The
// count fields (arena, dates, place, gender, age, flags, person and
// network) stay, so every count and export is the same afterwards. The
// documents are rewritten in docs.db and re-indexed in their shards, in
// transactions of purgeBatch documents; an interrupted purge is finished
// by the next. With DryRun nothing is written and the stats say what would
// be. See docs/PRIVACY.md.
func (x *Index) Purge(ctx context.Context, o index.PurgeOptions) (index.PurgeStats, error) {
	var st index.PurgeStats
	if o.TextBefore.IsZero() && o.ContactsBefore.IsZero() {
		return st, nil
	}
	var after []byte // resume key: the last id looked at
	for {
		var ids []string
		var docs []*index.Doc
		err := x.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketDocs).Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && string(k) == string(after) {
					k, v = c.Next()
				}
			}
			for ; k != nil && len(ids) < purgeBatch; k, v = c.Next() {
				after = append(after[:0], k...)
				st.Examined++
				d, err := decodeDoc(v)
				if err != nil {
					return fmt.Errorf("doc %q: %w", k, err)
				}
				if purgeDoc(d, o, &st) {
					ids = append(ids, string(k))
					docs = append(docs, d)
				}
			}
			if k == nil {
				after = nil
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("purge: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if len(docs) > 0 && !o.DryRun {
			if err := x.rewrite(ids, docs); err != nil {
				return st, fmt.Errorf("purge: %w", err)
			}
		}
		if after == nil {
			return st, nil
		}
	}
}

// purgeDoc clears the classes of d whose cutoff it is older than and
// counts them; it reports whether d changed.
func purgeDoc(d *index.Doc, o index.PurgeOptions, st *index.PurgeStats) bool {
	seen := d.FetchedAt
	if seen.IsZero() {
		seen = d.PostedAt
	}
	if seen.IsZero() {
		return false
	}
	changed := false
	if before(seen, o.TextBefore) && (d.Title != "" || d.Body != "" || d.URL != "") {
		d.Title, d.Body, d.URL = "", "", ""
		st.Texts++
		changed = true
	}
	if before(seen, o.ContactsBefore) && len(d.Contacts) > 0 {
		d.Contacts = nil
		st.Contacts++
		changed = true
	}
	return changed
}

func before(t, cutoff time.Time) bool { return !cutoff.IsZero() && t.Before(cutoff) }

// rewrite stores docs (whose ids are ids) and re-indexes them, in one
// bbolt transaction and one bleve batch per shard; the bbolt transaction is
// rolled back when a batch fails.
func (x *Index) rewrite(ids []string, docs []*index.Doc) error {
	return x.db.Update(func(tx *bolt.Tx) error {
		b := newBatches(x.shards)
		bucket := tx.Bucket(bucketDocs)
		for i, d := range docs {
			v, err := json.Marshal(d)
			if err != nil {
				return err
			}
			if err := bucket.Put([]byte(ids[i]), v); err != nil {
				return err
			}
			if err := b.index(shardKey(d), ids[i], bleveDoc(d)); err != nil {
				return err
			}
		}
		return b.flush()
	})
}
