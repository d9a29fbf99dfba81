package bleve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	blevelib "github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	bolt "go.etcd.io/bbolt"

	"adcensus/index"
)

// ForEachFact calls fn with every advert's count fields from the facts
// bucket (see facts.go), in advert-id order, in one read transaction,
// checking ctx every 4096 adverts; the Doc is reused between calls. It
// stops at and returns the first error of fn.
func (x *Index) ForEachFact(ctx context.Context, fn func(*index.Doc) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return x.db.View(func(tx *bolt.Tx) error {
		var d index.Doc
		n := 0
		return tx.Bucket(bucketFacts).ForEach(func(k, v []byte) error {
			if n++; n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if err := decodeFacts(k, v, &d); err != nil {
				return err
			}
			return fn(&d)
		})
	})
}

// Facts returns the facts of one person or network: the ids of its
// adverts come from an unscored term query on every shard (in parallel),
// then their documents are read from docs.db in one transaction. A
// document whose person or network changed between the two reads is left
// out, so every advert counted belongs to id.
func (x *Index) Facts(ctx context.Context, field, id string) (*index.Facts, error) {
	if field != index.FieldPersonID && field != index.FieldNetworkID {
		return nil, fmt.Errorf("%w: facts of %q: want %s or %s", index.ErrBadQuery, field, index.FieldPersonID, index.FieldNetworkID)
	}
	if id == "" {
		return nil, fmt.Errorf("%w: facts of an empty %s", index.ErrBadQuery, field)
	}
	ids, err := x.idsWith(ctx, field, id)
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	b := index.NewFactsBuilder()
	err = x.db.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(bucketDocs)
		for i, ad := range ids {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			d, err := decodeDoc(docs.Get([]byte(ad)))
			if err != nil {
				return fmt.Errorf("doc %q: %w", ad, err)
			}
			if d == nil {
				continue
			}
			if (field == index.FieldPersonID && d.PersonID == id) || (field == index.FieldNetworkID && d.NetworkID == id) {
				b.Add(d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	return b.Facts(), nil
}

// idsWith returns the ids of the adverts whose keyword field is exactly
// value, sorted; ErrTooBroad when more than index.MaxGroupScan match. The
// search is unscored, so bleve stops at the number of hits asked for (and
// Total is then only what it collected), and allocates for that number
// up front: each shard is asked for idsFirstPass hits, and a shard that
// fills them is asked again for up to MaxGroupScan+1.
func (x *Index) idsWith(ctx context.Context, field, value string) ([]string, error) {
	parts := x.shards.list()
	results := make([]*blevelib.SearchResult, len(parts))
	errs := make([]error, len(parts))
	search := func(i, size int) {
		q := query.NewTermQuery(value)
		q.SetField(field)
		req := blevelib.NewSearchRequestOptions(q, size, 0, false)
		req.Score = "none"
		results[i], errs[i] = parts[i].bi.SearchInContext(ctx, req)
	}
	var wg sync.WaitGroup
	for i := range parts {
		wg.Go(func() { search(i, idsFirstPass) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, r := range results {
		if len(r.Hits) >= idsFirstPass {
			wg.Go(func() { search(i, index.MaxGroupScan+1) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	n := 0
	for _, r := range results {
		n += len(r.Hits)
	}
	if n > index.MaxGroupScan {
		return nil, fmt.Errorf("%w: more than %d adverts have %s %q", index.ErrTooBroad, index.MaxGroupScan, field, value)
	}
	ids := make([]string, 0, n)
	for _, r := range results {
		for _, h := range r.Hits {
			ids = append(ids, h.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// idsFirstPass is the number of hits idsWith first asks each shard for.
const idsFirstPass = 256
