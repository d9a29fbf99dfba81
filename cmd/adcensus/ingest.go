package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"adcensus/ad"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/pipeline"
	"adcensus/pipeline/jetstream"
)

// cmdIngest publishes a JSON Lines corpus (ad.Ad, the `adcensus dedup`
// input) on the stream, as the crawler would have published it: images
// hashed under the crawler's limits (local paths relative to the file's
// folder, or http(s) URLs, refused on private and loopback addresses
// unless --allow-private), contacts pseudonymised with the key of --data,
// one message per advert on adcensus.ads.<arena> with the ad id as its
// message id. The stages (`adcensus stages`, `adcensus run`) then take
// the adverts through fingerprint, cluster and index.
func cmdIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	in := fs.String("in", "", "JSON Lines file of adverts (required); image paths are relative to its folder")
	natsURL := fs.String("nats", "", "NATS URL of the JetStream cluster to publish on (required)")
	dataDir := fs.String("data", "./data", "data directory holding the pseudonymisation key (the stages' key)")
	allowPrivate := fs.Bool("allow-private", false, "fetch http(s) images from private and loopback addresses too")
	maxImages := fs.Int("max-images", 8, "images hashed per advert (the crawler's default limit); the rest are ignored")
	workers := fs.Int("workers", runtime.NumCPU(), "adverts whose images are hashed at once")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" || *natsURL == "" {
		return usageError{"usage: adcensus ingest --in ads.jsonl --nats URL [--data DIR] [--allow-private] [--max-images N] [--workers N]"}
	}
	if *maxImages < 0 || *maxImages > 100 {
		return usageError{fmt.Sprintf("--max-images %d: want 0 to 100", *maxImages)}
	}
	if *workers < 1 {
		return usageError{fmt.Sprintf("--workers %d: want at least 1", *workers)}
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("--data %s: %w (the key must be the stages' own)", *dataDir, err)
	}
	key, err := contact.LoadOrCreateKey(*dataDir)
	if err != nil {
		return err
	}
	log := newLogger(stderr, levelFor(false)).With("stage", "ingest")
	bus, err := jetstream.Open(ctx, jetstream.Options{URL: *natsURL, Logger: log})
	if err != nil {
		return fmt.Errorf("connect %s: %w", *natsURL, err)
	}
	defer bus.Close()
	ing := &ingester{
		bus:    bus,
		pseudo: contact.New(key),
		lim:    imagehash.DefaultLimits(),
		max:    *maxImages,
		log:    log,
	}
	ing.loader = imagehash.FileOrHTTPLoader{BaseDir: filepath.Dir(*in), MaxBytes: ing.lim.MaxBytes,
		Client: guardedClient(*allowPrivate)}
	start := time.Now()
	st, err := ing.run(ctx, f, *workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "read %d adverts (%d bad lines, %d duplicate ids skipped); published %d on %s with %d images hashed (%d failed) in %v\n",
		st.read, st.badLines, st.duplicates, st.published, *natsURL, st.images, st.imagesFailed, time.Since(start).Round(time.Millisecond))
	return nil
}

// errPrivateAddress refuses an image on a private or loopback address.
var errPrivateAddress = errors.New("private or loopback address refused (use --allow-private)")

// guardedClient is the HTTP client for images: the address connected to
// (after DNS, redirects included) must be public unless allowPrivate.
func guardedClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			if allowPrivate {
				return nil
			}
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("%s: %w", host, errPrivateAddress)
			}
			return nil
		},
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 20 * time.Second}}
}

type ingester struct {
	bus    pipeline.Bus
	pseudo *contact.Pseudonymiser
	loader imagehash.FileOrHTTPLoader
	lim    imagehash.Limits
	cache  imagehash.Cache // a photo posted again is hashed once
	max    int
	log    *slog.Logger
}

type ingestStats struct {
	read, badLines, duplicates, published int
	images, imagesFailed                  int64
}

// run reads the file, hashes and pseudonymises the adverts on workers
// goroutines and publishes them asynchronously; it returns once the
// stream has acknowledged every advert, or with the first publish error.
func (g *ingester) run(ctx context.Context, in io.Reader, workers int) (ingestStats, error) {
	var st ingestStats
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	todo := make(chan *ad.Ad, workers)
	var images, failed atomic.Int64
	var acks sync.WaitGroup
	var published atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for a := range todo {
				g.hash(ctx, a, &images, &failed)
				for _, pr := range g.pseudo.Apply(a) {
					g.log.Warn("contact problem", "ad", a.ID, "problem", pr)
				}
				data, err := json.Marshal(a)
				if err != nil {
					cancel(fmt.Errorf("encode %s: %w", a.ID, err))
					continue
				}
				acks.Add(1)
				err = g.bus.PublishAsync(ctx, pipeline.AdsSubject(a.Arena), a.ID, data, nil, func(err error) {
					if err != nil {
						cancel(fmt.Errorf("publish %s: %w", a.ID, err))
					} else {
						published.Add(1)
					}
					acks.Done()
				})
				if err != nil {
					acks.Done()
					cancel(fmt.Errorf("publish %s: %w", a.ID, err))
				}
			}
		})
	}
	r := ad.NewReader(in)
	seen := map[string]struct{}{}
read:
	for {
		a, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *ad.LineError
		if errors.As(err, &le) {
			st.badLines++
			g.log.Warn("bad line skipped", "line", le.Line, "err", le.Err)
			continue
		}
		if err != nil {
			cancel(fmt.Errorf("read: %w", err))
			break
		}
		st.read++
		if bad := badArena(a.Arena); bad != "" {
			st.badLines++
			g.log.Warn("bad line skipped", "ad", a.ID, "err", bad)
			continue
		}
		if _, dup := seen[a.ID]; dup {
			st.duplicates++
			continue
		}
		seen[a.ID] = struct{}{}
		select {
		case todo <- a:
		case <-ctx.Done():
			break read
		}
	}
	close(todo)
	wg.Wait()
	acks.Wait()
	st.images, st.imagesFailed, st.published = images.Load(), failed.Load(), int(published.Load())
	return st, context.Cause(ctx)
}

// badArena says why an arena name cannot name the advert's subject, or "".
func badArena(arena string) string {
	if arena == "" {
		return "no arena"
	}
	if strings.ContainsAny(arena, ".*> \t\r\n") {
		return fmt.Sprintf("arena %q: a subject token cannot hold '.', '*', '>' or spaces", arena)
	}
	return ""
}

// hash hashes the advert's first g.max images that have no fingerprint
// yet; a failure is kept on the image (ImageFP.Err) and counted, as the
// crawler does.
func (g *ingester) hash(ctx context.Context, a *ad.Ad, images, failed *atomic.Int64) {
	have := map[string]bool{}
	for _, fp := range a.ImageFPs {
		have[fp.Src] = true
	}
	for i, src := range a.Images {
		if i >= g.max {
			break
		}
		if have[src] {
			continue
		}
		fp := ad.ImageFP{Src: src}
		body, err := g.loader.Load(ctx, src)
		if err == nil {
			fp.Hashes, err = g.cache.Hash(body, g.lim)
		}
		if err != nil {
			fp.Err = err.Error()
			failed.Add(1)
			g.log.Warn("image failed", "ad", a.ID, "image", src, "err", err)
		} else {
			images.Add(1)
		}
		a.ImageFPs = append(a.ImageFPs, fp)
	}
}
