package main

import (
	"slices"
	"testing"

	"adcensus/dedup"
	cluster "adcensus/dedup/cluster"
	"adcensus/index"
	"adcensus/pipeline"
)

// The names 'adcensus stages --only' accepts are the stages' own names
// and durables, in flow order: a stage renamed in its Spec but not here
// would never start.
func TestAllStagesAreTheStagesNames(t *testing.T) {
	var names, durables []string
	for _, st := range []pipeline.Stage{&dedup.FingerprintStage{}, &cluster.Stage{}, &index.Stage{}} {
		names = append(names, st.Spec().Name)
		durables = append(durables, st.Spec().Durable)
	}
	if !slices.Equal(names, allStages) {
		t.Fatalf("stage names %q, allStages %q", names, allStages)
	}
	if want := []string{pipeline.DurableFingerprint, pipeline.DurableCluster, pipeline.DurableIndex}; !slices.Equal(durables, want) {
		t.Fatalf("durables %q, want %q", durables, want)
	}
}
