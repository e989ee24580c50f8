package connections

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// Environments.
const (
	EnvProduction = "production"
	EnvSandbox    = "sandbox"
	EnvLocal      = "local"
)

// Auth methods.
const (
	AuthAPIKey = "api_key"
	AuthOAuth  = "oauth"
)

// Statuses.
const (
	StatusConnected   = "connected"
	StatusNeedsReauth = "needs_reauth"
)

// provider is the store.Connection.Provider of every connection here.
const provider = "lever"

// Defaults for zero Config fields and Lever's documented lifetimes.
const (
	DefaultRefreshBefore = 5 * time.Minute
	DefaultStateTTL      = 10 * time.Minute
	// RefreshLifetime is how long Lever's refresh tokens last from the
	// authorization, and RefreshIdleLifetime how long one lasts unused.
	RefreshLifetime     = 365 * 24 * time.Hour
	RefreshIdleLifetime = 90 * 24 * time.Hour
	// ExpiryWarning is how long before the authorization expires a
	// connection starts carrying a warning.
	ExpiryWarning = 14 * 24 * time.Hour
)

// Environment is where a connection's Lever lives.
type Environment struct {
	// APIURL is the API root, e.g. https://api.lever.co/v1.
	APIURL string
	// AuthorizeURL, TokenURL and Audience are Lever's OAuth endpoints and
	// the audience sent with the authorization request.
	AuthorizeURL string
	TokenURL     string
	Audience     string
	// WebApp is Lever's web app, named in fixing steps.
	WebApp string
	// ClientID and ClientSecret are a built-in OAuth app (the local
	// sandbox's) used when an authorization request names none.
	ClientID     string
	ClientSecret string
	// APIKey is a built-in API key used when an API key request has none.
	APIKey string
}

// DefaultEnvironments returns Lever's production and sandbox
// environments, as in the project's Lever reference.
func DefaultEnvironments() map[string]Environment {
	return map[string]Environment{
		EnvProduction: {
			APIURL:       "https://api.lever.co/v1",
			AuthorizeURL: "https://auth.lever.co/authorize",
			TokenURL:     "https://auth.lever.co/oauth/token",
			Audience:     "https://api.lever.co/v1/",
			WebApp:       "https://hire.lever.co",
		},
		EnvSandbox: {
			APIURL:       "https://api.sandbox.lever.co/v1",
			AuthorizeURL: "https://sandbox-lever.auth0.com/authorize",
			TokenURL:     "https://sandbox-lever.auth0.com/oauth/token",
			Audience:     "https://api.sandbox.lever.co/v1/",
			WebApp:       "https://hire.sandbox.lever.co",
		},
	}
}

// LocalEnvironment describes the built-in Lever sandbox served at root
// (its API under root/v1, its OAuth under root/oauth), with its built-in
// OAuth app and API key.
func LocalEnvironment(root, clientID, clientSecret, apiKey string) Environment {
	root = strings.TrimRight(root, "/")
	return Environment{
		APIURL:       root + "/v1",
		AuthorizeURL: root + "/oauth/authorize",
		TokenURL:     root + "/oauth/token",
		Audience:     root + "/v1/",
		WebApp:       root,
		ClientID:     clientID,
		ClientSecret: clientSecret,
		APIKey:       apiKey,
	}
}

// Config configures a Manager.
type Config struct {
	// Store keeps connections and pending authorizations. Required.
	Store store.Store
	// Key is the 32-byte AES-256 key (see LoadKey). Required.
	Key []byte
	// Environments by name. Production and sandbox default to
	// DefaultEnvironments; "local" exists only when given.
	Environments map[string]Environment
	// CallbackURL is the public URL of GET
	// /api/v1/connections/lever/callback; OAuth needs it.
	CallbackURL string
	// HTTPClient talks to Lever (default: 30 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger gets connection names and user ids, never secrets (default
	// slog.Default()).
	Logger *slog.Logger
	// RefreshBefore is how long before expiry an access token is
	// refreshed (default 5 min).
	RefreshBefore time.Duration
	// StateTTL is how long an authorization link stays valid (default 10
	// min).
	StateTTL time.Duration
	// Sleep waits d or until ctx ends (then it returns ctx.Err()); it paces
	// the wait for another process's token refresh (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// ProcessID names this process in the refresh claims it records
	// (default host name, process id and a random suffix). Every process
	// sharing a store needs its own.
	ProcessID string
}

// Manager owns Lever connections. It is safe for concurrent use.
type Manager struct {
	store         store.Store
	seal          *sealer
	envs          map[string]Environment
	callbackURL   string
	hc            *http.Client
	now           func() time.Time
	log           *slog.Logger
	refreshBefore time.Duration
	stateTTL      time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
	owner         string

	flights singleflight.Group

	mu      sync.Mutex
	clients map[connKey]*cachedClient
	// retired adds up the counters of clients dropped from the cache, so
	// LeverStats only ever grows.
	retired  client.Stats
	tokens   map[connKey]*cachedToken
	limiters map[string]*rate.Limiter
	// hooks caches WebhookSecrets; hookLocks serialize the webhook
	// changes of each connection.
	hooks     webhookCache
	hookLocks map[connKey]chan struct{}
}

type connKey struct{ userID, name string }

func (k connKey) String() string { return k.userID + "\x00" + k.name }

type cachedClient struct {
	credentialID string
	client       *client.Client
}

type cachedToken struct {
	credentialID string
	access       string
	expires      time.Time
}

// New checks cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Config.Store is required", ErrInvalid)
	}
	seal, err := newSealer(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	m := &Manager{
		store:         cfg.Store,
		seal:          seal,
		envs:          DefaultEnvironments(),
		callbackURL:   cfg.CallbackURL,
		hc:            cfg.HTTPClient,
		now:           cfg.Now,
		log:           cfg.Logger,
		refreshBefore: cfg.RefreshBefore,
		stateTTL:      cfg.StateTTL,
		sleep:         cfg.Sleep,
		owner:         cfg.ProcessID,
		clients:       map[connKey]*cachedClient{},
		tokens:        map[connKey]*cachedToken{},
		limiters:      map[string]*rate.Limiter{},
		hooks:         webhookCache{entries: map[connKey]*cachedWebhooks{}, gen: map[connKey]uint64{}},
		hookLocks:     map[connKey]chan struct{}{},
	}
	names := make([]string, 0, len(cfg.Environments))
	for name := range cfg.Environments {
		names = append(names, name)
	}
	slices.Sort(names) // report the same problem first every time
	for _, name := range names {
		env := cfg.Environments[name]
		for _, f := range []struct{ field, value string }{
			{"APIURL", env.APIURL}, {"AuthorizeURL", env.AuthorizeURL}, {"TokenURL", env.TokenURL},
		} {
			if err := checkURL(f.value); err != nil {
				return nil, fmt.Errorf("%w: Environments[%q].%s: %v", ErrInvalid, name, f.field, err)
			}
		}
		m.envs[name] = env
	}
	if cfg.CallbackURL != "" {
		if err := checkURL(cfg.CallbackURL); err != nil {
			return nil, fmt.Errorf("%w: CallbackURL: %v", ErrInvalid, err)
		}
	}
	if m.hc == nil {
		m.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.refreshBefore <= 0 {
		m.refreshBefore = DefaultRefreshBefore
	}
	if m.stateTTL <= 0 {
		m.stateTTL = DefaultStateTTL
	}
	if m.sleep == nil {
		m.sleep = sleepTimer
	}
	if m.owner == "" {
		host, _ := os.Hostname()
		m.owner = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomToken(6))
	}
	return m, nil
}

func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", v)
	}
	return nil
}

// Account is the Lever account a connection reaches.
//
// For OAuth, ID and UserID come from the access token's claims (the
// account and the user who authorized). For an API key Lever has no "me"
// endpoint: the account is identified by its earliest-created Super Admin
// (deactivated ones included), who is then also UserID and UserEmail.
type Account struct {
	// ID is Lever's account id (OAuth only).
	ID string `json:"id,omitempty"`
	// Name is a display name: the domain of the identifying user's email.
	Name      string `json:"name,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	UserEmail string `json:"user_email,omitempty"`
	// SuperAdminID is the earliest-created Super Admin's id, which
	// identifies the account across API keys and OAuth.
	SuperAdminID string `json:"super_admin_id,omitempty"`
}

func (a Account) String() string {
	var parts []string
	if a.ID != "" {
		parts = append(parts, "account "+a.ID)
	}
	if a.UserEmail != "" {
		parts = append(parts, "user "+a.UserEmail)
	} else if a.SuperAdminID != "" {
		parts = append(parts, "super admin "+a.SuperAdminID)
	}
	if len(parts) == 0 {
		return "an unidentified Lever account"
	}
	s := strings.Join(parts, ", ")
	if a.Name != "" {
		s = a.Name + " (" + s + ")"
	}
	return s
}

// sameAccount tells whether a and b are one Lever account; known is false
// when there is nothing to compare.
func sameAccount(a, b Account) (same, known bool) {
	switch {
	case a.ID != "" && b.ID != "":
		return a.ID == b.ID, true
	case a.SuperAdminID != "" && b.SuperAdminID != "":
		return a.SuperAdminID == b.SuperAdminID, true
	}
	return false, false
}

// Connection is the public view of a connection. It never holds a secret.
type Connection struct {
	Name          string   `json:"name"`
	UserID        string   `json:"user_id"`
	Environment   string   `json:"environment"`
	Auth          string   `json:"auth"`
	Status        string   `json:"status"`
	StatusMessage string   `json:"status_message,omitempty"`
	Fix           []string `json:"fix,omitempty"`
	Account       Account  `json:"account"`
	ClientID      string   `json:"client_id,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	// RefreshExpiresAt is when the OAuth authorization ends (Lever's one
	// year); RefreshIdleExpiresAt when it ends if the connection is not
	// used (Lever's 90 days without a refresh).
	RefreshExpiresAt     *time.Time `json:"refresh_expires_at,omitempty"`
	RefreshIdleExpiresAt *time.Time `json:"refresh_idle_expires_at,omitempty"`
	Warnings             []string   `json:"warnings,omitempty"`
	// Webhooks are the Lever webhooks registered for the connection
	// (RegisterWebhooks), without their signature tokens.
	Webhooks  *WebhookSet `json:"webhooks,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// publicData is store.Connection.Public: what may be shown, never a
// secret.
type publicData struct {
	Account    Account  `json:"account"`
	ClientID   string   `json:"client_id,omitempty"`
	Scopes     []string `json:"scopes,omitempty"`
	BuiltinApp bool     `json:"builtin_app,omitempty"`
	// CredentialID changes whenever the credentials are replaced (not on
	// a token refresh); cached clients are keyed by it.
	CredentialID         string     `json:"credential_id"`
	RefreshIdleExpiresAt *time.Time `json:"refresh_idle_expires_at,omitempty"`
	Fix                  []string   `json:"fix,omitempty"`
	Warnings             []string   `json:"warnings,omitempty"`
	// Webhooks is the view of the registered webhooks; WebhookClaimUntil
	// and WebhookClaimOwner record that a process is changing them.
	Webhooks          *WebhookSet `json:"webhooks,omitempty"`
	WebhookClaimUntil *time.Time  `json:"webhook_claim_until,omitempty"`
	WebhookClaimOwner string      `json:"webhook_claim_owner,omitempty"`
}

// secrets is the sealed part of a connection.
type secrets struct {
	APIKey       string `json:"api_key,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	AccessToken  string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// Webhooks are the registered webhooks by event, with the signature
	// token Lever returned once; StaleWebhooks are ids of the connection's
	// webhooks that could not be deleted yet.
	Webhooks      map[string]webhookSecret `json:"webhooks,omitempty"`
	StaleWebhooks []string                 `json:"stale_webhooks,omitempty"`
}

// String and LogValue keep secrets out of logs and error messages even
// when a secrets value is printed by mistake.
func (secrets) String() string               { return "[secrets redacted]" }
func (secrets) LogValue() slog.Value         { return slog.StringValue("[secrets redacted]") }
func (s secrets) GoString() string           { return s.String() }
func (s secrets) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

func (m *Manager) sealSecrets(userID, name string, s secrets) ([]byte, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encoding secrets: %w", err)
	}
	return m.seal.seal(raw, connectionAD(userID, name))
}

func (m *Manager) openSecrets(c *store.Connection) (secrets, error) {
	var s secrets
	raw, err := m.seal.open(c.Secrets, connectionAD(c.UserID, c.Name))
	if err != nil {
		return s, fmt.Errorf("opening the secrets of connection %q: %w (was LEVERFLOW_SECRET_KEY changed?)", c.Name, err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("decoding the secrets of connection %q: %w", c.Name, err)
	}
	return s, nil
}

func readPublic(c *store.Connection) publicData {
	var p publicData
	if len(c.Public) > 0 {
		_ = json.Unmarshal(c.Public, &p) // a bad document shows as empty, it never blocks
	}
	return p
}

func writePublic(c *store.Connection, p publicData) {
	raw, _ := json.Marshal(p) // plain strings and times: cannot fail
	c.Public = raw
}

// view builds the public view of c, with warnings as of now.
func (m *Manager) view(c *store.Connection) Connection {
	p := readPublic(c)
	v := Connection{
		Name:                 c.Name,
		UserID:               c.UserID,
		Environment:          c.Environment,
		Auth:                 c.Auth,
		Status:               c.Status,
		StatusMessage:        c.StatusMessage,
		Account:              p.Account,
		ClientID:             p.ClientID,
		Scopes:               slices.Clone(p.Scopes),
		RefreshExpiresAt:     c.RefreshExpiresAt,
		RefreshIdleExpiresAt: p.RefreshIdleExpiresAt,
		Warnings:             slices.Clone(p.Warnings),
		Webhooks:             p.Webhooks.clone(),
		CreatedAt:            c.CreatedAt,
		UpdatedAt:            c.UpdatedAt,
	}
	if c.Status != StatusConnected {
		v.Fix = slices.Clone(p.Fix)
	}
	if exp, ok := authorizationEnd(c, p); ok && c.Status == StatusConnected && exp.Sub(m.now()) <= ExpiryWarning {
		v.Warnings = append(v.Warnings, expiryWarning(exp))
	}
	return v
}

// authorizationEnd is when an OAuth connection's refresh token stops
// working: the earlier of its absolute and idle expiries.
func authorizationEnd(c *store.Connection, p publicData) (time.Time, bool) {
	var end time.Time
	if c.RefreshExpiresAt != nil {
		end = *c.RefreshExpiresAt
	}
	if p.RefreshIdleExpiresAt != nil && (end.IsZero() || p.RefreshIdleExpiresAt.Before(end)) {
		end = *p.RefreshIdleExpiresAt
	}
	return end, !end.IsZero()
}

func expiryWarning(t time.Time) string {
	return fmt.Sprintf("the Lever authorization expires on %s; reconnect before then to keep workflows running", t.UTC().Format(time.DateOnly))
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func checkName(name string) error {
	if !namePattern.MatchString(name) {
		return invalidf("name", "%q is not a valid connection name: use 1-63 lowercase letters, digits and hyphens, starting with a letter or digit (e.g. \"acme-sandbox\")", name)
	}
	return nil
}

func checkUserID(userID string) error {
	if len(userID) > 255 || strings.ContainsFunc(userID, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalidf("user_id", "must be at most 255 characters without control characters")
	}
	return nil
}

func (m *Manager) environment(name string) (Environment, error) {
	env, ok := m.envs[name]
	if !ok {
		names := make([]string, 0, len(m.envs))
		for n := range m.envs {
			names = append(names, n)
		}
		slices.Sort(names)
		return Environment{}, invalidf("environment", "%q is not one of %s", name, strings.Join(names, ", "))
	}
	return env, nil
}

// load returns the stored connection or ErrNotFound.
func (m *Manager) load(ctx context.Context, userID, name string) (*store.Connection, error) {
	c, err := m.store.GetConnection(ctx, userID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no connection named %q", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("loading connection %q: %w", name, err)
	}
	return c, nil
}

// existing returns the stored connection, or nil when there is none.
func (m *Manager) existing(ctx context.Context, userID, name string) (*store.Connection, error) {
	c, err := m.store.GetConnection(ctx, userID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading connection %q: %w", name, err)
	}
	return c, nil
}

func nameTaken(name string) error {
	return fmt.Errorf("%w: a connection named %q already exists; choose another name, or ask to replace it (\"replace\": true)", ErrNameTaken, name)
}

func differentAccount(name string, old, next Account) error {
	return fmt.Errorf("%w: connection %q reaches %s, and the new credentials reach %s; to point it at the new account, confirm the change (\"confirm_account_change\": true)",
		ErrDifferentAccount, name, old, next)
}

func unknownAccount(name string, old, next Account) error {
	return fmt.Errorf("%w: cannot tell whether the new credentials reach the same Lever account as connection %q (%s, now %s); confirm the change (\"confirm_account_change\": true) to replace it",
		ErrDifferentAccount, name, old, next)
}

// checkAccountChange refuses a replacement that reaches another Lever
// account (or one that cannot be compared) unless the change is confirmed.
func checkAccountChange(old *store.Connection, next Account, confirm bool) error {
	if old == nil || confirm {
		return nil
	}
	prev := readPublic(old).Account
	same, known := sameAccount(prev, next)
	switch {
	case !known:
		return unknownAccount(old.Name, prev, next)
	case !same:
		return differentAccount(old.Name, prev, next)
	}
	return nil
}

// save writes c as a new connection, or over old (keeping its creation
// time) when old is not nil. Nothing is written on failure.
func (m *Manager) save(ctx context.Context, c *store.Connection, old *store.Connection) error {
	if old == nil {
		err := m.store.CreateConnection(ctx, c)
		if errors.Is(err, store.ErrConflict) {
			return nameTaken(c.Name)
		}
		if err != nil {
			return fmt.Errorf("saving connection %q: %w", c.Name, err)
		}
	} else {
		c.CreatedAt = old.CreatedAt
		c.Revision = old.Revision
		if err := m.carryWebhooks(c, old); err != nil {
			return err
		}
		err := m.store.UpdateConnection(ctx, c)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("saving connection %q: it was changed or deleted meanwhile; try again: %w", c.Name, err)
		}
		if err != nil {
			return fmt.Errorf("saving connection %q: %w", c.Name, err)
		}
	}
	m.forget(connKey{c.UserID, c.Name})
	return nil
}

// forget drops the cached client and token of a connection.
func (m *Manager) forget(k connKey) {
	m.mu.Lock()
	m.retireLocked(k)
	delete(m.clients, k)
	delete(m.tokens, k)
	m.mu.Unlock()
	m.forgetWebhooks(k)
}

// retireLocked keeps the counters of k's cached client before it is
// dropped or replaced; the caller holds m.mu.
func (m *Manager) retireLocked(k connKey) {
	if old := m.clients[k]; old != nil {
		addStats(&m.retired, old.client.Stats())
	}
}

// LeverStats adds up what every Lever client this Manager built has done
// (requests by status, retries, rate-limit waits), the dropped ones
// included: the server's /metrics reads it.
func (m *Manager) LeverStats() client.Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total client.Stats
	addStats(&total, m.retired)
	for _, c := range m.clients {
		addStats(&total, c.client.Stats())
	}
	return total
}

func addStats(dst *client.Stats, s client.Stats) {
	dst.Requests += s.Requests
	dst.Retries += s.Retries
	dst.RateLimitWaits += s.RateLimitWaits
	dst.RateLimitWait += s.RateLimitWait
	dst.BackoffWait += s.BackoffWait
	if len(s.ByStatus) > 0 && dst.ByStatus == nil {
		dst.ByStatus = map[int]int64{}
	}
	for status, n := range s.ByStatus {
		dst.ByStatus[status] += n
	}
}

// Get returns one connection.
func (m *Manager) Get(ctx context.Context, userID, name string) (*Connection, error) {
	c, err := m.load(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	v := m.view(c)
	return &v, nil
}

// List returns the user's connections ordered by name ("" is the
// workspace).
func (m *Manager) List(ctx context.Context, userID string) ([]Connection, error) {
	cs, err := m.store.ListConnections(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("listing connections: %w", err)
	}
	out := make([]Connection, 0, len(cs))
	for _, c := range cs {
		out = append(out, m.view(c))
	}
	return out, nil
}

// Delete removes a connection. It first unregisters the connection's
// webhooks from Lever, best effort: a failure is logged (with the
// connection's name only) and does not stop the delete. Lever has no
// revocation endpoint: an OAuth app stays listed under Authorized Apps in
// Lever until revoked there.
func (m *Manager) Delete(ctx context.Context, userID, name string) error {
	if err := m.UnregisterWebhooks(ctx, userID, name); err != nil && !errors.Is(err, ErrNotFound) {
		m.log.Warn("could not unregister the Lever webhooks of a deleted connection; delete them in Lever", "connection", name)
	}
	err := m.store.DeleteConnection(ctx, userID, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: no connection named %q", ErrNotFound, name)
	}
	if err != nil {
		return fmt.Errorf("deleting connection %q: %w", name, err)
	}
	m.forget(connKey{userID, name})
	m.log.Info("Lever connection deleted", "connection", name, "user_id", userID)
	return nil
}

// CheckExpiry returns the connected OAuth connections of every user (the
// workspace's included, ordered by user id then name) whose authorization
// ends within ExpiryWarning, and logs one warning for each (name, user id
// and date only). Run it daily.
func (m *Manager) CheckExpiry(ctx context.Context) ([]Connection, error) {
	cs, err := m.store.ListAllConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("checking connection expiry: %w", err)
	}
	now := m.now()
	var out []Connection
	for _, c := range cs {
		end, ok := authorizationEnd(c, readPublic(c))
		if !ok || c.Status != StatusConnected || end.Sub(now) > ExpiryWarning {
			continue
		}
		m.log.Warn("Lever authorization expires soon", "connection", c.Name, "user_id", c.UserID, "expires_on", end.UTC().Format(time.DateOnly))
		out = append(out, m.view(c))
	}
	return out, nil
}

// sleepTimer is the default Config.Sleep.
func sleepTimer(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// randomToken returns n random bytes as unpadded base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64URL(b)
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// limiter returns the one token bucket shared by every client of a
// credential (Lever's rate limit is per key or token).
func (m *Manager) limiter(credential string) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.limiters[credential]
	if l == nil {
		l = rate.NewLimiter(client.DefaultRateLimit, client.DefaultBurst)
		m.limiters[credential] = l
	}
	return l
}
