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

const arenaUsage = "usage: adcensus arena check FILE [--data DIR] [--samples N]"

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
// first --samples adverts linked from it, politely, and prints what every selector
// extracted. Phones are shown only as pseudonyms (with the key in --data) or
// as digit counts, never as numbers.
func cmdArenaCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("arena check", stderr)
	samples := fs.Int("samples", crawler.DefaultCheckSamples, "advert pages to read from the listing (each shows which alternative of a field matched)")
	dataDir := fs.String("data", "", "data directory holding the pseudonymisation key (phones are shown as pseudonyms); without it only digit counts")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{arenaUsage}
	}
	if *samples < 1 || *samples > 100 {
		return usageError{fmt.Sprintf("--samples must be between 1 and 100 (got %d)\n%s", *samples, arenaUsage)}
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
	rep, err := crawler.Check(ctx, cfg, crawler.CheckOptions{Pseudo: pseudo, Samples: *samples, Version: Version, Logger: newLogger(stderr, levelFor(true))})
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
	if cfg.Fetch == "browser" {
		b := cfg.Browser
		fmt.Fprintf(w, "fetch: browser (headless Chromium, %d tabs; renders %s; waits for listing %q, detail %q, or %v of network idle; timeout %v; blocks %s)\n",
			b.Tabs, strings.Join(b.Pages, " and "), cfg.WaitSelector(crawler.PageListing), cfg.WaitSelector(crawler.PageDetail),
			b.Idle, b.Timeout, strings.Join(b.Block, ", "))
		if b.Scroll > 0 {
			fmt.Fprintf(w, "  listings scrolled to the bottom up to %d times while new links appear\n", b.Scroll)
		}
	}
	for _, sm := range rep.Sitemaps {
		fmt.Fprintf(w, "\nsitemap %s: %d sitemaps, %d adverts, %d listing pages, %d other URLs (dropped)\n", sm.URL, sm.Sitemaps, sm.Adverts, sm.Listings, sm.Others)
		if sm.Err != "" {
			fmt.Fprintf(w, "  error: %s\n", sm.Err)
		}
	}
	fmt.Fprintf(w, "\nlisting %s\n", rep.ListingURL)
	if rep.Listing != nil {
		links, next := cfg.Listing.Links, cfg.Listing.Next
		if cfg.Listing.Format == "json" {
			links, next = "json:"+links, "json:"+next
			if cfg.Listing.Items != "" {
				links = "whole adverts at json:" + cfg.Listing.Items + ", each " + links
			}
			if cfg.Listing.LinkTemplate != "" {
				links += " → " + cfg.Listing.LinkTemplate
			}
			if cfg.Listing.NextTemplate != "" {
				next += " → " + cfg.Listing.NextTemplate
			}
		}
		fmt.Fprintf(w, "  links (%s): %d detail links\n", links, len(rep.Listing.Details))
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
			fmt.Fprintf(w, "  next (%s): %d links\n", next, len(rep.Listing.Next))
			for _, u := range rep.Listing.Next {
				fmt.Fprintf(w, "    %s\n", u)
			}
		}
		printDropped(w, rep.Listing.Dropped)
	}
	printRequests(w, rep.ListingRequests)
	for i, smp := range rep.Samples {
		printSample(w, cfg, smp, i == 0, keyed)
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w, "\nproblems:")
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

// printSample prints what one advert page yielded: every field with the
// selector that gave it (for a field with alternatives, which one matched:
// "alt 2/2"). first says whether the report's problems are printed apart
// (they hold the first sample's).
func printSample(w io.Writer, cfg *crawler.ArenaConfig, smp crawler.CheckSample, first, keyed bool) {
	fmt.Fprintf(w, "\ndetail %s\n", smp.URL)
	if smp.FetchURL != "" {
		fmt.Fprintf(w, "  read from %s (detail.fetch_url)\n", smp.FetchURL)
	}
	if smp.Final != "" && smp.Final != smp.URL && smp.Final != smp.FetchURL {
		fmt.Fprintf(w, "  redirected to %s\n", smp.Final)
	}
	if smp.Thread != nil {
		printThread(w, cfg, smp, keyed) // a review forum's thread (reviews.go)
		return
	}
	a := smp.Ad
	if a == nil {
		fmt.Fprintf(w, "  error: %v\n", smp.Err)
		return
	}
	if ap := smp.Advert; ap != nil {
		fmt.Fprintf(w, "  advert key %q (from the %s; detail.id.from: %s), written as %s\n", ap.Key, keySource(ap.KeyFrom), cfg.Detail.ID.From, a.URL)
		if cfg.Detail.Links != "" {
			links := cfg.Detail.Links
			if cfg.Detail.Format == "json" {
				links = "json:" + links
				if cfg.Detail.LinkTemplate != "" {
					links += " → " + cfg.Detail.LinkTemplate
				}
			}
			fmt.Fprintf(w, "  links (%s): %d to follow\n", links, len(ap.Links))
			for i, l := range ap.Links {
				if i == 5 {
					fmt.Fprintf(w, "    … %d more\n", len(ap.Links)-5)
					break
				}
				fmt.Fprintf(w, "    %-7s %s\n", l.Kind, l.URL)
			}
			printDropped(w, ap.Dropped)
		}
	}
	// how names the alternative that gave field path's value.
	how := func(path string, f crawler.Field, ok bool) string {
		if !ok {
			return "(not configured)"
		}
		alts := f.Alternatives
		if len(alts) == 0 {
			return "(" + f.String() + ")"
		}
		m, seen := smp.Matches[path]
		if !seen || m < 0 {
			return fmt.Sprintf("(none of %d alternatives)", len(alts))
		}
		return fmt.Sprintf("(alt %d/%d: %s)", m+1, len(alts), alts[m].String())
	}
	show := func(name, v string) {
		f, ok := cfg.Detail.Fields[name]
		if v == "" {
			v = "(none)"
		}
		fmt.Fprintf(w, "  %-10s %-28s %s\n", name+":", how(name, f, ok), v)
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
	phones := strings.Join(smp.Phones, ", ")
	if len(smp.Phones) > 0 && !keyed {
		phones += "  (give --data DIR for pseudonyms)"
	}
	show("phones", phones)
	fmt.Fprintf(w, "  images %s: %d\n", how("images", cfg.Detail.Images, cfg.Detail.Images.Configured()), len(a.Images))
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
		fmt.Fprintf(w, "  attrs.%-10s %-22s %s\n", k+":", how("attrs."+k, cfg.Detail.Attrs[k], true), clip(v, 120))
	}
	printRequests(w, smp.Requests)
	if !first && len(smp.Problems) > 0 {
		fmt.Fprintln(w, "  problems:")
		for _, p := range smp.Problems {
			fmt.Fprintf(w, "    %s\n", p)
		}
	}
	if !first && smp.Err != nil {
		fmt.Fprintf(w, "  error: %v\n", smp.Err)
	}
}

// printRequests lists the requests a rendered page made (fetch: browser)
// and points at the XHRs it loaded data from: often a JSON API that
// format: json reads without a browser.
func printRequests(w io.Writer, reqs []crawler.BrowserRequest) {
	if len(reqs) == 0 {
		return
	}
	fmt.Fprintf(w, "  browser requests (%d):\n", len(reqs))
	var xhr []string
	for _, r := range reqs {
		fmt.Fprintf(w, "    %-24s %-10s %s\n", r.Outcome, r.Type, r.URL)
		if (r.Type == "XHR" || r.Type == "Fetch") && r.Outcome == "fetched" {
			xhr = append(xhr, r.URL)
		}
	}
	if len(xhr) > 0 {
		fmt.Fprintf(w, "  the page loads data from %s: if that is JSON, listing/detail format: json reads it without a browser\n", strings.Join(xhr, ", "))
	}
}

// printDropped lists links a selector found that are not followed, with
// the reason, at most ten.
func printDropped(w io.Writer, dropped []crawler.DroppedLink) {
	if len(dropped) == 0 {
		return
	}
	fmt.Fprintf(w, "  dropped: %d links not followed\n", len(dropped))
	for i, d := range dropped {
		if i == 10 {
			fmt.Fprintf(w, "    … %d more\n", len(dropped)-10)
			break
		}
		fmt.Fprintf(w, "    %s (%s): %s\n", clip(d.URL, 100), d.Field, d.Reason)
	}
}

// keySource names where an advert key was read.
func keySource(from string) string {
	switch from {
	case "canonical":
		return "page's <link rel=canonical>"
	case "redirect":
		return "URL after redirects"
	}
	return "URL"
}

// clip shortens s to n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
