package bolt

// SetMergeMin sets the least pending length at which the image index
// merges, for tests that must exercise merges on small corpora, and makes
// merges of more than 4n hashes run their bands in parallel, so both
// kinds of merge are exercised; the returned function restores both.
func SetMergeMin(n int) (restore func()) {
	old, oldPar := mergeMin, parallelMerge
	mergeMin, parallelMerge = n, 4*n
	return func() { mergeMin, parallelMerge = old, oldPar }
}
