package connections

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

// Credentials of the test sandbox. They are long and distinctive so the
// at-rest test can search for them.
const (
	testAPIKey       = "lvr-test-api-key-0f9e8d7c6b5a49382716"
	customClientID   = "custom-app-client-id"
	customSecret     = "custom-app-client-secret-5c4b3a29180716"
	builtinClientID  = "builtin-app-client-id"
	builtinSecret    = "builtin-app-client-secret-a1b2c3d4e5f6"
	testCallbackURL  = "http://127.0.0.1:9/api/v1/connections/lever/callback"
	otherEnvironment = "other"
)

var testKey = bytes.Repeat([]byte{0x42}, KeySize)

// clock is a settable clock shared by the sandbox and the manager.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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

// lever is a sandbox on a real HTTP server, wrapped to count refresh
// grants and to inject Lever-side failures.
type lever struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	// refreshes counts POST /oauth/token with grant_type=refresh_token.
	refreshes atomic.Int64
	// beforeRefresh, when set, runs (once) before a refresh grant is
	// served.
	beforeRefresh atomic.Pointer[func()]
	// tokenStatus, when not 0, answers every token request with it.
	tokenStatus atomic.Int32
	// apiUnauthorized makes every /v1 call a 401.
	apiUnauthorized atomic.Bool
	// beforeAPI, when set, runs (once) before a /v1 request whose method
	// and path it accepts is served.
	beforeAPI atomic.Pointer[func(*http.Request) bool]
}

func (l *lever) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth/token" && r.Method == http.MethodPost {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if st := l.tokenStatus.Load(); st != 0 {
			http.Error(w, `{"error":"temporarily_unavailable"}`, int(st))
			return
		}
		if form.Get("grant_type") == "refresh_token" {
			l.refreshes.Add(1)
			if f := l.beforeRefresh.Swap(nil); f != nil {
				(*f)()
			}
		}
	}
	if f := l.beforeAPI.Load(); f != nil && strings.HasPrefix(r.URL.Path, "/v1/") && (*f)(r) {
		l.beforeAPI.CompareAndSwap(f, nil)
	}
	if strings.HasPrefix(r.URL.Path, "/v1/") && l.apiUnauthorized.Load() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"code":"UnauthorizedError","message":"The request requires authentication."}`)
		return
	}
	l.sb.ServeHTTP(w, r)
}

func newLever(t testing.TB, clk *clock, mod func(*sandbox.Options)) *lever {
	t.Helper()
	o := sandbox.Options{
		Now:              clk.Now,
		DisableRateLimit: true,
		APIKeys:          []string{testAPIKey},
		OAuthClients: []sandbox.OAuthClient{
			{ID: builtinClientID, Secret: builtinSecret, Name: "Leverflow (built-in)", RedirectURIs: []string{testCallbackURL}},
			{ID: customClientID, Secret: customSecret, Name: "Acme's Leverflow", RedirectURIs: []string{testCallbackURL}},
		},
	}
	if mod != nil {
		mod(&o)
	}
	l := &lever{sb: sandbox.New(o)}
	l.srv = httptest.NewServer(l)
	t.Cleanup(func() {
		l.srv.Close()
		l.sb.Close()
	})
	return l
}

type fixture struct {
	t      testing.TB
	clock  *clock
	lever  *lever
	dbPath string
	store  *gormstore.Store
	logs   *syncBuffer
	m      *Manager
}

type setupOptions struct {
	sandbox func(*sandbox.Options)
	// other adds a second sandbox as environment "other".
	other *lever
}

func setup(t testing.TB, opts ...func(*setupOptions)) *fixture {
	t.Helper()
	var so setupOptions
	for _, o := range opts {
		o(&so)
	}
	clk := &clock{t: time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := &fixture{t: t, clock: clk, logs: &syncBuffer{}}
	f.lever = newLever(t, clk, so.sandbox)
	f.dbPath = filepath.Join(t.TempDir(), "leverflow.db")
	f.store = openStore(t, f.dbPath)
	f.m = f.manager(f.store, so.other)
	return f
}

func openStore(t testing.TB, path string) *gormstore.Store {
	t.Helper()
	st, err := gormstore.Open(context.Background(), gormstore.Config{DSN: path})
	if err != nil {
		t.Fatalf("opening the store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// manager builds a Manager on st (another "process" when st is a second
// Store on the same file) with the fixture's clock and log.
func (f *fixture) manager(st *gormstore.Store, other *lever) *Manager {
	f.t.Helper()
	envs := map[string]Environment{
		EnvLocal: LocalEnvironment(f.lever.srv.URL, builtinClientID, builtinSecret, testAPIKey),
	}
	if other != nil {
		envs[otherEnvironment] = LocalEnvironment(other.srv.URL, builtinClientID, builtinSecret, testAPIKey)
	}
	m, err := New(Config{
		Store:        st,
		Key:          testKey,
		Environments: envs,
		CallbackURL:  testCallbackURL,
		HTTPClient:   f.lever.srv.Client(),
		Now:          f.clock.Now,
		Logger:       slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return m
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consent drives the sandbox's consent page like a browser: GET the
// authorize URL, POST the form with decision, and return the query of the
// redirect to the callback URL.
func (f *fixture) consent(authorizeURL, decision string) url.Values {
	f.t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authorizeURL)
	if err != nil {
		f.t.Fatalf("GET consent page: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("GET consent page: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"decision": {decision}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Get("state") == "" {
		f.t.Fatalf("consent page has no state field:\n%s", page)
	}
	action, _ := url.Parse(authorizeURL)
	action = action.ResolveReference(&url.URL{Path: "authorize"})
	resp, err = hc.PostForm(action.String(), form)
	if err != nil {
		f.t.Fatalf("POST consent: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("POST consent: status %d, want 302", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, testCallbackURL+"?") {
		f.t.Fatalf("redirected to %q, want the callback URL", loc)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// connectOAuth authorizes name through the consent page and returns the
// connection.
func (f *fixture) connectOAuth(req AuthorizeRequest) *Connection {
	f.t.Helper()
	u, err := f.m.Authorize(f.t.Context(), req)
	if err != nil {
		f.t.Fatalf("Authorize: %v", err)
	}
	c, err := f.m.Callback(f.t.Context(), CallbackRequest{Query: f.consent(u, "accept")})
	if err != nil {
		f.t.Fatalf("Callback: %v", err)
	}
	return c
}

// storedSecrets opens what the store holds for a connection.
func (f *fixture) storedSecrets(m *Manager, userID, name string) secrets {
	f.t.Helper()
	c, err := m.store.GetConnection(f.t.Context(), userID, name)
	if err != nil {
		f.t.Fatal(err)
	}
	s, err := m.openSecrets(c)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// becomeOtherAccount makes a sandbox look like another Lever account to an
// API key: its earliest Super Admin is demoted and a new one created.
func becomeOtherAccount(t *testing.T, l *lever) {
	t.Helper()
	cl, err := client.New(client.Config{BaseURL: l.srv.URL + "/v1", APIKey: testAPIKey, HTTPClient: l.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	priya, err := cl.GetUser(ctx, sandbox.UserPriya)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.UpdateUser(ctx, priya.ID, client.UserInput{Name: priya.Name, Email: priya.Email, AccessRole: client.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateUser(ctx, client.UserInput{Name: "Olu Bakare", Email: "olu@globex.example", AccessRole: client.RoleSuperAdmin}); err != nil {
		t.Fatal(err)
	}
}

// recorder is a slog.Handler that keeps records for assertions on their
// attributes.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.records = append(r.records, rec.Clone())
	r.mu.Unlock()
	return nil
}

func (r *recorder) at(level slog.Level) []slog.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []slog.Record
	for _, rec := range r.records {
		if rec.Level == level {
			out = append(out, rec)
		}
	}
	return out
}
