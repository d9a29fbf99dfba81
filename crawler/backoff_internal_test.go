package crawler

import (
	"testing"
	"time"
)

// TestBackoffDoublesAndIsCapped checks the back-off schedule between
// attempts: doubling from the base, capped at maxBackoff, and still capped
// (not overflowed to zero or negative) after many attempts.
func TestBackoffDoublesAndIsCapped(t *testing.T) {
	base := 500 * time.Millisecond
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{1, 500 * time.Millisecond},
		{2, time.Second},
		{3, 2 * time.Second},
		{6, 16 * time.Second},
		{7, maxBackoff}, // 32s capped
		{40, maxBackoff},
		{100, maxBackoff}, // 500ms<<99 would overflow
	} {
		if got := backoff(base, tc.attempt); got != tc.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", base, tc.attempt, got, tc.want)
		}
	}
	if got := backoff(time.Hour, 1); got != maxBackoff {
		t.Errorf("backoff(1h, 1) = %v, want the cap %v", got, maxBackoff)
	}
}
