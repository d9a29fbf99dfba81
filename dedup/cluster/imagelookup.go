package cluster

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// The image lookup of a chunk's adverts: in the image index
// (memindex.go), through a view of the state so that it runs beside the
// adding, and directly among the images of the chunk and the chunk
// before, which are not yet filed.

// match is an image i of a new advert matching image img of the state.
type match struct {
	i   uint16
	img uint32
}

// flatImage is one of a chunk's images for direct comparison.
type flatImage struct {
	ph, mh uint64
	h      *ImageHash
}

// match reports whether images x and y match (ImagesMatch).
func (f *flatImage) match(x *ImageHash) bool {
	if x.robust() && f.h.robust() {
		return ImagesMatch(x, f.h)
	}
	d := Hamming(x.PHash, f.ph)
	if x.HasMirror {
		d = min(d, Hamming(x.Mirror, f.ph))
	}
	if f.h.HasMirror {
		d = min(d, Hamming(x.PHash, f.mh))
	}
	return d <= MaxImageDistance
}

// match finds the matches of chunk c's images, in parallel: in the image
// index (its images up to the chunk before c, through view v), among the
// images of prev, the chunk before c when it is not in the index, and
// among c's earlier adverts; then puts them in the order add takes them.
// It reads only what adding prev's adverts leaves alone.
func (b *batch) match(c, prev *chunkIn, v *view) {
	c.found = make([][]match, len(c.fps))
	inIndex := c.first[0]
	if prev != nil {
		inIndex = prev.first[0]
	}
	// The advert and image index (in its profile) of image img.
	imageOf := func(img uint32) (string, uint16) {
		if int(img) < inIndex {
			r := v.imgs[img]
			return v.ids[r.ad], r.i
		}
		ch := c
		if int(img) < c.first[0] {
			ch = prev
		}
		j, _ := slices.BinarySearch(ch.first, int(img)+1)
		return ch.fps[j-1].Ad.ID, uint16(int(img) - ch.first[j-1])
	}
	parallel(len(c.fps), func(k int) {
		p := c.profs[k]
		found := b.lookup(v, p, nil, false, false)
		for i := range p.Images {
			x := &p.Images[i]
			if prev != nil {
				for y := range prev.flat {
					if prev.flat[y].match(x) {
						found = append(found, match{uint16(i), uint32(prev.first[0] + y)})
					}
				}
			}
			for y := range c.first[k] - c.first[0] {
				if c.flat[y].match(x) {
					found = append(found, match{uint16(i), uint32(c.first[0] + y)})
				}
			}
		}
		slices.SortFunc(found, func(x, y match) int {
			ax, ix := imageOf(x.img)
			ay, iy := imageOf(y.img)
			return cmp.Or(strings.Compare(ax, ay), cmp.Compare(x.i, y.i), cmp.Compare(ix, iy)) // ids are unique
		})
		c.found[k] = found
	})
}

// view is what a lookup reads of the state, so that a lookup can run
// while adverts are added (appending to these).
type view struct {
	imgs  []imgRef
	ihs   []uint64
	profs []*Profile
	ids   []string
}

func (s *state) view() *view { return &view{s.imgs, s.ihs, s.profs, s.ids} }

// v1Distance is ImageDistance between h and image n, from v.ihs.
func (v *view) v1Distance(h *ImageHash, n uint32) int {
	fl := v.imgs[n].fl
	p, m := v.ihs[2*n], v.ihs[2*n+1]
	d := Hamming(h.PHash, p)
	if h.HasMirror {
		d = min(d, Hamming(h.Mirror, p))
	}
	if fl&imgMirror != 0 {
		d = min(d, Hamming(h.PHash, m))
	}
	return d
}

// lookup returns the images of p that match images in the state's index,
// each (image of p, image of the state) pair once, and, when unindexed is
// set, the images numbered but not yet filed in the index (the chunk
// being added). keep, when set, filters the adverts considered; when
// live is set, p's stock images are not looked up (they link no one).
func (b *batch) lookup(v *view, p *Profile, keep func(ad uint32) bool, unindexed, live bool) []match {
	var out []match
	sc := scratchPool.Get().(*lookupScratch)
	defer scratchPool.Put(sc)
	cand := sc.cand[:0]
	defer func() { sc.cand = cand }()
	for i := range p.Images {
		h := &p.Images[i]
		if live && h.Stock != "" {
			continue
		}
		robust := h.robust()
		cand = cand[:0]
		// The index gives representatives: each is decided once for
		// itself and its copies (the same hashes), which keep filters.
		b.s.img.lookupReps(h, &sc.ps, func(img uint32) { cand = append(cand, img) })
		slices.Sort(cand)
		cand = slices.Compact(cand)
		at := len(out)
		for _, img := range cand {
			r := v.imgs[img]
			copies := b.s.img.copiesOf(img)
			if keep != nil && !keep(r.ad) && !slices.ContainsFunc(copies, func(c uint32) bool { return keep(v.imgs[c].ad) }) {
				continue
			}
			// ImagesMatch, without reading the other profile when the v1
			// rule applies (either image lacks the robust hashes).
			var ok bool
			if robust && r.fl&imgRobust != 0 {
				ok = ImagesMatch(h, &v.profs[r.ad].Images[r.i])
			} else {
				ok = v.v1Distance(h, img) <= MaxImageDistance
			}
			if !ok {
				continue
			}
			if keep == nil || keep(r.ad) {
				out = append(out, match{uint16(i), img})
			}
			for _, c := range copies {
				if keep == nil || keep(v.imgs[c].ad) {
					out = append(out, match{uint16(i), c})
				}
			}
		}
		if len(out)-at > 1 {
			slices.SortFunc(out[at:], func(x, y match) int { return cmp.Compare(x.img, y.img) })
		}
		if unindexed {
			for img := b.s.indexed; img < len(v.imgs); img++ {
				r := v.imgs[img]
				if keep != nil && !keep(r.ad) {
					continue
				}
				var ok bool
				if robust && r.fl&imgRobust != 0 {
					ok = ImagesMatch(h, &v.profs[r.ad].Images[r.i])
				} else {
					ok = v.v1Distance(h, uint32(img)) <= MaxImageDistance
				}
				if ok {
					out = append(out, match{uint16(i), uint32(img)})
				}
			}
		}
	}
	return out
}

// lookupScratch is the scratch space of one lookup, kept between lookups
// (a lookup gathers a few hundred probes and candidates; allocating them
// afresh for every advert was a fifth of all allocation).
type lookupScratch struct {
	ps   []probe
	cand []uint32
}

var scratchPool = sync.Pool{New: func() any { return new(lookupScratch) }}
