package census

import (
	"context"

	"adcensus/index"
)

// restricted is an index whose searches and documents are those of a
// period's adverts (patterns run, search in a period).
type restricted struct {
	index.Store
	ids  []string
	only map[string]bool
}

// Restrict returns st limited to the adverts ids (IDs of a PeriodSource):
// its searches find only them and ForEachDoc lists only them. Other
// methods (counts, persons) are st's own.
func Restrict(st index.Store, ids []string) index.Store {
	only := make(map[string]bool, len(ids))
	for _, id := range ids {
		only[id] = true
	}
	return &restricted{Store: st, ids: ids, only: only}
}

// Search searches the period's adverts only.
func (p *restricted) Search(ctx context.Context, q index.Query) (*index.Result, error) {
	q.Only = p.ids
	return p.Store.Search(ctx, q)
}

// ForEachDoc lists the period's documents only.
func (p *restricted) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	return p.Store.ForEachDoc(ctx, func(d *index.Doc) error {
		if !p.only[d.ID] {
			return nil
		}
		return fn(d)
	})
}

// IDs returns the ids of the adverts of src (ForEachFact), for Restrict.
func IDs(ctx context.Context, src Docs) ([]string, error) {
	ids := []string{}
	err := src.ForEachFact(ctx, func(d *index.Doc) error { ids = append(ids, d.ID); return nil })
	return ids, err
}
