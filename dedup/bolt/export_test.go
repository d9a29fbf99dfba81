package bolt

// SetMergeMin sets the least pending length at which the image index
// merges, for tests that must exercise merges on small corpora; the
// returned function restores it.
func SetMergeMin(n int) (restore func()) {
	old := mergeMin
	mergeMin = n
	return func() { mergeMin = old }
}
