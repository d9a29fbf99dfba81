package netguard_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"adcensus/internal/netguard"
)

func TestCheckIP(t *testing.T) {
	for _, c := range []struct {
		ip      string
		refused bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"192.168.0.1", true}, {"172.16.5.4", true},
		{"169.254.169.254", true}, {"0.0.0.0", true}, {"::1", true}, {"fe80::1", true}, {"fd00::1", true},
		{"224.0.0.1", true}, {"100.64.0.1", true}, {"::ffff:127.0.0.1", true},
		{"93.184.216.34", false}, {"2606:2800:220:1::", false}, {"100.128.0.1", false},
	} {
		err := netguard.CheckIP(net.ParseIP(c.ip))
		if got := errors.Is(err, netguard.ErrPrivateAddress); got != c.refused {
			t.Errorf("%s: refused=%v, want %v (%v)", c.ip, got, c.refused, err)
		}
	}
	if err := netguard.CheckIP(nil); !errors.Is(err, netguard.ErrPrivateAddress) {
		t.Errorf("nil IP: %v", err)
	}
}

// The guarded client does not connect to a loopback server; the allowing
// one does.
func TestClient(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	_, err := netguard.Client(5*time.Second, false).Do(req)
	if !errors.Is(err, netguard.ErrPrivateAddress) || hits != 0 {
		t.Fatalf("guarded client: err %v, %d requests reached the server", err, hits)
	}
	resp, err := netguard.Client(5*time.Second, true).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("allowing client: %d requests", hits)
	}
}
