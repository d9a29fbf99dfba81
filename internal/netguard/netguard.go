// Package netguard refuses network connections to private, loopback,
// link-local, multicast and unspecified addresses, so that URLs read from
// untrusted input (an advert's image URLs, a scraped page) cannot make
// adcensus reach services on the local machine or network. The check runs
// in the dialer after name resolution, for every connection, redirects
// included: the address checked is the one connected to.
package netguard

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"
)

// ErrPrivateAddress is wrapped by every refusal.
var ErrPrivateAddress = errors.New("refused: private, loopback or link-local address")

// CheckIP returns an error wrapping ErrPrivateAddress for an address that
// is not a public unicast address (nil too).
func CheckIP(ip net.IP) error {
	if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("%v: %w", ip, ErrPrivateAddress)
	}
	// IPv4-mapped and other forms are normalised by To4/To16 above; the
	// shared address space 100.64.0.0/10 (carrier-grade NAT) is private too.
	if ip4 := ip.To4(); ip4 != nil && ip4[0] == 100 && ip4[1]&0xc0 == 64 {
		return fmt.Errorf("%v: %w", ip, ErrPrivateAddress)
	}
	return nil
}

// Control is a net.Dialer Control function that refuses non-public
// addresses with CheckIP.
func Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	return CheckIP(net.ParseIP(host))
}

// Client returns an HTTP client whose connections are checked by Control
// (none when allowPrivate), with timeout for each whole request and at most
// 10 redirects.
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = Control
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       30 * time.Second,
		},
	}
}
