package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"adcensus/crawler"
	"adcensus/pipeline"
)

// progress shows a live line on a terminal (pages/s, queued, ads, errors,
// stage counts, elapsed) and a periodic plain line otherwise.
type progress struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	print  func(final bool)
}

func startProgress(ctx context.Context, w io.Writer, quiet bool, start time.Time, crawlers []*crawler.Crawler, c *pipeline.Counters) *progress {
	ctx, cancel := context.WithCancel(ctx)
	p := &progress{cancel: cancel}
	if quiet {
		p.print = func(bool) {}
		return p
	}
	tty := isTerminal(w)
	every := 10 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	var lastPages int64
	lastAt := start
	p.print = func(final bool) {
		var pages, ads, errs, queued int64
		for _, cr := range crawlers {
			pages += cr.Stats.Pages.Load()
			ads += cr.Stats.Ads.Load()
			errs += cr.Stats.Errors.Load()
			queued += cr.Stats.Queued.Load()
		}
		now := time.Now()
		rate := float64(pages-lastPages) / now.Sub(lastAt).Seconds()
		lastPages, lastAt = pages, now
		line := fmt.Sprintf("pages %d (%.0f/s)  queued %d  ads %d  errors %d  | ", pages, rate, queued, ads, errs)
		if c != nil {
			line += fmt.Sprintf("fingerprinted %d  clustered %d  indexed %d  | ", c.Fingerprinted.Load(), c.Clustered.Load(), c.Indexed.Load())
		}
		line += now.Sub(start).Round(100 * time.Millisecond).String()
		switch {
		case tty && final:
			fmt.Fprintf(w, "\r\033[K%s\n", line)
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", line)
		default:
			fmt.Fprintln(w, "progress:", line)
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				p.print(false)
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	p.cancel()
	p.wg.Wait()
	p.print(true)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
