package dedup

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/dedup/countci"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/netguard"
	"adcensus/pipeline"
)

// OfflineBatch is the number of fingerprints Offline adds to the cluster
// state per transaction.
const OfflineBatch = 1000

// OfflineStats counts what Offline did.
type OfflineStats struct {
	Read         int `json:"read"`       // valid records read, duplicates included
	BadLines     int `json:"bad_lines"`  // lines skipped as unreadable
	Duplicates   int `json:"duplicates"` // records skipped for a repeated ad id (first wins)
	ImagesFailed int `json:"images_failed"`
	// Problems of the other kinds (ad.ProblemKind), counted per problem;
	// the adverts are kept without what could not be used.
	AgesDropped   int `json:"ages_dropped"`
	PhonesInvalid int `json:"phones_invalid"`
	EmptyTexts    int `json:"empty_texts"`
	FieldsDropped int `json:"fields_dropped"` // fields of another type that could not be read
	AdsWritten    int `json:"ads_written"`    // CSV rows
	Persons       int `json:"persons"`
	Networks      int `json:"networks"`
	// PersonsWithoutContactOrPhoto counts the persons none of whose
	// adverts has a contact or an image that could be hashed
	// (cluster.Cluster.PersonsWithoutContactOrPhoto): the count of persons
	// lies between Persons − PersonsWithoutContactOrPhoto and Persons.
	PersonsWithoutContactOrPhoto int `json:"persons_without_contact_or_photo"`
	// Count is the persons count's interval from the evidence the rules
	// declined (OfflineOptions.Report), nil without.
	Count *CountReport `json:"count,omitempty"`
}

// CountReport is the persons count's 90 % interval (package countci) with
// the candidate links it rests on, per kind.
type CountReport struct {
	Interval       countci.Interval `json:"interval"`
	Evidence       map[string]int   `json:"evidence"`
	ImagesCompared bool             `json:"images_compared"`
	Calibration    string           `json:"calibration"`
	// Labelled is the calibration input when OfflineOptions.Truth is set.
	Labelled *countci.Corpus `json:"labelled,omitempty"`
}

// Offline de-duplicates a JSON Lines file of adverts (ad.Ad) and writes
// CSV "ad_id,person_id,network_id" to out, sorted by ad id. Image entries
// are paths relative to baseDir or http(s) URLs. Unreadable lines are
// counted, logged by line number and skipped; a repeated ad id is counted
// and skipped. The adverts go through the same stage functions as on the
// stream (FingerprintStage.Process, then cluster.Stage's Begin and Wait,
// pipelined), with the same id check (ad.ValidID, which ad.Decode
// applies), over a direct in-process loop instead of a stream; the
// cluster state is a temporary file under stateDir that is removed
// afterwards.
//
// http(s) image URLs to private, loopback or link-local addresses are
// refused, as the crawler refuses them (internal/netguard); OfflineWith
// with AllowPrivate fetches them.
func Offline(ctx context.Context, in io.Reader, baseDir string, p *contact.Pseudonymiser, stateDir string, out io.Writer, log *slog.Logger) (OfflineStats, error) {
	return OfflineWith(ctx, in, baseDir, p, stateDir, out, log, OfflineOptions{})
}

// OfflineOptions are the options of OfflineWith.
type OfflineOptions struct {
	// AllowPrivate lets http(s) image URLs reach private, loopback and
	// link-local addresses (a local test server), like an arena config's
	// allow_private.
	AllowPrivate bool
	// Report computes the persons count's interval (Count, Evidence);
	// it keeps what the interval needs of every advert in memory.
	Report bool
	// Truth (ad id -> true person) labels the candidate links for
	// calibration (Labelled); with Report only.
	Truth map[string]string
	// Calibration overrides countci.Default.
	Calibration *countci.Calibration
}

// offlineImageTimeout bounds one image download of an offline run.
const offlineImageTimeout = 30 * time.Second

// OfflineWith is Offline with options.
func OfflineWith(ctx context.Context, in io.Reader, baseDir string, p *contact.Pseudonymiser, stateDir string, out io.Writer, log *slog.Logger, opt OfflineOptions) (OfflineStats, error) {
	var st OfflineStats
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p == nil {
		return st, errors.New("offline: nil pseudonymiser")
	}
	tmp, err := os.MkdirTemp(stateDir, "dedup-")
	if err != nil {
		return st, fmt.Errorf("state dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The state is removed afterwards: its commits need no fsync.
	cl, err := cluster.OpenScratch(filepath.Join(tmp, "cluster.db"))
	if err != nil {
		return st, err
	}
	defer cl.Close()

	lim := imagehash.DefaultLimits()
	loader := imagehash.FileOrHTTPLoader{BaseDir: baseDir, MaxBytes: lim.MaxBytes, Client: netguard.Client(offlineImageTimeout, opt.AllowPrivate)}
	fpr := NewFingerprinter(p, loader, lim)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The stages of the stream, run here over an in-process loop: the
	// same Process functions, so the two paths cannot drift.
	o := &offline{
		ctx:     ctx,
		cancel:  cancel,
		log:     log.With("stage", "dedup-offline"),
		fpStage: &FingerprintStage{FP: fpr, Workers: 1, Log: log},
		clStage: &cluster.Stage{Cluster: cl, Log: log},
		report:  opt.Report,
	}

	// Each worker runs the fingerprint stage on one batch at a time.
	workers := runtime.NumCPU()
	batches := make(chan offlineBatch, workers)
	results := make(chan offlineResult, workers)
	var readStats OfflineStats
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(batches)
		o.read(in, batches, &readStats)
	}()
	go func() {
		defer close(results)
		o.fingerprint(workers, batches, results)
	}()
	o.cluster(results, &st)
	<-readDone
	st.Read, st.Duplicates = readStats.Read, readStats.Duplicates
	st.BadLines += readStats.BadLines
	if err := context.Cause(ctx); err != nil {
		return st, err
	}

	if err := writeAssignments(out, cl, &st); err != nil {
		return st, err
	}
	if _, st.Persons, st.Networks, err = cl.Stats(); err != nil {
		return st, err
	}
	if st.PersonsWithoutContactOrPhoto, err = cl.PersonsWithoutContactOrPhoto(); err != nil {
		return st, err
	}
	if opt.Report {
		if err := o.countInterval(cl, &st, opt); err != nil {
			return st, err
		}
	}
	if err := cl.Close(); err != nil {
		return st, fmt.Errorf("close state: %w", err)
	}
	o.log.Info("dedup done", "read", st.Read, "bad_lines", st.BadLines, "duplicates", st.Duplicates,
		"images_failed", st.ImagesFailed, "ages_dropped", st.AgesDropped, "phones_invalid", st.PhonesInvalid,
		"empty_texts", st.EmptyTexts, "fields_dropped", st.FieldsDropped, "ads", st.AdsWritten, "persons", st.Persons, "persons_without_contact_or_photo", st.PersonsWithoutContactOrPhoto, "networks", st.Networks)
	return st, nil
}

// offline is one run of Offline: a reader, fingerprint workers and the
// cluster loop, which stop together when ctx is cancelled (cancel records
// the first error).
type offline struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	log     *slog.Logger
	fpStage *FingerprintStage
	clStage *cluster.Stage
	report  bool
	adverts []countci.Advert // with report: what the interval needs
}

// offlineBatch is a batch of adverts for the fingerprint stage, with the
// problems the reader met in them (fields dropped).
type offlineBatch struct {
	msgs     []*pipeline.Msg
	problems []string
}

// offlineResult is what the fingerprint stage made of a batch.
type offlineResult struct {
	pipeline.Result
	bad      int // adverts the fingerprint stage set aside
	problems []string
}

// read reads adverts and sends them in batches of FingerprintBatch, as
// the stream's messages would be. It owns stats.Read, BadLines and
// Duplicates until it returns.
func (o *offline) read(in io.Reader, batches chan<- offlineBatch, stats *OfflineStats) {
	r := ad.NewReader(in)
	seen := map[string]struct{}{}
	var b offlineBatch
	send := func() bool {
		if len(b.msgs) == 0 {
			return true
		}
		select {
		case batches <- b:
			b = offlineBatch{}
			return true
		case <-o.ctx.Done():
			return false
		}
	}
	for {
		// The reader decodes every line with ad.Decode, which checks the
		// id with ad.ValidID (the check of the stream's stages): a record
		// with an id no store accepts is a bad line.
		a, err := r.Next()
		if errors.Is(err, io.EOF) {
			send()
			return
		}
		var le *ad.LineError
		if errors.As(err, &le) {
			stats.BadLines++
			o.log.Warn("bad line skipped", "line", le.Line, "err", le.Err)
			continue
		}
		if err != nil {
			o.cancel(fmt.Errorf("read: %w", err))
			return
		}
		stats.Read++
		if _, dup := seen[a.ID]; dup {
			stats.Duplicates++
			o.log.Debug("duplicate ad id skipped", "ad", a.ID)
			continue
		}
		seen[a.ID] = struct{}{}
		// One content per advert (the first record): a version the
		// crawler set on a changed advert does not rename it here.
		a.Version = ""
		for _, pr := range r.Problems() {
			o.log.Debug("advert problem", "ad", a.ID, "problem", pr)
		}
		data, err := json.Marshal(a)
		if err != nil {
			o.cancel(fmt.Errorf("read: %w", err))
			return
		}
		b.msgs = append(b.msgs, &pipeline.Msg{Subject: pipeline.AdsSubject(a.Arena), Data: data, Seq: uint64(stats.Read), Delivered: 1})
		b.problems = append(b.problems, r.Problems()...)
		if len(b.msgs) == FingerprintBatch && !send() {
			return
		}
	}
}

// fingerprint runs the fingerprint stage's Process on workers batches at
// once and returns when batches is closed and drained.
func (o *offline) fingerprint(workers int, batches <-chan offlineBatch, results chan<- offlineResult) {
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range batches {
				res, err := o.fpStage.Process(o.ctx, b.msgs)
				if err != nil {
					o.cancel(err)
					return
				}
				r := offlineResult{Result: res, problems: b.problems}
				for _, m := range b.msgs {
					if m.Bad != nil {
						r.bad++
						o.log.Warn("record skipped", "err", m.Bad)
					}
				}
				select {
				case results <- r:
				case <-o.ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
}

// cluster feeds the fingerprints to the cluster stage in batches of
// OfflineBatch, pipelined: one runs in memory while the one before commits
// (cluster.Stage.Begin), and a batch is waited for once the next has
// begun. Nothing is published: the assignments are read from the state at
// the end. It counts the problems (by kind, with pipeline.Counters) and
// the set-aside adverts into st.
func (o *offline) cluster(results <-chan offlineResult, st *OfflineStats) {
	fps := make([]*pipeline.Msg, 0, OfflineBatch)
	var seq uint64
	var inFlight *cluster.Begun
	var problems pipeline.Counters // by kind, as the stream's stages count them
	wait := func() {
		if inFlight == nil {
			return
		}
		if _, err := inFlight.Wait(); err != nil {
			o.cancel(fmt.Errorf("cluster: %w", err))
		}
		inFlight = nil
	}
	flush := func() {
		if len(fps) == 0 || o.ctx.Err() != nil {
			return
		}
		b, err := o.clStage.Begin(o.ctx, fps)
		wait()
		if err != nil {
			o.cancel(fmt.Errorf("cluster: %w", err))
		}
		for _, m := range fps {
			if m.Bad != nil {
				o.cancel(fmt.Errorf("cluster: fingerprints set aside: %w", m.Bad))
			}
		}
		inFlight = b
		fps = fps[:0]
	}
	for r := range results {
		st.BadLines += r.bad
		problems.CountProblems(r.problems)
		problems.CountProblems(r.Problems)
		for _, out := range r.Out {
			if o.report {
				o.keep(out.Data)
			}
			seq++
			fps = append(fps, &pipeline.Msg{Subject: out.Subject, Data: out.Data, Seq: seq, Delivered: 1})
			if len(fps) == OfflineBatch {
				flush()
			}
		}
	}
	flush()
	wait()
	st.ImagesFailed = int(problems.ImageProblems.Load())
	st.AgesDropped = int(problems.AgeProblems.Load())
	st.PhonesInvalid = int(problems.PhoneProblems.Load())
	st.EmptyTexts = int(problems.TextProblems.Load())
	st.FieldsDropped = int(problems.FieldProblems.Load())
}

// writeAssignments writes the CSV "ad_id,person_id,network_id" of every
// advert in the state, sorted by ad id, and counts the rows.
func writeAssignments(out io.Writer, cl *cluster.Cluster, st *OfflineStats) error {
	w := csv.NewWriter(out)
	if err := w.Write([]string{"ad_id", "person_id", "network_id"}); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	err := cl.All(func(a ad.Assignment) error {
		st.AdsWritten++
		return w.Write([]string{a.AdID, a.PersonID, a.NetworkID})
	})
	if err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
