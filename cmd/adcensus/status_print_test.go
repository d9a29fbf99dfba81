package main

import (
	"strings"
	"testing"
	"time"
)

// 'adcensus status' marks a process whose heartbeat is older than three
// beats as stale, and shows how many assignments each replica fenced.
func TestStatusMarksStaleHeartbeats(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	r := statusReport{Heartbeats: []beat{
		{Node: "fresh", Roles: []string{"index"}, At: now.Add(-2 * time.Second), Fenced: 7},
		{Node: "gone", Roles: []string{"fingerprint"}, At: now.Add(-time.Minute)},
	}, Drained: true}
	var b strings.Builder
	printStatus(&b, r, now)
	lines := map[string]string{}
	for _, l := range strings.Split(b.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	if l := lines["fresh"]; l == "" || strings.Contains(l, "stale") || !strings.HasSuffix(strings.TrimSpace(l), " 7") {
		t.Errorf("fresh process: %q, want not stale and 7 fenced\n%s", l, b.String())
	}
	if l := lines["gone"]; !strings.Contains(l, "1m0s ago (stale") {
		t.Errorf("gone process: %q, want marked stale\n%s", l, b.String())
	}
	if !strings.Contains(b.String(), "fenced") {
		t.Errorf("no fenced column:\n%s", b.String())
	}
}
