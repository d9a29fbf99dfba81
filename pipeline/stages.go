package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"adcensus/ad"
)

// Fingerprinter turns an advert into its fingerprints (dedup.Fingerprinter).
// Process returns an error only when ctx is cancelled; unusable parts of
// an advert are reported in Fingerprinted.Problems.
type Fingerprinter interface {
	Process(ctx context.Context, a *ad.Ad) (*ad.Fingerprinted, error)
}

// Clusterer groups fingerprinted adverts into persons and networks
// (dedup/cluster.Cluster).
type Clusterer interface {
	// AddBatch adds adverts in one transaction and returns, per advert not
	// seen before, the assignments that changed. Known advert ids are skipped.
	AddBatch(fps []*ad.Fingerprinted) ([]ad.Assignments, error)
	// NetworkAssignments returns the current assignments of every advert in
	// the network of adID.
	NetworkAssignments(adID string) ([]ad.Assignment, error)
}

// Indexer is the index stage's store (index.Store).
type Indexer interface {
	Apply(ctx context.Context, fps []*ad.Fingerprinted, asg []ad.Assignment) error
}

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

// FingerprintStage consumes adverts and publishes their fingerprints. It is
// stateless; several may run on one durable consumer.
type FingerprintStage struct {
	Bus      Bus
	FP       Fingerprinter
	Workers  int
	Log      *slog.Logger
	Counters *Counters
}

// Run consumes until ctx is cancelled.
func (s *FingerprintStage) Run(ctx context.Context) error {
	workers := max(s.Workers, 1)
	log := s.Log.With("stage", "fingerprint")
	return s.Bus.Consume(ctx, DurableFingerprint, []string{SubjectAdsAll}, 64, func(ctx context.Context, msgs []*Msg) error {
		out := make([][]byte, len(msgs))
		ids := make([]string, len(msgs))
		problems := make([][]string, len(msgs))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for i, m := range msgs {
			a, fieldProblems, err := ad.Decode(m.Data)
			if err != nil {
				m.Bad = fmt.Errorf("decode advert: %w", err)
				continue
			}
			g.Go(func() error {
				fp, err := s.FP.Process(gctx, a)
				if err != nil {
					return err
				}
				fp.Problems = append(fieldProblems, fp.Problems...)
				for _, p := range fp.Problems {
					log.Debug("advert problem", "ad", a.ID, "problem", p)
				}
				data, err := json.Marshal(fp)
				if err != nil {
					return err
				}
				out[i], ids[i], problems[i] = data, a.ID, fp.Problems
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		var pub []outMsg
		for i, m := range msgs {
			if out[i] != nil {
				pub = append(pub, outMsg{SubjectFingerprints, "fp-" + strconv.FormatUint(m.Seq, 10), out[i], map[string]string{"Adcensus-Ad": ids[i]}})
			}
		}
		if err := publishAll(ctx, s.Bus, pub); err != nil {
			return err
		}
		for i := range msgs {
			if out[i] != nil {
				s.Counters.Fingerprinted.Add(1)
				s.Counters.CountProblems(problems[i])
			}
		}
		countBad(msgs, &s.Counters.Rejected)
		return nil
	})
}

// ClusterStage consumes fingerprints, updates the person/network state and
// publishes what changed. It must be the only writer of its state.
type ClusterStage struct {
	Bus      Bus
	Cluster  Clusterer
	Log      *slog.Logger
	Counters *Counters
}

// Run consumes until ctx is cancelled.
//
// Exactly-once effect: the state commit happens before the assignments are
// published, so a crash between the two is repaired on redelivery by
// republishing the advert's current network assignments. A state rebuilt
// from an empty file publishes nothing for fingerprints whose assignments
// are already in the stream (see HeaderCauseSeq), so a replay never
// duplicates them.
func (s *ClusterStage) Run(ctx context.Context) error {
	log := s.Log.With("stage", "cluster")
	last, err := s.Bus.LastHeader(ctx, SubjectAssignments, HeaderCauseSeq)
	if err != nil {
		return fmt.Errorf("cluster: last published assignment: %w", err)
	}
	published, _ := strconv.ParseUint(last, 10, 64)
	return s.Bus.Consume(ctx, DurableCluster, []string{SubjectFingerprints}, 256, func(ctx context.Context, msgs []*Msg) error {
		var fps []*ad.Fingerprinted
		seqOf := map[string]*Msg{}
		for _, m := range msgs {
			var fp ad.Fingerprinted
			if err := json.Unmarshal(m.Data, &fp); err != nil || !ad.ValidID(fp.Ad.ID) {
				m.Bad = fmt.Errorf("decode fingerprints: %v (or invalid advert id)", err)
				continue
			}
			if _, dup := seqOf[fp.Ad.ID]; !dup {
				seqOf[fp.Ad.ID] = m
			}
			fps = append(fps, &fp)
		}
		outs, err := s.Cluster.AddBatch(fps)
		if err != nil {
			return err
		}
		changed := map[string]bool{}
		var pub []outMsg
		for _, o := range outs {
			changed[o.Cause] = true
			m := seqOf[o.Cause]
			if m == nil || m.Seq <= published {
				continue // already in the stream (replay)
			}
			if pub, err = appendAssignments(pub, m.Seq, o); err != nil {
				return err
			}
		}
		for id, m := range seqOf {
			if changed[id] || m.Seq <= published {
				continue
			}
			// Known to the state but its assignments are not known to be in
			// the stream: redelivered after a crash between commit and
			// publish (after a restart the delivery count starts again, so
			// it cannot tell), or the same advert fingerprinted again.
			// Republishing the current facts is idempotent downstream.
			asg, err := s.Cluster.NetworkAssignments(id)
			if err != nil {
				return err
			}
			log.Debug("republishing current assignments", "ad", id, "n", len(asg))
			if pub, err = appendAssignments(pub, m.Seq, ad.Assignments{Cause: id, Changed: asg}); err != nil {
				return err
			}
		}
		if err := publishAll(ctx, s.Bus, pub); err != nil {
			return err
		}
		s.Counters.Clustered.Add(int64(len(fps)))
		countBad(msgs, &s.Counters.Rejected)
		return nil
	})
}

// appendAssignments appends the assignments message caused by the
// fingerprints message at stream sequence seq.
func appendAssignments(pub []outMsg, seq uint64, o ad.Assignments) ([]outMsg, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return pub, err
	}
	cause := strconv.FormatUint(seq, 10)
	return append(pub, outMsg{SubjectAssignments, "asg-" + cause, data, map[string]string{HeaderCauseSeq: cause}}), nil
}

// outMsg is a message a stage publishes.
type outMsg struct {
	subject, id string
	data        []byte
	header      map[string]string
}

// publishAll publishes a batch's output messages, in order, without
// waiting for each (Bus.PublishAsync: on JetStream they share atomic
// batches and so fsyncs), and returns once the stream has acknowledged
// every one, or with the first error. A stage acknowledges its input only
// after that, so nothing is lost; on an error the input is redelivered
// and the messages already stored are recognised as duplicates by their
// ids.
func publishAll(ctx context.Context, bus Bus, msgs []outMsg) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for _, m := range msgs {
		wg.Add(1)
		err := bus.PublishAsync(ctx, m.subject, m.id, m.data, m.header, func(err error) {
			if err != nil {
				fail(fmt.Errorf("publish %s %s: %w", m.subject, m.id, err))
			}
			wg.Done()
		})
		if err != nil {
			wg.Done()
			fail(fmt.Errorf("publish %s %s: %w", m.subject, m.id, err))
			break
		}
	}
	wg.Wait()
	return first
}

// IndexStage consumes fingerprints and assignments into the index.
type IndexStage struct {
	Bus      Bus
	Index    Indexer
	Log      *slog.Logger
	Counters *Counters
}

// Run consumes until ctx is cancelled.
func (s *IndexStage) Run(ctx context.Context) error {
	return s.Bus.Consume(ctx, DurableIndex, []string{SubjectFingerprints, SubjectAssignments}, 500, func(ctx context.Context, msgs []*Msg) error {
		var fps []*ad.Fingerprinted
		var asg []ad.Assignment
		for _, m := range msgs {
			switch m.Subject {
			case SubjectFingerprints:
				var fp ad.Fingerprinted
				if err := json.Unmarshal(m.Data, &fp); err != nil || !ad.ValidID(fp.Ad.ID) {
					m.Bad = fmt.Errorf("decode fingerprints: %v", err)
					continue
				}
				fps = append(fps, &fp)
			case SubjectAssignments:
				var a ad.Assignments
				if err := json.Unmarshal(m.Data, &a); err != nil {
					m.Bad = fmt.Errorf("decode assignments: %w", err)
					continue
				}
				for _, x := range a.Changed {
					x.Version = m.Seq
					asg = append(asg, x)
				}
			}
		}
		if err := s.Index.Apply(ctx, fps, asg); err != nil {
			return err
		}
		s.Counters.Indexed.Add(int64(len(fps)))
		countBad(msgs, &s.Counters.Rejected)
		return nil
	})
}

func countBad(msgs []*Msg, n *atomic.Int64) {
	for _, m := range msgs {
		if m.Bad != nil {
			n.Add(1)
		}
	}
}

// BusSink publishes crawled adverts to the stream (crawler.Sink).
type BusSink struct {
	Bus Bus
}

// Publish stores the advert on its arena's subject and returns once the
// stream has acknowledged it.
func (s *BusSink) Publish(ctx context.Context, a *ad.Ad) error {
	data, err := adMessage(a)
	if err != nil {
		return err
	}
	return s.Bus.Publish(ctx, AdsSubject(a.Arena), adMsgID(a), data, nil)
}

// PublishAsync sends the advert without waiting; done receives nil once the
// stream has acknowledged it (crawler.AsyncSink). The message id is the
// same as Publish's, so an advert republished after a crash is dropped by
// the stream's duplicate window.
func (s *BusSink) PublishAsync(ctx context.Context, a *ad.Ad, done func(error)) error {
	data, err := adMessage(a)
	if err != nil {
		return err
	}
	return s.Bus.PublishAsync(ctx, AdsSubject(a.Arena), adMsgID(a), data, nil, done)
}

func adMessage(a *ad.Ad) ([]byte, error) {
	c := *a
	c.V = ad.SchemaVersion
	return json.Marshal(&c)
}

func adMsgID(a *ad.Ad) string { return "ad-" + a.ID + "-" + a.FetchedAt.Format("20060102") }
