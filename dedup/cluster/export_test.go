package cluster

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// SetMergeMin sets the least pending length at which the image index
// merges, for tests that must exercise merges on small corpora, and makes
// merges of more than 4n hashes run their bands in parallel, so both
// kinds of merge are exercised; the returned function restores both.
func SetMergeMin(n int) (restore func()) {
	old, oldPar := mergeMin, parallelMerge
	mergeMin, parallelMerge = n, 4*n
	return func() { mergeMin, parallelMerge = old, oldPar }
}

// SetChunkSize sets the number of adverts added per chunk, for tests
// whose batches must span several chunks; the returned function restores
// it.
func SetChunkSize(n int) (restore func()) {
	old := chunkSize
	chunkSize = n
	return func() { chunkSize = old }
}

// CheckReload loads the committed state from c's file afresh, as Open
// does, and reports the first way it differs from c's state in memory
// (nil when they are the same).
func CheckReload(c *Cluster) error {
	c.lockCommitted()
	defer c.mu.Unlock()
	st, err := c.file.load()
	if err != nil {
		return err
	}
	s := c.st
	switch {
	case !slices.Equal(st.ids, s.ids):
		return errors.New("ids differ")
	case st.nlog != s.nlog:
		return fmt.Errorf("log records %d, in memory %d", st.nlog, s.nlog)
	case st.count != s.count:
		return fmt.Errorf("component counts %v, in memory %v", st.count, s.count)
	case !slices.Equal(st.tflag, s.tflag):
		return errors.New("text flags differ")
	case !slices.Equal(st.imgs, s.imgs) || !slices.Equal(st.ihs, s.ihs):
		return errors.New("image numbers differ")
	}
	for r := range s.ids {
		if !reflect.DeepEqual(st.profs[r], s.profs[r]) {
			return fmt.Errorf("profile of %s: %+v, in memory %+v", s.ids[r], st.profs[r], s.profs[r])
		}
		for sc := range 2 {
			if st.comp[sc][r] != s.comp[sc][r] {
				return fmt.Errorf("scope %d root of %s: %d, in memory %d", sc, s.ids[r], st.comp[sc][r], s.comp[sc][r])
			}
			if st.minOf[sc][st.comp[sc][r]] != s.minOf[sc][s.comp[sc][r]] {
				return fmt.Errorf("scope %d smallest member of %s's component differs", sc, s.ids[r])
			}
			a, b := slices.Sorted(slices.Values(st.members[sc][r])), slices.Sorted(slices.Values(s.members[sc][r]))
			if !slices.Equal(a, b) {
				return fmt.Errorf("scope %d members of %s: %v, in memory %v", sc, s.ids[r], a, b)
			}
		}
	}
	return nil
}

// SetCommitHook makes every commit call fn(record number) in its
// transaction before it writes, failing the commit when fn returns an
// error; the returned function removes it.
func SetCommitHook(fn func(nlog uint64) error) (restore func()) {
	commitHook = fn
	return func() { commitHook = nil }
}
