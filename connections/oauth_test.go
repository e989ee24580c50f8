package connections

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func TestOAuthFlowBuiltinApp(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	authURL, err := f.m.Authorize(ctx, AuthorizeRequest{Name: "acme", Environment: EnvLocal, Scopes: []string{"users:read:admin", "opportunities:read:admin"}})
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	u, _ := url.Parse(authURL)
	if got := u.Scheme + "://" + u.Host + u.Path; got != f.lever.srv.URL+"/oauth/authorize" {
		t.Errorf("authorize endpoint = %s", got)
	}
	q := u.Query()
	wantParams := map[string]string{
		"client_id":     builtinClientID,
		"redirect_uri":  testCallbackURL,
		"response_type": "code",
		"audience":      f.lever.sb.Audience(f.lever.srv.URL),
		"scope":         "users:read:admin opportunities:read:admin offline_access",
		"prompt":        "consent",
	}
	for k, v := range wantParams {
		if q.Get(k) != v {
			t.Errorf("authorize URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < 43 { // 32 random bytes in base64url
		t.Errorf("state %q is shorter than 32 random bytes", q.Get("state"))
	}

	cb := f.consent(authURL, "accept")
	c, err := f.m.Callback(ctx, CallbackRequest{Query: cb})
	if err != nil {
		t.Fatalf("Callback: %v", err)
	}
	now := f.clock.Now()
	if c.Auth != AuthOAuth || c.Status != StatusConnected || c.ClientID != builtinClientID {
		t.Errorf("connection = %+v", c)
	}
	wantAcct := Account{ID: f.lever.sb.AccountID(), Name: "northwind-robotics.example", UserID: sandbox.UserPriya,
		UserEmail: "priya.raman@northwind-robotics.example", SuperAdminID: sandbox.UserPriya}
	if c.Account != wantAcct {
		t.Errorf("account = %+v, want %+v", c.Account, wantAcct)
	}
	if c.RefreshExpiresAt == nil || !c.RefreshExpiresAt.Equal(now.Add(365*24*time.Hour)) {
		t.Errorf("refresh_expires_at = %v, want now + 365 days", c.RefreshExpiresAt)
	}
	if strings.Join(c.Scopes, " ") != wantParams["scope"] {
		t.Errorf("scopes = %v", c.Scopes)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings = %v, want none", c.Warnings)
	}

	res, err := f.m.Test(ctx, "", "acme")
	if err != nil || res.Account.ID != f.lever.sb.AccountID() {
		t.Fatalf("Test = %+v, %v", res, err)
	}
	if f.lever.refreshes.Load() != 0 {
		t.Errorf("a fresh token was refreshed %d times", f.lever.refreshes.Load())
	}

	// The state works once.
	if _, err := f.m.Callback(ctx, CallbackRequest{Query: cb}); !errors.Is(err, ErrBadState) {
		t.Errorf("replayed callback = %v, want ErrBadState", err)
	}
}

func TestOAuthCustomAppAndReconnect(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	req := AuthorizeRequest{UserID: "user-9", Name: "acme", Environment: EnvLocal, ClientID: customClientID, ClientSecret: customSecret,
		Scopes: []string{"users:read:admin offline_access"}}
	c := f.connectOAuth(req)
	if c.ClientID != customClientID || c.UserID != "user-9" {
		t.Fatalf("connection = %+v", c)
	}
	if sec := f.storedSecrets(f.m, "user-9", "acme"); sec.ClientSecret != customSecret {
		t.Fatal("the custom app's client secret was not stored (sealed) for refreshing")
	}

	if _, err := f.m.Authorize(ctx, req); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("Authorize on a taken name = %v, want ErrNameTaken", err)
	}
	// Reconnecting with Replace and no client credentials reuses the
	// connection's app and scopes.
	u, err := f.m.Authorize(ctx, AuthorizeRequest{UserID: "user-9", Name: "acme", Environment: EnvLocal, Replace: true})
	if err != nil {
		t.Fatalf("reconnect Authorize: %v", err)
	}
	parsed, _ := url.Parse(u)
	if got := parsed.Query().Get("client_id"); got != customClientID {
		t.Errorf("reconnect client_id = %q, want the connection's %q", got, customClientID)
	}
	if got := parsed.Query().Get("scope"); got != "users:read:admin offline_access" {
		t.Errorf("reconnect scope = %q", got)
	}
	again, err := f.m.Callback(ctx, CallbackRequest{Query: f.consent(u, "accept")})
	if err != nil {
		t.Fatalf("reconnect Callback (same account, no confirmation needed): %v", err)
	}
	if !again.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("reconnect changed created_at")
	}
}

func TestAuthorizeBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := []struct {
		name string
		req  AuthorizeRequest
		want string
	}{
		{"bad name", AuthorizeRequest{Name: "a_b", Environment: EnvLocal}, "name:"},
		{"unknown environment", AuthorizeRequest{Name: "acme", Environment: "moon"}, "environment:"},
		{"production needs a client id", AuthorizeRequest{Name: "acme", Environment: EnvProduction, Scopes: []string{"users:read:admin"}}, "client_id: required for the production environment"},
		{"client secret missing", AuthorizeRequest{Name: "acme", Environment: EnvSandbox, ClientID: "abc", Scopes: []string{"users:read:admin"}}, "client_secret: required"},
		{"not a scope", AuthorizeRequest{Name: "acme", Environment: EnvProduction, ClientID: "a", ClientSecret: "b", Scopes: []string{"read_everything"}}, `scopes: "read_everything" is not a Lever scope`},
		{"only offline access", AuthorizeRequest{Name: "acme", Environment: EnvProduction, ClientID: "a", ClientSecret: "b", Scopes: []string{"offline_access"}}, "scopes: name at least one Lever scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.m.Authorize(t.Context(), tt.req)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Authorize = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
}

func TestAuthorizeProductionURL(t *testing.T) {
	t.Parallel()
	f := setup(t)
	u, err := f.m.Authorize(t.Context(), AuthorizeRequest{Name: "acme", Environment: EnvProduction, ClientID: "prod-id", ClientSecret: "prod-secret", Scopes: []string{"postings:read:admin"}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := url.Parse(u)
	if p.Host != "auth.lever.co" || p.Path != "/authorize" || p.Query().Get("audience") != "https://api.lever.co/v1/" {
		t.Errorf("production authorize URL = %s", u)
	}
	if strings.Contains(u, "prod-secret") {
		t.Errorf("authorize URL carries the client secret: %s", u)
	}
}

func TestCallbackBadState(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	authURL, err := f.m.Authorize(ctx, AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	if err != nil {
		t.Fatal(err)
	}
	cb := f.consent(authURL, "accept")

	tests := []struct {
		name  string
		query url.Values
	}{
		{"no state", url.Values{"code": {cb.Get("code")}}},
		{"unknown state", url.Values{"code": {cb.Get("code")}, "state": {"forged"}}},
	}
	for _, tt := range tests {
		if _, err := f.m.Callback(ctx, CallbackRequest{Query: tt.query}); !errors.Is(err, ErrBadState) {
			t.Errorf("%s: Callback = %v, want ErrBadState", tt.name, err)
		}
	}
	// Past StateTTL the state is expired even though it was never used.
	f.clock.Advance(DefaultStateTTL + time.Second)
	_, err = f.m.Callback(ctx, CallbackRequest{Query: cb})
	if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "start connecting again") {
		t.Errorf("expired state: Callback = %v, want ErrBadState saying to start again", err)
	}
	if _, err := f.m.Get(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused callback stored a connection: %v", err)
	}
}

func TestCallbackAuthErrors(t *testing.T) {
	t.Parallel()
	const notLoggedIn = "The user trying to authorize the integration has not logged into Lever recently."
	tests := []struct {
		name      string
		setError  [2]string // SetAuthorizeError arguments, or empty
		decision  string
		wantCode  string
		wantDesc  string
		wantInFix []string
	}{
		{"not logged in recently", [2]string{"access_denied", notLoggedIn}, "accept", "access_denied", notLoggedIn,
			[]string{"Log in to Lever directly", "Settings > Integrations and API > Authorized Apps", "revoke", "Authorize the connection again"}},
		{"denied", [2]string{}, "deny", "access_denied", "The user denied access to the Lever account.",
			[]string{"pressed Deny", "Super Admin"}},
		{"unknown error", [2]string{"server_error", "Lever is having a moment."}, "accept", "server_error", "Lever is having a moment.",
			[]string{"Start connecting again"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			ctx := t.Context()
			u, err := f.m.Authorize(ctx, AuthorizeRequest{Name: "acme", Environment: EnvLocal})
			if err != nil {
				t.Fatal(err)
			}
			if tt.setError[0] != "" {
				f.lever.sb.SetAuthorizeError(tt.setError[0], tt.setError[1])
			}
			_, err = f.m.Callback(ctx, CallbackRequest{Query: f.consent(u, tt.decision)})
			var aerr *AuthError
			if !errors.As(err, &aerr) {
				t.Fatalf("Callback = %v, want *AuthError", err)
			}
			if aerr.Code != tt.wantCode || aerr.Description != tt.wantDesc {
				t.Errorf("AuthError = %q %q, want %q %q", aerr.Code, aerr.Description, tt.wantCode, tt.wantDesc)
			}
			fix := strings.Join(aerr.Fix, "\n")
			for _, want := range tt.wantInFix {
				if !strings.Contains(fix, want) {
					t.Errorf("Fix %q lacks %q", aerr.Fix, want)
				}
			}
			if _, err := f.m.Get(ctx, "", "acme"); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused authorization stored a connection: %v", err)
			}
		})
	}
}

func TestCallbackDifferentAccount(t *testing.T) {
	t.Parallel()
	other := newLever(t, &clock{t: time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)}, func(o *sandbox.Options) { o.Seed = 99 })
	f := setup(t, func(o *setupOptions) { o.other = other })
	ctx := t.Context()
	f.connectOAuth(AuthorizeRequest{Name: "acme", Environment: EnvLocal})
	if other.sb.AccountID() == f.lever.sb.AccountID() {
		t.Fatal("the two sandboxes share an account id")
	}
	req := AuthorizeRequest{Name: "acme", Environment: otherEnvironment, Replace: true}
	u, err := f.m.Authorize(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.m.Callback(ctx, CallbackRequest{Query: f.consent(u, "accept")})
	if !errors.Is(err, ErrDifferentAccount) || !strings.Contains(err.Error(), f.lever.sb.AccountID()) || !strings.Contains(err.Error(), other.sb.AccountID()) {
		t.Fatalf("Callback reaching another account = %v, want ErrDifferentAccount naming both accounts", err)
	}
	req.ConfirmAccountChange = true
	c := f.connectOAuth(req)
	if c.Account.ID != other.sb.AccountID() || c.Environment != otherEnvironment {
		t.Errorf("confirmed replacement = %+v", c)
	}
}
