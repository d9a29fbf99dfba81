package cluster

import (
	"strings"

	"adcensus/ad"
)

// Versions of an advert. A changed advert (ad.Ad.Version) is placed anew
// under its versioned id (ad.VersionedID), so the state holds one member
// per content an advert has had: "a-1" for the first, "a-1@v<12 hex>" for
// each later one, in the order they entered the state. The advert's
// current content is the version that entered last. Counts of adverts,
// persons and networks are of current versions only: the earlier contents
// of a changed advert are not adverts of their own, and a person (or
// network) that holds nothing but earlier contents is no longer advertised
// by that advert (the index counts the same way: per advert id, by the
// assignment of its newest version).

// Version is one content of an advert in an Explanation.
type Version struct {
	// ID is the id the content was placed under (ad.VersionedID): the
	// advert id for its first content.
	ID string `json:"id"`
	// Version is the 12 hex digits of the content hash; empty for the
	// first content.
	Version  string `json:"version,omitempty"`
	PersonID string `json:"person_id"`
}

// current returns the refs of the adverts' current contents (for an
// advert with versions, the version that entered the state last; its
// first content is always the first to enter), or nil when no advert has
// a second content (then every ref is current). c.mu must be held.
func (s *state) current() []uint32 {
	last := map[string]uint32{} // advert with versions → its current ref
	for r, id := range s.ids {
		if !strings.Contains(id, versionSep) {
			continue
		}
		if base, v := ad.SplitVersion(id); v != "" {
			last[base] = uint32(r) // refs ascend: the last one wins
		}
	}
	if len(last) == 0 {
		return nil
	}
	refs := make([]uint32, 0, len(s.ids))
	for r, id := range s.ids {
		base, _ := ad.SplitVersion(id)
		if cur, ok := last[base]; ok && cur != uint32(r) {
			continue // an earlier content
		}
		refs = append(refs, uint32(r))
	}
	return refs
}

// versionSep is what separates an advert id from its version
// (ad.VersionedID); a cheap test before ad.SplitVersion.
const versionSep = "@v"

// versionsOf returns the contents of advert base (the id without a
// version suffix) in the order they entered the state, oldest first.
// c.mu must be held.
func (s *state) versionsOf(base string) []Version {
	var out []Version
	for r, id := range s.ids {
		if !strings.HasPrefix(id, base) {
			continue
		}
		b, v := ad.SplitVersion(id)
		if b != base {
			continue
		}
		out = append(out, Version{ID: id, Version: v, PersonID: s.assignment(uint32(r)).PersonID})
	}
	return out
}

// foldedStats is Stats over current versions: the adverts, and the
// persons and networks holding at least one current version. c.mu must
// be held.
func (s *state) foldedStats() (ads, persons, networks int) {
	cur := s.current()
	if cur == nil {
		return len(s.ids), s.count[0], s.count[1]
	}
	var roots [2]map[uint32]struct{}
	for sc := range roots {
		roots[sc] = make(map[uint32]struct{})
		for _, r := range cur {
			roots[sc][s.comp[sc][r]] = struct{}{}
		}
	}
	return len(cur), len(roots[0]), len(roots[1])
}

// currentRoots returns the person roots (scope 0) holding a current
// version, or nil when every ref is current. c.mu must be held.
func (s *state) currentRoots() map[uint32]bool {
	cur := s.current()
	if cur == nil {
		return nil
	}
	roots := make(map[uint32]bool, len(cur))
	for _, r := range cur {
		roots[s.comp[0][r]] = true
	}
	return roots
}
