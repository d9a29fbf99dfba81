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

	"adcensus/ad"
	"adcensus/dedup/cluster"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
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
func Offline(ctx context.Context, in io.Reader, baseDir string, p *contact.Pseudonymiser, stateDir string, out io.Writer, log *slog.Logger) (OfflineStats, error) {
	var st OfflineStats
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stageLog := log
	log = log.With("stage", "dedup-offline")
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
	fpr := NewFingerprinter(p, imagehash.FileOrHTTPLoader{BaseDir: baseDir, MaxBytes: lim.MaxBytes}, lim)
	// The stages of the stream, run here over an in-process loop: the
	// same Process functions, so the two paths cannot drift.
	fpStage := &FingerprintStage{FP: fpr, Workers: 1, Log: stageLog}
	clStage := &cluster.Stage{Cluster: cl, Log: stageLog}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// batch is a batch of adverts for the fingerprint stage, with the
	// problems the reader met in them (fields dropped).
	type batch struct {
		msgs     []*pipeline.Msg
		problems []string
	}
	type result struct {
		pipeline.Result
		bad      int // adverts the fingerprint stage set aside
		problems []string
	}
	// Each worker runs the fingerprint stage on one batch at a time.
	workers := runtime.NumCPU()
	batches := make(chan batch, workers)
	results := make(chan result, workers)

	// reader: owns Read, BadLines and Duplicates until batches is closed.
	var readStats OfflineStats
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(batches)
		r := ad.NewReader(in)
		seen := map[string]struct{}{}
		var b batch
		send := func() bool {
			if len(b.msgs) == 0 {
				return true
			}
			select {
			case batches <- b:
				b = batch{}
				return true
			case <-ctx.Done():
				return false
			}
		}
		for {
			// The reader decodes every line with ad.Decode, which checks
			// the id with ad.ValidID (the check of the stream's stages):
			// a record with an id no store accepts is a bad line.
			a, err := r.Next()
			if errors.Is(err, io.EOF) {
				send()
				return
			}
			var le *ad.LineError
			if errors.As(err, &le) {
				readStats.BadLines++
				log.Warn("bad line skipped", "line", le.Line, "err", le.Err)
				continue
			}
			if err != nil {
				cancel(fmt.Errorf("read: %w", err))
				return
			}
			readStats.Read++
			if _, dup := seen[a.ID]; dup {
				readStats.Duplicates++
				log.Debug("duplicate ad id skipped", "ad", a.ID)
				continue
			}
			seen[a.ID] = struct{}{}
			for _, pr := range r.Problems() {
				log.Debug("advert problem", "ad", a.ID, "problem", pr)
			}
			data, err := json.Marshal(a)
			if err != nil {
				cancel(fmt.Errorf("read: %w", err))
				return
			}
			b.msgs = append(b.msgs, &pipeline.Msg{Subject: pipeline.AdsSubject(a.Arena), Data: data, Seq: uint64(readStats.Read), Delivered: 1})
			b.problems = append(b.problems, r.Problems()...)
			if len(b.msgs) == FingerprintBatch && !send() {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range batches {
				res, err := fpStage.Process(ctx, b.msgs)
				if err != nil {
					cancel(err)
					return
				}
				r := result{Result: res, problems: b.problems}
				for _, m := range b.msgs {
					if m.Bad != nil {
						r.bad++
						log.Warn("record skipped", "err", m.Bad)
					}
				}
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	// Cluster batches are pipelined: one runs in memory while the one
	// before commits (cluster.Stage.Begin), and a batch is waited for once
	// the next has begun. Nothing is published: the assignments are read
	// from the state at the end.
	fps := make([]*pipeline.Msg, 0, OfflineBatch)
	var seq uint64
	var inFlight *cluster.Begun
	wait := func() {
		if inFlight == nil {
			return
		}
		if _, err := inFlight.Wait(); err != nil {
			cancel(fmt.Errorf("cluster: %w", err))
		}
		inFlight = nil
	}
	flush := func() {
		if len(fps) == 0 || ctx.Err() != nil {
			return
		}
		b, err := clStage.Begin(ctx, fps)
		wait()
		if err != nil {
			cancel(fmt.Errorf("cluster: %w", err))
		}
		for _, m := range fps {
			if m.Bad != nil {
				cancel(fmt.Errorf("cluster: fingerprints set aside: %w", m.Bad))
			}
		}
		inFlight = b
		fps = fps[:0]
	}
	for r := range results {
		st.BadLines += r.bad
		st.countProblems(r.problems)
		st.countProblems(r.Problems)
		for _, o := range r.Out {
			seq++
			fps = append(fps, &pipeline.Msg{Subject: o.Subject, Data: o.Data, Seq: seq, Delivered: 1})
			if len(fps) == OfflineBatch {
				flush()
			}
		}
	}
	flush()
	wait()
	<-readDone
	st.Read, st.Duplicates = readStats.Read, readStats.Duplicates
	st.BadLines += readStats.BadLines
	if err := context.Cause(ctx); err != nil {
		return st, err
	}

	w := csv.NewWriter(out)
	if err := w.Write([]string{"ad_id", "person_id", "network_id"}); err != nil {
		return st, fmt.Errorf("write csv: %w", err)
	}
	err = cl.All(func(a ad.Assignment) error {
		st.AdsWritten++
		return w.Write([]string{a.AdID, a.PersonID, a.NetworkID})
	})
	if err != nil {
		return st, fmt.Errorf("write csv: %w", err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return st, fmt.Errorf("write csv: %w", err)
	}
	if _, st.Persons, st.Networks, err = cl.Stats(); err != nil {
		return st, err
	}
	if st.PersonsWithoutContactOrPhoto, err = cl.PersonsWithoutContactOrPhoto(); err != nil {
		return st, err
	}
	if err := cl.Close(); err != nil {
		return st, fmt.Errorf("close state: %w", err)
	}
	log.Info("dedup done", "read", st.Read, "bad_lines", st.BadLines, "duplicates", st.Duplicates,
		"images_failed", st.ImagesFailed, "ages_dropped", st.AgesDropped, "phones_invalid", st.PhonesInvalid,
		"empty_texts", st.EmptyTexts, "fields_dropped", st.FieldsDropped, "ads", st.AdsWritten, "persons", st.Persons, "persons_without_contact_or_photo", st.PersonsWithoutContactOrPhoto, "networks", st.Networks)
	return st, nil
}

// countProblems counts advert problems by kind (ad.ProblemKind).
func (st *OfflineStats) countProblems(problems []string) {
	for _, pr := range problems {
		switch ad.ProblemKind(pr) {
		case ad.ProblemImage:
			st.ImagesFailed++
		case ad.ProblemAge:
			st.AgesDropped++
		case ad.ProblemPhone:
			st.PhonesInvalid++
		case ad.ProblemText:
			st.EmptyTexts++
		case ad.ProblemField:
			st.FieldsDropped++
		}
	}
}
