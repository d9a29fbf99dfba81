package photoset_test

import (
	"strings"
	"testing"

	"adcensus/internal/synthetic/photoset"
)

// TestSources checks that the licences travel with the photos. The
// tiles themselves are checked in demoarena (TestPhotosAreDistinct) and
// synth (the base photos cut from them).
func TestSources(t *testing.T) {
	names := photoset.Names()
	if len(names) < 100 {
		t.Fatalf("%d photos, want ≥ 100", len(names))
	}
	if _, err := photoset.JPEG(names[0]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(photoset.Sources(), "| lomiri-wallpapers-16.04") {
		t.Error("photos/SOURCES.md is missing or incomplete")
	}
}
