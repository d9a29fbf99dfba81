package jstest

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a NATS cluster with JetStream of in-process servers on
// 127.0.0.1 whose routes go through TCP proxies, so that a test can cut
// a server off from the others (a network partition) and heal it. Clients
// reach a server through a proxy of their own (ClientURL), which a test
// can cut as well. The servers advertise neither their client URLs (a
// client reconnects only through its proxy) nor a reachable route URL (a
// server never learns a way around the proxies).
type Cluster struct {
	Servers []*server.Server
	// routes[i][j] carries server i's route to server j.
	routes [][]*Proxy

	mu      sync.Mutex
	clients []*Proxy
}

// MustCluster starts n servers (n ≥ 3 for a quorum that survives a
// partition) with their stores in tb.TempDir(), waits until JetStream has
// a meta leader that every server follows, and shuts them down when the
// test ends.
func MustCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	c := &Cluster{routes: make([][]*Proxy, n)}
	tb.Cleanup(c.shutdown)
	for i := range n {
		c.routes[i] = make([]*Proxy, n)
		for j := range n {
			if i != j {
				c.routes[i][j] = mustProxy(tb, "")
			}
		}
	}
	// A route URL no one listens on: what servers advertise to each other
	// instead of their real cluster port, so an implicit route (learnt by
	// gossip) fails instead of bypassing the proxies.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	for i := range n {
		var routes []*url.URL
		for j := range n {
			if i != j {
				routes = append(routes, &url.URL{Scheme: "nats-route", Host: c.routes[i][j].Addr()})
			}
		}
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: tb.TempDir(), SyncAlways: true,
			NoLog: true, NoSigs: true,
			// Server-to-client pings: a client cut off is noticed by its
			// server within seconds.
			PingInterval: time.Second, MaxPingsOut: 3,
			Cluster: server.ClusterOpts{
				Name: "adcensus-test", Host: "127.0.0.1", Port: -1,
				NoAdvertise: true, Advertise: deadAddr,
				PingInterval: time.Second, MaxPingsOut: 3,
			},
			Routes: routes,
		})
		if err != nil {
			tb.Fatal(err)
		}
		ns.Start()
		if !ns.ReadyForConnections(10 * time.Second) {
			tb.Fatal("nats server not ready after 10s")
		}
		c.Servers = append(c.Servers, ns)
	}
	for i := range n {
		for j := range n {
			if i != j {
				c.routes[i][j].SetTarget(c.Servers[j].ClusterAddr().String())
			}
		}
	}
	c.MustFormed(tb)
	return c
}

// MustFormed waits until JetStream has a meta leader and every server is
// current with it, or fails tb after two minutes.
func (c *Cluster) MustFormed(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		leaders, current := 0, 0
		for _, s := range c.Servers {
			if s.JetStreamIsLeader() {
				leaders++
			}
			if s.JetStreamIsCurrent() {
				current++
			}
		}
		if leaders == 1 && current == len(c.Servers) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("JetStream cluster not formed after 2 minutes (%d meta leaders, %d of %d servers current)", leaders, current, len(c.Servers))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ClientURL returns the URL of a new proxy to server i's client port: a
// process of the test connects with it, and CutClient cuts it.
func (c *Cluster) ClientURL(tb testing.TB, i int) (string, *Proxy) {
	tb.Helper()
	p := mustProxy(tb, c.Servers[i].Addr().String())
	c.mu.Lock()
	c.clients = append(c.clients, p)
	c.mu.Unlock()
	return "nats://" + p.Addr(), p
}

// DirectURLs returns the servers' client URLs, comma-separated, without
// proxies (for an observer that must not be partitioned), leaving out
// the servers in except.
func (c *Cluster) DirectURLs(except ...int) string {
	var urls []string
	for i, s := range c.Servers {
		skip := false
		for _, e := range except {
			skip = skip || e == i
		}
		if !skip {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Isolate cuts server i off from every other server (both directions
// of every route), as a network partition would: what is sent is lost,
// and no new route gets through until Heal.
func (c *Cluster) Isolate(i int) {
	for j := range c.Servers {
		if i != j {
			c.routes[i][j].Cut()
			c.routes[j][i].Cut()
		}
	}
}

// Heal ends every route partition: the connections that were cut are
// closed (as TCP connections that timed out would be), and new ones get
// through.
func (c *Cluster) Heal() {
	for i := range c.routes {
		for _, p := range c.routes[i] {
			if p != nil {
				p.Heal()
			}
		}
	}
}

func (c *Cluster) shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
	for _, s := range c.Servers {
		s.WaitForShutdown()
	}
	for i := range c.routes {
		for _, p := range c.routes[i] {
			if p != nil {
				p.Close()
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.clients {
		p.Close()
	}
}

// Proxy forwards TCP connections to a target address until it is cut:
// then whatever either side sends is dropped (a partition: no error, no
// close, just silence) until Heal, which closes the connections that
// were cut.
type Proxy struct {
	ln net.Listener

	mu     sync.Mutex
	target string
	cut    bool
	closed bool
	links  map[*link]struct{}
	wg     sync.WaitGroup
}

type link struct{ in, out net.Conn }

func (l *link) close() {
	l.in.Close()
	if l.out != nil {
		l.out.Close()
	}
}

func mustProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p
}

// Addr is the proxy's address (host:port).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetTarget sets the address connections are forwarded to; until it is
// set, connections are closed at once.
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

// Cut makes the proxy drop everything sent either way, on its
// connections and on new ones, until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	p.mu.Unlock()
}

// Heal closes the connections that were cut and forwards new ones again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.cut {
		return
	}
	p.cut = false
	for l := range p.links {
		l.close()
		delete(p.links, l)
	}
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for l := range p.links {
		l.close()
		delete(p.links, l)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target, cut, closed := p.target, p.cut, p.closed
		p.mu.Unlock()
		if closed || target == "" {
			in.Close()
			continue
		}
		l := &link{in: in}
		if !cut {
			out, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				in.Close()
				continue
			}
			l.out = out
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			continue
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		if l.out == nil {
			// Accepted during a cut: held, and silent, until Heal.
			p.wg.Add(1)
			go func() { defer p.wg.Done(); _, _ = io.Copy(io.Discard, in) }()
			continue
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); p.pipe(l, l.out, in) }()
		go func() { defer p.wg.Done(); p.pipe(l, in, l.out) }()
	}
}

// pipe copies from src to dst, dropping what is read while the proxy is
// cut. When either side ends, the link is closed, unless the proxy is cut:
// then the other side hears nothing (as across a partition) until Heal.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isCut() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !p.isCut() {
				p.mu.Lock()
				delete(p.links, l)
				p.mu.Unlock()
				l.close()
			}
			return
		}
	}
}
