package cluster

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"adcensus/ad"
	"adcensus/internal/textsig"
)

// ProfileOf extracts what the rules compare from a fingerprinted advert:
// the normalised name, the sorted unique contacts and the hashes of the
// images that have a pHash ("phash", optional "phash_mirror", 16 hex
// digits; optional robust lists "phash_centres" and "phash_shifts", taken
// only when both parse) and the text signature ("text_minhash", taken when
// it parses; an advert without one has no text and rule (d) and the
// template marks leave it alone).
func ProfileOf(fp *ad.Fingerprinted) *Profile {
	// Control characters never belong to a name (and 0 separates the
	// contact index's keys).
	p := &Profile{Name: strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, fp.Name)), " ")}
	contacts := fp.Contacts
	if len(contacts) == 0 {
		contacts = fp.Ad.Contacts
	}
	p.Contacts = slices.Compact(slices.Sorted(slices.Values(contacts)))
	p.Contacts = slices.DeleteFunc(p.Contacts, func(c string) bool {
		return c == "" || strings.IndexByte(c, 0) >= 0
	})
	if fp.TextMinHash != "" {
		if sig, err := textsig.Parse(fp.TextMinHash); err == nil {
			p.Text = &TextSig{Sig: sig}
		}
	}
	for _, im := range fp.Images {
		if im.Err != "" {
			continue
		}
		ph, err := strconv.ParseUint(im.Hashes["phash"], 16, 64)
		if err != nil {
			continue
		}
		h := ImageHash{PHash: ph}
		if m, err := strconv.ParseUint(im.Hashes["phash_mirror"], 16, 64); err == nil {
			h.Mirror, h.HasMirror = m, true
		}
		if cs, gs := im.Hashes[kindCentres], im.Hashes[kindShifts]; cs != "" && gs != "" {
			sc, err1 := ad.ParseHashList(cs, 2*NumScales)
			gr, err2 := ad.ParseHashList(gs, 2*NumTiles)
			if err1 == nil && err2 == nil {
				h.Scales, h.Grid = sc, gr
			}
		}
		if !slices.ContainsFunc(p.Images, h.Equal) {
			p.Images = append(p.Images, h)
		}
	}
	return p
}
