package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"adcensus/index"
	"adcensus/index/reviews"
)

// reviewFlagsTTL is how long the API keeps the review patterns it found
// before reading the review store again.
const reviewFlagsTTL = time.Minute

// apiReviewFlags is the API's Options.ReviewFlags over the review store
// and index of dataDir: every person's review patterns (reviews.Patterns),
// found at most once a minute and kept in memory. Without a review store
// it answers none. When the store cannot be read (a crawl holds it), the
// person page still answers, with the patterns found last, and the
// failure is logged.
func apiReviewFlags(dataDir string, ix index.Store, log *slog.Logger) func(ctx context.Context, person string) ([]reviews.Flag, error) {
	return apiReviewFlagsOf(dataDir, ix, log, nil)
}

// apiReviewFlagsOf is apiReviewFlags reading the review store held gives
// (serve --pipeline: the process's own, which it cannot open a second
// time) when held returns one, else the file.
func apiReviewFlagsOf(dataDir string, ix index.Store, log *slog.Logger, held func() *reviews.Store) func(ctx context.Context, person string) ([]reviews.Flag, error) {
	var (
		mu    sync.Mutex
		at    time.Time
		flags map[string][]reviews.Flag
	)
	load := func(ctx context.Context) (map[string][]reviews.Flag, error) {
		var st *reviews.Store
		if held != nil {
			st = held()
		}
		if st == nil {
			path := filepath.Join(dataDir, reviews.File)
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			var err error
			if st, err = reviews.Open(path, true); err != nil {
				return nil, explainHeld(dataDir, err)
			}
			defer st.Close()
		}
		lk, err := reviews.NewLinker(ctx, ix)
		if err != nil {
			return nil, err
		}
		all, err := reviews.Patterns(ctx, st, lk)
		if err != nil {
			return nil, err
		}
		out := map[string][]reviews.Flag{}
		for _, f := range all {
			out[f.PersonID] = append(out[f.PersonID], f)
		}
		return out, nil
	}
	return func(ctx context.Context, person string) ([]reviews.Flag, error) {
		mu.Lock()
		defer mu.Unlock()
		if at.IsZero() || time.Since(at) > reviewFlagsTTL {
			m, err := load(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				log.Warn("review patterns not read; the person pages show the last ones found", "err", err)
			} else {
				flags = m
			}
			at = time.Now()
		}
		return flags[person], nil
	}
}
