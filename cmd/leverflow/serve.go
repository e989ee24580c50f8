package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/examples"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"github.com/leverflow/leverflow/triggers"
	"github.com/leverflow/leverflow/web"
)

const (
	// sandboxPath is where serve mounts the built-in Lever sandbox.
	sandboxPath = "/lever-sandbox"
	// localConnection is the connection serve keeps to the built-in sandbox.
	localConnection = "local"
	// expiryCheckEvery is how often serve looks for OAuth connections whose
	// authorization ends soon.
	expiryCheckEvery = time.Hour
)

// serveFlags are serve's flags with their variables, in the order of the help.
var serveFlags = []envFlag{
	{name: "addr", env: "LEVERFLOW_ADDR", arg: "HOST:PORT"},
	{name: "data-dir", env: "LEVERFLOW_DATA_DIR", arg: "DIR"},
	{name: "database-url", env: "LEVERFLOW_DATABASE_URL", arg: "URL", def: "the SQLite file DIR/leverflow.db"},
	{name: "secret-key", env: "LEVERFLOW_SECRET_KEY", arg: "KEY", def: "the key file DIR/secret.key, made on first start"},
	{name: "base-url", env: "LEVERFLOW_BASE_URL", arg: "URL", def: "http://<the address listened on>"},
	{name: "shutdown-grace", env: "LEVERFLOW_SHUTDOWN_GRACE", arg: "DURATION"},
	{name: "lease", env: "LEVERFLOW_LEASE", arg: "DURATION"},
	{name: "api-rate-limit", env: "LEVERFLOW_API_RATE_LIMIT", arg: "N"},
	{name: "examples", env: "LEVERFLOW_EXAMPLES"},
	{name: "sandbox", env: "LEVERFLOW_SANDBOX"},
	{name: "sandbox-rate-limit", env: "LEVERFLOW_SANDBOX_RATE_LIMIT"},
}

// serveConfig is what serve's flags and variables say.
type serveConfig struct {
	addr, dataDir, databaseURL, secretKey, baseURL string
	grace, lease                                   time.Duration
	// apiRateLimit is each API token's requests per second (bursts of
	// twice that); negative turns the limit off.
	apiRateLimit                        float64
	examples, sandbox, sandboxRateLimit bool
	// adminToken is LEVERFLOW_ADMIN_TOKEN (no flag: a token in the
	// arguments would show in ps).
	adminToken string
}

// dbFlags adds --data-dir and --database-url, which serve and token share.
func dbFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.dataDir, "data-dir", "./data", "the directory of the SQLite file and the key file, created 0700")
	fs.StringVar(&c.databaseURL, "database-url", "", "the database: a SQLite file path or sqlite:// URL")
}

// dsn is the database the flags name.
func (c *serveConfig) dsn() string {
	if c.databaseURL != "" {
		return c.databaseURL
	}
	return filepath.Join(c.dataDir, "leverflow.db")
}

// openServerStore makes the data directory and opens the database. The
// error names the SQLite file but never a database URL (it may hold a
// password).
func openServerStore(ctx context.Context, c *serveConfig) (store.Store, error) {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the data directory: %w", err)
	}
	st, err := openDSN(ctx, c.dsn())
	if err != nil {
		where := "the database of --database-url"
		if c.databaseURL == "" {
			where = c.dsn()
		}
		return nil, fmt.Errorf("opening %s: %w", where, err)
	}
	return st, nil
}

// openDSN opens the database a DSN names (see gormstore.Config).
func openDSN(ctx context.Context, dsn string) (store.Store, error) {
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: dsn})
	if err != nil {
		return nil, err
	}
	return st, nil
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return serve(ctx, args, getenvOS, stdout, stderr)
}

// serve parses the flags and runs the server until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "the address to listen on (port 0 picks a free port)")
	dbFlags(fs, &c)
	fs.StringVar(&c.secretKey, "secret-key", "", "the 32-byte key sealing connection secrets, base64 or hex")
	fs.StringVar(&c.baseURL, "base-url", "", "the public URL: OAuth callbacks and Lever webhooks are sent to it")
	fs.DurationVar(&c.grace, "shutdown-grace", 30*time.Second, "how long SIGTERM waits for requests and running steps to finish")
	fs.DurationVar(&c.lease, "lease", 30*time.Second, "how long a run stays claimed without a heartbeat; a crashed server's runs are taken up after it")
	fs.Float64Var(&c.apiRateLimit, "api-rate-limit", api.DefaultRateLimit, "requests per second each API token may make, in bursts of twice that (429 over it); -1 turns the limit off")
	fs.BoolVar(&c.examples, "examples", true, "load the example workflows, disabled, into a database that has no workflow")
	fs.BoolVar(&c.sandbox, "sandbox", true, "serve the built-in Lever sandbox under /lever-sandbox, with a local connection to it")
	fs.BoolVar(&c.sandboxRateLimit, "sandbox-rate-limit", true, "apply Lever's 10 requests/s limit in the sandbox")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: leverflow serve [flags]

Serves the HTTP API, the editor, the Lever webhook
endpoint and (unless --sandbox=false) the built-in Lever sandbox, and runs
workflows, until SIGINT or SIGTERM. Each flag may be set by its variable; a flag wins.

Flags:
`)
		printEnvFlags(stderr, fs, serveFlags)
		fmt.Fprint(stderr, `
Variables without a flag:
  LEVERFLOW_ADMIN_TOKEN  a token accepted as an admin token (for automation); when unset,
                         an admin token is made and printed once, on first start
`)
	}
	if err := fs.Parse(args); err != nil {
		return flagErr(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "serve: unexpected argument %q\n", fs.Arg(0))
		return errExit{2}
	}
	if err := applyEnv(fs, serveFlags, getenv); err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return errExit{2}
	}
	if c.baseURL != "" {
		if _, err := baseURL(c.baseURL, nil); err != nil {
			fmt.Fprintln(stderr, "serve:", err)
			return errExit{2}
		}
	}
	c.adminToken = strings.TrimSpace(getenv("LEVERFLOW_ADMIN_TOKEN"))
	if c.apiRateLimit == 0 {
		fmt.Fprintln(stderr, "serve: --api-rate-limit must be positive, or -1 to turn the limit off")
		return errExit{2}
	}
	if c.grace <= 0 || c.lease < time.Second {
		fmt.Fprintln(stderr, "serve: --shutdown-grace must be positive and --lease at least 1s")
		return errExit{2}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if err := runServer(ctx, &c, log, stdout); err != nil {
		log.Error("server failed", "error", err.Error())
		return err
	}
	return nil
}

// server is what runServer builds, in the order it builds it.
type server struct {
	cfg      *serveConfig
	log      *slog.Logger
	store    store.Store
	key      []byte
	baseURL  string
	sb       *sandbox.Sandbox
	conns    *connections.Manager
	reg      *steps.Registry
	metrics  *api.Metrics
	eng      *engine.Engine
	receiver *triggers.Receiver
	// scheduler and poller start runs of schedule workflows and of polled
	// Lever triggers; they start after the receiver and stop before it.
	scheduler *triggers.Scheduler
	poller    *triggers.Poller
	api       *api.Server
	tokens    *api.StoreTokens
	http      *http.Server
}

// runServer starts the server, waits for ctx to end and shuts down.
func runServer(ctx context.Context, c *serveConfig, log *slog.Logger, stdout io.Writer) (err error) {
	s := &server{cfg: c, log: log}
	if s.store, err = openServerStore(ctx, c); err != nil {
		return err
	}
	defer func() {
		if cerr := s.store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the database: %w", cerr)
		}
	}()
	if s.key, err = connections.LoadKey(c.secretKey, filepath.Join(c.dataDir, "secret.key")); err != nil {
		return fmt.Errorf("loading the secret key: %w", err)
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", c.addr, err)
	}
	defer ln.Close() // a no-op once the HTTP server has it
	if s.baseURL, err = baseURL(c.baseURL, ln.Addr()); err != nil {
		return err
	}
	if err := s.build(); err != nil {
		return err
	}
	if s.sb != nil {
		defer s.sb.Close()
	}

	firstToken, err := s.prepareStore(ctx)
	if err != nil {
		return err
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(ln) }()

	if c.sandbox {
		if err := s.connectSandbox(ctx); err != nil {
			s.shutdown(time.Now().Add(c.grace), false)
			return err
		}
	}
	if err := s.eng.Start(ctx); err != nil {
		s.shutdown(time.Now().Add(c.grace), false)
		return fmt.Errorf("starting the engine: %w", err)
	}
	// The receiver's routers end with Stop, not with ctx: a signal must
	// let the routings in progress finish.
	if err := s.receiver.Start(context.WithoutCancel(ctx)); err != nil {
		s.shutdown(time.Now().Add(c.grace), true)
		return fmt.Errorf("starting the webhook receiver: %w", err)
	}
	// Like the receiver, they end with Stop so a tick in progress
	// finishes.
	if err := s.scheduler.Start(context.WithoutCancel(ctx)); err != nil {
		s.shutdown(time.Now().Add(c.grace), true)
		return fmt.Errorf("starting the scheduler: %w", err)
	}
	if err := s.poller.Start(context.WithoutCancel(ctx)); err != nil {
		s.shutdown(time.Now().Add(c.grace), true)
		return fmt.Errorf("starting the Lever poller: %w", err)
	}
	s.printBanner(stdout, firstToken)
	log.Info("server started", "url", s.baseURL, "sandbox", c.sandbox, "worker_lease", c.lease.String())

	expiryDone := make(chan struct{})
	expiryCtx, stopExpiry := context.WithCancel(ctx)
	go func() { defer close(expiryDone); s.checkExpiry(expiryCtx) }()
	defer func() { stopExpiry(); <-expiryDone }()

	select {
	case <-ctx.Done():
		log.Info("shutting down", "grace", c.grace.String())
	case err := <-serveErr:
		s.shutdown(time.Now().Add(c.grace), true)
		return fmt.Errorf("serving HTTP: %w", err)
	}
	if err := s.shutdown(time.Now().Add(c.grace), true); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// baseURL is --base-url, or http://<addr> of the listener, with an
// unspecified host (0.0.0.0, ::) replaced by the loopback address.
func baseURL(flagValue string, addr net.Addr) (string, error) {
	if flagValue != "" {
		u, err := url.Parse(strings.TrimRight(flagValue, "/"))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return "", fmt.Errorf("--base-url %q is not an absolute http(s) URL such as https://leverflow.example.com", flagValue)
		}
		return u.String(), nil
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", fmt.Errorf("reading the listen address: %w", err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// build makes the parts: the sandbox, the connections manager, the step
// catalog, the engine, the receiver, the API and the HTTP server.
func (s *server) build() error {
	c := s.cfg
	callbackURL := s.baseURL + "/api/v1/connections/lever/callback"
	envs := connections.DefaultEnvironments()
	httpClient := &http.Client{Timeout: 30 * time.Second}
	var sandboxHandler http.Handler
	if c.sandbox {
		creds := deriveSandboxCredentials(s.key)
		s.sb = sandbox.New(sandbox.Options{
			Seed:             sandboxSeed,
			APIKeys:          []string{creds.apiKey},
			DisableRateLimit: !c.sandboxRateLimit,
			OAuthClients: []sandbox.OAuthClient{{
				ID: creds.clientID, Secret: creds.clientSecret, Name: sandbox.BuiltInClientName,
				RedirectURIs: []string{callbackURL},
			}},
		})
		sandboxHandler = http.StripPrefix(sandboxPath, s.sb)
		root := s.baseURL + sandboxPath
		env := connections.LocalEnvironment(root, creds.clientID, creds.clientSecret, creds.apiKey)
		// The sandbox checks that a token's audience is <host>/v1/ as the
		// request reaches it, which knows nothing of the mount path.
		env.Audience = s.sb.Audience(s.baseURL)
		envs[connections.EnvLocal] = env
		// Calls to the sandbox are served in-process, so Lever steps still
		// running during a shutdown reach it after the listener is closed.
		httpClient.Transport = &inProcessTransport{prefix: root + "/", handler: sandboxHandler, next: http.DefaultTransport}
	}
	var err error
	s.conns, err = connections.New(connections.Config{
		Store: s.store, Key: s.key, Environments: envs, CallbackURL: callbackURL,
		HTTPClient: httpClient, Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("building the connections manager: %w", err)
	}
	if s.reg, err = newRegistry(s.conns); err != nil {
		return err
	}
	s.metrics = api.NewMetrics()
	s.eng, err = engine.New(engine.Options{
		Store: s.store, Steps: s.reg, Observer: s.metrics, Logger: s.log, Lease: c.lease,
		HasConnection: func(userID, name string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := s.conns.Get(ctx, userID, name)
			return err == nil
		},
	})
	if err != nil {
		return fmt.Errorf("building the engine: %w", err)
	}
	s.receiver, err = triggers.NewReceiver(triggers.ReceiverConfig{
		Store: s.store, Engine: s.eng, Secrets: s.conns, NotFound: connections.ErrNotFound,
		Logger: s.log, Metrics: s.metrics,
	})
	if err != nil {
		return fmt.Errorf("building the webhook receiver: %w", err)
	}
	s.scheduler, err = triggers.NewScheduler(triggers.SchedulerConfig{Store: s.store, Engine: s.eng, Logger: s.log})
	if err != nil {
		return fmt.Errorf("building the scheduler: %w", err)
	}
	s.poller, err = triggers.NewPoller(triggers.PollerConfig{
		Store: s.store, Receiver: s.receiver, Clients: s.conns, Engine: s.eng, Logger: s.log,
	})
	if err != nil {
		return fmt.Errorf("building the Lever poller: %w", err)
	}
	auth, err := s.authenticator()
	if err != nil {
		return err
	}
	s.api, err = api.New(api.Config{
		Engine: s.eng, Store: s.store, Steps: s.reg, Connections: s.conns, Auth: auth, Logger: s.log,
		BaseURL: s.baseURL, Inbox: s.receiver, Metrics: s.metrics, LeverStats: s.conns,
		RateLimit: s.cfg.apiRateLimit, RateBurst: int(max(1, 2*s.cfg.apiRateLimit)),
		Editor: web.Dist(),
	})
	if err != nil {
		return fmt.Errorf("building the API: %w", err)
	}
	mux := http.NewServeMux()
	if sandboxHandler != nil {
		mux.Handle(sandboxPath+"/", sandboxHandler)
	}
	mux.Handle("/", s.api.Handler())
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	return nil
}

// authenticator accepts the tokens in the store and, when set,
// LEVERFLOW_ADMIN_TOKEN.
func (s *server) authenticator() (api.Authenticator, error) {
	stored := api.NewStoreTokens(s.store, s.log, nil)
	s.tokens = stored
	if s.cfg.adminToken == "" {
		return stored, nil
	}
	static, err := api.NewStaticTokens(s.cfg.adminToken)
	if err != nil {
		return nil, fmt.Errorf("LEVERFLOW_ADMIN_TOKEN: %w", err)
	}
	return api.Chain(static, stored), nil
}

// prepareStore loads the example workflows into a database without
// workflows, and makes the admin token when there is no token and no
// LEVERFLOW_ADMIN_TOKEN; it returns that token ("" when none was made).
func (s *server) prepareStore(ctx context.Context) (string, error) {
	if s.cfg.examples {
		if err := s.loadExamples(ctx); err != nil {
			return "", err
		}
	}
	if s.cfg.adminToken != "" {
		return "", nil
	}
	toks, err := s.store.ListTokens(ctx)
	if err != nil {
		return "", fmt.Errorf("listing tokens: %w", err)
	}
	if len(toks) > 0 {
		return "", nil
	}
	tok, _, err := createToken(ctx, s.store, "admin", true)
	if err != nil {
		return "", err
	}
	s.log.Info("admin token created", "name", "admin")
	return tok, nil
}

// loadExamples creates the example workflows, disabled, under their file
// names, when the database has no workflow yet (a first start). An id
// in use, or once used by a deleted workflow, is left alone.
func (s *server) loadExamples(ctx context.Context) error {
	existing, err := s.eng.ListWorkflows(ctx, store.WorkflowFilter{Limit: 1})
	if err != nil {
		return fmt.Errorf("listing workflows: %w", err)
	}
	if len(existing) > 0 {
		return nil
	}
	wfs, err := examples.Workflows()
	if err != nil {
		return err
	}
	for _, ex := range wfs {
		wf, probs := workflow.Parse(ex.Data, workflow.ValidateOptions{Steps: s.reg})
		if len(probs) > 0 {
			return fmt.Errorf("example %s is invalid: %s", ex.Name, probs[0])
		}
		_, err := s.eng.CreateWorkflow(ctx, ex.ID, wf)
		switch {
		case errors.Is(err, store.ErrConflict):
			continue
		case err != nil:
			return fmt.Errorf("loading example %s: %w", ex.Name, err)
		}
		s.log.Info("example workflow loaded", "workflow_id", ex.ID)
	}
	return nil
}

// connectSandbox makes sure the local connection to the built-in sandbox
// exists (made on first start, kept after) and registers its webhooks:
// the sandbox starts empty of webhooks on every start.
func (s *server) connectSandbox(ctx context.Context) error {
	_, err := s.conns.Get(ctx, "", localConnection)
	if errors.Is(err, connections.ErrNotFound) {
		_, err = s.conns.CreateAPIKey(ctx, connections.APIKeyRequest{
			Name: localConnection, Environment: connections.EnvLocal, APIKey: s.sb.APIKey(),
		})
		if err == nil {
			s.log.Info("connection created", "connection", localConnection)
		}
	}
	if err != nil {
		return fmt.Errorf("connecting the built-in Lever sandbox: %w", err)
	}
	receiver := s.baseURL + "/hooks/lever/" + localConnection
	set, err := s.conns.RegisterWebhooks(ctx, "", localConnection, receiver, nil)
	if err != nil {
		return fmt.Errorf("registering the %s connection's webhooks: %w", localConnection, err)
	}
	s.log.Info("webhooks registered", "connection", localConnection, "url", receiver, "events", len(set.Events))
	return nil
}

// bannerEnd starts the banner's last line.
const bannerEnd = "Stop with Ctrl-C"

// printBanner says where the server is and, once, the admin token, in
// one write.
func (s *server) printBanner(w io.Writer, adminToken string) {
	var b strings.Builder
	fmt.Fprintf(&b, "Leverflow listening on %s\n", s.baseURL)
	if s.hasEditor() {
		fmt.Fprintf(&b, "editor: %s/\n", s.baseURL)
	} else {
		fmt.Fprintf(&b, "editor: not built into this binary yet; the API is at %s/api/v1 (see /api/v1/openapi.json)\n", s.baseURL)
	}
	if s.sb != nil {
		fmt.Fprintf(&b, "Lever sandbox: %s%s/v1 (API key %s)\n", s.baseURL, sandboxPath, s.sb.APIKey())
	}
	if adminToken != "" {
		fmt.Fprintf(&b, "admin token: %s\n", adminToken)
		fmt.Fprintln(&b, "  (shown once: keep it; make more with leverflow token create)")
		if s.hasEditor() {
			fmt.Fprintf(&b, "open the editor signed in: %s/#token=%s\n", s.baseURL, adminToken)
		}
	}
	fmt.Fprintf(&b, "%s (or SIGTERM): running steps get --shutdown-grace %s to finish.\n", bannerEnd, s.cfg.grace)
	io.WriteString(w, b.String())
}

// hasEditor reports whether the API serves a page at /.
func (s *server) hasEditor() bool {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	rec := &bufferedResponse{header: http.Header{}}
	s.api.Handler().ServeHTTP(rec, req)
	return rec.code() == http.StatusOK && strings.HasPrefix(rec.header.Get("Content-Type"), "text/html")
}

// checkExpiry logs a warning for each OAuth connection whose
// authorization ends soon (Manager.CheckExpiry logs them), now and every
// expiryCheckEvery, until ctx ends.
func (s *server) checkExpiry(ctx context.Context) {
	t := time.NewTicker(expiryCheckEvery)
	defer t.Stop()
	for {
		if _, err := s.conns.CheckExpiry(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("checking connection expiry failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shutdown stops accepting HTTP, then stops the poller, the scheduler, the
// receiver and the engine (when started), all by deadline: runs still
// going then are abandoned and taken up again after their lease.
func (s *server) shutdown(deadline time.Time, started bool) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("HTTP requests still open at the deadline were cut", "error", err.Error())
		_ = s.http.Close()
	}
	if started {
		// Stopping one never started is a no-op.
		if err := s.poller.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the Lever poller: %w", err))
		}
		if err := s.scheduler.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the scheduler: %w", err))
		}
		if err := s.receiver.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the webhook receiver: %w", err))
		}
		if err := s.eng.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the engine: %w", err))
		}
	}
	s.tokens.Wait()
	if ctx.Err() != nil {
		// Not a failure: what was left is durable and resumes later.
		s.log.Warn("the shutdown grace ran out: runs still going are taken up again after their lease", "grace", s.cfg.grace.String())
		return nil
	}
	return errors.Join(errs...)
}

// sandboxCredentials are the built-in sandbox's API key and OAuth app.
type sandboxCredentials struct {
	apiKey, clientID, clientSecret string
}

// deriveSandboxCredentials derives the sandbox's credentials from the
// secret key with HMAC-SHA256, so they are the same on every start with
// that key, and a connection saved with them keeps working, while nothing
// of the key can be learnt from them.
func deriveSandboxCredentials(key []byte) sandboxCredentials {
	derive := func(label string, n int) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("leverflow sandbox " + label))
		return hex.EncodeToString(m.Sum(nil))[:n]
	}
	return sandboxCredentials{
		apiKey:       "lfsbx_" + derive("api key", 40),
		clientID:     "lfsbx-app-" + derive("oauth client id", 24),
		clientSecret: derive("oauth client secret", 48),
	}
}

// inProcessTransport serves requests under prefix with handler, in this
// process, and sends the rest on with next.
type inProcessTransport struct {
	prefix  string
	handler http.Handler
	next    http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *inProcessTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.String(), t.prefix) {
		return t.next.RoundTrip(req)
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	in.Host = req.URL.Host
	in.RequestURI = req.URL.RequestURI()
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := &bufferedResponse{header: http.Header{}}
	t.handler.ServeHTTP(rec, in)
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", rec.code(), http.StatusText(rec.code())), StatusCode: rec.code(),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// bufferedResponse is an http.ResponseWriter that keeps the answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// createToken makes an API token, stores its hash and returns the token
// (shown once) and its record.
func createToken(ctx context.Context, st store.Store, name string, admin bool) (string, *store.Token, error) {
	tok, hash := api.NewToken()
	id, err := uuid.NewV7()
	if err != nil {
		return "", nil, fmt.Errorf("making a token id: %w", err)
	}
	rec := &store.Token{ID: id.String(), Name: name, Hash: hash, Admin: admin, CreatedAt: time.Now().UTC()}
	if err := st.CreateToken(ctx, rec); err != nil {
		return "", nil, fmt.Errorf("storing token %q: %w", name, err)
	}
	return tok, rec, nil
}

// envFlag ties a flag to the LEVERFLOW_* variable that sets it when the
// flag is not given.
type envFlag struct {
	name string // the flag, without dashes
	env  string // the variable
	// arg names the value in the help ("HOST:PORT"); empty for a bool.
	arg string
	// def describes the default in the help when it is not a plain value
	// (a path derived from another flag); empty shows the flag's default.
	def string
}

// applyEnv sets every flag of list that was not given on the command line
// from its variable, when that is set: a flag wins over its variable.
// getenv reads the environment (os.Getenv outside tests).
func applyEnv(fs *flag.FlagSet, list []envFlag, getenv func(string) string) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, ef := range list {
		if given[ef.name] {
			continue
		}
		v := getenv(ef.env)
		if v == "" {
			continue
		}
		if err := fs.Set(ef.name, v); err != nil {
			// The value is not repeated: it may be a secret.
			return fmt.Errorf("%s: not a valid value for --%s: %w", ef.env, ef.name, stripValue(err))
		}
	}
	return nil
}

// stripValue keeps the reason of a flag.Value's Set error without the
// value strconv echoes back ("parsing \"x\": invalid syntax").
func stripValue(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return fmt.Errorf("%s", msg)
}

// printEnvFlags writes one line per flag: the flag, its variable, what it
// does and its default.
func printEnvFlags(w io.Writer, fs *flag.FlagSet, list []envFlag) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, ef := range list {
		f := fs.Lookup(ef.name)
		if f == nil {
			continue
		}
		name := "--" + ef.name
		if ef.arg != "" {
			name += " " + ef.arg
		} else {
			name += "=true|false"
		}
		def := ef.def
		if def == "" {
			def = f.DefValue
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s (default %s)\n", name, ef.env, f.Usage, def)
	}
	tw.Flush()
}

// getenvOS is the real environment.
func getenvOS(name string) string { return os.Getenv(name) }
