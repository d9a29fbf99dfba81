package main

import (
	"fmt"
	"time"

	"adcensus/pipeline/jetstream"
)

// streamSettings are the stream section of the main config: how the
// stream, its consumers and the lease are set up (docs/RUN.md). A field
// left out keeps what an existing stream or consumer has, and takes the
// default when it is created; a field given is applied exactly, and
// weakening an existing stream (fewer replicas, shorter retention or
// duplicate window) is refused unless allow_weaken is set.
type streamSettings struct {
	// Replicas of the stream and the key-value buckets (1, 3 or 5; the
	// embedded server always has 1).
	Replicas int `yaml:"replicas"`
	// MaxAge is how long messages are kept (0: for ever, the default:
	// the stream is the source every store is rebuilt from).
	MaxAge time.Duration `yaml:"max_age"`
	// DuplicateWindow is how long the stream recognises a republished
	// message by its id (default 2m).
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	// AckWait is how long a delivered message may stay unacknowledged
	// before it is delivered again (default 10s; at most a quarter of
	// the duplicate window, so that a redelivery's outputs are still
	// recognised as duplicates).
	AckWait time.Duration `yaml:"ack_wait"`
	// MaxAckPending is the most unacknowledged messages per consumer
	// (default 10000).
	MaxAckPending int `yaml:"max_ack_pending"`
	// MaxDeliver is how often a message is delivered before it is set
	// aside on adcensus.errors (default 5).
	MaxDeliver int `yaml:"max_deliver"`
	// LeaseTTL is how long the cluster writer's lease outlives its last
	// renewal: a standby takes over within about 1.25 times this
	// (default 6s).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// StandbyInactive is how long a standby cluster writer's consumer may
	// go unread before NATS removes it (default 24h), so that the
	// consumers of standbys on nodes gone for good do not stay.
	StandbyInactive time.Duration `yaml:"standby_inactive"`
	// AllowWeaken lets the settings lower an existing stream's replicas,
	// retention or duplicate window.
	AllowWeaken bool `yaml:"allow_weaken"`
}

// validate checks the settings; path names the config file.
func (s streamSettings) validate(path string) error {
	bad := func(field, msg string, args ...any) error {
		return fmt.Errorf("%s: stream.%s: %s", path, field, fmt.Sprintf(msg, args...))
	}
	switch s.Replicas {
	case 0, 1, 3, 5:
	default:
		return bad("replicas", "%d; use 1, 3 or 5 (a NATS cluster needs an odd number for its quorum)", s.Replicas)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"max_age", s.MaxAge}, {"duplicate_window", s.DuplicateWindow}, {"ack_wait", s.AckWait}, {"lease_ttl", s.LeaseTTL}, {"standby_inactive", s.StandbyInactive}} {
		if f.d < 0 {
			return bad(f.name, "%s is negative", f.d)
		}
	}
	if s.MaxAckPending < 0 {
		return bad("max_ack_pending", "%d is negative", s.MaxAckPending)
	}
	if s.MaxDeliver < 0 {
		return bad("max_deliver", "%d is negative", s.MaxDeliver)
	}
	if s.LeaseTTL != 0 && s.LeaseTTL < time.Second {
		return bad("lease_ttl", "%s is below 1s: renewals would not keep up", s.LeaseTTL)
	}
	dup, ack := s.DuplicateWindow, s.AckWait
	if dup == 0 {
		dup = jetstream.DefaultDuplicateWindow
	}
	if ack == 0 {
		ack = jetstream.DefaultAckWait
	}
	if s.StandbyInactive != 0 && s.StandbyInactive < time.Minute {
		return bad("standby_inactive", "%s is below 1m: a standby paused by load would lose its consumer", s.StandbyInactive)
	}
	if ack*4 > dup {
		return bad("ack_wait", "%s is more than a quarter of the duplicate window %s: a message redelivered after the ack wait would publish outputs the stream no longer recognises as duplicates", ack, dup)
	}
	if s.MaxAge != 0 && s.MaxAge < dup {
		return bad("max_age", "%s is shorter than the duplicate window %s", s.MaxAge, dup)
	}
	return nil
}

// busOptions returns the bus options of the settings.
func (s streamSettings) busOptions() jetstream.Options {
	return jetstream.Options{Replicas: s.Replicas, LeaseTTL: s.LeaseTTL, MaxAge: s.MaxAge, Duplicates: s.DuplicateWindow,
		AckWait: s.AckWait, MaxAckPending: s.MaxAckPending, MaxDeliver: s.MaxDeliver, AllowWeaken: s.AllowWeaken,
		StandbyInactive: s.StandbyInactive}
}
