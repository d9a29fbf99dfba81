package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"adcensus/web/api"
	"adcensus/web/audit"
	"adcensus/web/auth"
)

// AccessConfig is the access section of the main config (docs/ACCESS.md):
// what 'adcensus serve --config' reads besides its flags.
type AccessConfig struct {
	// Hosts are the names clients use for the server (Host header check).
	Hosts       []string `yaml:"hosts"`
	SessionTTL  string   `yaml:"session_ttl"`
	SessionIdle string   `yaml:"session_idle"`
	RateLimit   float64  `yaml:"rate_limit"`
	// TrustedProxies are reverse proxies whose X-Forwarded-For is believed.
	TrustedProxies []string    `yaml:"trusted_proxies"`
	OIDC           *OIDCConfig `yaml:"oidc"`
}

// OIDCConfig configures sign-in through an identity provider. The client
// secret is read from a file, never written in the config.
type OIDCConfig struct {
	Issuer           string              `yaml:"issuer"`
	ClientID         string              `yaml:"client_id"`
	ClientSecretFile string              `yaml:"client_secret_file"`
	RedirectURL      string              `yaml:"redirect_url"`
	Scopes           []string            `yaml:"scopes"`
	RoleClaim        string              `yaml:"role_claim"`
	UserClaim        string              `yaml:"user_claim"`
	Roles            map[string][]string `yaml:"roles"`
}

// apiOIDC resolves the config into the API's, reading the secret file
// (relative paths against the config's folder).
func (c *OIDCConfig) apiOIDC(ctx context.Context, baseDir string) (*api.OIDC, error) {
	cfg := api.OIDCConfig{Issuer: c.Issuer, ClientID: c.ClientID, RedirectURL: c.RedirectURL, Scopes: c.Scopes,
		RoleClaim: c.RoleClaim, UserClaim: c.UserClaim, Roles: map[string][]auth.Role{}}
	if c.ClientSecretFile != "" {
		p := c.ClientSecretFile
		if !strings.HasPrefix(p, "/") {
			p = baseDir + "/" + p
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("access.oidc.client_secret_file: %w", err)
		}
		cfg.ClientSecret = strings.TrimSpace(string(b))
	}
	for group, roles := range c.Roles {
		rs, err := auth.ParseRoles(strings.Join(roles, ","))
		if err != nil {
			return nil, fmt.Errorf("access.oidc.roles.%s: %w", group, err)
		}
		cfg.Roles[group] = rs
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o, err := api.NewOIDC(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("access.oidc: %w", err)
	}
	return o, nil
}

// openAccess opens the access store of an existing data directory.
func openAccess(dataDir string) (*auth.Store, error) {
	st, err := auth.Open(dataDir)
	if err != nil {
		return nil, fmt.Errorf("%w (create it with 'adcensus run' or 'mkdir', or give --data)", err)
	}
	return st, nil
}

// auditCLI appends an admin action done on the command line to the audit
// log; who is the operating-system user.
func auditCLI(dataDir, action string, what map[string]string) error {
	who := "cli:" + os.Getenv("USER")
	if who == "cli:" {
		who = fmt.Sprintf("cli:uid%d", os.Getuid())
	}
	for k, v := range what {
		what[k] = audit.Redact(v)
	}
	return audit.Open(dataDir).Append(audit.Entry{Who: who, Action: action, What: what, Rows: -1})
}

// auditRead appends a read done on the command line (search, export,
// explain, pattern) to the audit log. A data directory that cannot be
// written, such as a read-only copy handed to a researcher, gets a warning
// instead: the read is not refused.
func auditRead(stderr io.Writer, dataDir, action string, what map[string]string, rows int) {
	who := "cli:" + os.Getenv("USER")
	if who == "cli:" {
		who = fmt.Sprintf("cli:uid%d", os.Getuid())
	}
	for k, v := range what {
		what[k] = audit.Redact(v)
	}
	if err := audit.Open(dataDir).Append(audit.Entry{Who: who, Action: action, What: what, Rows: rows}); err != nil {
		fmt.Fprintf(stderr, "adcensus: warning: not audited: %v\n", err)
	}
}

// readPassword reads a password from a file, or from the terminal
// (twice, not echoed), or from the first line of stdin when it is not a
// terminal.
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "password: ")
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "again: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", usageError{"the two passwords differ"}
		}
		return string(a), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

const userUsage = `usage: adcensus user add NAME --role ROLE[,ROLE] [--password-file FILE] [--data DIR]
       adcensus user list [--data DIR]
       adcensus user disable|enable NAME [--data DIR]
       adcensus user password NAME [--password-file FILE] [--data DIR]

Users sign in to 'adcensus serve' with a password (at least 12 characters,
stored as an argon2id hash in DATA/access.db). Roles: admin (users, tokens,
audit log), operator (crawl runs), analyst (search, adverts, persons,
networks, and the aggregates), researcher (aggregate exports and estimates
only). Without --password-file the password is asked on the terminal, or
read from the first line of stdin. See docs/ACCESS.md.
`

// stdinReader is what 'user add' reads a password from (tests replace it).
var stdinReader io.Reader = os.Stdin

func cmdUser(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, userUsage)
		if len(args) == 0 {
			return usageError{"user: no subcommand given"}
		}
		return nil
	}
	sub := args[0]
	fs := newFlags("user "+sub, stderr)
	dataDir := fs.String("data", "./data", "data directory")
	roleFlag := fs.String("role", "", "roles, comma-separated: admin, operator, analyst, researcher")
	pwFile := fs.String("password-file", "", "read the password from this file")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	st, err := openAccess(*dataDir)
	if err != nil {
		return err
	}
	now := time.Now()
	switch sub {
	case "list":
		users, err := st.Users()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "user\troles\tstate\tcreated")
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, joinRoles(u.Roles), state, u.Created.Format(time.RFC3339))
		}
		return tw.Flush()
	case "add", "disable", "enable", "password":
	default:
		return usageError{fmt.Sprintf("user: unknown subcommand %q\n%s", sub, userUsage)}
	}
	if len(pos) != 1 {
		return usageError{fmt.Sprintf("user %s: give one user name\n%s", sub, userUsage)}
	}
	name := pos[0]
	switch sub {
	case "add":
		roles, err := auth.ParseRoles(*roleFlag)
		if err != nil {
			return usageError{"user add: --role: " + err.Error()}
		}
		pw, err := readPassword(*pwFile, stdinReader, stderr)
		if err != nil {
			return err
		}
		if err := st.AddUser(name, roles, pw, now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added user %s (%s)\n", name, joinRoles(roles))
		return auditCLI(*dataDir, "user add", map[string]string{"user": name, "roles": joinRoles(roles)})
	case "password":
		pw, err := readPassword(*pwFile, stdinReader, stderr)
		if err != nil {
			return err
		}
		if err := st.SetPassword(name, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; its sessions ended\n", name)
		return auditCLI(*dataDir, "user password", map[string]string{"user": name})
	}
	if err := st.SetDisabled(name, sub == "disable"); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %s %sd\n", name, sub)
	return auditCLI(*dataDir, "user "+sub, map[string]string{"user": name})
}

func joinRoles(roles []auth.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

const tokenUsage = `usage: adcensus token create --role ROLE[,ROLE] [--expires 90d] [--name NAME] [--data DIR]
       adcensus token list [--data DIR]
       adcensus token revoke ID [--data DIR]

An API token is sent as 'Authorization: Bearer adc_…'. The token is
printed once, by create; only its SHA-256 is stored (DATA/access.db).
--expires takes days (90d), weeks (12w) or hours (36h). See docs/ACCESS.md.
`

func cmdToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, tokenUsage)
		if len(args) == 0 {
			return usageError{"token: no subcommand given"}
		}
		return nil
	}
	sub := args[0]
	fs := newFlags("token "+sub, stderr)
	dataDir := fs.String("data", "./data", "data directory")
	name := fs.String("name", "", "what the token is for, shown in lists and the audit log (default: its roles and today's date)")
	roleFlag := fs.String("role", "", "roles, comma-separated: admin, operator, analyst, researcher")
	expires := fs.String("expires", "90d", "lifetime: 90d, 12w, 36h")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	st, err := openAccess(*dataDir)
	if err != nil {
		return err
	}
	now := time.Now()
	switch sub {
	case "create":
		if len(pos) > 0 {
			return usageError{"token create: unexpected " + pos[0] + "\n" + tokenUsage}
		}
		roles, err := auth.ParseRoles(*roleFlag)
		if err != nil {
			return usageError{"token create: --role: " + err.Error()}
		}
		if *name == "" {
			*name = strings.ReplaceAll(joinRoles(roles), ",", "-") + "-" + now.Format("20060102")
		}
		ttl, err := auth.ParseTTL(*expires)
		if err != nil {
			return usageError{"token create: --expires: " + err.Error()}
		}
		secret, tok, err := st.CreateToken(*name, roles, ttl, "cli", now)
		if err != nil {
			return err
		}
		if err := auditCLI(*dataDir, "token create", map[string]string{"id": tok.ID, "name": tok.Name, "roles": joinRoles(roles)}); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "token %s (%s, %s) expires %s; it is shown only now:\n", tok.ID, tok.Name, joinRoles(roles), tok.Expires.Format(time.RFC3339))
		fmt.Fprintln(stdout, secret)
		return nil
	case "list":
		tokens, err := st.Tokens()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "id\tname\troles\tstate\tcreated\texpires")
		for _, t := range tokens {
			state := "active"
			switch {
			case !t.Revoked.IsZero():
				state = "revoked"
			case !now.Before(t.Expires):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, joinRoles(t.Roles), state,
				t.Created.Format(time.RFC3339), t.Expires.Format(time.RFC3339))
		}
		return tw.Flush()
	case "revoke":
		if len(pos) != 1 {
			return usageError{"token revoke: give one token id (adcensus token list)"}
		}
		if err := st.RevokeToken(pos[0], now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "token %s revoked\n", pos[0])
		return auditCLI(*dataDir, "token revoke", map[string]string{"id": pos[0]})
	}
	return usageError{fmt.Sprintf("token: unknown subcommand %q\n%s", sub, tokenUsage)}
}

// cmdAudit prints the audit log, or verifies its chain.
func cmdAudit(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("audit", stderr)
	dataDir := fs.String("data", "./data", "data directory")
	since := fs.String("since", "", "only entries at or after this: 2026-03-01, an RFC 3339 time, or a duration back (24h, 7d)")
	verify := fs.Bool("verify", false, "check the hash chain: exit 1 naming the first line changed, inserted or removed")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: adcensus audit [--since 7d] [--verify] [--data DIR]\n\nThe audit log (DATA/audit.log): every sign-in, search, person and network view,\nexport and admin action, hash-chained. See docs/ACCESS.md.\n\n")
		fs.PrintDefaults()
	}
	if _, err := parse(fs, args); err != nil {
		return err
	}
	path := audit.Open(*dataDir).Path()
	if *verify {
		n, head, err := audit.Verify(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d entries, chain intact; head %s\n", path, n, head)
		return nil
	}
	var from time.Time
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return usageError{"--since: " + err.Error()}
		}
		from = t
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "seq\ttime\twho\taction\tstatus\trows\twhat")
	err := audit.Read(path, from, func(_ int, e audit.Entry) error {
		var what []string
		for _, k := range sortedKeys(e.What) {
			what = append(what, k+"="+e.What[k])
		}
		rows := "-"
		if e.Rows >= 0 {
			rows = fmt.Sprint(e.Rows)
		}
		status := "-"
		if e.Status != 0 {
			status = fmt.Sprint(e.Status)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Format(time.RFC3339), e.Who, e.Action, status, rows, strings.Join(what, " "))
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no audit log at %s yet", path)
	}
	if err != nil {
		return err
	}
	return tw.Flush()
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	d, err := auth.ParseTTL(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want 2026-03-01, an RFC 3339 time or a duration like 24h or 7d", s)
	}
	return now.Add(-d), nil
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
