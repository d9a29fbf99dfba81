package main

import (
	"slices"
	"testing"

	"adcensus/pipeline"
)

// The names 'adcensus stages --only' accepts (deploy/README.md) are
// fingerprint, cluster and index, and durablesOf gives their durable
// consumers in flow order whatever the order asked (rebuild and waitIdle
// wait on them).
func TestStageNamesAndDurables(t *testing.T) {
	if want := []string{"fingerprint", "cluster", "index"}; !slices.Equal(allStages, want) {
		t.Fatalf("stage names %q, want %q", allStages, want)
	}
	if got, want := durablesOf(allStages), []string{pipeline.DurableFingerprint, pipeline.DurableCluster, pipeline.DurableIndex}; !slices.Equal(got, want) {
		t.Fatalf("durables %q, want %q", got, want)
	}
	if got, want := durablesOf([]string{"index", "cluster"}), []string{pipeline.DurableCluster, pipeline.DurableIndex}; !slices.Equal(got, want) {
		t.Fatalf("durablesOf(index, cluster) = %q, want %q", got, want)
	}
}
