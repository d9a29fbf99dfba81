package synth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"adcensus/ad"
	"adcensus/dedup/eval"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/synthetic"
	"adcensus/internal/synthetic/synth"
)

// baselines computes two naive de-duplications of the corpus in dir (any
// JSON Lines advert file named synth.AdsFile, images relative to dir), to set the
// scores of a real rule set against:
//
//   - phoneOnly: one person per distinct phone number — adverts sharing a
//     number (from the phones field or the text, after de-obfuscation by
//     internal/contact) are one person; adverts without a number are alone.
//   - imageOnly: one person per identical image — adverts sharing an image
//     with exactly the same pHash are one person; adverts without a
//     hashable image are alone.
//
// In both the network is the person: the baselines have no network level.
// Labels are "phone:"/"image:" plus the smallest ad id of the cluster.
// Numbers are pseudonymised with a random key that is thrown away.
func baselines(dir string) (phoneOnly, imageOnly map[string]eval.Labels, err error) {
	f, err := os.Open(filepath.Join(dir, synth.AdsFile))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	key := make([]byte, contact.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, err
	}
	pseudo := contact.New(key)

	var ids []string
	var tels [][]string
	var imgs [][]string
	seen := map[string]bool{}
	rd := ad.NewReader(f)
	for {
		a, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *ad.LineError
		if errors.As(err, &le) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		pseudo.Apply(a)
		var t []string
		for _, c := range a.Contacts {
			if strings.HasPrefix(c, contact.TelPrefix) {
				t = append(t, c)
			}
		}
		ids = append(ids, a.ID)
		tels = append(tels, t)
		imgs = append(imgs, a.Images)
	}

	// Hash every distinct image once.
	var srcs []string
	idx := map[string]int{}
	for _, list := range imgs {
		for _, s := range list {
			if _, ok := idx[s]; !ok {
				idx[s] = len(srcs)
				srcs = append(srcs, s)
			}
		}
	}
	hashes := make([]string, len(srcs))
	loader := imagehash.FileOrHTTPLoader{BaseDir: dir}
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for k := range next {
				data, err := loader.Load(context.Background(), srcs[k])
				if err != nil {
					continue // unusable images link nothing
				}
				if h, err := imagehash.Hash(data, imagehash.Limits{}); err == nil {
					hashes[k] = h[imagehash.PHash]
				}
			}
		})
	}
	for k := range srcs {
		next <- k
	}
	close(next)
	wg.Wait()
	phashes := make([][]string, len(imgs))
	for i, list := range imgs {
		for _, s := range list {
			if h := hashes[idx[s]]; h != "" {
				phashes[i] = append(phashes[i], h)
			}
		}
	}
	return components(ids, tels, "phone:"), components(ids, phashes, "image:"), nil
}

// components links adverts that share a key and labels each advert with
// prefix + the smallest ad id of its component.
func components(ids []string, keys [][]string, prefix string) map[string]eval.Labels {
	u := synthetic.NewUnionFind(len(ids))
	first := map[string]int{}
	for i, ks := range keys {
		for _, k := range ks {
			j, ok := first[k]
			if !ok {
				first[k] = i
				continue
			}
			u.Union(i, j)
		}
	}
	least := map[int]string{}
	for i, id := range ids {
		r := u.Find(i)
		if cur, ok := least[r]; !ok || id < cur {
			least[r] = id
		}
	}
	out := make(map[string]eval.Labels, len(ids))
	for i, id := range ids {
		l := prefix + least[u.Find(i)]
		out[id] = eval.Labels{Person: l, Network: l}
	}
	return out
}
