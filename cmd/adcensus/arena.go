package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"adcensus/crawler"
	"adcensus/internal/contact"
)

const arenaUsage = "usage: adcensus arena check FILE [--data DIR]"

// cmdArena handles "adcensus arena SUBCOMMAND"; the only one is check.
func cmdArena(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if done, err := groupUsage(args, arenaUsage, stdout); done {
		return err
	}
	if args[0] != "check" {
		return usageError{arenaUsage}
	}
	return cmdArenaCheck(ctx, args[1:], stdout, stderr)
}

// cmdArenaCheck loads an arena config, fetches its first listing page and the
// first advert linked from it, politely, and prints what every selector
// extracted. Phones are shown only as pseudonyms (with the key in --data) or
// as digit counts, never as numbers.
func cmdArenaCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("arena check", stderr)
	dataDir := fs.String("data", "", "data directory holding the pseudonymisation key (phones are shown as pseudonyms); without it only digit counts")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{arenaUsage}
	}
	cfg, err := crawler.LoadArena(pos[0])
	if err != nil {
		return err
	}
	var pseudo *contact.Pseudonymiser
	if *dataDir != "" {
		// Only an existing key: a check must not create the key of a data
		// directory (a new key would make every later pseudonym differ).
		if _, err := os.Stat(filepath.Join(*dataDir, contact.KeyFile)); err != nil {
			return fmt.Errorf("--data %s: no pseudonymisation key (%s): %w", *dataDir, contact.KeyFile, err)
		}
		key, err := contact.LoadOrCreateKey(*dataDir)
		if err != nil {
			return err
		}
		pseudo = contact.New(key)
	}
	fmt.Fprintf(stdout, "arena %s (%s, sha256 %.12s)\n", cfg.Name, cfg.File, cfg.Hash)
	rep, err := crawler.Check(ctx, cfg, crawler.CheckOptions{Pseudo: pseudo, Version: Version, Logger: newLogger(stderr, levelFor(true))})
	if rep != nil {
		printCheck(stdout, cfg, rep, pseudo != nil)
	}
	if err != nil {
		return fmt.Errorf("arena check %s: %w", cfg.File, err)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

func printCheck(w io.Writer, cfg *crawler.ArenaConfig, rep *crawler.CheckReport, keyed bool) {
	delay := fmt.Sprintf("%v", rep.Delay)
	if rep.CrawlDelay > 0 {
		delay += fmt.Sprintf(" (robots.txt Crawl-delay %v, limits.delay %v)", rep.CrawlDelay, cfg.Limits.Delay)
	}
	fmt.Fprintf(w, "delay between requests: %s\n", delay)
	fmt.Fprintf(w, "\nlisting %s\n", rep.ListingURL)
	if rep.Listing != nil {
		fmt.Fprintf(w, "  links (%s): %d detail links\n", cfg.Listing.Links, len(rep.Listing.Details))
		for i, u := range rep.Listing.Details {
			if i == 5 {
				fmt.Fprintf(w, "    … %d more\n", len(rep.Listing.Details)-5)
				break
			}
			fmt.Fprintf(w, "    %s\n", u)
		}
		if cfg.Listing.Next == "" {
			fmt.Fprintln(w, "  next: (no selector)")
		} else {
			fmt.Fprintf(w, "  next (%s): %d links\n", cfg.Listing.Next, len(rep.Listing.Next))
			for _, u := range rep.Listing.Next {
				fmt.Fprintf(w, "    %s\n", u)
			}
		}
	}
	if a := rep.Ad; a != nil {
		fmt.Fprintf(w, "\ndetail %s\n", rep.DetailURL)
		show := func(name, v string) {
			f, ok := cfg.Detail.Fields[name]
			sel := "not configured"
			if ok {
				sel = f.Selector
			}
			if v == "" {
				v = "(none)"
			}
			fmt.Fprintf(w, "  %-10s %-28s %s\n", name+":", "("+sel+")", v)
		}
		show("title", clip(a.Title, 120))
		show("body", clip(strings.ReplaceAll(a.Body, "\n", " ¶ "), 200))
		show("name", a.Name)
		age := ""
		if a.Age > 0 {
			age = fmt.Sprint(a.Age)
		}
		show("age", age)
		show("city", a.City)
		region := a.Region
		if _, ok := cfg.Detail.Fields["region"]; !ok && region != "" {
			region += " (from city)"
		} else if region == "" && a.City != "" {
			region = "(none: city not a known Swedish kommun)"
		}
		show("region", region)
		show("gender", a.Gender)
		posted := ""
		if !a.PostedAt.IsZero() {
			posted = a.PostedAt.Format("2006-01-02 15:04 MST")
		}
		show("posted_at", posted)
		phones := strings.Join(rep.Phones, ", ")
		if len(rep.Phones) > 0 && !keyed {
			phones += "  (give --data DIR for pseudonyms)"
		}
		show("phones", phones)
		fmt.Fprintf(w, "  images (%s): %d\n", cfg.Detail.Images.Selector, len(a.Images))
		for i, u := range a.Images {
			if i == 3 {
				fmt.Fprintf(w, "    … %d more\n", len(a.Images)-3)
				break
			}
			fmt.Fprintf(w, "    %s\n", u)
		}
		keys := make([]string, 0, len(cfg.Detail.Attrs))
		for k := range cfg.Detail.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := a.Attrs[k]
			if v == "" {
				v = "(none)"
			}
			fmt.Fprintf(w, "  attrs.%-10s %-22s %s\n", k+":", "("+cfg.Detail.Attrs[k].Selector+")", clip(v, 120))
		}
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
