package connections

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// refreshTimeout bounds one token refresh, which runs detached from the
// caller that started it (other callers wait on the same refresh).
const refreshTimeout = 30 * time.Second

// Client returns the Lever client of a connection, for the Lever steps
// (it satisfies their Client(ctx, userID, connection) interface).
//
// Clients are cached per connection and rebuilt when its credentials
// change; every client of one credential shares one token bucket (10/s,
// burst 20). An OAuth client's token source refreshes the access token
// RefreshBefore its expiry. A connection that needs reconnecting gives an
// error wrapping ErrNeedsReauth whose message says how to reconnect.
func (m *Manager) Client(ctx context.Context, userID, name string) (*client.Client, error) {
	c, err := m.load(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	if c.Status == StatusNeedsReauth {
		return nil, &reauthError{msg: c.StatusMessage}
	}
	k := connKey{userID, name}
	pd := readPublic(c)
	m.mu.Lock()
	cached := m.clients[k]
	m.mu.Unlock()
	if cached != nil && cached.credentialID == pd.CredentialID {
		return cached.client, nil
	}
	env, err := m.environment(c.Environment)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", name, err)
	}
	cfg := client.Config{BaseURL: env.APIURL, HTTPClient: m.hc}
	switch c.Auth {
	case AuthAPIKey:
		sec, err := m.openSecrets(c)
		if err != nil {
			return nil, err
		}
		cfg.APIKey = sec.APIKey
		cfg.Limiter = m.limiter(apiKeyCredential(c.Environment, sec.APIKey))
	case AuthOAuth:
		credID := pd.CredentialID
		cfg.TokenSource = func(ctx context.Context) (string, error) { return m.accessToken(ctx, k, credID, "") }
		cfg.Limiter = m.limiter("oauth:" + pd.CredentialID)
	default:
		return nil, fmt.Errorf("connection %q: unknown auth %q", name, c.Auth)
	}
	cl, err := client.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", name, err)
	}
	m.mu.Lock()
	m.clients[k] = &cachedClient{credentialID: pd.CredentialID, client: cl}
	m.mu.Unlock()
	return cl, nil
}

// TokenSource returns a function that yields the connection's current
// access token, refreshing it as Client's token source does.
func (m *Manager) TokenSource(userID, name string) func(ctx context.Context) (string, error) {
	k := connKey{userID, name}
	return func(ctx context.Context) (string, error) { return m.accessToken(ctx, k, "", "") }
}

// accessToken returns a usable access token. A cached token is used only
// when it belongs to credentialID ("" accepts any). With rejected set (a
// token Lever answered 401 to), it refreshes unless the stored token
// already differs from it.
//
// At most one refresh per connection runs in this process at a time
// (singleflight); across processes the store's revision check decides
// which refresh is kept, and the loser uses the winner's token.
func (m *Manager) accessToken(ctx context.Context, k connKey, credentialID, rejected string) (string, error) {
	if rejected == "" {
		m.mu.Lock()
		t := m.tokens[k]
		m.mu.Unlock()
		if t != nil && (credentialID == "" || t.credentialID == credentialID) && m.now().Before(t.expires.Add(-m.refreshBefore)) {
			return t.access, nil
		}
	}
	ch := m.flights.DoChan(k.String(), func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return m.refresh(fctx, k, rejected)
	})
	select {
	case <-ctx.Done():
		return "", fmt.Errorf("getting the access token of connection %q: %w", k.name, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	}
}

// usable reports whether the stored access token may be used now.
func (m *Manager) usable(c *store.Connection, sec secrets, rejected string) bool {
	return sec.AccessToken != "" && sec.AccessToken != rejected && c.AccessExpiresAt != nil &&
		m.now().Before(c.AccessExpiresAt.Add(-m.refreshBefore))
}

// refresh runs inside the connection's single flight.
func (m *Manager) refresh(ctx context.Context, k connKey, rejected string) (string, error) {
	c, err := m.load(ctx, k.userID, k.name)
	if err != nil {
		return "", err
	}
	if c.Status == StatusNeedsReauth {
		return "", &reauthError{msg: c.StatusMessage}
	}
	if c.Auth != AuthOAuth {
		return "", fmt.Errorf("connection %q uses %s, not OAuth: it has no access token", k.name, c.Auth)
	}
	sec, err := m.openSecrets(c)
	if err != nil {
		return "", err
	}
	if m.usable(c, sec, rejected) { // another flight or process refreshed it
		m.remember(k, c, sec)
		return sec.AccessToken, nil
	}
	now := m.now()
	pd := readPublic(c)
	if end, ok := authorizationEnd(c, pd); ok && !now.Before(end) {
		return "", m.markNeedsReauth(ctx, c, "the Lever authorization expired on "+end.UTC().Format(time.DateOnly))
	}
	if sec.RefreshToken == "" {
		return "", m.markNeedsReauth(ctx, c, "the access token expired and Lever issued no refresh token (offline_access was not granted)")
	}
	env, err := m.environment(c.Environment)
	if err != nil {
		return "", fmt.Errorf("connection %q: %w", k.name, err)
	}
	clientSecret := sec.ClientSecret
	if pd.BuiltinApp {
		clientSecret = env.ClientSecret
	}
	conf := m.oauthConfig(env, pd.ClientID, clientSecret, "")
	tok, err := conf.TokenSource(m.oauthContext(ctx), &oauth2.Token{RefreshToken: sec.RefreshToken}).Token()
	if err != nil {
		if aerr := tokenAuthError(err, env); aerr != nil {
			// With rotation, a refresh token another process just used is
			// refused: if the store moved on, use that process's token.
			if tok, ok := m.storedByOther(ctx, c, rejected); ok {
				return tok, nil
			}
			reason := "Lever refused to refresh the access token (" + aerr.Code + ")"
			if aerr.Description != "" {
				reason += ": " + aerr.Description
			}
			return "", m.markNeedsReauth(ctx, c, reason)
		}
		// Network trouble or a 5xx: worth retrying, the authorization
		// itself may be fine.
		return "", fmt.Errorf("refreshing the access token of connection %q (retryable): %w", k.name, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("refreshing the access token of connection %q (retryable): Lever's token response has no access_token", k.name)
	}
	sec.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" { // rotation: the old refresh token is spent
		sec.RefreshToken = tok.RefreshToken
	}
	sealed, err := m.sealSecrets(c.UserID, c.Name, sec)
	if err != nil {
		return "", err
	}
	exp := tokenExpiry(tok, readClaims(tok.AccessToken), now)
	idle := now.Add(RefreshIdleLifetime)
	pd.RefreshIdleExpiresAt = &idle
	writePublic(c, pd)
	c.Secrets, c.AccessExpiresAt, c.UpdatedAt = sealed, &exp, now

	// Persist the rotated refresh token before the new access token is
	// used: losing it would strand the connection.
	switch err := m.store.UpdateConnection(ctx, c); {
	case errors.Is(err, store.ErrConflict):
		// Another process refreshed (or changed) the connection first:
		// use what it stored.
		if tok, ok := m.storedByOther(ctx, c, rejected); ok {
			return tok, nil
		}
		return "", fmt.Errorf("refreshing the access token of connection %q (retryable): the connection changed meanwhile and holds no usable token", k.name)
	case err != nil:
		m.log.Error("could not save a refreshed Lever token; the connection may need reconnecting", "connection", k.name, "user_id", k.userID, "error", err)
		return "", fmt.Errorf("saving the refreshed token of connection %q: %w", k.name, err)
	}
	m.log.Info("Lever access token refreshed", "connection", k.name, "user_id", k.userID)
	m.remember(k, c, sec)
	return sec.AccessToken, nil
}

func (m *Manager) remember(k connKey, c *store.Connection, sec secrets) {
	m.mu.Lock()
	m.tokens[k] = &cachedToken{credentialID: readPublic(c).CredentialID, access: sec.AccessToken, expires: *c.AccessExpiresAt}
	m.mu.Unlock()
}

// storedByOther returns the access token another process stored after c
// was read, when it is usable.
func (m *Manager) storedByOther(ctx context.Context, c *store.Connection, rejected string) (string, bool) {
	other, err := m.store.GetConnection(ctx, c.UserID, c.Name)
	if err != nil || other.Revision == c.Revision || other.Status != StatusConnected || other.Auth != AuthOAuth {
		return "", false
	}
	sec, err := m.openSecrets(other)
	if err != nil || !m.usable(other, sec, rejected) {
		return "", false
	}
	m.log.Info("using the Lever access token another process refreshed", "connection", c.Name, "user_id", c.UserID)
	m.remember(connKey{c.UserID, c.Name}, other, sec)
	return sec.AccessToken, true
}

// reauthMessage is the needs_reauth status message, which also becomes
// the error of every run that needs the connection.
func reauthMessage(c *store.Connection, reason string) string {
	if c.Auth == AuthAPIKey {
		return fmt.Sprintf("connection %q needs a new API key: %s. Replace it in the editor's Connections page or with POST /api/v1/connections and \"replace\": true", c.Name, reason)
	}
	return fmt.Sprintf("connection %q needs to be reconnected: %s. Reconnect it in the editor's Connections page or with GET /api/v1/connections/lever/authorize?name=%s",
		c.Name, reason, url.QueryEscape(c.Name))
}

func reauthFix(c *store.Connection) []string {
	if c.Auth == AuthAPIKey {
		return []string{
			"Create a new API key in Lever under Settings > Integrations and API > API Credentials.",
			"Replace the connection's key in the editor's Connections page.",
		}
	}
	return []string{
		"Open the editor's Connections page and press Reconnect (or visit GET /api/v1/connections/lever/authorize?name=" + url.QueryEscape(c.Name) + ").",
		"Authorize as a Lever Super Admin.",
	}
}

// markNeedsReauth turns the connection needs_reauth (if it is still as
// read in c) and returns the error callers get from then on.
func (m *Manager) markNeedsReauth(ctx context.Context, c *store.Connection, reason string) error {
	msg := reauthMessage(c, reason)
	m.forget(connKey{c.UserID, c.Name})
	pd := readPublic(c)
	pd.Fix = reauthFix(c)
	writePublic(c, pd)
	c.Status, c.StatusMessage, c.UpdatedAt = StatusNeedsReauth, msg, m.now()
	switch err := m.store.UpdateConnection(ctx, c); {
	case errors.Is(err, store.ErrConflict):
		// Changed meanwhile (reconnected, refreshed elsewhere, or already
		// marked): do not overwrite it.
		fresh, gerr := m.store.GetConnection(ctx, c.UserID, c.Name)
		if gerr == nil && fresh.Status == StatusNeedsReauth {
			return &reauthError{msg: fresh.StatusMessage}
		}
		return fmt.Errorf("connection %q changed while its authorization failed (%s); try again", c.Name, reason)
	case err != nil:
		m.log.Error("could not mark a Lever connection needs_reauth", "connection", c.Name, "user_id", c.UserID, "error", err)
	}
	m.log.Warn("Lever connection needs reconnecting", "connection", c.Name, "user_id", c.UserID)
	return &reauthError{msg: msg}
}

// TestResult is the answer of Test.
type TestResult struct {
	Connection Connection    `json:"connection"`
	Account    Account       `json:"account"`
	Latency    time.Duration `json:"latency"`
}

// Test makes one cheap authenticated call (the users list, limit 1) and
// reports the account reached. An OAuth connection answered 401 gets one
// forced refresh and retry; a 401 after that (or a key Lever rejects)
// turns it needs_reauth. A successful test marks the connection
// connected.
func (m *Manager) Test(ctx context.Context, userID, name string) (*TestResult, error) {
	cl, err := m.Client(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	k := connKey{userID, name}
	start := time.Now()
	_, err = client.FetchPage[client.User](ctx, cl, "/users", url.Values{"limit": {"1"}})
	c, lerr := m.load(ctx, userID, name)
	if lerr != nil {
		return nil, lerr
	}
	if errors.Is(err, client.ErrUnauthorized) && c.Auth == AuthOAuth {
		m.mu.Lock()
		var rejected string
		if t := m.tokens[k]; t != nil {
			rejected = t.access
		}
		m.mu.Unlock()
		if _, rerr := m.accessToken(ctx, k, "", rejected); rerr != nil {
			return nil, rerr
		}
		start = time.Now()
		_, err = client.FetchPage[client.User](ctx, cl, "/users", url.Values{"limit": {"1"}})
		if c, lerr = m.load(ctx, userID, name); lerr != nil {
			return nil, lerr
		}
	}
	latency := time.Since(start)
	if errors.Is(err, client.ErrUnauthorized) {
		reason := "Lever rejected the credentials (401)"
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.Message != "" {
			reason += ": " + apiErr.Message
		}
		return nil, m.markNeedsReauth(ctx, c, reason)
	}
	if err != nil {
		return nil, fmt.Errorf("testing connection %q: %w", name, err)
	}
	if c.Status != StatusConnected {
		pd := readPublic(c)
		pd.Fix = nil
		writePublic(c, pd)
		c.Status, c.StatusMessage, c.UpdatedAt = StatusConnected, "", m.now()
		if err := m.store.UpdateConnection(ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("testing connection %q: saving its status: %w", name, err)
		}
	}
	v := m.view(c)
	return &TestResult{Connection: v, Account: v.Account, Latency: latency}, nil
}
