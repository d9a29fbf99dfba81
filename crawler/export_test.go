package crawler

// Files lists the files written so far, in order (for tests: production
// code finds them in the archive directory).
func (w *WARCWriter) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.files...)
}
