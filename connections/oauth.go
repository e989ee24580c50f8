package connections

import (
	"cmp"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/steps/lever/client"
)

// AuthorizeRequest starts connecting (or reconnecting) a Lever account
// with OAuth.
type AuthorizeRequest struct {
	UserID      string
	Name        string
	Environment string
	// ClientID and ClientSecret are the Lever app's. For local they may be
	// empty (the built-in sandbox app); when reconnecting an OAuth
	// connection they default to the ones it already has.
	ClientID     string
	ClientSecret string
	// Scopes are Lever scopes such as "opportunities:read:admin";
	// offline_access is always added. Reconnecting keeps the connection's
	// scopes when none are given; local defaults to DefaultLocalScopes.
	Scopes               []string
	Replace              bool
	ConfirmAccountChange bool
	// Binding ties the authorization to the browser (or session) that
	// starts it, against login CSRF: an opaque random value the caller
	// also keeps on that browser (the HTTP API sets it as an HttpOnly,
	// SameSite=Lax cookie) and hands back to Callback. Only its SHA-256 is
	// kept, inside the sealed pending authorization. The HTTP API must
	// always set it; only a caller that finishes the flow itself (the CLI)
	// may leave it empty.
	Binding string
}

// CallbackRequest is what Lever's redirect to the callback URL brought,
// with what identifies the browser and user it arrived from.
type CallbackRequest struct {
	// Query is the callback URL's query (state, code or error).
	Query url.Values
	// Binding is the value the authorization was started with
	// (AuthorizeRequest.Binding), read back from the browser's cookie.
	Binding string
	// UserID, when set, is the user the callback request is authenticated
	// as; it must be the one who started the authorization.
	UserID string
}

// DefaultLocalScopes are requested from the built-in sandbox app when a
// request names none.
var DefaultLocalScopes = []string{
	"opportunities:write:admin", "contact:write:admin", "postings:write:admin",
	"users:write:admin", "stages:read:admin", "archive_reasons:read:admin",
	"tags:read:admin", "sources:read:admin", "webhooks:write:admin",
}

const offlineAccess = "offline_access"

var scopePattern = regexp.MustCompile(`^[a-z_]+:(read|write|access):admin$`)

// statePayload is what the callback needs, sealed into the stored state
// (it carries the client secret).
type statePayload struct {
	UserID       string   `json:"user_id"`
	Name         string   `json:"name"`
	Environment  string   `json:"environment"`
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret,omitempty"`
	BuiltinApp   bool     `json:"builtin_app,omitempty"`
	Scopes       []string `json:"scopes"`
	Replace      bool     `json:"replace,omitempty"`
	Confirm      bool     `json:"confirm,omitempty"`
	RedirectURI  string   `json:"redirect_uri"`
	// BindingHash is the hex SHA-256 of AuthorizeRequest.Binding ("" when
	// the authorization is not bound).
	BindingHash string `json:"binding_hash,omitempty"`
}

// LogValue keeps the client secret out of logs.
func (p statePayload) LogValue() slog.Value {
	return slog.GroupValue(slog.String("connection", p.Name), slog.String("user_id", p.UserID))
}

// Authorize validates the request, stores a pending authorization under a
// random state and returns Lever's authorize URL to send the user to. The
// link works once, within StateTTL.
func (m *Manager) Authorize(ctx context.Context, req AuthorizeRequest) (string, error) {
	if err := checkName(req.Name); err != nil {
		return "", err
	}
	if err := checkUserID(req.UserID); err != nil {
		return "", err
	}
	env, err := m.environment(req.Environment)
	if err != nil {
		return "", err
	}
	if m.callbackURL == "" {
		return "", fmt.Errorf("connections: OAuth needs the server's public URL (LEVERFLOW_BASE_URL) to build the callback URL")
	}
	old, err := m.existing(ctx, req.UserID, req.Name)
	if err != nil {
		return "", err
	}
	if old != nil && !req.Replace && old.Status != StatusNeedsReauth {
		return "", nameTaken(req.Name)
	}
	p := statePayload{
		UserID: req.UserID, Name: req.Name, Environment: req.Environment,
		ClientID: strings.TrimSpace(req.ClientID), ClientSecret: strings.TrimSpace(req.ClientSecret),
		Replace: req.Replace || old != nil, Confirm: req.ConfirmAccountChange, RedirectURI: m.callbackURL,
	}
	if req.Binding != "" {
		p.BindingHash = hashHex(req.Binding)
	}
	scopes := req.Scopes
	reconnect := old != nil && old.Auth == AuthOAuth && old.Environment == req.Environment
	switch {
	case p.ClientID == "" && reconnect && !readPublic(old).BuiltinApp:
		sec, err := m.openSecrets(old)
		if err != nil {
			return "", err
		}
		p.ClientID, p.ClientSecret = readPublic(old).ClientID, sec.ClientSecret
	case p.ClientID == "" && env.ClientID != "":
		p.ClientID, p.BuiltinApp = env.ClientID, true
	case p.ClientID == "":
		return "", invalidf("client_id", "required for the %s environment: register an OAuth app with Lever and copy its Client ID", req.Environment)
	case p.ClientSecret == "":
		return "", invalidf("client_secret", "required with client_id %q: copy the app's Client Secret from Lever", p.ClientID)
	}
	if len(scopes) == 0 && reconnect {
		scopes = readPublic(old).Scopes
	}
	if len(scopes) == 0 && p.BuiltinApp {
		scopes = DefaultLocalScopes
	}
	if p.Scopes, err = normalizeScopes(scopes); err != nil {
		return "", err
	}

	state := randomToken(32)
	id := hashHex(state) // the store never sees the state itself
	raw, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encoding authorization: %w", err)
	}
	sealed, err := m.seal.seal(raw, stateAD(id))
	if err != nil {
		return "", err
	}
	now := m.now()
	if err := m.store.SaveOAuthState(ctx, &store.OAuthState{
		ID: id, UserID: req.UserID, Payload: sealed, ExpiresAt: now.Add(m.stateTTL), CreatedAt: now,
	}); err != nil {
		return "", fmt.Errorf("saving the pending authorization of %q: %w", req.Name, err)
	}
	q := url.Values{
		"client_id":     {p.ClientID},
		"redirect_uri":  {p.RedirectURI},
		"response_type": {"code"},
		"state":         {state},
		"audience":      {env.Audience},
		"scope":         {strings.Join(p.Scopes, " ")},
		"prompt":        {"consent"},
	}
	sep := "?"
	if strings.Contains(env.AuthorizeURL, "?") {
		sep = "&"
	}
	m.log.Info("Lever authorization started", "connection", req.Name, "user_id", req.UserID, "environment", req.Environment)
	return env.AuthorizeURL + sep + q.Encode(), nil
}

// normalizeScopes checks and deduplicates scopes and adds offline_access
// (for a refresh token).
func normalizeScopes(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		for _, f := range strings.Fields(s) {
			if f != offlineAccess && !scopePattern.MatchString(f) {
				return nil, invalidf("scopes", "%q is not a Lever scope: Lever scopes look like \"opportunities:read:admin\" or \"postings:write:admin\"", f)
			}
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	if len(out) == 0 || len(out) == 1 && out[0] == offlineAccess {
		return nil, invalidf("scopes", "name at least one Lever scope, e.g. \"opportunities:read:admin\"")
	}
	if !slices.Contains(out, offlineAccess) {
		out = append(out, offlineAccess)
	}
	return out, nil
}

// Callback finishes an authorization from the query Lever redirected to
// the callback URL with: it checks the state (once, before it expires),
// that the callback comes from the browser (req.Binding) and user
// (req.UserID, when set) that started the authorization, turns an error
// parameter into an *AuthError, exchanges the code for tokens and stores
// the connection.
func (m *Manager) Callback(ctx context.Context, req CallbackRequest) (*Connection, error) {
	query := req.Query
	state := query.Get("state")
	if state == "" {
		return nil, fmt.Errorf("%w: the callback has no state parameter; start connecting again", ErrBadState)
	}
	id := hashHex(state)
	st, err := m.store.TakeOAuthState(ctx, id, m.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: the authorization is unknown, expired or already used (links work once, for %s); start connecting again", ErrBadState, m.stateTTL)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the pending authorization: %w", err)
	}
	raw, err := m.seal.open(st.Payload, stateAD(id))
	if err != nil {
		return nil, fmt.Errorf("%w: the pending authorization does not open (%v); start connecting again", ErrBadState, err)
	}
	var p statePayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: decoding the pending authorization: %v", ErrBadState, err)
	}
	if !sameBinding(p.BindingHash, req.Binding) || (req.UserID != "" && req.UserID != p.UserID) {
		m.log.Warn("Lever authorization callback from another browser or user refused", "connection", p.Name, "user_id", p.UserID)
		return nil, fmt.Errorf("%w: the authorization was started in another browser or session; start connecting again", ErrBadState)
	}
	env, err := m.environment(p.Environment)
	if err != nil {
		return nil, err
	}
	log := m.log.With("connection", p.Name, "user_id", p.UserID)
	if code := query.Get("error"); code != "" {
		aerr := newAuthError(code, query.Get("error_description"), env.WebApp)
		log.Warn("Lever authorization refused", "error", code)
		return nil, fmt.Errorf("connecting %q: %w", p.Name, aerr)
	}
	code := query.Get("code")
	if code == "" {
		return nil, invalidf("code", "the callback has neither a code nor an error parameter; start connecting again")
	}

	clientSecret := p.ClientSecret
	if p.BuiltinApp {
		clientSecret = env.ClientSecret
	}
	now := m.now()
	conf := m.oauthConfig(env, p.ClientID, clientSecret, p.RedirectURI)
	tok, err := conf.Exchange(m.oauthContext(ctx), code)
	if err != nil {
		if aerr := tokenAuthError(err, env); aerr != nil {
			log.Warn("Lever refused the authorization code", "error", aerr.Code)
			return nil, fmt.Errorf("connecting %q: %w", p.Name, aerr)
		}
		return nil, fmt.Errorf("connecting %q: exchanging the authorization code with Lever (start connecting again): %w", p.Name, err)
	}
	if tok.AccessToken == "" {
		return nil, fmt.Errorf("connecting %q: Lever's token response has no access_token", p.Name)
	}
	claims := readClaims(tok.AccessToken)
	acct := Account{ID: claims.AccountID, UserID: claims.UserID}
	var warnings []string
	if acct.ID == "" {
		warnings = append(warnings, "could not read the Lever account from the access token")
	}
	if tok.RefreshToken == "" {
		warnings = append(warnings, "Lever issued no refresh token (offline_access was not granted): the connection stops working when the access token expires")
	}
	m.enrichAccount(ctx, env, tok.AccessToken, &acct, log)

	old, err := m.existing(ctx, p.UserID, p.Name)
	if err != nil {
		return nil, err
	}
	if old != nil && !p.Replace && old.Status != StatusNeedsReauth {
		return nil, fmt.Errorf("%w (it was created while you were authorizing)", nameTaken(p.Name))
	}
	if err := checkAccountChange(old, acct, p.Confirm); err != nil {
		return nil, fmt.Errorf("%w; then start connecting again", err)
	}

	sec := secrets{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if !p.BuiltinApp {
		sec.ClientSecret = p.ClientSecret
	}
	sealed, err := m.sealSecrets(p.UserID, p.Name, sec)
	if err != nil {
		return nil, err
	}
	accessExp := tokenExpiry(tok, claims, now)
	c := &store.Connection{
		UserID: p.UserID, Name: p.Name, Provider: provider, Environment: p.Environment,
		Auth: AuthOAuth, Status: StatusConnected, Secrets: sealed,
		AccessExpiresAt: &accessExp, CreatedAt: now, UpdatedAt: now,
	}
	pd := publicData{
		Account: acct, ClientID: p.ClientID, Scopes: grantedScopes(tok, p.Scopes), BuiltinApp: p.BuiltinApp,
		CredentialID: randomToken(12), Warnings: warnings,
	}
	if tok.RefreshToken != "" {
		refreshExp, idleExp := now.Add(RefreshLifetime), now.Add(RefreshIdleLifetime)
		c.RefreshExpiresAt, pd.RefreshIdleExpiresAt = &refreshExp, &idleExp
	}
	writePublic(c, pd)
	if err := m.save(ctx, c, old); err != nil {
		return nil, err
	}
	log.Info("Lever connection authorized", "environment", p.Environment, "replaced", old != nil)
	v := m.view(c)
	return &v, nil
}

// sameBinding reports whether binding is the one whose hash the pending
// authorization holds ("" for none), comparing the hashes in constant time.
func sameBinding(wantHash, binding string) bool {
	var got string
	if binding != "" {
		got = hashHex(binding)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(wantHash)) == 1
}

// enrichAccount adds the user's email and the account's earliest Super
// Admin when the token may read users; it is best effort.
func (m *Manager) enrichAccount(ctx context.Context, env Environment, access string, acct *Account, log *slog.Logger) {
	cl, err := client.New(client.Config{
		BaseURL: env.APIURL, HTTPClient: m.hc, MaxRetries: -1,
		TokenSource: func(context.Context) (string, error) { return access, nil },
	})
	if err != nil {
		return
	}
	admin, _, err := identify(ctx, cl)
	if err != nil {
		log.Debug("could not list the account's super admins", "error", err)
		return
	}
	acct.SuperAdminID = admin.SuperAdminID
	if acct.UserID == "" || acct.UserID == admin.UserID {
		acct.UserID, acct.UserEmail = admin.UserID, admin.UserEmail
	} else if u, err := cl.GetUser(ctx, acct.UserID); err == nil {
		acct.UserEmail = u.Email
	}
	acct.Name = cmp.Or(emailDomain(acct.UserEmail), admin.Name)
}

func (m *Manager) oauthConfig(env Environment, clientID, clientSecret, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURI,
		Endpoint: oauth2.Endpoint{
			AuthURL:   env.AuthorizeURL,
			TokenURL:  env.TokenURL,
			AuthStyle: oauth2.AuthStyleInParams, // client credentials in the form body
		},
	}
}

// oauthContext makes the oauth2 package use the Manager's HTTP client.
func (m *Manager) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.hc)
}

// tokenAuthError returns the *AuthError for a token endpoint's refusal
// (a 4xx with an OAuth error), or nil for anything worth retrying.
func tokenAuthError(err error, env Environment) *AuthError {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response == nil || re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests {
		return nil
	}
	code := re.ErrorCode
	if code == "" {
		code = fmt.Sprintf("http_%d", re.Response.StatusCode)
	}
	return newAuthError(code, re.ErrorDescription, env.WebApp)
}

// leverClaims are the JWT claims read from a Lever access token.
type leverClaims struct {
	AccountID string `json:"https://oauth.lever.co/accountId"`
	UserID    string `json:"https://oauth.lever.co/userId"`
	Exp       int64  `json:"exp"`
}

// readClaims reads a JWT's payload without checking its signature: the
// token came straight from Lever's token endpoint over TLS, in answer to
// our own request, so it is trusted like the rest of that response; it is
// only read to learn the account and expiry, never to authenticate anyone.
// A token that is not a JWT yields empty claims.
func readClaims(token string) leverClaims {
	var c leverClaims
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return c
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	_ = json.Unmarshal(raw, &c)
	return c
}

// tokenExpiry is when the access token expires on our clock: expires_in
// counted from now, else the JWT's exp, else Lever's documented hour.
func tokenExpiry(tok *oauth2.Token, c leverClaims, now time.Time) time.Time {
	switch {
	case tok.ExpiresIn > 0:
		return now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case c.Exp > 0:
		return time.Unix(c.Exp, 0)
	}
	return now.Add(time.Hour)
}

// grantedScopes is the token response's scope when it has one, else the
// requested scopes.
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return requested
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
