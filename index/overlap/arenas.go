package overlap

import (
	"context"
	"slices"

	"adcensus/index"
)

// OnArenas returns src limited to the adverts on the given arenas (as
// index.Doc.Dimension names them; index.Unknown for adverts without one):
// the overlap, and its estimate, of that set of arenas alone. With no
// arenas it returns src.
func OnArenas(src DocSource, arenas []string) DocSource {
	if len(arenas) == 0 {
		return src
	}
	return arenaSource{src: src, arenas: slices.Clone(arenas)}
}

type arenaSource struct {
	src    DocSource
	arenas []string
}

func (a arenaSource) keep(fn func(*index.Doc) error) func(*index.Doc) error {
	return func(d *index.Doc) error {
		if !slices.Contains(a.arenas, d.Dimension(index.DimArena)) {
			return nil
		}
		return fn(d)
	}
}

// ForEachDoc calls fn for the documents on the arenas.
func (a arenaSource) ForEachDoc(ctx context.Context, fn func(*index.Doc) error) error {
	return a.src.ForEachDoc(ctx, a.keep(fn))
}

// ForEachFact calls fn for the facts of the documents on the arenas,
// through the source's fact walk when it has one.
func (a arenaSource) ForEachFact(ctx context.Context, fn func(*index.Doc) error) error {
	if fs, ok := a.src.(factSource); ok {
		return fs.ForEachFact(ctx, a.keep(fn))
	}
	return a.src.ForEachDoc(ctx, a.keep(fn))
}
