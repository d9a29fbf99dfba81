package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"adcensus/internal/synthetic/synth"
)

// cmdSynth writes a labelled synthetic corpus for 'adcensus dedup' and
// 'adcensus eval': ads.jsonl, images/ and truth.csv in --out.
func cmdSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := synth.DefaultOptions()
	fs := newFlags("synth", stderr)
	out := fs.String("out", "", "folder to write ads.jsonl, images/ and truth.csv into (required; must not hold a corpus)")
	seed := fs.Int64("seed", d.Seed, "random seed: the same seed and sizes give the same files")
	persons := fs.Int("persons", d.Persons, "number of persons")
	ads := fs.Int("ads", d.Ads, "number of adverts (at least --persons)")
	blank := fs.Float64("blank-share", 0, "share of adverts posted blank: no name, no photos (default none)")
	style := fs.String("style", "", "how the corpus is built: empty for the default corpus, or \"varied\" (a corpus built differently: see docs/DEDUP.md)")
	asJSON := fs.Bool("json", false, "the same as --format json")
	format := fs.String("format", "text", "text or json (the counts)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := jsonFormat(format, *asJSON); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"usage: adcensus synth --out DIR [--seed N] [--persons N] [--ads N] [--blank-share F] [--style varied]"}
	}
	// The library reads 0 as "the default" and a negative share as
	// "none"; on the command line both are mistakes.
	if *persons < 1 {
		return usageError{fmt.Sprintf("--persons %d: want at least 1", *persons)}
	}
	if !(*blank >= 0 && *blank <= 1) {
		return usageError{fmt.Sprintf("--blank-share %g: want a share from 0 to 1", *blank)}
	}
	o := d
	o.Seed, o.Persons, o.Ads, o.BlankShare, o.Style = *seed, *persons, *ads, *blank, *style
	if err := o.Validate(); err != nil {
		return usageError{err.Error()}
	}
	start := time.Now()
	st, err := synth.Generate(ctx, o, *out)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSON(stdout, st)
	}
	fmt.Fprintf(stdout, "wrote %d adverts of %d persons (%d agency networks of %d persons), %d images from %d base photos in %v → %s\n",
		st.Ads, st.Persons, st.Networks, st.NetworkPersons, st.Images, st.BaseImages, time.Since(start).Round(time.Millisecond), *out)
	fmt.Fprintf(stdout, "next: adcensus dedup --in %s --out assignments.csv --new-key && adcensus eval --truth %s --pred assignments.csv\n",
		filepath.Join(*out, synth.AdsFile), filepath.Join(*out, synth.TruthFile))
	return nil
}
