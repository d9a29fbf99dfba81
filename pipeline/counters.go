package pipeline

import (
	"fmt"
	"strings"
	"sync/atomic"

	"adcensus/ad"
)

// Counters are live counts of what each stage has processed.
type Counters struct {
	Fingerprinted atomic.Int64
	Clustered     atomic.Int64
	Indexed       atomic.Int64
	Rejected      atomic.Int64
	// Problems met by the fingerprint stage, by kind (ad.ProblemKind):
	// the adverts flow on without what could not be used.
	ImageProblems atomic.Int64
	AgeProblems   atomic.Int64
	PhoneProblems atomic.Int64
	TextProblems  atomic.Int64
	FieldProblems atomic.Int64
	OtherProblems atomic.Int64
}

// CountProblems adds an advert's problems to the counters of their kinds.
func (c *Counters) CountProblems(problems []string) {
	for _, p := range problems {
		switch ad.ProblemKind(p) {
		case ad.ProblemImage:
			c.ImageProblems.Add(1)
		case ad.ProblemAge:
			c.AgeProblems.Add(1)
		case ad.ProblemPhone:
			c.PhoneProblems.Add(1)
		case ad.ProblemText:
			c.TextProblems.Add(1)
		case ad.ProblemField:
			c.FieldProblems.Add(1)
		default:
			c.OtherProblems.Add(1)
		}
	}
}

// ProblemSummary describes the counted problems, "" when there were none:
// "images 1, ages 2".
func (c *Counters) ProblemSummary() string {
	var parts []string
	for _, k := range []struct {
		what string
		n    int64
	}{
		{"images", c.ImageProblems.Load()},
		{"ages", c.AgeProblems.Load()},
		{"phones entries", c.PhoneProblems.Load()},
		{"empty texts", c.TextProblems.Load()},
		{"unreadable fields", c.FieldProblems.Load()},
		{"other", c.OtherProblems.Load()},
	} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k.what, k.n))
		}
	}
	return strings.Join(parts, ", ")
}

// processed returns the counter of what the stage on durable has
// processed, nil for a durable that is not one of the three stages'.
func (c *Counters) processed(durable string) *atomic.Int64 {
	switch durable {
	case DurableFingerprint:
		return &c.Fingerprinted
	case DurableCluster:
		return &c.Clustered
	case DurableIndex:
		return &c.Indexed
	}
	if strings.HasPrefix(durable, DurableIndexPrefix) { // an index replica
		return &c.Indexed
	}
	return nil
}

// count adds a published batch's result to the counters of the stage on
// durable, and its messages marked Bad to Rejected. c may be nil.
func (c *Counters) count(durable string, res Result, msgs []*Msg) {
	if c == nil {
		return
	}
	if n := c.processed(durable); n != nil {
		n.Add(int64(res.Done))
	}
	c.CountProblems(res.Problems)
	for _, m := range msgs {
		if m.Bad != nil {
			c.Rejected.Add(1)
		}
	}
}
