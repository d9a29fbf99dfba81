package cluster

import (
	"slices"
	"strconv"
	"strings"
	"unicode"

	"adcensus/ad"
	"adcensus/internal/imagehash"
	"adcensus/internal/textsig"
)

// ImageHash is one image's pHash and, if known, the pHash of its mirror.
type ImageHash struct {
	PHash     uint64
	Mirror    uint64
	HasMirror bool
	// Scales and Grid are the robust hashes (imagehash.Centres,
	// imagehash.Shifts): per region its pHash then its mirror's, so
	// 2 × NumScales and 2 × NumTiles values, or none for an image
	// fingerprinted before they existed.
	Scales []uint64 `json:",omitempty"`
	Grid   []uint64 `json:",omitempty"`
	// Stock is the evidence that the image is a stock photo (stock.go),
	// "" when it is not (yet); a stock image links no one. SeenNames and
	// SeenContacts are the distinct names and contacts of the adverts
	// with a matching image so far, capped at the stock thresholds.
	Stock        string   `json:",omitempty"`
	SeenNames    []string `json:",omitempty"`
	SeenContacts []string `json:",omitempty"`
}

// Profile is what the rules know of one advert.
type Profile struct {
	Name     string   // normalised; "" when none
	Contacts []string // sorted pseudonyms
	Images   []ImageHash
	Text     *TextSig // nil when the advert has no text signature
	// Multi lists the advert's contacts that are multi-name contacts
	// (MarkMultiName): sorted, nil for most adverts. Like the stock
	// marks it depends on the set of adverts, not their order.
	Multi []string `json:",omitempty"`
}

// Blank reports whether the advert has neither name nor images, so a
// shared contact is all that can tie it to a person.
func (p *Profile) Blank() bool { return p.Name == "" && len(p.Images) == 0 }

// setMulti marks contact c of the advert a multi-name contact.
func (p *Profile) setMulti(c string) {
	if i, ok := slices.BinarySearch(p.Multi, c); !ok {
		p.Multi = slices.Insert(p.Multi, i, c)
	}
}

// multi reports whether contact c of the advert is a multi-name contact.
func (p *Profile) multi(c string) bool {
	_, ok := slices.BinarySearch(p.Multi, c)
	return ok
}

// Equal reports whether two image hashes hold the same values.
func (h ImageHash) Equal(o ImageHash) bool {
	return h.PHash == o.PHash && h.Mirror == o.Mirror && h.HasMirror == o.HasMirror &&
		slices.Equal(h.Scales, o.Scales) && slices.Equal(h.Grid, o.Grid)
}

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
		ph, err := strconv.ParseUint(im.Hashes[imagehash.PHash], 16, 64)
		if err != nil {
			continue
		}
		h := ImageHash{PHash: ph}
		if m, err := strconv.ParseUint(im.Hashes[imagehash.PHashMirror], 16, 64); err == nil {
			h.Mirror, h.HasMirror = m, true
		}
		if cs, gs := im.Hashes[imagehash.Centres], im.Hashes[imagehash.Shifts]; cs != "" && gs != "" {
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
