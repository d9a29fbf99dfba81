package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"adcensus/ad"
)

// Evidence is one link between two adverts and why it was made. Only links
// that joined two components are kept, so the evidence of a person or a
// network is a spanning tree of it.
type Evidence struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Scope  string `json:"scope"` // ScopePerson or ScopeNetwork
	Rule   string `json:"rule"`
	Detail string `json:"detail"`
}

// Explanation is an advert's place in the clusters with the evidence.
type Explanation struct {
	AdID      string     `json:"ad_id"`
	PersonID  string     `json:"person_id"`
	NetworkID string     `json:"network_id"`
	Person    []string   `json:"person"`   // ad ids of the person, sorted
	Network   []string   `json:"network"`  // ad ids of the network, sorted
	Evidence  []Evidence `json:"evidence"` // links within the network, sorted
	// Stock lists the images of the network's adverts that are stock
	// photos and so link no one: "ad-1 image 0: image is stock: …".
	Stock []string `json:"stock,omitempty"`
	// Templates lists the adverts of the network whose text is a shared
	// template and so links no one: "ad-1 text: text is a template: …".
	Templates []string `json:"templates,omitempty"`
	// Shared lists the network's multi-name contacts, on which a blank
	// advert is tied to no one person: "tel:ab12cd34…: used with 2 or
	// more names".
	Shared []string `json:"shared,omitempty"`
	// Explained is the member of the state explained: AdID, or for an
	// advert whose content changed (ad.Ad.Version) the versioned id of its
	// current content, AD_ID@v<version> (ad.VersionedID).
	Explained string `json:"explained"`
	// Version is the content explained (12 hex digits of its hash); empty
	// for an advert's first content.
	Version string `json:"version,omitempty"`
	// Earlier are the contents the advert had before the one explained,
	// oldest first, each with the person it was placed in; Later those it
	// had after it (set only when an earlier content was asked for by its
	// versioned id). Person and Network list every member, earlier
	// contents included.
	Earlier []Version `json:"earlier,omitempty"`
	Later   []Version `json:"later,omitempty"`
}

// PersonID is the public id of a person whose smallest ad id is minAdID.
func PersonID(minAdID string) string { return "P" + shortHash(minAdID) }

// NetworkID is the public id of a network whose smallest ad id is minAdID.
func NetworkID(minAdID string) string { return "N" + shortHash(minAdID) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// Assignment returns the person and network of one advert, ok=false when
// the advert is unknown.
func (c *Cluster) Assignment(adID string) (as ad.Assignment, ok bool, err error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, ok, err := c.lookup(adID)
	if !ok {
		return as, false, err
	}
	return c.st.assignment(ref), true, nil
}

// lookup returns the ref of an advert, ok=false when the state is unusable
// (err) or the advert unknown (err nil). c.mu must be held.
func (c *Cluster) lookup(adID string) (ref uint32, ok bool, err error) {
	if c.broken != nil {
		return 0, false, c.broken
	}
	ref, ok = c.st.pos[adID]
	return ref, ok, nil
}

// mustLookup is lookup with an unknown advert as ErrNotFound.
func (c *Cluster) mustLookup(adID string) (uint32, error) {
	ref, ok, err := c.lookup(adID)
	if err == nil && !ok {
		err = fmt.Errorf("%w: %q", ErrNotFound, adID)
	}
	return ref, err
}

// allChunk is the number of adverts All reads at a time.
const allChunk = 1000

// All calls fn with the assignment of every advert, sorted by ad id, and
// stops at the first error fn returns. fn may call other Cluster methods;
// adverts added meanwhile are not visited.
func (c *Cluster) All(fn func(ad.Assignment) error) error {
	c.lockCommitted()
	if c.broken != nil {
		c.mu.Unlock()
		return c.broken
	}
	refs := make([]uint32, len(c.st.ids))
	for i := range refs {
		refs[i] = uint32(i)
	}
	ids := c.st.ids
	c.mu.Unlock()
	slices.SortFunc(refs, func(x, y uint32) int { return strings.Compare(ids[x], ids[y]) })
	for len(refs) > 0 {
		chunk := refs[:min(allChunk, len(refs))]
		refs = refs[len(chunk):]
		batch := make([]ad.Assignment, 0, len(chunk))
		c.lockCommitted()
		for _, r := range chunk {
			batch = append(batch, c.st.assignment(r))
		}
		c.mu.Unlock()
		for _, as := range batch {
			if err := fn(as); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats returns the numbers of adverts, persons and networks. The
// contents of a changed advert count as one advert, and a person or
// network counts when it holds an advert's current content (versions.go).
func (c *Cluster) Stats() (ads, persons, networks int, err error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	if c.broken != nil {
		return 0, 0, 0, c.broken
	}
	ads, persons, networks = c.st.foldedStats()
	return ads, persons, networks, nil
}

// PersonsWithoutContactOrPhoto returns the number of persons none of
// whose adverts has a contact or an image fingerprint. Only a
// near-duplicate text with the same name can have joined their adverts
// (an advert with no name either is always a person of its own), so they
// are the least certain part of the person count: each may be a person,
// or a fragment of one counted elsewhere. The count of persons thus lies
// between Stats' persons minus this number and Stats' persons.
func (c *Cluster) PersonsWithoutContactOrPhoto() (int, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	if c.broken != nil {
		return 0, c.broken
	}
	s := c.st
	attributed := make([]bool, len(s.profs)) // by root
	for r, p := range s.profs {
		if len(p.Contacts) > 0 || len(p.Images) > 0 {
			attributed[s.comp[0][r]] = true
		}
	}
	live := s.currentRoots() // nil: every person holds a current content
	n := 0
	for r := range s.profs {
		if s.comp[0][r] == uint32(r) && !attributed[r] && (live == nil || live[uint32(r)]) {
			n++
		}
	}
	return n, nil
}

// Explain returns the person and network of an advert, their members and
// the evidence linking them, or ErrNotFound. An advert whose content
// changed is explained by its current content (the version placed last);
// a versioned id (AD_ID@v<version>) explains that content.
func (c *Cluster) Explain(adID string) (*Explanation, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, err := c.mustLookup(adID)
	if err != nil {
		return nil, err
	}
	s := c.st
	base, _ := ad.SplitVersion(adID)
	var earlier, later []Version
	if vs := s.versionsOf(base); len(vs) > 1 {
		at := len(vs) - 1
		if adID != base {
			at = slices.IndexFunc(vs, func(v Version) bool { return v.ID == adID })
		}
		earlier, later = vs[:at], vs[at+1:]
		ref = s.pos[vs[at].ID]
	}
	as := s.assignment(ref)
	_, version := ad.SplitVersion(as.AdID)
	ex := &Explanation{AdID: adID, PersonID: as.PersonID, NetworkID: as.NetworkID,
		Explained: as.AdID, Version: version, Earlier: earlier, Later: later}
	for sc, dst := range []*[]string{&ex.Person, &ex.Network} {
		for _, m := range s.members[sc][s.comp[sc][ref]] {
			*dst = append(*dst, s.ids[m])
		}
		slices.Sort(*dst)
	}
	for _, m := range ex.Network {
		for i, im := range s.profs[s.pos[m]].Images {
			if im.Stock != "" {
				ex.Stock = append(ex.Stock, fmt.Sprintf("%s image %d: %s", m, i, im.Stock))
			}
		}
		if t := s.profs[s.pos[m]].Text; t != nil && t.Template {
			ex.Templates = append(ex.Templates, m+" text: "+templateEvidence)
		}
		for _, c := range s.profs[s.pos[m]].Multi {
			ex.Shared = append(ex.Shared, fmt.Sprintf("%s: used with %d or more names, so a blank advert on it is tied to no one person", ShortContact(c), MultiNameMin))
		}
	}
	slices.Sort(ex.Shared)
	ex.Shared = slices.Compact(ex.Shared)
	ex.Evidence, err = c.file.evidence(s, ex.Network)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(ex.Evidence, func(x, y Evidence) int {
		return strings.Compare(x.A+"\x00"+x.B+"\x00"+x.Scope, y.A+"\x00"+y.B+"\x00"+y.Scope)
	})
	return ex, nil
}

// NetworkAssignments returns the current assignments of every advert in the
// network of adID, sorted by ad id (ErrNotFound for an unknown advert).
// The cluster stage republishes them when a redelivered advert finds its
// state already committed, so assignments lost between commit and publish
// are restored.
func (c *Cluster) NetworkAssignments(adID string) ([]ad.Assignment, error) {
	c.lockCommitted()
	defer c.mu.Unlock()
	ref, err := c.mustLookup(adID)
	if err != nil {
		return nil, err
	}
	s := c.st
	ms := s.members[1][s.comp[1][ref]]
	out := make([]ad.Assignment, 0, len(ms))
	for _, m := range ms {
		out = append(out, s.assignment(m))
	}
	slices.SortFunc(out, func(x, y ad.Assignment) int { return strings.Compare(x.AdID, y.AdID) })
	return out, nil
}
