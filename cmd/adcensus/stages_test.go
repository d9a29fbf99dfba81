package main

import (
	"slices"
	"testing"

	"adcensus/pipeline"
)

// The names 'adcensus stages --only' accepts (deploy/README.md) are
// fingerprint, cluster and index, on their durables, in flow order.
func TestAllStagesAreTheStagesNames(t *testing.T) {
	var durables []string
	for _, st := range (&node{}).stages() {
		durables = append(durables, st.Spec().Durable)
	}
	if want := []string{"fingerprint", "cluster", "index"}; !slices.Equal(allStages, want) {
		t.Fatalf("stage names %q, want %q", allStages, want)
	}
	if want := []string{pipeline.DurableFingerprint, pipeline.DurableCluster, pipeline.DurableIndex}; !slices.Equal(durables, want) {
		t.Fatalf("durables %q, want %q", durables, want)
	}
}
