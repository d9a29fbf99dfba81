package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"adcensus/crawler"
	"adcensus/web/auth"
)

// listenPlan is what checkListen decided for 'serve'.
type listenPlan struct {
	tls   bool
	hosts []string
}

// checkListen refuses a non-loopback address without TLS (unless
// insecure) and returns the host names the Host header may carry: the
// loopback names, the address's own host and the names given.
func checkListen(addr, cert, key string, insecure bool, names []string) (listenPlan, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return listenPlan{}, usageError{fmt.Sprintf("--addr %q: %v", addr, err)}
	}
	if (cert == "") != (key == "") {
		return listenPlan{}, usageError{"--tls-cert and --tls-key go together"}
	}
	p := listenPlan{tls: cert != "", hosts: []string{"localhost", "127.0.0.1", "::1"}}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || ip != nil && ip.IsLoopback()
	if !loopback && !p.tls && !insecure {
		return listenPlan{}, usageError{fmt.Sprintf("--addr %s is not a loopback address: serve TLS (--tls-cert, --tls-key) or, behind a TLS proxy, say --insecure-listen", addr)}
	}
	if host != "" && (ip == nil || !ip.IsUnspecified()) && !slices.Contains(p.hosts, host) {
		p.hosts = append(p.hosts, strings.ToLower(host))
	}
	if !loopback && (host == "" || ip != nil && ip.IsUnspecified()) && len(names) == 0 {
		return listenPlan{}, usageError{fmt.Sprintf("--addr %s listens on every interface: give the names clients use with --host (the Host header is checked)", addr)}
	}
	for _, n := range names {
		p.hosts = append(p.hosts, strings.ToLower(n))
	}
	return p, nil
}

func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func (a AccessConfig) sessionOptions() (auth.SessionOptions, error) {
	var o auth.SessionOptions
	for _, f := range []struct {
		name, v string
		to      *time.Duration
	}{{"access.session_ttl", a.SessionTTL, &o.TTL}, {"access.session_idle", a.SessionIdle, &o.Idle}} {
		if f.v == "" {
			continue
		}
		d, err := auth.ParseTTL(f.v)
		if err != nil {
			return o, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.to = d
	}
	return o, nil
}

// runsOf lists the crawl runs of dataDir for /api/runs (operators).
func runsOf(dataDir string) func(context.Context) (any, int, error) {
	return func(context.Context) (any, int, error) {
		store, err := crawler.OpenStore(filepath.Join(dataDir, crawlStateFile))
		if err != nil {
			return nil, 0, err
		}
		defer store.Close()
		runs, err := store.Runs()
		if err != nil {
			return nil, 0, err
		}
		if runs == nil {
			return []any{}, 0, nil
		}
		return runs, len(runs), nil
	}
}

// parsePrefixes parses addresses ("10.0.0.5") and CIDRs ("10.0.0.0/8").
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
