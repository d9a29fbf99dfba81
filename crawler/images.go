package crawler

import (
	"context"
	"sync"

	"adcensus/ad"
	"adcensus/internal/imagehash"
)

// hashImages fetches the advert's images under the same politeness as pages
// and keeps only their fingerprints.
func (c *Crawler) hashImages(ctx context.Context, col *fetcher, a *ad.Ad) {
	for i, src := range a.Images {
		if i >= c.cfg.Limits.MaxImages {
			break
		}
		fp, seen := c.images.get(src)
		if seen {
			a.ImageFPs = append(a.ImageFPs, fp)
			continue
		}
		fp = ad.ImageFP{Src: src}
		res, _, err := c.sess.fetch(ctx, src, nil) // an image behind the age gate too
		if err == nil {
			fp.Hashes, err = imagehash.Hash(res.body, c.opts.ImageLimits)
		}
		if err != nil {
			fp.Err = err.Error()
			c.log.Warn("image failed", "url", src, "err", err)
		} else {
			c.Stats.Images.Add(1)
			c.metrics.Images.Add(1)
		}
		if ctx.Err() == nil {
			c.images.put(src, fp)
		}
		a.ImageFPs = append(a.ImageFPs, fp)
	}
}

// imageCache remembers the fingerprints of recently fetched images, in
// two generations of at most imageGeneration entries: when the current one
// is full it becomes the old one and the previous old one is dropped, so
// memory stays bounded over any number of pages while images seen again
// recently (reposts) are not refetched.
type imageCache struct {
	mu       sync.Mutex
	cur, old map[string]ad.ImageFP
}

const imageGeneration = 20_000

func (ic *imageCache) get(src string) (ad.ImageFP, bool) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if fp, ok := ic.cur[src]; ok {
		return fp, true
	}
	fp, ok := ic.old[src]
	return fp, ok
}

func (ic *imageCache) put(src string, fp ad.ImageFP) {
	ic.mu.Lock()
	defer ic.mu.Unlock()
	if ic.cur == nil {
		ic.cur = map[string]ad.ImageFP{}
	}
	if len(ic.cur) >= imageGeneration {
		ic.old, ic.cur = ic.cur, make(map[string]ad.ImageFP, imageGeneration)
	}
	ic.cur[src] = fp
}
