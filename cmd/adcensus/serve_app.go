package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"adcensus/crawler"
	"adcensus/dedup/cluster"
	"adcensus/web/api"
)

// explainIdle is how long the cluster state stays open after the last
// explanation: its shared lock would keep a cluster writer on the same
// data directory waiting.
const explainIdle = time.Minute

// explainer answers /api/adverts/{id}/explain from the data directory's
// cluster state (as 'adcensus explain'), opened read-only on first use and
// again when the file has changed since (a rebuild, a new run), and closed
// after explainIdle without use.
type explainer struct {
	path  string
	mu    sync.Mutex
	cl    *cluster.Cluster
	mod   time.Time
	timer *time.Timer
	// held is the cluster state the process holds open (serve
	// --pipeline): explained from directly, never reopened.
	held *cluster.Cluster
}

func newExplainer(dataDir string) *explainer {
	return &explainer{path: filepath.Join(dataDir, clusterStateFile)}
}

// Func is the api.ExplainFunc.
func (e *explainer) Func() api.ExplainFunc {
	return func(_ context.Context, adID string) (any, bool, error) {
		var out any
		var ok bool
		found, err := e.with(func(cl *cluster.Cluster, _ string) error {
			var err error
			out, ok, err = explainWith(cl, adID)
			return err
		})
		if err != nil || !found {
			return nil, false, err
		}
		return out, ok, nil
	}
}

// with calls fn with the cluster state — the one the process holds open
// (serve --pipeline), or the file opened (again) read-only as needed — and
// the file's version (its modification time and size); found is false,
// without calling fn, when the data directory has no cluster state.
func (e *explainer) with(fn func(cl *cluster.Cluster, version string) error) (found bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fi, err := os.Stat(e.path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if e.held != nil {
		return true, fn(e.held, stateVersion(fi))
	}
	if e.cl == nil || !fi.ModTime().Equal(e.mod) {
		if e.cl != nil {
			e.cl.Close()
			e.cl = nil
		}
		cl, err := cluster.OpenReadOnly(e.path)
		if err != nil {
			return false, err
		}
		e.cl, e.mod = cl, fi.ModTime()
	}
	if e.timer == nil {
		e.timer = time.AfterFunc(explainIdle, e.closeIdle)
	} else {
		e.timer.Reset(explainIdle)
	}
	return true, fn(e.cl, stateVersion(fi))
}

// explainWith explains an advert from an open cluster state, with its
// photo fingerprints.
func explainWith(cl *cluster.Cluster, adID string) (any, bool, error) {
	ex, err := cl.Explain(adID)
	if errors.Is(err, cluster.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ims, err := cl.Images(adID)
	if err != nil {
		return nil, false, err
	}
	return advertExplanation{Explanation: ex, Images: photoFingerprints(ims)}, true, nil
}

// advertExplanation is the answer of /api/adverts/{id}/explain: the
// explanation and the advert's photo fingerprints (the advert page shows
// them; the photos themselves are never kept).
type advertExplanation struct {
	*cluster.Explanation
	Images []photoFingerprint `json:"images"`
}

// photoFingerprint is one image of an advert as the de-duplication
// compares it: its perceptual hash and its mirror's, in hex, and why it is
// a stock photo when it is one.
type photoFingerprint struct {
	PHash  string `json:"phash"`
	Mirror string `json:"mirror,omitempty"`
	Stock  string `json:"stock,omitempty"`
}

func photoFingerprints(ims []cluster.ImageHash) []photoFingerprint {
	out := make([]photoFingerprint, 0, len(ims))
	for _, im := range ims {
		f := photoFingerprint{PHash: fmt.Sprintf("%016x", im.PHash), Stock: im.Stock}
		if im.HasMirror {
			f.Mirror = fmt.Sprintf("%016x", im.Mirror)
		}
		out = append(out, f)
	}
	return out
}

// closeIdle closes the cluster state after explainIdle without use.
func (e *explainer) closeIdle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cl != nil {
		e.cl.Close()
		e.cl = nil
	}
}

// Close closes the cluster state if it is open.
func (e *explainer) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.cl == nil {
		return nil
	}
	err := e.cl.Close()
	e.cl = nil
	return err
}

// ScheduleInfo is one arena's crawl schedule with its next start, for the
// web app's runs page (/api/schedules).
type ScheduleInfo struct {
	Arena  string    `json:"arena"`
	Spec   string    `json:"spec"`
	Source string    `json:"source"`
	Next   time.Time `json:"next,omitzero"`
}

// schedulesOf lists the schedules stored in the data directory's crawl.db
// (read-only), over those of the arenas of the main config when serve was
// given one, with their next starts (as 'adcensus schedule list').
func schedulesOf(dataDir string, arenas []*crawler.ArenaConfig) func(context.Context) (any, int, error) {
	return schedulesOfStore(dataDir, arenas, nil)
}

// schedulesOfStore is schedulesOf reading the crawl state the process
// holds open (serve --pipeline), or the file when held is nil.
func schedulesOfStore(dataDir string, arenas []*crawler.ArenaConfig, held *crawler.Store) func(context.Context) (any, int, error) {
	return func(context.Context) (any, int, error) {
		var stored []crawler.Schedule
		path := filepath.Join(dataDir, crawlStateFile)
		if held != nil {
			var err error
			if stored, err = held.Schedules(); err != nil {
				return nil, 0, err
			}
		} else if _, err := os.Stat(path); err == nil {
			st, err := crawler.OpenStoreReadOnly(path)
			if err != nil {
				return nil, 0, err
			}
			stored, err = st.Schedules()
			st.Close()
			if err != nil {
				return nil, 0, err
			}
		}
		scheds := stored // as 'schedule list': merged with the config's only when there is one
		if arenas != nil {
			scheds = crawler.MergeSchedules(arenas, stored)
		}
		s, err := crawler.NewScheduler(scheds, crawler.SchedulerOptions{})
		if err != nil {
			return nil, 0, err
		}
		next := map[string]time.Time{}
		for _, d := range s.Next(time.Now()) {
			next[d.Arena] = d.At.UTC()
		}
		out := make([]ScheduleInfo, 0, len(scheds))
		for _, sc := range scheds {
			out = append(out, ScheduleInfo{Arena: sc.Arena, Spec: sc.Spec, Source: sc.Source, Next: next[sc.Arena]})
		}
		return out, len(out), nil
	}
}

// runErrorsOf lists a run's failed pages from the crawl state (held open
// by the process with serve --pipeline, else crawl.db read-only): the
// frontier keeps every page's final state and error.
func runErrorsOf(dataDir string, held *crawler.Store) api.RunErrorsFunc {
	return func(_ context.Context, run string) ([]api.RunError, bool, error) {
		st := held
		if st == nil {
			path := filepath.Join(dataDir, crawlStateFile)
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return nil, false, nil
			}
			var err error
			if st, err = crawler.OpenStoreReadOnly(path); err != nil {
				return nil, false, err
			}
			defer st.Close()
		}
		entries, err := st.Finished(run)
		if errors.Is(err, crawler.ErrRunNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		var out []api.RunError
		for _, e := range entries {
			if e.State == "failed" {
				out = append(out, api.RunError{URL: e.URL, Kind: e.Kind.String(), Depth: e.Depth, Error: e.Err})
			}
		}
		return out, true, nil
	}
}
