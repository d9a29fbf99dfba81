package bleve

import (
	"context"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"adcensus/index"
)

// Facts. Counts and Stats need a handful of short fields of every advert;
// decoding each full JSON document (title and body included) would take
// most of an export's time on a million adverts. docs.db therefore keeps a
// second bucket, facts, with those fields of every document, written in
// the same transaction as the document and rebuilt from the documents when
// missing (an older docs.db) or of another version.

var (
	bucketFacts = []byte("facts") // ad id → encodeFacts(doc)
	keyFacts    = []byte("facts_version")
)

// factsVersion changes with the encoding (and with Doc.Dimension's fields).
const factsVersion = "1"

const factsSep = "\x1f" // unit separator: never in a published field value

// encodeFacts writes the fields Counts and Stats read, in a fixed order.
func encodeFacts(d *index.Doc) []byte {
	minor := ""
	if d.PossibleMinor {
		minor = "1"
	}
	return []byte(strings.Join([]string{
		clean(d.Arena), clean(d.Week), clean(d.Month), clean(d.Region), clean(d.City), clean(d.Gender),
		clean(d.PersonID), clean(d.NetworkID), minor,
	}, factsSep))
}

func clean(s string) string { return strings.ReplaceAll(s, factsSep, " ") }

// decodeFacts fills a Doc with id and the fields of encodeFacts.
func decodeFacts(id, v []byte, d *index.Doc) error {
	f := strings.Split(string(v), factsSep)
	if len(f) != 9 {
		return fmt.Errorf("facts of %q: %d fields, want 9", id, len(f))
	}
	*d = index.Doc{
		ID: string(id), Arena: f[0], Week: f[1], Month: f[2], Region: f[3], City: f[4], Gender: f[5],
		PersonID: f[6], NetworkID: f[7], PossibleMinor: f[8] == "1",
	}
	return nil
}

// ensureFacts (re)builds the facts bucket from the documents when it is
// not of factsVersion.
func ensureFacts(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if string(meta.Get(keyFacts)) == factsVersion && tx.Bucket(bucketFacts) != nil {
		return nil
	}
	if tx.Bucket(bucketFacts) != nil {
		if err := tx.DeleteBucket(bucketFacts); err != nil {
			return err
		}
	}
	facts, err := tx.CreateBucket(bucketFacts)
	if err != nil {
		return err
	}
	facts.FillPercent = 0.9
	err = tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
		d, err := decodeDoc(v)
		if err != nil {
			return fmt.Errorf("doc %q: %w", k, err)
		}
		return facts.Put(k, encodeFacts(d))
	})
	if err != nil {
		return fmt.Errorf("build facts: %w", err)
	}
	return meta.Put(keyFacts, []byte(factsVersion))
}

// forEachFact calls fn with every advert's facts (a Doc holding only the
// fields of encodeFacts, reused between calls), in advert-id order
// (ForEachFact without an error from fn).
func (x *Index) forEachFact(ctx context.Context, fn func(*index.Doc)) error {
	return x.ForEachFact(ctx, func(d *index.Doc) error { fn(d); return nil })
}
