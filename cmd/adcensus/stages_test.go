package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"adcensus/pipeline"
)

// The names 'adcensus stages --only' accepts (deploy/README.md) are
// fingerprint, cluster, index and census, and durablesOf gives their durable
// consumers in flow order whatever the order asked (rebuild and waitIdle
// wait on them).
func TestStageNamesAndDurables(t *testing.T) {
	if want := []string{"fingerprint", "cluster", "index", "census"}; !slices.Equal(allStages, want) {
		t.Fatalf("stage names %q, want %q", allStages, want)
	}
	if got, want := durablesOf(allStages), []string{pipeline.DurableFingerprint, pipeline.DurableCluster, pipeline.DurableIndex, pipeline.DurableCensus}; !slices.Equal(got, want) {
		t.Fatalf("durables %q, want %q", got, want)
	}
	if got, want := durablesOf([]string{"index", "cluster"}), []string{pipeline.DurableCluster, pipeline.DurableIndex}; !slices.Equal(got, want) {
		t.Fatalf("durablesOf(index, cluster) = %q, want %q", got, want)
	}
}

// 'adcensus stages' refuses an --only that names no stage or an unknown
// one, before opening anything, rather than run nothing until killed.
func TestStagesRefusesEmptyOrUnknownOnly(t *testing.T) {
	for _, only := range []string{"", " , ", "fingerprint,cluser"} {
		dir := t.TempDir()
		var out, errb bytes.Buffer
		err := Main(context.Background(), []string{"stages", "--only", only, "--data", dir}, &out, &errb)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("--only %q: err %v, want a usage error", only, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("--only %q: the data directory was touched", only)
		}
	}
}
