package cluster

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"adcensus/internal/textsig"
)

// When are two adverts the same person? This file holds the answer: the
// rules, their thresholds and Compare, which applies them to two adverts
// (docs/DEDUP.md, "Rules", has the reasons and the measurements).
//
// Two adverts are the same person when
//
//	(a) image: they share a photo (compareImages, ImagesMatch): robust
//	    distance ≤ MaxRobustAlone, or ≤ MaxRobustDistance with a second
//	    signal (corroboration); images without the robust hashes: pHash
//	    distance ≤ MaxImageDistance, mirror-aware;
//	(b) contact+name: they share a contact and their names agree
//	    (NamesAgree);
//	(c) contact+blank: they share a contact and one of them has neither
//	    a name nor images, on a multi-name contact only two such
//	    (compareBlank); contact+nameless: they share a contact that is no
//	    multi-name contact, one has a name, the other none but images
//	    (compareNameless);
//	(d) text+name: their texts are near-duplicates, neither a template,
//	    and their names agree (compareTexts).
//
// Two adverts that share a contact and are not one person by these are
// one network (RuleContact). A stock image (stock.go) and a template text
// (template.go) link no one. Persons and networks are the components of
// these links (state.go, batch.go).
//
// Compare is a pure function of two adverts; the stock marks it reads on
// images (stock.go), the template marks on texts (template.go) and the
// multi-name marks on contacts (contacts.go) depend only on the set of
// adverts. So the clusters do not depend on arrival order.

// Thresholds of the rules and of the marks.

// MaxImageDistance is the largest pHash Hamming distance at which two
// images count as the same photo.
const MaxImageDistance = 8

// MaxRobustDistance is the largest RobustDistance at which two images are
// the same photo. Hashes of a region have 32 bits set, so distances are
// even; 10 is the largest that kept the training split's false-match rate
// under 1e-4.
const MaxRobustDistance = 10

// MaxRobustAlone is the largest robust distance at which a shared photo
// links two adverts on its own. Between MaxRobustAlone and
// MaxRobustDistance the photo link needs a second, independent signal
// (the same name, a shared contact, or near-duplicate non-template texts):
// a fixed false-match rate f over N photos gives ≈ f·N²/2 chance links,
// which at distance 10 (f ≈ 1e-4) joins strangers as soon as an arena
// holds a few thousand photos; at ≤ 8 the rate is ≈ 5e-5 on the training
// split and ≈ 5e-6 held out (docs/DEDUP.md).
const MaxRobustAlone = 8

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

// Text templates and rule (d) (docs/DEDUP.md, "Text rule"). An advert's
// text is a near-duplicate of another's when they share an LSH band key
// and their estimated Jaccard is at least TextJaccard (textsig.Near). A
// text is a template when the adverts with a near-duplicate text, the
// advert itself included, carry at least TemplateMinNames distinct
// non-empty names and TemplateMinContacts distinct contacts: an agency's
// or a web site's text that many people post. As for stock photos both
// counts only grow, so a text once a template stays one, and whether it
// is depends only on the set of adverts, not on their order. A template
// links no one; the other rules still apply.
const (
	TextJaccard         = textsig.DefaultJaccard
	TemplateMinNames    = textsig.TemplateMinNames
	TemplateMinContacts = textsig.TemplateMinContacts
)

// MultiNameMin is the number of distinct names (nameBase) on a contact
// that make it a multi-name contact: an agency's or a third party's
// phone, on which a blank advert cannot be tied to any one person (rule
// (c), compareBlank).
const MultiNameMin = 2

// Rules that link two adverts, as recorded in Evidence.Rule.
const (
	RuleImage        = "image"         // same photo (pHash, mirror-aware)
	RuleContactName  = "contact+name"  // shared contact and same name
	RuleContactBlank = "contact+blank" // shared contact, one advert has neither name nor images
	// RuleContactNameless: a shared contact that is no multi-name
	// contact, one advert named and the other nameless (with images).
	RuleContactNameless = "contact+nameless"
	RuleTextName        = "text+name" // near-duplicate texts, neither a template, and same name
	RuleContact         = "contact"   // shared contact only: same network, not same person
)

// Evidence scopes: a person link joins two adverts into one person (and
// so one network); a network link joins only their networks.
const (
	ScopePerson  = "person"
	ScopeNetwork = "network"
)

// Link is the outcome of comparing two adverts.
type Link struct {
	Scope  string // ScopePerson or ScopeNetwork; "" when not linked
	Rule   string
	Detail string
}

// Compare applies the rules to two adverts: the same person when they
// share a photo (compareImages), or share a contact and either have the
// same non-empty name or one of them is blank, or have near-duplicate
// texts that are not templates and the same non-empty name
// (compareTexts); the same network when they share a contact only.
func Compare(a, b *Profile) Link {
	if l, ok := compareImages(a, b); ok {
		return l
	}
	shared := SharedContact(a.Contacts, b.Contacts)
	c := "shared contact " + ShortContact(shared)
	if shared != "" {
		if NamesAgree(a.Name, b.Name) {
			return Link{Scope: ScopePerson, Rule: RuleContactName, Detail: c + " + " + nameEvidence(a.Name, b.Name)}
		}
		if l, ok := compareBlank(a, b); ok {
			return l
		}
		if l, ok := compareNameless(a, b); ok {
			return l
		}
	}
	if l, ok := compareTexts(a, b); ok {
		return l
	}
	if shared == "" {
		return Link{}
	}
	return Link{Scope: ScopeNetwork, Rule: RuleContact, Detail: c}
}

// compareImages applies rule (a) to every pair of images: the robust rule
// when both images carry the robust hashes, else the v1 rule (pHash
// distance ≤ MaxImageDistance, mirror-aware); stock images (stock.go) are
// skipped. A robust match links on its own at distance ≤ MaxRobustAlone;
// at a larger distance up to MaxRobustDistance only with a second signal
// (corroboration). The closest pair of images is the evidence.
func compareImages(a, b *Profile) (Link, bool) {
	best, mirrored := MaxImageDistance+1, false
	robust, robustDetail := NoDistance, ""
	for i := range a.Images {
		for j := range b.Images {
			x, y := &a.Images[i], &b.Images[j]
			if x.Stock != "" || y.Stock != "" {
				continue
			}
			if x.robust() && y.robust() {
				if d, detail := RobustDistance(x, y); d < robust {
					robust, robustDetail = d, detail
				}
				continue
			}
			if d, m := ImageDistance(*x, *y); d < best {
				best, mirrored = d, m
			}
		}
	}
	if robust <= MaxRobustAlone {
		return Link{Scope: ScopePerson, Rule: RuleImage, Detail: robustDetail}, true
	}
	if best <= MaxImageDistance {
		detail := "phash distance " + strconv.Itoa(best)
		if mirrored {
			detail += " (mirrored)"
		}
		return Link{Scope: ScopePerson, Rule: RuleImage, Detail: detail}, true
	}
	if robust <= MaxRobustDistance {
		if also := corroboration(a, b); also != "" {
			return Link{Scope: ScopePerson, Rule: RuleImage, Detail: robustDetail + " + " + also}, true
		}
	}
	return Link{}, false
}

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

// compareBlank is rule (c): a shared contact and one advert blank (no
// name, no images). A contact that carries two or more names (Multi) is
// an agency's or a third party's: a blank advert on it says nothing of
// which of its persons posted it, so there it joins only other blank
// adverts (the contact's unnamed person) and the network.
func compareBlank(a, b *Profile) (Link, bool) {
	if !a.Blank() && !b.Blank() {
		return Link{}, false
	}
	both := a.Blank() && b.Blank()
	for _, c := range a.Contacts {
		if _, ok := slices.BinarySearch(b.Contacts, c); !ok {
			continue
		}
		if !both && (a.multi(c) || b.multi(c)) {
			continue
		}
		return Link{Scope: ScopePerson, Rule: RuleContactBlank, Detail: "shared contact " + ShortContact(c) + " + no name or images"}, true
	}
	return Link{}, false
}

// compareNameless is rule (c) for a nameless advert with images: on a
// contact that carries one name only (no multi-name contact), the
// contact is that advertiser's, so an advert on it that gives no name is
// hers whether or not it shows photos (they may be new, or edited beyond
// the image rule). It joins the named adverts on the contact; two
// nameless adverts with images are not joined by the contact alone (an
// agency that never writes names would be one person). On a multi-name
// contact only the photos can tie it to one of the persons.
func compareNameless(a, b *Profile) (Link, bool) {
	if a.Name == "" {
		a, b = b, a
	}
	if a.Name == "" || b.Name != "" || len(b.Images) == 0 {
		return Link{}, false
	}
	for _, c := range b.Contacts {
		if _, ok := slices.BinarySearch(a.Contacts, c); !ok || a.multi(c) || b.multi(c) {
			continue
		}
		return Link{Scope: ScopePerson, Rule: RuleContactNameless, Detail: "shared contact " + ShortContact(c) + " + no name on one (name " + a.Name + ")"}, true
	}
	return Link{}, false
}

// corroboration names a second signal that two adverts are one person,
// independent of their photos: the same non-empty name, a shared contact,
// or near-duplicate texts neither of which is a template; "" when none.
func corroboration(a, b *Profile) string {
	if NamesAgree(a.Name, b.Name) {
		return nameEvidence(a.Name, b.Name)
	}
	if c := SharedContact(a.Contacts, b.Contacts); c != "" {
		return "shared contact " + ShortContact(c)
	}
	if a.Text != nil && b.Text != nil && !a.Text.Template && !b.Text.Template {
		if j, ok := nearTexts(a, b); ok {
			return fmt.Sprintf("text jaccard %.2f", j)
		}
	}
	return ""
}

// compareTexts is rule (d): near-duplicate texts, neither a template, and
// agreeing names (NamesAgree).
func compareTexts(a, b *Profile) (Link, bool) {
	if !NamesAgree(a.Name, b.Name) || a.Text == nil || b.Text == nil || a.Text.Template || b.Text.Template {
		return Link{}, false
	}
	j, ok := nearTexts(a, b)
	if !ok {
		return Link{}, false
	}
	return Link{Scope: ScopePerson, Rule: RuleTextName, Detail: fmt.Sprintf("text jaccard %.2f + %s", j, nameEvidence(a.Name, b.Name))}, true
}

// Hamming returns the number of differing bits.
func Hamming(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// ImageDistance is the distance between two images: the least of pHash
// against pHash and each pHash against the other's mirror, so a mirrored
// repost is close. It is symmetric.
func ImageDistance(a, b ImageHash) (d int, mirrored bool) {
	d = Hamming(a.PHash, b.PHash)
	if a.HasMirror {
		if m := Hamming(a.Mirror, b.PHash); m < d {
			d, mirrored = m, true
		}
	}
	if b.HasMirror {
		if m := Hamming(a.PHash, b.Mirror); m < d {
			d, mirrored = m, true
		}
	}
	return d, mirrored
}

// NamesAgree reports whether two normalised names can be one person's:
// the same non-empty name, or the same but for a surname initial. A
// person writes "Anna" in one advert and "Anna K." in the next, so
// "anna" agrees with "anna k", and "anna k" with "anna karlsson"; "anna
// k" and "anna l" do not agree (an agency tells two Annas apart that
// way), nor do "anna" and "anna maria". It is symmetric.
func NamesAgree(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
	}
	ia, ib := strings.LastIndexByte(a, ' '), strings.LastIndexByte(b, ' ')
	if ia < 0 {
		return false
	}
	if a[:ia] == b { // "anna k" against "anna"
		return isInitial(a[ia+1:])
	}
	if ib < 0 || a[:ia] != b[:ib] {
		return false
	}
	// "anna karlsson" against "anna k": the initial starts the other's
	// last word.
	return isInitial(b[ib+1:]) && !isInitial(a[ia+1:]) && strings.HasPrefix(a[ia+1:], b[ib+1:])
}

// isInitial reports whether a word of a normalised name is one letter.
func isInitial(w string) bool {
	r, n := utf8.DecodeRuneInString(w)
	return n > 0 && n == len(w) && unicode.IsLetter(r)
}

// nameKey is what two agreeing names share (NamesAgree): the name
// without its last word, or the whole of a one-word name ("anna k",
// "anna karlsson" and "anna" all give "anna").
func nameKey(n string) string {
	if i := strings.LastIndexByte(n, ' '); i >= 0 {
		return n[:i]
	}
	return n
}

// nameBase is a name without a trailing initial ("anna k" → "anna"),
// what the stock and template marks count as one name, so one person
// writing her name both ways counts once. "anna karlsson" stays.
func nameBase(n string) string {
	if i := strings.LastIndexByte(n, ' '); i >= 0 && isInitial(n[i+1:]) {
		return n[:i]
	}
	return n
}

// nameEvidence describes the names two adverts agree on: "name anna", or
// "names anna / anna k".
func nameEvidence(a, b string) string {
	if a == b {
		return "name " + a
	}
	return "names " + min(a, b) + " / " + max(a, b)
}

// SharedContact returns the smallest contact in both sorted lists, or "".
func SharedContact(a, b []string) string {
	for _, c := range a {
		if _, ok := slices.BinarySearch(b, c); ok {
			return c
		}
	}
	return ""
}

// ShortContact abbreviates a pseudonym for display: "tel:ab12cd34…",
// "handle:snapchat:ab12cd34…" (the hex after the last colon is cut).
func ShortContact(c string) string {
	if i := strings.LastIndexByte(c, ':'); i >= 0 && len(c) > i+1+8 {
		return c[:i+1+8] + "…"
	}
	return c
}

// stateLayout is stored in the state file; a build with another layout
// refuses the file ("delete it and replay"). The image index
// (memindex.go) is rebuilt at open, so its layout is not part of it.
const stateLayout = "refs+profiles-bin2+comp2+edges-bin1-once+stock3x3+text-mh128x16-tmpl3x3+imgleast8-corr10+names-initial+multiname2+nameless1"
