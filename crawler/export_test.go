package crawler

import (
	"fmt"
	"time"
)

// Files lists the files written so far, in order (for tests: production
// code finds them in the archive directory).
func (w *WARCWriter) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.files...)
}

// Transform runs the transform called name on v (FuzzTransforms).
func Transform(name, v string, now time.Time) (string, error) {
	f, ok := transformByName(name)
	if !ok {
		return "", fmt.Errorf("no transform %q", name)
	}
	return f(v, now)
}
