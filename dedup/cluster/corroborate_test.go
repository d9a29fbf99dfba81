package cluster_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"adcensus/ad"
	"adcensus/dedup/cluster"
)

// robustPhoto is a photo's hashes: pHash, mirror pHash, the centred
// regions and the shifted windows, each with 32 of 64 bits set.
type robustPhoto [2 + 2*cluster.NumScales + 2*cluster.NumTiles]uint64

func randomPhoto(r *rand.Rand) (p robustPhoto) {
	for i := range p {
		for _, b := range r.Perm(64)[:32] {
			p[i] |= 1 << b
		}
	}
	return p
}

// movedBits returns h with k set bits moved: distance 2k.
func movedBits(r *rand.Rand, h uint64, k int) uint64 {
	var on, off []int
	for i := range 64 {
		if h>>i&1 == 1 {
			on = append(on, i)
		} else {
			off = append(off, i)
		}
	}
	r.Shuffle(len(on), func(i, j int) { on[i], on[j] = on[j], on[i] })
	r.Shuffle(len(off), func(i, j int) { off[i], off[j] = off[j], off[i] })
	for i := range k {
		h ^= 1<<on[i] | 1<<off[i]
	}
	return h
}

// copyAt is an unrelated photo whose centred region at 86 % lies at
// distance d from p's: the closest pair of hashes of the two.
func copyAt(r *rand.Rand, p robustPhoto, d int) robustPhoto {
	c := randomPhoto(r)
	c[2+2] = movedBits(r, p[2+2], d/2)
	return c
}

// windowAt returns c with its first shifted window at distance d from
// p's 86 % centre.
func windowAt(r *rand.Rand, c, p robustPhoto, d int) robustPhoto {
	c[2+2*cluster.NumScales] = movedBits(r, p[2+2], d/2)
	return c
}

func robustFP(id, name string, contacts []string, p robustPhoto) *ad.Fingerprinted {
	hexs := func(hs []uint64) string {
		var sb strings.Builder
		for _, h := range hs {
			fmt.Fprintf(&sb, "%016x", h)
		}
		return sb.String()
	}
	return &ad.Fingerprinted{Ad: ad.Ad{ID: id}, Name: name, Contacts: contacts,
		Images: []ad.ImageFP{{Src: id + ".jpg", Hashes: map[string]string{
			"phash": hexs(p[:1]), "phash_mirror": hexs(p[1:2]),
			"phash_centres": hexs(p[2 : 2+2*cluster.NumScales]), "phash_shifts": hexs(p[2+2*cluster.NumScales:]),
		}}}}
}

// TestImageLinkNeedsCorroborationAtTheEdge: a photo match at robust
// distance ≤ MaxRobustAlone links two adverts on its own; at distance
// MaxRobustDistance it links only with a second signal (same name, a
// shared contact, near-duplicate non-template texts), because at that
// distance unrelated low-detail photos collide often enough to join
// strangers in a large collection.
func TestImageLinkNeedsCorroborationAtTheEdge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	p := randomPhoto(r)
	txt := randSig(r)
	base := withText(robustFP("b", "anna", []string{"tel:b"}, p), txt)
	cases := []struct {
		name   string
		other  *ad.Fingerprinted
		linked bool
		detail string
	}{
		{"distance 8 alone", robustFP("x", "bea", nil, copyAt(r, p, cluster.MaxRobustAlone)), true, "image centre distance 8 (centres 86%/86%)"},
		{"distance 10 alone", robustFP("x", "bea", []string{"tel:x"}, copyAt(r, p, cluster.MaxRobustDistance)), false, ""},
		{"distance 10 + name", robustFP("x", "anna", []string{"tel:x"}, copyAt(r, p, cluster.MaxRobustDistance)), true, "image centre distance 10 (centres 86%/86%) + name anna"},
		{"distance 10 + contact", robustFP("x", "bea", []string{"tel:b"}, copyAt(r, p, cluster.MaxRobustDistance)), true, "image centre distance 10 (centres 86%/86%) + shared contact tel:b"},
		{"distance 10 + text", withText(robustFP("x", "bea", nil, copyAt(r, p, cluster.MaxRobustDistance)), nearSig(r, txt, 4)), true, "image centre distance 10 (centres 86%/86%) + text jaccard 0.9"},
		{"distance 10 + other text", withText(robustFP("x", "bea", nil, copyAt(r, p, cluster.MaxRobustDistance)), randSig(r)), false, ""},
		{"distance 12 + name", robustFP("x", "anna", nil, copyAt(r, p, cluster.MaxRobustDistance+2)), false, ""},
		// The robust distance is the least over centres and shifted
		// windows: centres at 10 do not hide a window at 8.
		{"centres 10, window 8 alone", robustFP("x", "bea", nil, windowAt(r, copyAt(r, p, cluster.MaxRobustDistance), p, cluster.MaxRobustAlone)), true, "image shifted-window distance 8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, l := range []cluster.Link{
				cluster.Compare(cluster.ProfileOf(base), cluster.ProfileOf(tc.other)),
				cluster.Compare(cluster.ProfileOf(tc.other), cluster.ProfileOf(base)),
			} {
				got := l.Scope == cluster.ScopePerson && l.Rule == cluster.RuleImage
				if got != tc.linked || (tc.linked && !strings.HasPrefix(l.Detail, tc.detail)) {
					t.Fatalf("Compare = %+v, want linked %v with detail %q", l, tc.linked, tc.detail)
				}
			}
			// The cluster state applies the same rule.
			c := MustOpen(t, "")
			MustAdd(t, c, base, tc.other)
			samePerson(t, c, "b", "x", tc.linked)
		})
	}
}

// TestShortContactKeepsTheService: evidence shows enough of a pseudonym
// to tell two contacts apart, handles included.
func TestShortContactKeepsTheService(t *testing.T) {
	for in, want := range map[string]string{
		"tel:0123456789abcdef":                 "tel:01234567…",
		"handle:snapchat:0123456789abcdef":     "handle:snapchat:01234567…",
		"email:fedcba9876543210fedcba98765432": "email:fedcba98…",
		"tel:short":                            "tel:short",
	} {
		if got := cluster.ShortContact(in); got != want {
			t.Errorf("ShortContact(%q) = %q, want %q", in, got, want)
		}
	}
}
