package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// cmdSandbox serves the built-in Lever sandbox alone until ctx ends
// (SIGINT/SIGTERM), printing its API root and API key.
func cmdSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "the address to listen on (port 0 picks a free port)")
	apiKey := fs.String("api-key", "", "the API key to accept (default a new random key, printed)")
	seed := fs.Int64("seed", 1, "the seed of the demo data")
	noLimit := fs.Bool("no-rate-limit", false, "turn off Lever's 10 requests/s limit")
	accessTTL := fs.Duration("access-token-ttl", time.Hour, "the lifetime of OAuth access tokens")
	refreshTTL := fs.Duration("refresh-token-ttl", 365*24*time.Hour, "the lifetime of OAuth refresh tokens")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: leverflow sandbox [--addr HOST:PORT] [--api-key KEY]\n\nServes an in-memory Lever v1 API with demo data (opportunities, postings, users, webhooks).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if *accessTTL <= 0 || *refreshTTL <= 0 {
		fmt.Fprintln(stderr, "sandbox: --access-token-ttl and --refresh-token-ttl must be positive durations such as 1h or 30s")
		return errExit{2}
	}
	opts := sandbox.Options{Seed: *seed, DisableRateLimit: *noLimit, AccessTokenTTL: *accessTTL, RefreshTokenTTL: *refreshTTL}
	if *apiKey != "" {
		opts.APIKeys = []string{*apiKey}
	}
	sb := sandbox.New(opts)
	defer sb.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("sandbox: listening on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	root := base + "/v1"
	app := sb.OAuthClient()
	fmt.Fprintf(stdout, "Lever sandbox listening (account %s)\n  API root:        %s\n  API key:         %s\n  try:             curl -u %s: %s/opportunities?limit=2\n", sb.AccountName(), root, sb.APIKey(), sb.APIKey(), root)
	fmt.Fprintf(stdout, "  OAuth authorize: %s/oauth/authorize\n  OAuth token:     %s/oauth/token\n  audience:        %s\n  built-in app:    client_id %s, client_secret %s (redirects to any http://127.0.0.1 or http://localhost URL)\n",
		base, base, sb.Audience(base), app.ID, app.Secret)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("sandbox: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("sandbox: shutting down: %w", err)
	}
	return nil
}
