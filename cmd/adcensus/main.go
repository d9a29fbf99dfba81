// Command adcensus crawls online ad arenas, de-duplicates adverts into the
// distinct persons and networks behind them, and answers searches and
// de-duplicated count exports. See README.md and docs/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Version is the software version recorded with every run and export.
var Version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "adcensus:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is 0 for -h/--help, 2 for a usage error, 1 for any other error.
func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// groupUsage handles the first argument of a group command (patterns,
// schedule, export, …): none is a usage error; -h, --help or help print the
// group's usage to stdout and succeed. done reports whether it handled
// args (then return err).
func groupUsage(args []string, text string, stdout io.Writer) (done bool, err error) {
	if len(args) == 0 {
		return true, usageError{text}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, text)
		return true, nil
	}
	return false, nil
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `adcensus — crawl ad arenas, count distinct persons, export defensible counts

usage: adcensus COMMAND [flags]

  demo                      crawl the bundled demo arenas through the whole pipeline and print counts
  demo serve                serve the demo arenas on 127.0.0.1:8081 and :8082, the review forum on :8083 (for run --config configs/adcensus.yaml)
  demo truth                the demo's true assignments as CSV ad_id,person_id,network_id (for eval)
  arena check FILE          fetch one listing and 3 adverts (--samples N) politely and show what the config extracts
  run --config FILE         the main job: crawl every arena of the config through all stages (embedded NATS; with --nats: crawl only)
  crawl --arena FILE --out ads.jsonl   one crawl of one arena to JSON Lines (no stream)
  dedup --in ads.jsonl --out assignments.csv   offline de-duplication of a JSON Lines file
  ingest --in ads.jsonl --nats URL             publish a JSON Lines corpus on the stream (images hashed, contacts pseudonymised)
  synth --out DIR [--seed N] [--persons N] [--ads N] [--style varied]   write a labelled synthetic corpus (ads.jsonl, images/, truth.csv)
  eval --truth truth.csv --pred assignments.csv   person/network count error, pairwise and B-cubed scores
  mse --in table.csv        estimate persons seen on no list (log-linear multiple-systems estimation)
  export counts --by arena,week [--from 2026-W45 --to 2026-W49] [--basis seen|posted] [--format csv|json] [--split minors]   distinct persons and adverts per group (--by snapshot: per crawl run)
  export trend --by arena|region --period week|month   persons active, new and gone per period (docs/CENSUS.md)
  export overlap [--format text|json|csv] [--arena a,b] [--from P --to P]   persons seen with their interval, overlap between arenas, estimate of persons on no arena (docs/OVERLAP.md)
  export facts [--format csv|json] [--min-cell 5]   persons by adverts, arenas, cities; networks by persons, cities
  export reviews --by arena,month,region [--format csv|json]   reviews, reviewers, reviewed persons of review forums
  serve [--addr 127.0.0.1:8080]   serve the JSON API (docs/API.md) on the index; needs a user or token (docs/ACCESS.md)
  user add|list|disable|enable|password   users who sign in to serve, with roles admin, operator, analyst, researcher
  token create|list|revoke  API tokens (token create --name N --role researcher --expires 90d)
  audit [--since 7d] [--verify]   the audit log of sign-ins, searches, views, exports and admin actions
  patterns list             list the indicator patterns (built in: configs/patterns/*.yaml; --patterns DIR adds more)
  patterns run NAME [--format text|json]   run one pattern on the index (docs/PATTERNS.md)
  search QUERY              search the indexed adverts
  explain AD_ID             why an advert belongs to its person and network
  explain review REVIEW_ID  whom a review (of a review forum) is linked to, and why
  reviews patterns          review patterns (signs of youth, third parties, many reviewers) per reviewed person
  runs                      list crawl runs
  changes --since RUN|DATE  adverts new, changed, gone per arena; persons new and gone; runs to look at (docs/CENSUS.md)
  reextract --warc DIR --arena FILE --out ads.jsonl   rebuild adverts from a WARC archive with a (changed) config, no network
  schedule list|add|remove  cron schedules of crawls (schedule add ARENA "0 6 * * 1"), run by 'run --schedule'
  index rebuild             delete the index and replay the stream into a fresh one
  rebuild                   delete the cluster state and the index and rebuild them from the stream
  stages --only crawl|fingerprint|cluster|index --nats URL   run some roles as a separate process (scale-out, deploy/README.md)
  status [--nats URL]       streams, consumers, the cluster writer's lease and every stage's heartbeat; exit 0 when drained
  dlq list|replay           messages that failed on every delivery, set aside on adcensus.dlq; publish them again
  purge [--dry-run]          remove personal data past its retention (retention: in the main config; docs/PRIVACY.md)
  version                   print the version

Every command that uses stored data takes --data DIR (default ./data).
Run 'adcensus COMMAND -h' for a command's flags.
`

const exportUsage = `usage: adcensus export counts --by arena,week|snapshot [--format csv|json] [--split minors] [--min-cell 5] [--data DIR]
       adcensus export overlap [--format text|json|csv] [--arena a,b] [--from P --to P] [--min-cell 5] [--data DIR]
       adcensus export facts [--format csv|json] [--min-cell 5] [--data DIR]
       adcensus export trend --by arena|region --period week|month [--format csv|json] [--min-cell 5] [--data DIR]
       adcensus export reviews --by arena,month,region [--format csv|json] [--min-cell 5] [--data DIR]
counts, overlap, facts and trend take a period, --from and --to (2026-12-07, 2026-W49, 2026-11 or
2026), and count by --basis seen (adverts live in it by the crawls' sightings; the default) or posted
(by posting date).
Run 'adcensus export counts -h' for a table's flags; see docs/EXPORTS.md.`

// Main runs one command. It is what tests drive.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		if len(rest) > 0 && rest[0] == "serve" {
			return cmdDemoServe(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "truth" {
			return cmdDemoTruth(rest[1:], stdout, stderr)
		}
		return cmdDemo(ctx, rest, stdout, stderr)
	case "run":
		return cmdRun(ctx, rest, stdout, stderr)
	case "crawl":
		return cmdCrawl(ctx, rest, stdout, stderr)
	case "dedup":
		return cmdDedup(ctx, rest, stdout, stderr)
	case "ingest":
		return cmdIngest(ctx, rest, stdout, stderr)
	case "reextract":
		return cmdReextract(ctx, rest, stdout, stderr)
	case "schedule":
		return cmdSchedule(ctx, rest, stdout, stderr)
	case "patterns":
		return cmdPatterns(ctx, rest, stdout, stderr)
	case "synth":
		return cmdSynth(ctx, rest, stdout, stderr)
	case "arena":
		return cmdArena(ctx, rest, stdout, stderr)
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "user":
		return cmdUser(ctx, rest, stdout, stderr)
	case "token":
		return cmdToken(ctx, rest, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "export":
		if done, err := groupUsage(rest, exportUsage, stdout); done {
			return err
		}
		if len(rest) > 0 && rest[0] == "overlap" {
			return cmdExportOverlap(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "facts" {
			return cmdExportFacts(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "reviews" {
			return cmdExportReviews(ctx, rest[1:], stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "trend" {
			return cmdExportTrend(ctx, rest[1:], stdout, stderr)
		}
		if rest[0] != "counts" {
			return usageError{fmt.Sprintf("unknown export %q\n%s", rest[0], exportUsage)}
		}
		return cmdExportCounts(ctx, rest[1:], stdout, stderr)
	case "search":
		return cmdSearch(ctx, rest, stdout, stderr)
	case "explain":
		if len(rest) > 0 && rest[0] == "review" {
			return cmdExplainReview(ctx, rest[1:], stdout, stderr)
		}
		return cmdExplain(ctx, rest, stdout, stderr)
	case "reviews":
		if len(rest) > 0 && rest[0] == "patterns" {
			return cmdReviewPatterns(ctx, rest[1:], stdout, stderr)
		}
		return usageError{"usage: adcensus reviews patterns [--format text|json] [--data DIR]"}
	case "runs":
		return cmdRuns(ctx, rest, stdout, stderr)
	case "changes":
		return cmdChanges(ctx, rest, stdout, stderr)
	case "eval":
		return cmdEval(ctx, rest, stdout, stderr)
	case "mse":
		return cmdMSE(ctx, rest, stdout, stderr)
	case "stages":
		return cmdStages(ctx, rest, stdout, stderr)
	case "status":
		return cmdStatus(ctx, rest, stdout, stderr)
	case "dlq":
		return cmdDLQ(ctx, rest, stdout, stderr)
	case "index":
		return cmdIndex(ctx, rest, stdout, stderr)
	case "rebuild":
		return cmdRebuild(ctx, rest, stdout, stderr)
	case "purge":
		return cmdPurge(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "adcensus", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("adcensus "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags allowing them after positional arguments too
// ("search göteborg --data d").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
