package sandbox_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/steps/lever/client"
	"github.com/leverflow/leverflow/steps/lever/sandbox"
	"golang.org/x/time/rate"
)

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_750_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// callback is the app's redirect target: it records every query it gets.
type callback struct {
	*httptest.Server
	mu      sync.Mutex
	queries []url.Values
}

func (c *callback) last(t *testing.T) url.Values {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queries) == 0 {
		t.Fatal("the callback was never called")
	}
	return c.queries[len(c.queries)-1]
}

type oauthEnv struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	cb  *callback
	clk *fakeClock
	app sandbox.OAuthClient
}

const appSecret = "app-secret-0123456789abcdefghijklmnopqrstuvwxyz"

func newOAuthEnv(t *testing.T, o sandbox.Options) *oauthEnv {
	t.Helper()
	e := &oauthEnv{clk: newFakeClock(), cb: &callback{}}
	e.cb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.cb.mu.Lock()
		e.cb.queries = append(e.cb.queries, r.URL.Query())
		e.cb.mu.Unlock()
		_, _ = io.WriteString(w, "connected")
	}))
	t.Cleanup(e.cb.Close)
	e.app = sandbox.OAuthClient{ID: "app-1", Secret: appSecret, Name: "Acme <Sync>", RedirectURIs: []string{e.cb.URL + "/callback"}}
	if o.OAuthClients == nil {
		o.OAuthClients = []sandbox.OAuthClient{e.app}
	}
	o.Now = e.clk.Now
	o.DisableRateLimit = true
	o.Seed = 7
	e.sb = sandbox.New(o)
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(func() { e.srv.Close(); e.sb.Close() })
	return e
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *oauthEnv) authorizeURL(scope, state string, mutate func(url.Values)) string {
	q := url.Values{"client_id": {e.app.ID}, "redirect_uri": {e.app.RedirectURIs[0]}, "response_type": {"code"},
		"state": {state}, "audience": {e.sb.Audience(e.srv.URL)}, "scope": {scope}, "prompt": {"consent"}}
	if mutate != nil {
		mutate(q)
	}
	return e.srv.URL + "/oauth/authorize?" + q.Encode()
}

type page struct {
	status int
	body   string
	header http.Header
}

func get(t *testing.T, c *http.Client, u string) page {
	t.Helper()
	r, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return page{r.StatusCode, string(b), r.Header}
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// consentForm returns the hidden fields of the consent page's form.
func consentForm(t *testing.T, body string) url.Values {
	t.Helper()
	if !strings.Contains(body, `<form method="post" action="authorize">`) {
		t.Fatalf("no consent form in page:\n%s", body)
	}
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

func (e *oauthEnv) decide(t *testing.T, c *http.Client, form url.Values, decision string) page {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("decision", decision)
	r, err := c.PostForm(e.srv.URL+"/oauth/authorize", f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return page{r.StatusCode, string(b), r.Header}
}

// authorize runs the consent page to Accept and returns the code the
// callback received.
func (e *oauthEnv) authorize(t *testing.T, scope string) string {
	t.Helper()
	p := get(t, http.DefaultClient, e.authorizeURL(scope, "st-1", nil))
	if p.status != 200 {
		t.Fatalf("consent page: %d %s", p.status, p.body)
	}
	r := e.decide(t, noRedirect, consentForm(t, p.body), "accept")
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusFound || err != nil {
		t.Fatalf("accept: %d %v", r.status, r.header)
	}
	return loc.Query().Get("code")
}

type tokenAnswer struct {
	status int
	raw    map[string]any
}

func (a tokenAnswer) str(k string) string { s, _ := a.raw[k].(string); return s }

func (e *oauthEnv) token(t *testing.T, form url.Values, basic bool) tokenAnswer {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/oauth/token", nil)
	if basic {
		req.SetBasicAuth(url.QueryEscape(e.app.ID), url.QueryEscape(e.app.Secret))
	} else {
		f.Set("client_id", e.app.ID)
		f.Set("client_secret", e.app.Secret)
	}
	req.Body = io.NopCloser(strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if strings.Contains(string(b), appSecret) {
		t.Errorf("token endpoint echoed the client secret: %s", b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token answer is not JSON: %s", b)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("token answer Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	return tokenAnswer{r.StatusCode, m}
}

func (e *oauthEnv) exchange(t *testing.T, code string) tokenAnswer {
	t.Helper()
	return e.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.app.RedirectURIs[0]}}, false)
}

func (e *oauthEnv) refresh(t *testing.T, rt string) tokenAnswer {
	t.Helper()
	return e.token(t, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, true)
}

func wantOAuthError(t *testing.T, a tokenAnswer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("error") != code || a.str("error_description") == "" || len(a.raw) != 2 {
		t.Fatalf("got %d %v, want %d %s with a description", a.status, a.raw, status, code)
	}
}

// apiStatus calls GET /v1/users/<id> with a Bearer token and returns the
// status and Lever error body.
func (e *oauthEnv) apiStatus(t *testing.T, access string) (int, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users/"+sandbox.UserPriya, nil)
	req.Header.Set("Authorization", "Bearer "+access)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var m map[string]string
	_ = json.NewDecoder(r.Body).Decode(&m)
	return r.StatusCode, m
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOAuthFullFlow(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{AccessTokenTTL: 30 * time.Second, RefreshTokenTTL: 300 * time.Second, RefreshIdleTTL: 120 * time.Second})
	scope := "offline_access opportunities:read:admin users:read:admin"

	// 1. The consent page.
	p := get(t, http.DefaultClient, e.authorizeURL(scope, "state-42", nil))
	if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
		t.Fatalf("consent page: %d %s", p.status, p.header)
	}
	for _, want := range []string{"<title>Authorize Acme &lt;Sync&gt;</title>", "Northwind Robotics", "Priya Raman",
		"Read opportunities", "Read users", "offline access", `value="accept">Accept</button>`, `value="deny">Deny</button>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(p.body, "<Sync>") || strings.Contains(p.body, appSecret) {
		t.Error("consent page shows the unescaped app name or the client secret")
	}
	form := consentForm(t, p.body)
	if form.Get("client_id") != e.app.ID || form.Get("state") != "state-42" || form.Get("scope") != scope ||
		form.Get("audience") != e.sb.Audience(e.srv.URL) || form.Get("prompt") != "consent" {
		t.Fatalf("hidden fields: %v", form)
	}

	// 2. Accept, following the redirect to the app's callback.
	r := e.decide(t, http.DefaultClient, form, "accept")
	if r.status != 200 || r.body != "connected" {
		t.Fatalf("after accept: %d %s", r.status, r.body)
	}
	q := e.cb.last(t)
	code := q.Get("code")
	if q.Get("state") != "state-42" || len(code) < 20 {
		t.Fatalf("callback query: %v", q)
	}

	// 3. Exchange the code.
	tok := e.exchange(t, code)
	if tok.status != 200 || tok.str("token_type") != "Bearer" || tok.str("scope") != scope || tok.raw["expires_in"] != 30.0 ||
		tok.str("refresh_token") == "" || tok.str("access_token") == "" {
		t.Fatalf("token answer: %d %v", tok.status, tok.raw)
	}
	claims := jwtClaims(t, tok.str("access_token"))
	now := float64(e.clk.Now().Unix())
	if claims["aud"] != e.sb.Audience(e.srv.URL) || claims["iat"] != now || claims["exp"] != now+30 || claims["scope"] != scope ||
		claims["iss"] != e.srv.URL+"/" || claims[sandbox.ClaimUserID] != sandbox.UserPriya ||
		claims[sandbox.ClaimAccountID] != e.sb.AccountID() || claims[sandbox.ClaimClientID] != e.app.ID {
		t.Errorf("claims: %v", claims)
	}
	wantOAuthError(t, e.exchange(t, code), 400, "invalid_grant") // codes are single use

	// 4. The API, through the real client with the access token.
	var access = tok.str("access_token")
	var mu sync.Mutex
	c, err := client.New(client.Config{BaseURL: e.srv.URL + "/v1", RateLimit: rate.Inf, MaxRetries: -1,
		TokenSource: func(context.Context) (string, error) { mu.Lock(); defer mu.Unlock(); return access, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.GetUser(context.Background(), sandbox.UserPriya); err != nil || u.Name != "Priya Raman" {
		t.Fatalf("API with the access token: %v %+v", err, u)
	}

	// 5. Refresh rotates: a new pair, and the old refresh token is dead.
	e.clk.Advance(10 * time.Second)
	ref := e.refresh(t, tok.str("refresh_token"))
	if ref.status != 200 || ref.str("refresh_token") == "" || ref.str("refresh_token") == tok.str("refresh_token") ||
		ref.str("access_token") == tok.str("access_token") || ref.str("scope") != scope {
		t.Fatalf("refresh: %d %v", ref.status, ref.raw)
	}
	wantOAuthError(t, e.refresh(t, tok.str("refresh_token")), 400, "invalid_grant")

	// 6. An access token stops working at exp (on the sandbox's clock).
	e.clk.Advance(20 * time.Second) // the first token is now 30 s old
	_, err = c.GetUser(context.Background(), sandbox.UserPriya)
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.Code != "UnauthorizedError" || !strings.Contains(apiErr.Message, "expired") {
		t.Fatalf("expired access token: %v", err)
	}
	mu.Lock()
	access = ref.str("access_token")
	mu.Unlock()
	if _, err := c.GetUser(context.Background(), sandbox.UserPriya); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}

	// 7. Refreshing inside the idle window keeps the grant alive until
	// RefreshTokenTTL after the authorization, then invalid_grant.
	rt := ref.str("refresh_token")
	for e.clk.Now().Add(80 * time.Second).Before(time.Unix(int64(now), 0).Add(300 * time.Second)) {
		e.clk.Advance(80 * time.Second)
		a := e.refresh(t, rt)
		if a.status != 200 {
			t.Fatalf("refresh at +%v: %v", e.clk.Now().Sub(time.Unix(int64(now), 0)), a.raw)
		}
		rt = a.str("refresh_token")
	}
	e.clk.Advance(80 * time.Second)
	a := e.refresh(t, rt)
	wantOAuthError(t, a, 400, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "after authorization") {
		t.Errorf("expiry description: %q", a.str("error_description"))
	}
}

func TestOAuthRefreshIdleExpiry(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{RefreshIdleTTL: 60 * time.Second})
	tok := e.exchange(t, e.authorize(t, "offline_access users:read:admin"))
	e.clk.Advance(59 * time.Second)
	ref := e.refresh(t, tok.str("refresh_token"))
	if ref.status != 200 {
		t.Fatalf("refresh within the idle window: %v", ref.raw)
	}
	e.clk.Advance(60 * time.Second)
	a := e.refresh(t, ref.str("refresh_token"))
	wantOAuthError(t, a, 400, "invalid_grant")
	if !strings.Contains(a.str("error_description"), "without use") {
		t.Errorf("description %q", a.str("error_description"))
	}
	// Default lifetimes: an hour for access tokens.
	if tok.raw["expires_in"] != 3600.0 {
		t.Errorf("default expires_in %v", tok.raw["expires_in"])
	}
}

func TestOAuthNoOfflineAccessNoRefreshToken(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{})
	tok := e.exchange(t, e.authorize(t, "users:read:admin"))
	if tok.status != 200 || tok.str("access_token") == "" {
		t.Fatalf("token: %v", tok.raw)
	}
	if _, ok := tok.raw["refresh_token"]; ok {
		t.Errorf("refresh_token issued without offline_access: %v", tok.raw)
	}
	if st, _ := e.apiStatus(t, tok.str("access_token")); st != 200 {
		t.Errorf("API status %d", st)
	}
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{})
	cases := []struct {
		name   string
		mutate func(url.Values)
		text   string
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "who") }, "Unknown client_id"},
		{"missing client", func(q url.Values) { q.Del("client_id") }, "client_id parameter is missing"},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }, "not registered for Acme"},
		{"redirect with extra slash", func(q url.Values) { q.Set("redirect_uri", e.app.RedirectURIs[0]+"/") }, "must match one of them exactly"},
		{"missing redirect", func(q url.Values) { q.Del("redirect_uri") }, "redirect_uri parameter is missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := get(t, noRedirect, e.authorizeURL("users:read:admin", "s", c.mutate))
			if p.status != 400 || p.header.Get("Location") != "" || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(html.UnescapeString(p.body), c.text) {
				t.Errorf("got %d Location=%q body:\n%s", p.status, p.header.Get("Location"), p.body)
			}
		})
	}
}

func TestOAuthAuthorizeRedirectErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{})
	location := func(t *testing.T, p page) url.Values {
		t.Helper()
		if p.status != http.StatusFound {
			t.Fatalf("status %d, want 302; body %s", p.status, p.body)
		}
		u, err := url.Parse(p.header.Get("Location"))
		if err != nil || !strings.HasPrefix(u.String(), e.app.RedirectURIs[0]) {
			t.Fatalf("Location %q", p.header.Get("Location"))
		}
		return u.Query()
	}
	t.Run("response_type token", func(t *testing.T) {
		q := location(t, get(t, noRedirect, e.authorizeURL("users:read:admin", "s1", func(q url.Values) { q.Set("response_type", "token") })))
		if q.Get("error") != "unsupported_response_type" || q.Get("state") != "s1" || q.Get("code") != "" {
			t.Errorf("query %v", q)
		}
	})
	t.Run("unknown scope", func(t *testing.T) {
		q := location(t, get(t, noRedirect, e.authorizeURL("users:read", "s2", nil)))
		if q.Get("error") != "invalid_scope" || !strings.Contains(q.Get("error_description"), `"users:read"`) {
			t.Errorf("query %v", q)
		}
	})
	t.Run("deny", func(t *testing.T) {
		p := get(t, http.DefaultClient, e.authorizeURL("users:read:admin", "s3", nil))
		q := location(t, e.decide(t, noRedirect, consentForm(t, p.body), "deny"))
		if q.Get("error") != "access_denied" || q.Get("error_description") == "" || q.Get("state") != "s3" || q.Get("code") != "" {
			t.Errorf("query %v", q)
		}
	})
	t.Run("SetAuthorizeError applies once", func(t *testing.T) {
		const msg = "The user trying to authorize the integration has not logged into Lever recently."
		e.sb.SetAuthorizeError("access_denied", msg)
		p := get(t, http.DefaultClient, e.authorizeURL("users:read:admin", "s4", nil))
		form := consentForm(t, p.body)
		q := location(t, e.decide(t, noRedirect, form, "accept"))
		if q.Get("error") != "access_denied" || q.Get("error_description") != msg || q.Get("state") != "s4" || q.Get("code") != "" {
			t.Errorf("query %v", q)
		}
		if q := location(t, e.decide(t, noRedirect, form, "accept")); q.Get("code") == "" {
			t.Errorf("second accept: %v", q)
		}
	})
	t.Run("no decision", func(t *testing.T) {
		p := get(t, http.DefaultClient, e.authorizeURL("users:read:admin", "s5", nil))
		if r := e.decide(t, noRedirect, consentForm(t, p.body), "maybe"); r.status != 400 || r.header.Get("Location") != "" {
			t.Errorf("status %d", r.status)
		}
	})
}

func TestOAuthTokenErrors(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{})
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"missing grant_type", url.Values{}, 400, "invalid_request"},
		{"password grant", url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		{"missing code", url.Values{"grant_type": {"authorization_code"}}, 400, "invalid_request"},
		{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}, "redirect_uri": {e.app.RedirectURIs[0]}}, 400, "invalid_grant"},
		{"missing refresh token", url.Values{"grant_type": {"refresh_token"}}, 400, "invalid_request"},
		{"unknown refresh token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}, 400, "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantOAuthError(t, e.token(t, c.form, false), c.status, c.code) })
	}
	t.Run("wrong client secret", func(t *testing.T) {
		r, err := http.PostForm(e.srv.URL+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"},
			"client_id": {e.app.ID}, "client_secret": {"wrong"}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		if r.StatusCode != 401 || m["error"] != "invalid_client" {
			t.Errorf("%d %v", r.StatusCode, m)
		}
	})
	t.Run("redirect_uri must repeat the authorization's", func(t *testing.T) {
		code := e.authorize(t, "users:read:admin")
		wantOAuthError(t, e.token(t, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.cb.URL + "/other"}}, false), 400, "invalid_grant")
	})
	t.Run("code expires after 10 minutes", func(t *testing.T) {
		code := e.authorize(t, "users:read:admin")
		e.clk.Advance(sandbox.AuthCodeTTL)
		a := e.exchange(t, code)
		wantOAuthError(t, a, 400, "invalid_grant")
		if !strings.Contains(a.str("error_description"), "expired") {
			t.Errorf("description %q", a.str("error_description"))
		}
	})
	t.Run("GET is refused", func(t *testing.T) {
		if p := get(t, http.DefaultClient, e.srv.URL+"/oauth/token"); p.status != 405 {
			t.Errorf("status %d", p.status)
		}
	})
}

func TestOAuthAccessTokenChecks(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, sandbox.Options{})
	good := e.exchange(t, e.authorize(t, "users:read:admin")).str("access_token")
	if st, _ := e.apiStatus(t, good); st != 200 {
		t.Fatalf("good token: %d", st)
	}
	tokenWith := func(mutate func(url.Values)) string {
		p := get(t, http.DefaultClient, e.authorizeURL("offline_access users:read:admin", "s", mutate))
		loc, _ := url.Parse(e.decide(t, noRedirect, consentForm(t, p.body), "accept").header.Get("Location"))
		return e.exchange(t, loc.Query().Get("code")).str("access_token")
	}
	noAud := tokenWith(func(q url.Values) { q.Del("audience") })
	otherAud := tokenWith(func(q url.Values) { q.Set("audience", "https://api.lever.co/v1/") })
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"x","exp":9999999999}`)) + "." + parts[2]
	algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + parts[1] + "."
	revoked := e.exchange(t, e.authorize(t, "users:read:admin")).str("access_token")
	e.sb.RevokeToken(revoked)
	cases := []struct{ name, token, text string }{
		{"no audience", noAud, "no audience"},
		{"another audience", otherAud, "not this API"},
		{"tampered payload", tampered, "signature"},
		{"alg none", algNone, "HS256"},
		{"revoked", revoked, "revoked"},
	}
	for _, c := range cases {
		st, body := e.apiStatus(t, c.token)
		if st != 401 || body["code"] != "UnauthorizedError" || !strings.Contains(body["message"], c.text) || len(body) != 2 {
			t.Errorf("%s: %d %v", c.name, st, body)
		}
	}
	// Without an audience only offline_access is granted.
	p := get(t, http.DefaultClient, e.authorizeURL("offline_access users:read:admin", "s", func(q url.Values) { q.Del("audience") }))
	if !strings.Contains(p.body, "No audience was requested") || strings.Contains(p.body, "Read users") {
		t.Errorf("consent without audience:\n%s", p.body)
	}
	// The issued-token path of IssueToken still works next to OAuth.
	if st, _ := e.apiStatus(t, e.sb.IssueToken(time.Minute)); st != 200 {
		t.Errorf("IssueToken token: %d", st)
	}
}

func TestOAuthBuiltInClient(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Seed: 3})
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	c := sb.OAuthClient()
	if c.Name != sandbox.BuiltInClientName || len(c.ID) < 20 || len(c.Secret) < 40 || len(c.RedirectURIs) != 0 {
		t.Fatalf("built-in client: name %q, id %d chars, secret %d chars, redirects %v", c.Name, len(c.ID), len(c.Secret), c.RedirectURIs)
	}
	again := sandbox.New(sandbox.Options{Seed: 3})
	defer again.Close()
	other := sandbox.New(sandbox.Options{Seed: 4})
	defer other.Close()
	if sb.AccountID() != again.AccountID() || sb.AccountID() == other.AccountID() || sb.AccountName() != "Northwind Robotics" {
		t.Errorf("account ids: %s %s %s", sb.AccountID(), again.AccountID(), other.AccountID())
	}
	if got := sb.Audience("http://127.0.0.1:8080/"); got != "http://127.0.0.1:8080/v1/" {
		t.Errorf("Audience = %q", got)
	}
	for uri, ok := range map[string]bool{
		"http://127.0.0.1:5555/cb":            true,
		"http://localhost/connections/lever":  true,
		"http://[::1]:80/cb":                  true,
		"https://127.0.0.1/cb":                false,
		"http://example.com/cb":               false,
		"http://127.0.0.1.evil.example/cb":    false,
		"http://user@127.0.0.1/cb":            false,
		"http://localhost/cb#fragment-is-bad": false,
	} {
		q := url.Values{"client_id": {c.ID}, "redirect_uri": {uri}, "response_type": {"code"}, "scope": {"users:read:admin"},
			"audience": {sb.Audience(srv.URL)}}
		p := get(t, noRedirect, srv.URL+"/oauth/authorize?"+q.Encode())
		if (p.status == 200) != ok {
			t.Errorf("%s: status %d, want allowed=%v", uri, p.status, ok)
		}
	}
}
