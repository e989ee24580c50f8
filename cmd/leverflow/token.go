package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/engine/store"
)

// tokenFlags are the flags token shares with serve.
var tokenFlags = []envFlag{
	{name: "data-dir", env: "LEVERFLOW_DATA_DIR", arg: "DIR"},
	{name: "database-url", env: "LEVERFLOW_DATABASE_URL", arg: "URL", def: "the SQLite file DIR/leverflow.db"},
}

const tokenUsage = `usage: leverflow token create --name NAME [--admin]
       leverflow token list [--json]
       leverflow token revoke ID

Manages the API tokens of a server's database (Authorization: Bearer <token>).
create prints the new token once: only its SHA-256 is stored. list shows ids,
names and dates, never a token or its hash. A revoked token is refused at once.
Admin tokens may change workflows and connections; others may read and start runs.

Flags (every subcommand):
`

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return token(ctx, args, getenvOS, stdout, stderr)
}

func token(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c serveConfig
	var name string
	var admin, asJSON bool
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dbFlags(fs, &c)
	fs.StringVar(&name, "name", "", "create: the token's label, such as ci or zapier")
	fs.BoolVar(&admin, "admin", false, "create: an admin token")
	fs.BoolVar(&asJSON, "json", false, "list: print a JSON array")
	fs.Usage = func() {
		fmt.Fprint(stderr, tokenUsage)
		printEnvFlags(stderr, fs, tokenFlags)
		fmt.Fprint(stderr, `  --name NAME            create: the token's label, such as ci
  --admin=true|false     create: an admin token (default false)
  --json                 list: print a JSON array
`)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if err := applyEnv(fs, tokenFlags, getenv); err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return errExit{2}
	}
	if len(pos) == 0 {
		fs.Usage()
		return errExit{2}
	}
	sub, rest := pos[0], pos[1:]
	switch {
	case sub == "create" && len(rest) == 0 && name != "":
	case sub == "list" && len(rest) == 0:
	case sub == "revoke" && len(rest) == 1:
	default:
		fs.Usage()
		return errExit{2}
	}
	if c.databaseURL == "" {
		if _, err := os.Stat(c.dsn()); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stderr, "token: there is no database at %s: start leverflow serve once, or pass the server's --data-dir or --database-url\n", c.dsn())
			return errExit{1}
		}
	}
	st, err := openServerStore(ctx, &c)
	if err != nil {
		return err
	}
	defer st.Close()

	switch sub {
	case "create":
		tok, rec, err := createToken(ctx, st, name, admin)
		if err != nil {
			return err
		}
		kind := "token"
		if rec.Admin {
			kind = "admin token"
		}
		fmt.Fprintf(stdout, "created %s %q (id %s); it is shown only now:\n%s\n", kind, rec.Name, rec.ID, tok)
		return nil
	case "list":
		toks, err := st.ListTokens(ctx)
		if err != nil {
			return fmt.Errorf("listing tokens: %w", err)
		}
		return printTokens(stdout, toks, asJSON)
	default: // revoke
		err := st.RevokeToken(ctx, rest[0], time.Now().UTC())
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintf(stderr, "token: no token has the id %q (leverflow token list shows the ids)\n", rest[0])
			return errExit{1}
		}
		if err != nil {
			return fmt.Errorf("revoking token %s: %w", rest[0], err)
		}
		fmt.Fprintf(stdout, "revoked token %s\n", rest[0])
		return nil
	}
}

func printTokens(w io.Writer, toks []*store.Token, asJSON bool) error {
	views := make([]api.TokenView, 0, len(toks))
	for _, t := range toks {
		views = append(views, api.TokenViewOf(t))
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(views)
	}
	if len(views) == 0 {
		fmt.Fprintln(w, "no tokens (leverflow token create --name NAME makes one)")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tADMIN\tCREATED\tLAST USED\tREVOKED")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\n", v.ID, v.Name, v.Admin, v.CreatedAt.Format(time.RFC3339), when(v.LastUsedAt), when(v.RevokedAt))
	}
	return tw.Flush()
}

// when formats an optional time, "-" when unset.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
