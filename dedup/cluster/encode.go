package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary encoding of an advert's id and Profile in the ads bucket (JSON
// cost about as much as the clustering itself). Layout, after a version
// byte:
//
//	id, name, contacts (count, then each), images (count, then each)
//	image: flags (1 mirror, 2 stock), pHash, [mirror], scales (count, each),
//	       grid (count, each), [stock], seen names, seen contacts
//	text: flags (0 none, 1 text, 2 template), then for a text its
//	      signature (256 bytes, 16-bit big-endian positions), seen
//	      names, seen contacts
//
// Strings and counts are uvarint-prefixed, hashes 8 bytes big-endian.
// Version 2 added the text.
const profileVersion = 2

const (
	flagMirror = 1 << iota
	flagStock
)

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendHashes(b []byte, hs []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(hs)))
	for _, h := range hs {
		b = binary.BigEndian.AppendUint64(b, h)
	}
	return b
}

// encodeProfile appends the encoding of advert id's profile p to b.
func encodeProfile(b []byte, id string, p *Profile) []byte {
	b = append(b, profileVersion)
	b = appendString(b, id)
	b = appendString(b, p.Name)
	b = appendStrings(b, p.Contacts)
	b = binary.AppendUvarint(b, uint64(len(p.Images)))
	for i := range p.Images {
		h := &p.Images[i]
		var flags byte
		if h.HasMirror {
			flags |= flagMirror
		}
		if h.Stock != "" {
			flags |= flagStock
		}
		b = append(b, flags)
		b = binary.BigEndian.AppendUint64(b, h.PHash)
		if h.HasMirror {
			b = binary.BigEndian.AppendUint64(b, h.Mirror)
		}
		b = appendHashes(b, h.Scales)
		b = appendHashes(b, h.Grid)
		if h.Stock != "" {
			b = appendString(b, h.Stock)
		}
		b = appendStrings(b, h.SeenNames)
		b = appendStrings(b, h.SeenContacts)
	}
	t := p.Text
	if t == nil {
		return append(b, 0)
	}
	flags := byte(tHasText)
	if t.Template {
		flags |= tTemplate
	}
	b = append(b, flags)
	for _, v := range t.Sig {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	b = appendStrings(b, t.SeenNames)
	return appendStrings(b, t.SeenContacts)
}

var errShort = errors.New("truncated")

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() int {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)) { // every counted item takes ≥ 1 byte
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) string(intern func(string) string) string {
	n := d.uvarint()
	return intern(string(d.bytes(n)))
}

func (d *decoder) strings(intern func(string) string) []string {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for range n {
		out = append(out, d.string(intern))
	}
	return out
}

func (d *decoder) uint64() uint64 {
	v := d.bytes(8)
	if v == nil {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (d *decoder) hashes() []uint64 {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	out := make([]uint64, 0, n)
	for range n {
		out = append(out, d.uint64())
	}
	return out
}

// decodeProfile decodes what encodeProfile wrote; intern may share equal
// strings (names, contacts) between profiles.
func decodeProfile(b []byte, intern func(string) string) (string, *Profile, error) {
	if len(b) == 0 || b[0] != profileVersion {
		return "", nil, fmt.Errorf("profile encoding version %v, want %d", b[:min(len(b), 1)], profileVersion)
	}
	d := &decoder{b: b[1:]}
	id := d.string(func(s string) string { return s })
	p := &Profile{Name: d.string(intern), Contacts: d.strings(intern)}
	if n := d.uvarint(); n > 0 {
		p.Images = make([]ImageHash, n)
		for i := range p.Images {
			h := &p.Images[i]
			flags := d.bytes(1)
			if flags == nil {
				break
			}
			h.PHash = d.uint64()
			if flags[0]&flagMirror != 0 {
				h.HasMirror, h.Mirror = true, d.uint64()
			}
			h.Scales, h.Grid = d.hashes(), d.hashes()
			if flags[0]&flagStock != 0 {
				h.Stock = d.string(intern)
			}
			h.SeenNames, h.SeenContacts = d.strings(intern), d.strings(intern)
		}
	}
	if flags := d.bytes(1); flags != nil && flags[0]&tHasText != 0 {
		t := &TextSig{Template: flags[0]&tTemplate != 0}
		if sig := d.bytes(2 * len(t.Sig)); sig != nil {
			for i := range t.Sig {
				t.Sig[i] = binary.BigEndian.Uint16(sig[2*i:])
			}
		}
		t.SeenNames, t.SeenContacts = d.strings(intern), d.strings(intern)
		p.Text = t
	} else if flags != nil && flags[0] != 0 {
		d.err = fmt.Errorf("text flags %d", flags[0])
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		return "", nil, fmt.Errorf("decode profile: %w", d.err)
	}
	return id, p, nil
}

// encodePatch appends ref and the parts of its profile p that change after
// the advert has arrived: per image its stock mark and seen sets, then the
// text's flags (0 none, 1 text, 2 template) and seen sets.
func encodePatch(b []byte, ref uint32, p *Profile) []byte {
	b = binary.AppendUvarint(b, uint64(ref))
	b = binary.AppendUvarint(b, uint64(len(p.Images)))
	for i := range p.Images {
		h := &p.Images[i]
		if h.Stock != "" {
			b = appendString(append(b, flagStock), h.Stock)
		} else {
			b = append(b, 0)
		}
		b = appendStrings(b, h.SeenNames)
		b = appendStrings(b, h.SeenContacts)
	}
	t := p.Text
	if t == nil {
		return append(b, 0)
	}
	flags := byte(tHasText)
	if t.Template {
		flags |= tTemplate
	}
	b = append(b, flags)
	b = appendStrings(b, t.SeenNames)
	return appendStrings(b, t.SeenContacts)
}

// num reads a uvarint that counts nothing (a ref).
func (d *decoder) num() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// patch applies what encodePatch wrote (after the ref) to p.
func (d *decoder) patch(p *Profile, intern func(string) string) {
	if n := d.uvarint(); d.err == nil && n != len(p.Images) {
		d.err = fmt.Errorf("patch of %d images, the profile has %d", n, len(p.Images))
		return
	}
	for i := range p.Images {
		h := &p.Images[i]
		flags := d.bytes(1)
		if flags == nil {
			return
		}
		h.Stock = ""
		if flags[0]&flagStock != 0 {
			h.Stock = d.string(intern)
		}
		h.SeenNames, h.SeenContacts = d.strings(intern), d.strings(intern)
	}
	flags := d.bytes(1)
	switch {
	case flags == nil:
	case (flags[0]&tHasText != 0) != (p.Text != nil) || flags[0]&^(tHasText|tTemplate) != 0:
		d.err = fmt.Errorf("patch text flags %d", flags[0])
	case p.Text != nil:
		t := p.Text
		t.Template = flags[0]&tTemplate != 0
		t.SeenNames, t.SeenContacts = d.strings(intern), d.strings(intern)
	}
}
