package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"adcensus/dedup/cluster"
	"adcensus/web/api"
)

// explainer answers /api/adverts/{id}/explain from the data directory's
// cluster state (as 'adcensus explain'), opened read-only on first use and
// again when the file has changed since (a rebuild, a new run).
type explainer struct {
	path string
	mu   sync.Mutex
	cl   *cluster.Cluster
	mod  time.Time
}

func newExplainer(dataDir string) *explainer {
	return &explainer{path: filepath.Join(dataDir, clusterStateFile)}
}

// Func is the api.ExplainFunc.
func (e *explainer) Func() api.ExplainFunc {
	return func(_ context.Context, adID string) (any, bool, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		fi, err := os.Stat(e.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if e.cl == nil || !fi.ModTime().Equal(e.mod) {
			if e.cl != nil {
				e.cl.Close()
				e.cl = nil
			}
			cl, err := cluster.OpenReadOnly(e.path)
			if err != nil {
				return nil, false, err
			}
			e.cl, e.mod = cl, fi.ModTime()
		}
		ex, err := e.cl.Explain(adID)
		if errors.Is(err, cluster.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return ex, true, nil
	}
}

// Close closes the cluster state if it was opened.
func (e *explainer) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cl == nil {
		return nil
	}
	err := e.cl.Close()
	e.cl = nil
	return err
}
