package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/connections"
	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/steps/catalog"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"github.com/leverflow/leverflow/triggers"
)

// Long, distinctive secrets so responses and logs can be searched for them.
const (
	adminToken  = "lf-admin-token-7c1e9a3b5d2f4e6a8b0c"
	readerToken = "lf-reader-token-2b4d6f8a0c1e3a5b7d9f"
	leverAPIKey = "lvr-api-test-key-9d8c7b6a5f4e3d2c1b0a"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a whole server: the engine on a SQLite file, the connections
// manager, the Lever sandbox on its own HTTP server, and the API on a real
// HTTP server.
type fixture struct {
	t       *testing.T
	url     string
	store   *gormstore.Store
	eng     *engine.Engine
	server  *api.Server
	conns   *connections.Manager
	sb      *sandbox.Sandbox
	sbURL   string
	metrics *api.Metrics
	inbox   *triggers.Receiver
	tokens  *api.StoreTokens
	logs    *syncBuffer
	mu      sync.Mutex
	bodies  []string // every response body, for the secrets check
}

func setup(t *testing.T) *fixture {
	t.Helper()
	return setupWith(t, fixtureOptions{})
}

// fixtureOptions changes what setupWith builds.
type fixtureOptions struct {
	// noInbox builds the server without an event inbox.
	noInbox bool
	// rate and burst set the per-token request limit (0: the defaults).
	rate  float64
	burst int
	// editor is served as the built editor (nil: none).
	editor fs.FS
}

func setupWith(t *testing.T, opts fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{t: t, logs: &syncBuffer{}, metrics: api.NewMetrics()}

	f.sb = sandbox.New(sandbox.Options{Seed: 7, DisableRateLimit: true, APIKeys: []string{leverAPIKey}, WebhookBackoff: 20 * time.Millisecond})
	sbSrv := httptest.NewServer(f.sb)
	t.Cleanup(func() { sbSrv.Close(); f.sb.Close() })
	f.sbURL = sbSrv.URL

	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "leverflow.db")})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f.store = st

	// The API's URL is known once its server listens; the handler is set
	// right after.
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	f.url = srv.URL

	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	oc := f.sb.OAuthClient()
	f.conns, err = connections.New(connections.Config{
		Store: st,
		Key:   bytes.Repeat([]byte{7}, connections.KeySize),
		Environments: map[string]connections.Environment{
			connections.EnvLocal: connections.LocalEnvironment(sbSrv.URL, oc.ID, oc.Secret, ""),
		},
		CallbackURL: srv.URL + "/api/v1/connections/lever/callback",
		HTTPClient:  sbSrv.Client(),
		Logger:      logger,
	})
	if err != nil {
		t.Fatalf("connections.New: %v", err)
	}
	reg, err := catalog.New(catalog.Options{Lever: f.conns})
	if err != nil {
		t.Fatal(err)
	}
	f.eng, err = engine.New(engine.Options{Store: st, Steps: reg, PollInterval: 20 * time.Millisecond, Logger: logger,
		Observer: f.metrics,
		HasConnection: func(userID, name string) bool {
			_, err := f.conns.Get(context.Background(), userID, name)
			return err == nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.eng.Stop(context.Background()) })

	if !opts.noInbox {
		f.inbox, err = triggers.NewReceiver(triggers.ReceiverConfig{
			Store: st, Engine: f.eng, Secrets: f.conns, NotFound: connections.ErrNotFound,
			Logger: logger, Metrics: f.metrics, RouteDelay: 200 * time.Millisecond, SweepInterval: 50 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.inbox.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.inbox.Stop(context.Background()) })
	}

	static, err := api.NewStaticTokens(adminToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := static.Add("reader", readerToken, false); err != nil {
		t.Fatal(err)
	}
	f.tokens = api.NewStoreTokens(st, logger, nil)
	t.Cleanup(f.tokens.Wait) // before the store closes
	s, err := api.New(api.Config{
		Engine: f.eng, Store: st, Steps: reg, Connections: f.conns, Auth: api.Chain(static, f.tokens),
		Logger: logger, BodyLimit: 64 << 10, BaseURL: srv.URL,
		Inbox: f.inbox, Metrics: f.metrics, LeverStats: f.conns,
		RateLimit: opts.rate, RateBurst: opts.burst, Editor: opts.editor,
	})
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	handler = s.Handler()
	f.server = s
	t.Cleanup(f.checkNoSecrets)
	return f
}

// response is one answer of the API.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// errorCode returns the error code and message of an error answer.
func (r response) errorCode(t *testing.T) (code, message string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer is not an error: %s", r.body)
	}
	if _, ok := e["details"].([]any); !ok {
		t.Errorf("error details is not an array: %s", r.body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// request describes one call; Body is sent as JSON unless it is a string
// or []byte (sent as is).
type request struct {
	Method, Path string
	Body         any
	Token        string // default adminToken; "-" sends none
	Header       map[string]string
}

func (f *fixture) do(req request) response {
	f.t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	case io.Reader: // sent chunked, without a Content-Length
		body = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		body = bytes.NewReader(raw)
	}
	r, err := http.NewRequestWithContext(f.t.Context(), req.Method, f.url+req.Path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	switch req.Token {
	case "":
		r.Header.Set("Authorization", "Bearer "+adminToken)
	case "-":
	default:
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	f.record(string(raw))
	return response{status: resp.StatusCode, header: resp.Header, body: raw}
}

func (f *fixture) record(body string) {
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.mu.Unlock()
}

// must calls and fails the test unless the status is want.
func (f *fixture) must(want int, req request) response {
	f.t.Helper()
	r := f.do(req)
	if r.status != want {
		f.t.Fatalf("%s %s: status %d, want %d\n%s", req.Method, req.Path, r.status, want, r.body)
	}
	return r
}

// checkNoSecrets fails when a response or a log line holds a secret.
func (f *fixture) checkNoSecrets() {
	f.mu.Lock()
	defer f.mu.Unlock()
	secrets := []string{leverAPIKey, adminToken, readerToken, f.sb.OAuthClient().Secret, "eyJ"}
	for _, b := range f.bodies {
		for _, s := range secrets {
			if strings.Contains(b, s) {
				f.t.Errorf("a response holds a secret (%.6s...):\n%s", s, b)
			}
		}
	}
	logs := f.logs.String()
	for _, s := range secrets[:4] {
		if strings.Contains(logs, s) {
			f.t.Errorf("the log holds a secret (%.6s...)", s)
		}
	}
}

// createConnection connects the sandbox's account under name with the
// API key.
func (f *fixture) createConnection(name string) {
	f.t.Helper()
	f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/connections",
		Body: map[string]any{"name": name, "environment": "local", "auth": "api_key", "api_key": leverAPIKey}})
}

// saveWorkflow creates a workflow under id.
func (f *fixture) saveWorkflow(id, def string) {
	f.t.Helper()
	f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/workflows?id=" + id, Body: def})
}

// runCount counts the runs in the store.
func (f *fixture) runCount() int {
	f.t.Helper()
	runs, err := f.store.ListRuns(f.t.Context(), store.RunFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(runs)
}

const (
	echoWorkflow = `{"name": "Echo", "trigger": {"type": "api"},
  "steps": [{"id": "echo", "type": "transform", "input": {"value": {"hello": "<<trigger.name>>"}}}]}`
	respondWorkflow = `{"name": "Answer", "trigger": {"type": "api"},
  "steps": [
    {"id": "answer", "type": "respond", "input": {"status": 201, "headers": {"X-Answer": "yes"}, "body": {"greeting": "hi <<trigger.name>>"}}},
    {"id": "later", "type": "delay", "input": {"for": "1h"}}
  ],
  "edges": [{"from": "answer", "to": "later"}]}`
	slowWorkflow = `{"name": "Slow", "trigger": {"type": "api"},
  "steps": [{"id": "nap", "type": "delay", "input": {"for": "1h"}}]}`
	usersWorkflow = `{"name": "Users", "trigger": {"type": "api"},
  "steps": [{"id": "users", "type": "lever.get_users", "connection": "acme", "input": {}, "retry": {"max_attempts": 1}}]}`
)

func (f *fixture) routes() []api.Route { return f.server.Routes() }

// eventually polls cond every 10ms until it holds or 10 seconds pass.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
