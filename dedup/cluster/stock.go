package cluster

import (
	"fmt"
	"slices"
)

// Stock photos. A photo that many unrelated people post (an agency's
// stock picture, a picture taken from the web) says nothing about who
// posted it. An image of an advert is stock when the adverts with a
// matching image (ImagesMatch), the advert itself included, carry at
// least StockMinNames distinct non-empty names and at least
// StockMinContacts distinct contacts. Both counts only grow as adverts
// arrive, so once stock an image stays stock, and whether it is stock
// depends only on the set of adverts, not on their order. A stock image
// links no one (compareImages skips it); the other rules still apply.
//
// One person who changes phone keeps the name; an agency posting many
// names does it from few phones; so both counts are needed.
const (
	StockMinNames    = 3
	StockMinContacts = 3
)

// ImagesMatch is rule (a) for one pair of images, ignoring stock: the
// robust rule (SameImage) when both carry the robust hashes, else pHash
// distance ≤ MaxImageDistance, mirror-aware.
func ImagesMatch(x, y *ImageHash) bool {
	if x.robust() && y.robust() {
		return sameImage(x, y)
	}
	d, _ := ImageDistance(*x, *y)
	return d <= MaxImageDistance
}

// stockEvidence is an image's Stock once it is stock.
var stockEvidence = fmt.Sprintf("image is stock: seen with %d or more names and %d or more contacts", StockMinNames, StockMinContacts)

// seen adds an advert's name and contacts to the image's capped sets of
// distinct names and contacts. It reports whether the sets changed and
// whether the image just became stock.
func (h *ImageHash) seen(p *Profile) (changed, stock bool) {
	if h.Stock != "" {
		return false, false
	}
	changed = addSeen(&h.SeenNames, &h.SeenContacts, p, StockMinNames, StockMinContacts)
	if len(h.SeenNames) >= StockMinNames && len(h.SeenContacts) >= StockMinContacts {
		h.Stock = stockEvidence
		h.SeenNames, h.SeenContacts = nil, nil
		return true, true
	}
	return changed, false
}

// MarkStock is the definition of stock images over a whole set of
// adverts, by comparing every pair (the state computes the same
// incrementally). It sets Stock on the images of the profiles.
func MarkStock(profiles []*Profile) {
	for i, p := range profiles {
		for x := range p.Images {
			h := &p.Images[x]
			h.Stock, h.SeenNames, h.SeenContacts = "", nil, nil
			seen := []*Profile{p}
			for j, q := range profiles {
				if j != i && slices.ContainsFunc(q.Images, func(y ImageHash) bool { return ImagesMatch(h, &y) }) {
					seen = append(seen, q)
				}
			}
			for _, q := range seen {
				h.seen(q)
			}
		}
	}
}
