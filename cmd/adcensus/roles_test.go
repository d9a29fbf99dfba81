package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"adcensus/internal/boltfile"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// The roles 'adcensus stages --only' and 'run --only' take, in flow order
// whatever the order asked; "all" is every role; unknown ones are usage
// errors.
func TestParseRoles(t *testing.T) {
	for in, want := range map[string]string{
		"all":                          "crawl,fingerprint,cluster,index,census",
		"index,crawl":                  "crawl,index",
		"cluster, fingerprint,cluster": "fingerprint,cluster",
	} {
		got, err := parseRoles(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("parseRoles(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "crawler", "all,index"} {
		if _, err := parseRoles(in); !errors.As(err, new(usageError)) {
			t.Errorf("parseRoles(%q): err %v, want a usage error", in, err)
		}
	}
}

// A stage process whose consumer is deleted under it exits with an error
// (so that its supervisor restarts it) instead of running on silently.
func TestStagesExitNonZeroWhenConsumerFails(t *testing.T) {
	url := mustNATS(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"stages", "--only", "fingerprint", "--nats", url, "--data", dir}, &out, &errb)
	}()
	bus, err := jetstream.Open(context.Background(), jetstream.Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	waitFor(t, "the fingerprint consumer exists", func() bool {
		names, _ := bus.ConsumerNames(context.Background())
		return fmt.Sprint(names) == "["+pipeline.DurableFingerprint+"]"
	})
	if err := bus.ResetConsumer(context.Background(), pipeline.DurableFingerprint); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stage failed") || exitCode(err) == 0 {
			t.Fatalf("err %v, want a stage failure with a non-zero exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("stage process still running 30s after its consumer was deleted")
	}
}

// A reader refused by the index lock of a running index stage is told
// which process holds it and where that process serves the API.
func TestHeldIndexNamesItsHolder(t *testing.T) {
	url := mustNATS(t)
	dir := t.TempDir()
	n, err := openNode(context.Background(), nodeOptions{DataDir: dir, NATSURL: url, Logger: testLogger(),
		Roles: []string{"index"}, API: "127.0.0.1:9999"})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, err = openIndex(dir)
	if !errors.Is(err, boltfile.ErrHeld) {
		t.Fatalf("err %v, want ErrHeld", err)
	}
	for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "roles index", "http://127.0.0.1:9999/api/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err %q does not say %q", err, want)
		}
	}
}

// The stream section of the main config is checked when it is loaded,
// with errors naming the file and the field.
func TestStreamSettingsValidate(t *testing.T) {
	for _, c := range []struct {
		s    streamSettings
		want string // "" for valid
	}{
		{streamSettings{}, ""},
		{streamSettings{Replicas: 3, AckWait: 30 * time.Second, DuplicateWindow: 2 * time.Minute, LeaseTTL: 6 * time.Second}, ""},
		{streamSettings{Replicas: 2}, "f.yaml: stream.replicas: 2; use 1, 3 or 5"},
		{streamSettings{AckWait: time.Minute}, "f.yaml: stream.ack_wait: 1m0s is more than a quarter of the duplicate window 2m0s"},
		{streamSettings{MaxAge: time.Minute}, "f.yaml: stream.max_age: 1m0s is shorter than the duplicate window"},
		{streamSettings{LeaseTTL: 100 * time.Millisecond}, "f.yaml: stream.lease_ttl: 100ms is below 1s"},
		{streamSettings{MaxDeliver: -1}, "f.yaml: stream.max_deliver: -1 is negative"},
		{streamSettings{StandbyInactive: 10 * time.Second}, "f.yaml: stream.standby_inactive: 10s is below 1m"},
		{streamSettings{StandbyInactive: 48 * time.Hour}, ""},
	} {
		err := c.s.validate("f.yaml")
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.HasPrefix(err.Error(), c.want)) {
			t.Errorf("%+v: err %v, want %q", c.s, err, c.want)
		}
	}
}
