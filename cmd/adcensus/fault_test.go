package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestFaults runs deploy/fault-test.sh: the demo crawled through a local
// 3-node NATS cluster with real stage processes, killing (SIGKILL) a
// crawler, a fingerprint worker, the cluster writer, an index replica,
// one NATS node and all three in turn; both index replicas must count the
// demo's truth every time. It builds nats-server and needs the demo arenas
// on 127.0.0.1:8081 and :8082 ('adcensus demo serve'), so it runs only
// with ADCENSUS_FAULT=1 (about ten minutes).
func TestFaults(t *testing.T) {
	if os.Getenv("ADCENSUS_FAULT") == "" {
		t.Skip("set ADCENSUS_FAULT=1 (and run 'adcensus demo serve') to run the fault tests")
	}
	script, err := filepath.Abs("../../deploy/fault-test.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
}
