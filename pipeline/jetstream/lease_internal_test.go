package jetstream

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// A renewal stored by the server whose answer the holder never got (a
// timeout while a cluster elects a leader) leaves the holder with a stale
// revision: its next renewal is refused, it reads the entry from the
// bucket's leader, finds its own renewal there and keeps the lease. An
// entry written by another process makes it give the lease up.
func TestLeaseAdoptsItsOwnLostRenewal(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	url := ns.ClientURL()
	ctx := context.Background()
	b, err := Open(ctx, Options{URL: url, LeaseTTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	l, err := b.AcquireLease(ctx, "k", "a")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)

	// A renewal sent and stored, its answer lost: l.rev is not updated.
	// (Retried when the holder's own renewal got in between.)
	lostRenewal := func(holder string) {
		t.Helper()
		for try := 0; ; try++ {
			l.mu.Lock()
			info, rev := l.info, l.rev
			info.Holder = holder
			info.Renewed = time.Now().UTC()
			data, _ := json.Marshal(info)
			if holder == "a" {
				l.tried = append(l.tried, renewal{info: info, data: data, sent: time.Now()})
			}
			l.mu.Unlock()
			_, err := l.kv.Update(ctx, "k", data, rev)
			if err == nil {
				return
			}
			if !isWrongRevision(err) || try == 20 {
				t.Fatal(err)
			}
		}
	}
	lostRenewal("a")
	// Several renewals later (TTL/4 each) the holder still holds it.
	time.Sleep(3 * time.Second)
	if l.Context().Err() != nil {
		t.Fatal("lease given up after a renewal of its own whose answer was lost")
	}
	if h, err := b.LeaseHolder(ctx, "k"); err != nil || h == nil || h.Holder != "a" {
		t.Fatalf("holder %+v (%v), want a", h, err)
	}

	// Another process's write: lost.
	lostRenewal("b")
	select {
	case <-l.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("lease still held after another process wrote the entry")
	}
}
