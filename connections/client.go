package connections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	hc := *m.hc // the same client, with the 401 handling in front of its transport
	hc.Transport = &authTransport{m: m, k: k, credentialID: pd.CredentialID, auth: c.Auth, base: cmp.Or[http.RoundTripper](m.hc.Transport, http.DefaultTransport)}
	cfg := client.Config{BaseURL: env.APIURL, HTTPClient: &hc}
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
	m.retireLocked(k)
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

// Refresh claims. claimTTL is how long a claim holds other processes off
// (a refresh runs at most refreshTimeout); claimPoll is how often a
// process waiting for another's refresh reads the connection again.
const (
	claimTTL  = refreshTimeout
	claimPoll = 100 * time.Millisecond
)

// refresh runs inside the connection's single flight. Across processes a
// claim recorded in the connection (conditional on the revision read)
// decides who refreshes: the others wait for its tokens, polling the
// store until the claim ends, and take over only after it expired. So
// one refresh token is sent once, and a process never declares needs_reauth
// because another one rotated the token away.
func (m *Manager) refresh(ctx context.Context, k connKey, rejected string) (string, error) {
	waited := false
	for {
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
			if waited {
				m.log.Info("using the Lever access token another process refreshed", "connection", k.name, "user_id", k.userID)
			}
			m.remember(k, c, sec)
			return sec.AccessToken, nil
		}
		now := m.now()
		if until := c.RefreshClaimUntil; until != nil && now.Before(*until) && c.RefreshClaimOwner != m.owner {
			if !waited {
				m.log.Debug("waiting for another process to refresh the Lever access token", "connection", k.name, "user_id", k.userID)
			}
			waited = true
			if err := m.sleep(ctx, min(claimPoll, until.Sub(now))); err != nil {
				return "", fmt.Errorf("waiting for another process to refresh the access token of connection %q (retryable): %w", k.name, err)
			}
			continue
		}
		pd := readPublic(c)
		if end, ok := authorizationEnd(c, pd); ok && !now.Before(end) {
			return "", m.markNeedsReauth(ctx, c, "the Lever authorization expired on "+end.UTC().Format(time.DateOnly))
		}
		if sec.RefreshToken == "" {
			return "", m.markNeedsReauth(ctx, c, "the access token expired and Lever issued no refresh token (offline_access was not granted)")
		}
		if c.RefreshClaimUntil != nil && c.RefreshClaimOwner != m.owner {
			m.log.Warn("taking over an expired Lever token refresh claim", "connection", k.name, "user_id", k.userID)
		}
		until := now.Add(claimTTL)
		c.RefreshClaimUntil, c.RefreshClaimOwner = &until, m.owner
		switch err := m.store.UpdateConnection(ctx, c); {
		case errors.Is(err, store.ErrConflict):
			continue // changed meanwhile (claimed, refreshed, reconnected): read it again
		case errors.Is(err, store.ErrNotFound):
			return "", fmt.Errorf("%w: no connection named %q (it was deleted)", ErrNotFound, k.name)
		case err != nil:
			return "", fmt.Errorf("claiming the token refresh of connection %q: %w", k.name, err)
		}
		return m.refreshClaimed(ctx, k, c, sec, rejected)
	}
}

// refreshClaimed refreshes the tokens of c, which this process has just
// claimed (c is at the claim's revision), saves them and clears the
// claim.
func (m *Manager) refreshClaimed(ctx context.Context, k connKey, c *store.Connection, sec secrets, rejected string) (string, error) {
	pd := readPublic(c)
	env, err := m.environment(c.Environment)
	if err != nil {
		m.release(ctx, c)
		return "", fmt.Errorf("connection %q: %w", k.name, err)
	}
	clientSecret := sec.ClientSecret
	if pd.BuiltinApp {
		clientSecret = env.ClientSecret
	}
	conf := m.oauthConfig(env, pd.ClientID, clientSecret, "")
	now := m.now()
	tok, err := conf.TokenSource(m.oauthContext(ctx), &oauth2.Token{RefreshToken: sec.RefreshToken}).Token()
	if err != nil {
		if aerr := tokenAuthError(err, env); aerr != nil {
			// A process that took over this claim after it expired (or an
			// older Leverflow that claims nothing) may have rotated the
			// token away: if the store moved on, use its token.
			if tok, ok := m.storedByOther(ctx, c, rejected); ok {
				return tok, nil
			}
			reason := "Lever refused to refresh the access token (" + aerr.Code + ")"
			if aerr.Description != "" {
				reason += ": " + aerr.Description
			}
			merr := m.markNeedsReauth(ctx, c, reason)
			if !errors.Is(merr, ErrNeedsReauth) {
				if tok, ok := m.storedByOther(ctx, c, rejected); ok {
					return tok, nil
				}
			}
			return "", merr
		}
		// Network trouble or a 5xx: worth retrying, the authorization
		// itself may be fine.
		m.release(ctx, c)
		return "", fmt.Errorf("refreshing the access token of connection %q (retryable): %w", k.name, err)
	}
	if tok.AccessToken == "" {
		m.release(ctx, c)
		return "", fmt.Errorf("refreshing the access token of connection %q (retryable): Lever's token response has no access_token", k.name)
	}
	sec.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" { // rotation: the old refresh token is spent
		sec.RefreshToken = tok.RefreshToken
	}
	sealed, err := m.sealSecrets(c.UserID, c.Name, sec)
	if err != nil {
		m.release(ctx, c)
		return "", err
	}
	exp := tokenExpiry(tok, readClaims(tok.AccessToken), now)
	idle := now.Add(RefreshIdleLifetime)

	// Persist the rotated refresh token before the new access token is
	// used: losing it would strand the connection.
	for attempt := 0; ; attempt++ {
		fpd := readPublic(c)
		fpd.RefreshIdleExpiresAt = &idle
		if c.Status != StatusConnected {
			fpd.Fix = nil
			c.Status, c.StatusMessage = StatusConnected, ""
		}
		writePublic(c, fpd)
		c.Secrets, c.AccessExpiresAt, c.UpdatedAt = sealed, &exp, now
		if c.RefreshClaimOwner == m.owner {
			c.RefreshClaimUntil, c.RefreshClaimOwner = nil, ""
		}
		err := m.store.UpdateConnection(ctx, c)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt >= 3 {
			m.log.Error("could not save a refreshed Lever token; the connection may need reconnecting", "connection", k.name, "user_id", k.userID, "error", err)
			return "", fmt.Errorf("saving the refreshed token of connection %q: %w", k.name, err)
		}
		// Changed while this process held the claim: the claim expired
		// and another process took over, or a process marked it
		// needs_reauth after Lever refused the refresh token this one had
		// just rotated. Unless its credentials were replaced, the tokens
		// Lever just issued are the newest (with rotation, only this
		// process holds the valid refresh token): write them over it.
		fresh, gerr := m.store.GetConnection(ctx, c.UserID, c.Name)
		if gerr != nil {
			return "", fmt.Errorf("saving the refreshed token of connection %q: %w", k.name, gerr)
		}
		if fresh.Auth != AuthOAuth || readPublic(fresh).CredentialID != pd.CredentialID {
			if tok, ok := m.storedByOther(ctx, c, rejected); ok {
				return tok, nil
			}
			return "", fmt.Errorf("refreshing the access token of connection %q (retryable): its credentials were replaced meanwhile", k.name)
		}
		// Keep what else changed in the secrets meanwhile (webhook
		// signature tokens); only the tokens are this refresh's.
		fsec, oerr := m.openSecrets(fresh)
		if oerr != nil {
			return "", oerr
		}
		fsec.AccessToken, fsec.RefreshToken = sec.AccessToken, sec.RefreshToken
		if sealed, err = m.sealSecrets(fresh.UserID, fresh.Name, fsec); err != nil {
			return "", err
		}
		sec = fsec
		c = fresh
	}
	m.log.Info("Lever access token refreshed", "connection", k.name, "user_id", k.userID)
	m.remember(k, c, sec)
	return sec.AccessToken, nil
}

// release clears this process's refresh claim on c after a refresh that
// changed nothing, so others need not wait for it to expire.
func (m *Manager) release(ctx context.Context, c *store.Connection) {
	if c.RefreshClaimOwner != m.owner {
		return
	}
	c.RefreshClaimUntil, c.RefreshClaimOwner = nil, ""
	if err := m.store.UpdateConnection(ctx, c); err != nil && !errors.Is(err, store.ErrConflict) {
		m.log.Warn("could not release a Lever token refresh claim; it expires by itself", "connection", c.Name, "user_id", c.UserID, "error", err)
	}
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
	if c.RefreshClaimOwner == m.owner {
		c.RefreshClaimUntil, c.RefreshClaimOwner = nil, ""
	}
	// Conditional on the revision read: a mark never overwrites tokens
	// another process saved meanwhile.
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
// forced refresh and resend (by the client's transport); a 401 after that
// (or a key Lever rejects) turns it needs_reauth. A successful test marks the connection
// connected.
func (m *Manager) Test(ctx context.Context, userID, name string) (*TestResult, error) {
	cl, err := m.Client(ctx, userID, name)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	// A 401 is handled by the client's transport: one forced refresh and
	// resend for OAuth, then needs_reauth.
	_, err = client.FetchPage[client.User](ctx, cl, "/users", url.Values{"limit": {"1"}})
	if re := (*reauthError)(nil); errors.As(err, &re) {
		return nil, re // the needs_reauth message, without the request's
	}
	c, lerr := m.load(ctx, userID, name)
	if lerr != nil {
		return nil, lerr
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

// authTransport is the transport of the clients Client builds. On a 401
// to an OAuth request it forces one refresh (through the connection's
// single flight and refresh claim) and resends the request once with the
// new token; when the refresh fails for good or the resent request is
// still refused, or when Lever refuses an API key, it marks the connection
// needs_reauth and fails the request with that error (a permanent step
// error that also matches client.ErrUnauthorized).
type authTransport struct {
	m            *Manager
	k            connKey
	credentialID string
	auth         string
	base         http.RoundTripper
}

// Why a connection turns needs_reauth on a 401.
const (
	reasonKeyRefused   = "Lever refused the API key (401): it was revoked or rotated in Lever; create a new key under Settings > Integrations and API > API Credentials and update the connection with it"
	reasonOAuthRefused = "Lever refused the connection's authorization (401) even with a freshly refreshed access token; the app may have been revoked in Lever under " + authorizedAppsPath
)

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	ctx := req.Context()
	if t.auth != AuthOAuth {
		return nil, t.m.refused(ctx, t.k, t.credentialID, unauthorized(req, resp), reasonKeyRefused)
	}
	sent, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok || sent == "" {
		return resp, nil
	}
	t.m.dropToken(t.k, sent)
	// Refreshes unless the stored token already differs from the one sent
	// (another request or process replaced it).
	tok, rerr := t.m.accessToken(ctx, t.k, t.credentialID, sent)
	if rerr != nil {
		apiErr := unauthorized(req, resp)
		if errors.Is(rerr, ErrNeedsReauth) {
			return nil, &unauthorizedError{reauth: rerr, api: apiErr}
		}
		return nil, fmt.Errorf("Lever answered 401 and refreshing the access token failed: %w", rerr)
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return resp, nil // cannot be sent again; the next request uses the new token
	}
	drain(resp)
	again := req.Clone(ctx)
	if req.GetBody != nil {
		if again.Body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("resending after a token refresh: %w", err)
		}
	}
	again.Header.Set("Authorization", "Bearer "+tok)
	resp, err = t.base.RoundTrip(again)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	return nil, t.m.refused(ctx, t.k, t.credentialID, unauthorized(again, resp), reasonOAuthRefused)
}

// dropToken forgets the cached access token when it is the one Lever just
// refused.
func (m *Manager) dropToken(k connKey, access string) {
	m.mu.Lock()
	if t := m.tokens[k]; t != nil && t.access == access {
		delete(m.tokens, k)
	}
	m.mu.Unlock()
}

// refused marks the connection needs_reauth after Lever answered apiErr
// (a 401) to its credentials, unless they were replaced meanwhile.
func (m *Manager) refused(ctx context.Context, k connKey, credentialID string, apiErr *client.APIError, reason string) error {
	c, err := m.load(ctx, k.userID, k.name)
	if err != nil {
		return errors.Join(apiErr, err)
	}
	if readPublic(c).CredentialID != credentialID {
		return apiErr // replaced meanwhile: the next client uses the new credentials
	}
	if c.Status == StatusNeedsReauth {
		return &unauthorizedError{reauth: &reauthError{msg: c.StatusMessage}, api: apiErr}
	}
	return &unauthorizedError{reauth: m.markNeedsReauth(ctx, c, reason), api: apiErr}
}

// unauthorizedError is a 401 that turned the connection needs_reauth: it
// reads as the needs_reauth message and matches both ErrNeedsReauth (a
// permanent step error) and Lever's 401 (*client.APIError, which the
// client does not retry).
type unauthorizedError struct {
	reauth error
	api    *client.APIError
}

func (e *unauthorizedError) Error() string   { return e.reauth.Error() }
func (e *unauthorizedError) Unwrap() []error { return []error{e.reauth, e.api} }

// unauthorized reads (and closes) a 401 response into Lever's error.
func unauthorized(req *http.Request, resp *http.Response) *client.APIError {
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &client.APIError{Status: resp.StatusCode, Method: req.Method, Path: req.URL.Path}
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// drain reads what is left of a response body (so its connection can be
// reused) and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
