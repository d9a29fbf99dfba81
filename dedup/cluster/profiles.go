package cluster

import (
	"slices"

	"adcensus/internal/textsig"
)

// Compared is what the count's interval (dedup/countci) reads of one
// advert of the state: a copy, safe to keep after the call, of the parts
// of its profile the rules compare, with its current person.
type Compared struct {
	Known    bool   // false: the state has no advert of this id
	PersonID string // the advert's person now
	Name     string
	Contacts []string
	Images   []ImageHash // Stock and the seen sets left out
	Text     *textsig.MinHash
}

// profilesChunk is the number of adverts ComparedOf reads under one hold
// of the lock, so a long read does not stall a batch.
const profilesChunk = 2000

// ComparedOf returns, for each advert id of ids, what the rules compare
// of it and its person, from the committed state (Known false for an id
// the state does not hold). The state is read as it is now, so after a
// re-clustering (a rebuild of a person, a network taken apart) the
// answer follows the new persons.
func (c *Cluster) ComparedOf(ids []string) ([]Compared, error) {
	out := make([]Compared, len(ids))
	for lo := 0; lo < len(ids); lo += profilesChunk {
		hi := min(lo+profilesChunk, len(ids))
		c.lockCommitted()
		if c.broken != nil {
			c.mu.Unlock()
			return nil, c.broken
		}
		s := c.st
		for i := lo; i < hi; i++ {
			ref, ok := s.pos[ids[i]]
			if !ok {
				continue
			}
			p := s.profs[ref]
			o := &out[i]
			o.Known = true
			o.PersonID = s.assignment(ref).PersonID
			o.Name = p.Name
			o.Contacts = slices.Clone(p.Contacts)
			for _, h := range p.Images {
				o.Images = append(o.Images, ImageHash{PHash: h.PHash, Mirror: h.Mirror, HasMirror: h.HasMirror,
					Scales: slices.Clone(h.Scales), Grid: slices.Clone(h.Grid)})
			}
			if p.Text != nil {
				sig := p.Text.Sig
				o.Text = &sig
			}
		}
		c.mu.Unlock()
	}
	return out, nil
}
