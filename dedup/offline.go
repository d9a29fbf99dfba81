package dedup

import (
	"context"
	"encoding/csv"
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
// and skipped. Clustering uses the same state code as the pipeline, in a
// temporary file under stateDir that is removed afterwards.
func Offline(ctx context.Context, in io.Reader, baseDir string, p *contact.Pseudonymiser, stateDir string, out io.Writer, log *slog.Logger) (OfflineStats, error) {
	var st OfflineStats
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
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

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type result struct {
		fp     *ad.Fingerprinted
		failed int
	}
	workers := runtime.NumCPU()
	type job struct {
		a        *ad.Ad
		problems []string // fields the reader dropped
	}
	jobs := make(chan job, 2*workers)
	results := make(chan result, 2*workers)

	// reader: owns Read, BadLines and Duplicates until jobs is closed.
	var readStats OfflineStats
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer close(jobs)
		r := ad.NewReader(in)
		seen := map[string]struct{}{}
		for {
			a, err := r.Next()
			if errors.Is(err, io.EOF) {
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
			if !cluster.ValidID(a.ID) {
				readStats.BadLines++
				log.Warn("record skipped: id empty, too long or with a 0 byte", "after_records", readStats.Read)
				continue
			}
			readStats.Read++
			if _, dup := seen[a.ID]; dup {
				readStats.Duplicates++
				log.Debug("duplicate ad id skipped", "ad", a.ID)
				continue
			}
			seen[a.ID] = struct{}{}
			select {
			case jobs <- job{a, r.Problems()}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				fp, failed, err := fpr.process(ctx, j.a)
				if err != nil {
					cancel(err)
					return
				}
				fp.Problems = append(j.problems, fp.Problems...)
				select {
				case results <- result{fp, failed}:
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

	// Batches are pipelined: one runs in memory while the one before
	// commits (cluster.Cluster.Begin), and a batch is waited for once the
	// next has begun.
	batch := make([]*ad.Fingerprinted, 0, OfflineBatch)
	var inFlight *cluster.Pending
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
		if len(batch) == 0 || ctx.Err() != nil {
			return
		}
		p, err := cl.Begin(batch)
		wait()
		if err != nil {
			cancel(fmt.Errorf("cluster: %w", err))
		}
		inFlight = p
		batch = batch[:0]
	}
	for r := range results {
		st.ImagesFailed += r.failed
		for _, pr := range r.fp.Problems {
			log.Debug("advert problem", "ad", r.fp.Ad.ID, "problem", pr)
			switch ad.ProblemKind(pr) {
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
		batch = append(batch, r.fp)
		if len(batch) == OfflineBatch {
			flush()
		}
	}
	flush()
	wait()
	<-readDone
	st.Read, st.BadLines, st.Duplicates = readStats.Read, readStats.BadLines, readStats.Duplicates
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
