package cluster

import "slices"

// Images returns the image fingerprints of one advert as the rules compare
// them (its profile's images: pHash, mirror pHash, robust hashes, stock
// evidence), or ErrNotFound. Images are hashed, never kept, so this is all
// there is of an advert's photos (docs/PRIVACY.md).
func (c *Cluster) Images(adID string) ([]ImageHash, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, err := c.mustLookup(adID)
	if err != nil {
		return nil, err
	}
	p := c.st.profs[ref]
	if p == nil {
		return nil, nil
	}
	out := make([]ImageHash, len(p.Images))
	for i, im := range p.Images {
		out[i] = im
		out[i].Scales, out[i].Grid = slices.Clone(im.Scales), slices.Clone(im.Grid)
		out[i].SeenNames, out[i].SeenContacts = nil, nil // names and contact pseudonyms of other adverts
	}
	return out, nil
}
