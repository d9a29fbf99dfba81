package dedup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"adcensus/ad"
	"adcensus/internal/contact"
	"adcensus/internal/imagehash"
	"adcensus/internal/places"
	"adcensus/internal/textsig"

	"golang.org/x/text/unicode/norm"
)

// Age bounds: an advertised age outside them is dropped as implausible.
const (
	MinAge = 16
	MaxAge = 99
)

// Fingerprinter is the stateless fingerprint stage: it pseudonymises an
// advert and computes what the cluster stage compares. It is safe for
// concurrent use if its imagehash.Loader is.
type Fingerprinter struct {
	pseudo *contact.Pseudonymiser
	loader imagehash.Loader
	lim    imagehash.Limits
	cache  imagehash.Cache // the hashes of recently hashed image bytes
}

// NewFingerprinter returns a Fingerprinter. loader may be nil when every
// advert arrives with ImageFPs already computed (images are then reported
// as problems).
func NewFingerprinter(p *contact.Pseudonymiser, loader imagehash.Loader, lim imagehash.Limits) *Fingerprinter {
	return &Fingerprinter{pseudo: p, loader: loader, lim: lim}
}

// Process fingerprints a copy of a. Whatever cannot be used (a bad phone,
// an image that fails to load or decode, an implausible age) is listed in
// Problems and the advert flows on. The error is non-nil only for a nil
// advert or when ctx is done.
func (f *Fingerprinter) Process(ctx context.Context, in *ad.Ad) (*ad.Fingerprinted, error) {
	if in == nil {
		return nil, errors.New("fingerprint: nil advert")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := *in
	a.Phones = append([]string(nil), in.Phones...)
	a.Contacts = append([]string(nil), in.Contacts...)
	a.ContactCountries = append([]string(nil), in.ContactCountries...)
	a.Title = strings.ToValidUTF8(a.Title, "\uFFFD")
	a.Body = strings.ToValidUTF8(a.Body, "\uFFFD")
	a.Name = strings.ToValidUTF8(a.Name, "\uFFFD")
	a.City = NormaliseCity(a.City)
	if a.Region != "" {
		a.Region = NormaliseRegion(a.Region)
	} else {
		a.Region = places.RegionOf(a.City)
	}
	a.Gender = NormaliseGender(a.Gender)

	out := &ad.Fingerprinted{}
	out.Problems = append(out.Problems, f.pseudo.Apply(&a)...)
	if a.Age != 0 && (a.Age < MinAge || a.Age > MaxAge) {
		out.Problems = append(out.Problems, fmt.Sprintf("age %d out of range %d-%d: dropped", a.Age, MinAge, MaxAge))
		a.Age = 0
	}

	if len(a.ImageFPs) > 0 {
		for _, im := range a.ImageFPs {
			if im.Err != "" || im.Hashes[imagehash.PHash] == "" {
				out.Problems = append(out.Problems, imageProblem(im.Src, im.Err))
				continue
			}
			out.Images = append(out.Images, im)
		}
	} else if len(a.Images) > 0 {
		fps := make([]ad.ImageFP, 0, len(a.Images))
		for _, src := range a.Images {
			im := ad.ImageFP{Src: src}
			h, err := f.hash(ctx, src)
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				im.Err = err.Error()
				out.Problems = append(out.Problems, imageProblem(src, im.Err))
			} else {
				im.Hashes = h
				out.Images = append(out.Images, im)
			}
			fps = append(fps, im)
		}
		a.ImageFPs = fps
	}

	out.Ad = a
	out.Contacts = slices.Clone(a.Contacts)
	out.ContactCountries = slices.Clone(a.ContactCountries)
	out.Name = NormaliseName(a.Name)
	if sig, ok := textsig.Sign(a.Title + "\n" + a.Body); ok {
		out.TextMinHash = sig.String()
	} else {
		out.Problems = append(out.Problems, "text without words in title or body: no text signature, so the text rule leaves the advert alone")
	}
	return out, nil
}

func (f *Fingerprinter) hash(ctx context.Context, src string) (map[string]string, error) {
	if f.loader == nil {
		return nil, errors.New("no image loader")
	}
	data, err := f.loader.Load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return f.cache.Hash(data, f.lim)
}

func imageProblem(src, err string) string {
	if len(src) > 200 {
		src = src[:200] + "…"
	}
	return fmt.Sprintf("image %q: %s", src, err)
}

// NormaliseName returns name in NFC, lower case, with punctuation and
// symbols removed and runs of spaces folded to one: "  Anna-Maria!" and
// "anna maria" both become "anna maria". What only shapes a removed
// symbol goes with it: variation selectors (the U+FE0F of "❤️"),
// format characters (the zero-width joiner of emoji sequences) and
// enclosing marks (the keycap U+20E3), so "❤️ Anna ❤️" is "anna".
func NormaliseName(name string) string {
	name = norm.NFC.String(strings.ToLower(strings.ToValidUTF8(name, "")))
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) ||
			unicode.Is(unicode.Variation_Selector, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Me, r)
	}), " ")
}
