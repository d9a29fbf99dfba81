// Package overlap answers "which arenas are used, and by how many of the same
// persons": from the indexed adverts it builds, per person, the set of arenas
// they advertised on, and from those sets the number of persons per arena, on
// exactly 1, 2, … arenas, on each pair of arenas, and the capture-history
// table (arenas as lists) from which internal/stats/mse estimates the persons seen on
// no crawled arena. See docs/OVERLAP.md.
//
// A person is index.Doc.Person(): an advert the cluster stage has not yet
// assigned counts as its own person, as in index.Counter.
//
// Exact counts stay inside this package's Go values (Overlap); what is meant
// to leave the program is a Report, in which small cells are suppressed.
//
// Why here and not beside mse in internal/stats: this package is a
// projection of the index, not a statistic of its own. Its input is the
// index's documents, with the index's meaning of a person (Doc.Person) and
// of a missing arena (index.Unknown), read through the index's fact walk;
// and a Report is published under the same disclosure rule as the counts
// (index.SuppressAdditive, which shares the suppressor and its linear
// algebra with index.Counter). Moving it would mean moving that
// suppressor too, or having two homes for one disclosure rule. What is
// pure statistics — the estimate from a capture-history table — is
// internal/stats/mse, which this package feeds (Overlap.Table).
package overlap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"adcensus/index"
	"adcensus/internal/stats/mse"
)

// ErrTooFewArenas is returned by Table and Estimate when fewer than two
// arenas have adverts: with one list there is no overlap to estimate from.
var ErrTooFewArenas = errors.New("overlap: the estimate needs at least 2 arenas")

// ErrTooManyArenas is returned by Table and Estimate when there are more
// arenas than mse.MaxLists.
var ErrTooManyArenas = errors.New("overlap: too many arenas for the estimate")

// DocSource lists every indexed document. ForEachDoc calls fn once per
// document and stops at, and returns, the first error fn returns; ctx bounds
// the whole walk. fn must not keep d beyond the call if the source reuses it.
// The bleve index implements it (index/bleve Index.ForEachDoc).
type DocSource interface {
	ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error
}

// Docs is a DocSource over documents held in memory (tests, small tools).
type Docs []*index.Doc

// ForEachDoc calls fn for every document in order.
func (ds Docs) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	for i, d := range ds {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// Collector gathers the arenas of every person. It is not safe for
// concurrent use.
type Collector struct {
	arenas  []string         // in order of first appearance
	arenaAt map[string]int32 // arena → index in arenas
	persons map[string][]int32
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{arenaAt: map[string]int32{}, persons: map[string][]int32{}}
}

// Add records that d's person advertised on d's arena. A document without
// arena is recorded under index.Unknown, as in the counts.
func (c *Collector) Add(d *index.Doc) {
	arena := d.Dimension(index.DimArena)
	a, ok := c.arenaAt[arena]
	if !ok {
		a = int32(len(c.arenas))
		c.arenas = append(c.arenas, arena)
		c.arenaAt[arena] = a
	}
	p := d.Person()
	set := c.persons[p]
	if i, found := slices.BinarySearch(set, a); !found {
		c.persons[p] = slices.Insert(set, i, a)
	}
}

// factSource is a DocSource that can also list the short facts of every
// advert (arena, person, …) without decoding whole documents: the bleve
// index (index.Store.ForEachFact). Collect uses it when it can.
type factSource interface {
	ForEachFact(ctx context.Context, fn func(*index.Doc) error) error
}

// Collect walks src and returns a Collector holding every document's person
// and arena.
func Collect(ctx context.Context, src DocSource) (*Collector, error) {
	c := NewCollector()
	each := src.ForEachDoc
	if fs, ok := src.(factSource); ok {
		each = fs.ForEachFact
	}
	err := each(ctx, func(d *index.Doc) error {
		c.Add(d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("overlap: %w", err)
	}
	return c, nil
}

// Compute walks src and returns the exact overlap.
func Compute(ctx context.Context, src DocSource) (*Overlap, error) {
	c, err := Collect(ctx, src)
	if err != nil {
		return nil, err
	}
	return c.Overlap(), nil
}

// ArenaCount is the number of distinct persons on one arena.
type ArenaCount struct {
	Arena   string
	Persons int
}

// SpreadCount is the number of persons seen on exactly Arenas arenas.
type SpreadCount struct {
	Arenas  int
	Persons int
}

// PairCount is the number of persons seen on both arenas A and B (A < B),
// whatever other arenas they were also seen on.
type PairCount struct {
	A, B    string
	Persons int
}

// History is one observed capture history: the persons seen on exactly
// these arenas (sorted) and on no other.
type History struct {
	Arenas  []string
	Persons int
}

// Overlap holds exact counts. Arenas are sorted; Spread has one entry for
// each k = 1 … len(Arenas) (zeros included); Pairs has one entry for every
// pair of arenas, in the order of Arenas (zeros included); Histories has one
// entry per observed pattern, sorted by number of arenas then names.
type Overlap struct {
	Arenas    []string
	Persons   int
	PerArena  []ArenaCount
	Spread    []SpreadCount
	Pairs     []PairCount
	Histories []History
}

// Overlap computes the counts from what was collected.
func (c *Collector) Overlap() *Overlap {
	// Rank arenas by name so output does not depend on document order.
	k := len(c.arenas)
	order := make([]int32, k)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(c.arenas[a], c.arenas[b]) })
	rank := make([]int32, k)
	o := &Overlap{Arenas: make([]string, k), Persons: len(c.persons)}
	for r, a := range order {
		rank[a] = int32(r)
		o.Arenas[r] = c.arenas[a]
	}

	// Patterns, keyed by the sorted ranks packed into a string.
	type pattern struct {
		ranks []int32
		n     int
	}
	pats := map[string]*pattern{}
	buf := make([]int32, 0, 8)
	key := make([]byte, 0, 32)
	for _, set := range c.persons {
		buf = buf[:0]
		for _, a := range set {
			buf = append(buf, rank[a])
		}
		slices.Sort(buf)
		key = key[:0]
		for _, r := range buf {
			key = append(key, byte(r>>24), byte(r>>16), byte(r>>8), byte(r))
		}
		p := pats[string(key)]
		if p == nil {
			p = &pattern{ranks: slices.Clone(buf)}
			pats[string(key)] = p
		}
		p.n++
	}

	perArena := make([]int, k)
	spread := make([]int, k+1)
	pairs := make([]int, k*k) // [i*k+j], i < j
	for _, p := range pats {
		spread[len(p.ranks)] += p.n
		for x, i := range p.ranks {
			perArena[i] += p.n
			for _, j := range p.ranks[x+1:] {
				pairs[int(i)*k+int(j)] += p.n
			}
		}
		h := History{Arenas: make([]string, len(p.ranks)), Persons: p.n}
		for x, r := range p.ranks {
			h.Arenas[x] = o.Arenas[r]
		}
		o.Histories = append(o.Histories, h)
	}
	slices.SortFunc(o.Histories, func(a, b History) int {
		return cmp.Or(cmp.Compare(len(a.Arenas), len(b.Arenas)), slices.Compare(a.Arenas, b.Arenas))
	})
	for i, a := range o.Arenas {
		o.PerArena = append(o.PerArena, ArenaCount{Arena: a, Persons: perArena[i]})
	}
	for n := 1; n <= k; n++ {
		o.Spread = append(o.Spread, SpreadCount{Arenas: n, Persons: spread[n]})
	}
	for i := 0; i < k; i++ {
		for j := i + 1; j < k; j++ {
			o.Pairs = append(o.Pairs, PairCount{A: o.Arenas[i], B: o.Arenas[j], Persons: pairs[i*k+j]})
		}
	}
	return o
}

// Patterns returns the capture-history counts keyed by pattern, bit i
// (1<<i) meaning presence on Arenas[i], as mse.NewTable takes them. It
// returns ErrTooFewArenas or ErrTooManyArenas when the arenas cannot be the
// lists of a table.
func (o *Overlap) Patterns() (map[uint32]int64, error) {
	if len(o.Arenas) < 2 {
		return nil, fmt.Errorf("%w: %d arena(s) have adverts", ErrTooFewArenas, len(o.Arenas))
	}
	if len(o.Arenas) > mse.MaxLists {
		return nil, fmt.Errorf("%w: %d arenas, at most %d", ErrTooManyArenas, len(o.Arenas), mse.MaxLists)
	}
	at := make(map[string]int, len(o.Arenas))
	for i, a := range o.Arenas {
		at[a] = i
	}
	counts := make(map[uint32]int64, len(o.Histories))
	for _, h := range o.Histories {
		var p uint32
		for _, a := range h.Arenas {
			p |= 1 << at[a]
		}
		counts[p] += int64(h.Persons)
	}
	return counts, nil
}

// Table returns the capture-history table with the arenas as lists.
func (o *Overlap) Table() (*mse.Table, error) {
	counts, err := o.Patterns()
	if err != nil {
		return nil, err
	}
	return mse.NewTable(o.Arenas, counts)
}

// Estimate estimates the persons seen on no crawled arena with mse.Estimate
// on Table(). It returns ErrTooFewArenas, ErrTooManyArenas, or mse's errors
// (mse.ErrNotIdentifiable, for example when two arenas share no one).
func (o *Overlap) Estimate(opt mse.Options) (*mse.Result, error) {
	t, err := o.Table()
	if err != nil {
		return nil, err
	}
	return mse.Estimate(t, opt)
}
