// Package synth generates a labelled evaluation corpus for the
// de-duplication stage: adverts as a researcher's input file would hold
// them (ads.jsonl, with raw phone strings), their photos (images/*.jpg) and
// the true person and network of every advert (truth.csv). It is a
// fixture for evaluation, not product code: the stages import it only in
// tests; cmd/adcensus wires it for `adcensus synth`.
//
// The corpus models what makes counting hard (docs/DEDUP.md, DOMAIN.md):
// reposts with edited text, changed and obfuscated phone numbers, photos
// re-encoded, rescaled, cropped, mirrored, colour-shifted and watermarked
// per arena, agencies whose phone and text template front several persons,
// touring, stock photos shared by strangers, persons without photos and
// common names shared by unrelated persons.
//
// Everything is synthetic, bland and about adults. Phone numbers are random
// mobile numbers (Swedish 070/072/073/076, Polish, Romanian, British and
// Nigerian): the Swedish fiction range is too small for a corpus this size,
// so a generated number may exist; the corpus is for local evaluation and
// must never be published. Photos are cut from the licensed landscape tiles
// shared by the fixtures (package photoset; see its photos/SOURCES.md).
//
// The same Options (Seed included) give byte-identical files.
package synth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// File and folder names written by Generate.
const (
	AdsFile   = "ads.jsonl"
	TruthFile = "truth.csv"
	imagesDir = "images"
)

// gen is one run of Generate: the options, the random source and what has
// been drawn so far.
type gen struct {
	o       Options
	r       *rand.Rand
	used    map[string]bool
	persons []*person
	nets    []*network
	// phoneInText counts the adverts with a number in the body.
	phoneInText int
	blankAds    int
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// Generate writes a corpus into dir: AdsFile, TruthFile and the images
// folder. dir is created if needed and must not already hold a corpus.
func Generate(ctx context.Context, opt Options, dir string) (Stats, error) {
	var st Stats
	if err := opt.Validate(); err != nil {
		return st, fmt.Errorf("synth options: %w", err)
	}
	o := opt.withDefaults()
	if o.Style == StyleVaried {
		o = o.variedDefaults()
	}
	for _, name := range []string{AdsFile, TruthFile, imagesDir} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return st, fmt.Errorf("synth: %s already exists in %s", name, dir)
		} else if !errors.Is(err, os.ErrNotExist) {
			return st, err
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, imagesDir), 0o755); err != nil {
		return st, err
	}
	g := &gen{o: o, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x73796e7468)), used: map[string]bool{}}
	if g.varied() {
		g.makePersonsVaried()
	} else {
		g.makePersons()
	}

	t, err := loadTiles()
	if err != nil {
		return st, err
	}
	need := o.StockImages
	for _, p := range g.persons {
		need += p.nPhotos
	}
	poolRand := rand.New(rand.NewPCG(uint64(o.Seed), 0x706f6f6c))
	bases, err := t.pool(ctx, poolRand, need, o.Workers)
	if err != nil {
		return st, err
	}
	g.assignPhotos(len(bases))

	ads, owners, variants := g.makeAds()
	if err := t.renderVariants(ctx, dir, bases, variants, o.Workers); err != nil {
		return st, err
	}
	if err := writeAds(filepath.Join(dir, AdsFile), ads); err != nil {
		return st, err
	}
	if err := writeTruth(filepath.Join(dir, TruthFile), ads, owners); err != nil {
		return st, err
	}

	st = g.stats(ads)
	st.Images = len(variants)
	st.BaseImages = len(bases)
	st.StockImages = o.StockImages
	return st, nil
}
