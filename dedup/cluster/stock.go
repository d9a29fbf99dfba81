package cluster

import (
	"fmt"
	"slices"
)

// Stock photos: the marks on images that link no one. What makes an
// image stock, and StockMinNames and StockMinContacts, are in rules.go.

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
