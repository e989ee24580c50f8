package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OAuthClient is an app registered for Lever's OAuth authorization-code
// flow.
type OAuthClient struct {
	ID     string
	Secret string
	// Name is shown on the consent page ("Authorize <Name>").
	Name string
	// RedirectURIs are the callback URLs a redirect_uri must equal exactly.
	// Empty accepts any http://127.0.0.1, http://localhost or http://[::1]
	// callback (the built-in client).
	RedirectURIs []string
}

// Defaults of the OAuth lifetimes (Lever's documented values).
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 365 * 24 * time.Hour
	DefaultRefreshIdleTTL  = 90 * 24 * time.Hour
	// AuthCodeTTL is how long an authorization code can be exchanged.
	AuthCodeTTL = 10 * time.Minute
	// BuiltInClientName is the name of the client generated when
	// Options.OAuthClients is empty.
	BuiltInClientName = "Leverflow (built-in)"
	// ScopeOfflineAccess asks for a refresh token.
	ScopeOfflineAccess = "offline_access"
)

// The namespaced claims of a Lever access token.
const (
	ClaimUserID    = "https://oauth.lever.co/userId"
	ClaimAccountID = "https://oauth.lever.co/accountId"
	ClaimClientID  = "https://oauth.lever.co/clientId"
)

const accountName = "Northwind Robotics"

// scopeResources are Lever's scopes without the ":admin" suffix.
var scopeResources = []string{
	"applications:read", "archive_reasons:read", "audit_events:read", "confidential:access",
	"contact:read", "contact:write", "diversity_surveys:read", "eeo_responses:read", "eeo_responses_pii:read",
	"feedback:read", "feedback:write", "feedback_templates:read", "feedback_templates:write",
	"files:read", "files:write", "forms:read", "forms:write", "form_templates:read", "form_templates:write",
	"groups:read", "groups:write", "interviews:read", "interviews:write", "notes:read", "notes:write",
	"offers:read", "opportunities:read", "opportunities:write", "panels:read", "panels:write",
	"permissions:read", "permissions:write", "postings:read", "postings:write", "referrals:read",
	"requisitions:read", "requisitions:write", "requisition_fields:read", "requisition_fields:write",
	"resumes:read", "roles:read", "roles:write", "sources:read", "stages:read", "tags:read", "tasks:read",
	"uploads:write", "users:read", "users:write", "webhooks:read", "webhooks:write",
}

// Scopes returns every scope the sandbox's authorization server knows:
// offline_access and Lever's "<resource>:<read|write>:admin" scopes.
func Scopes() []string {
	out := []string{ScopeOfflineAccess}
	for _, r := range scopeResources {
		out = append(out, r+":admin")
	}
	return out
}

// scopeText is how the consent page describes a scope.
func scopeText(scope string) string {
	switch scope {
	case ScopeOfflineAccess:
		return "Stay connected while you are away (offline access)"
	case "confidential:access:admin":
		return "Access confidential postings and opportunities"
	case "uploads:write:admin":
		return "Upload files"
	}
	res, rest, _ := strings.Cut(strings.TrimSuffix(scope, ":admin"), ":")
	res = strings.ReplaceAll(res, "_", " ")
	switch res {
	case "contact":
		res = "contacts"
	case "eeo responses pii":
		res = "EEO responses with personal information"
	case "eeo responses":
		res = "EEO responses"
	}
	if rest == "write" {
		return "Read and write " + res
	}
	return "Read " + res
}

type authCode struct {
	client, redirectURI, audience string
	scopes                        []string
	expires                       time.Time
}

// grant is one authorization; the refresh tokens rotated from it share it.
type grant struct {
	client, audience string
	scopes           []string
	created          time.Time
}

type refreshToken struct {
	grant    *grant
	lastUsed time.Time
}

type authorizeError struct{ code, description string }

// oauthState is guarded by Sandbox.mu.
type oauthState struct {
	clients    []OAuthClient
	key        []byte // HS256 signing key of access tokens
	accountID  string
	accessTTL  time.Duration
	refreshTTL time.Duration
	idleTTL    time.Duration
	codes      map[string]*authCode
	refresh    map[string]*refreshToken
	revoked    map[string]bool // jti of revoked access tokens
	nextErr    *authorizeError
}

func (s *Sandbox) initOAuth() {
	o := &s.oauth
	for _, c := range s.opts.OAuthClients {
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		o.clients = append(o.clients, c)
	}
	if len(o.clients) == 0 {
		o.clients = []OAuthClient{{ID: randomString(32), Secret: randomString(64), Name: BuiltInClientName}}
	}
	o.key = make([]byte, 32)
	_, _ = rand.Read(o.key)
	// A generator of its own keeps the account id stable for a Seed without
	// shifting the seed data's ids.
	seed := uint64(s.opts.Seed)
	r := mrand.New(mrand.NewPCG(seed^0x5bd1e995, seed+0x27d4eb2f165667c5))
	var b [16]byte
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	o.accountID = formatUUID(b)
	o.accessTTL = durationOr(s.opts.AccessTokenTTL, DefaultAccessTokenTTL)
	o.refreshTTL = durationOr(s.opts.RefreshTokenTTL, DefaultRefreshTokenTTL)
	o.idleTTL = durationOr(s.opts.RefreshIdleTTL, DefaultRefreshIdleTTL)
	o.codes = map[string]*authCode{}
	o.refresh = map[string]*refreshToken{}
	o.revoked = map[string]bool{}
}

func durationOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// OAuthClient returns the first registered OAuth client (the generated
// built-in one when Options.OAuthClients was empty).
func (s *Sandbox) OAuthClient() OAuthClient {
	c := s.oauth.clients[0]
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	return c
}

// AccountID returns the id of the sandbox's Lever account (stable for a
// Seed); access tokens carry it as ClaimAccountID.
func (s *Sandbox) AccountID() string { return s.oauth.accountID }

// AccountName returns the name of the sandbox's Lever account.
func (s *Sandbox) AccountName() string { return accountName }

// Audience returns the OAuth audience of the sandbox's API when the
// sandbox is served at baseURL (its root, e.g. "http://127.0.0.1:8080"):
// baseURL + "/v1/", like Lever's "https://api.lever.co/v1/".
func (s *Sandbox) Audience(baseURL string) string {
	return strings.TrimRight(baseURL, "/") + "/v1/"
}

// SetAuthorizeError makes the next Accept on the consent page redirect
// with error=code and error_description=description instead of a code,
// e.g. ("access_denied", "The user trying to authorize the integration has
// not logged into Lever recently."). It applies once.
func (s *Sandbox) SetAuthorizeError(code, description string) {
	s.mu.Lock()
	s.oauth.nextErr = &authorizeError{code, description}
	s.mu.Unlock()
}

func (s *Sandbox) oauthClientByID(id string) (OAuthClient, bool) {
	for _, c := range s.oauth.clients {
		if c.ID == id {
			return c, true
		}
	}
	return OAuthClient{}, false
}

// ---------------------------------------------------------------- authorize

var (
	consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize {{.App}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2430;margin:0}
main{max-width:32rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}
li{margin:.3rem 0}
code{color:#5b6270;font-size:.8rem}
.warn{background:#fff4e5;border-left:4px solid #f0a020;padding:.6rem}
button{font-size:1rem;padding:.5rem 1.4rem;border-radius:4px;border:1px solid #888;margin-right:.5rem;cursor:pointer}
button[value=accept]{background:#2d6cdf;color:#fff;border-color:#2d6cdf}
</style>
</head>
<body>
<main>
<h1>Authorize {{.App}}</h1>
<p><strong>{{.App}}</strong> wants to access the Lever account <strong>{{.Account}}</strong>.
You are signed in as {{.User}} ({{.Email}}).</p>
{{if .Scopes}}<p>It will be able to:</p>
<ul>
{{range .Scopes}}<li>{{.Text}} <code>{{.Name}}</code></li>
{{end}}</ul>{{else}}<p>It asks for no permissions.</p>{{end}}
{{if .NoAudience}}<p class="warn">No audience was requested, so only offline access can be granted and the API will refuse the token. Ask for audience={{.Audience}}.</p>{{end}}
<form method="post" action="authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<button type="submit" name="decision" value="accept">Accept</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main>
</body>
</html>
`))
	errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Authorization error</title></head>
<body>
<main>
<h1>Authorization error</h1>
<p>{{.}}</p>
<p>Nothing was sent back to the app. Fix the authorization link and try again.</p>
</main>
</body>
</html>
`))
)

type hiddenField struct{ Name, Value string }

type scopeLine struct{ Name, Text string }

// authorizeParams are the query (GET) or form (POST) parameters carried
// through the consent page.
var authorizeParams = []string{"client_id", "redirect_uri", "response_type", "state", "audience", "scope", "prompt"}

func htmlHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
}

func authorizeErrorPage(w http.ResponseWriter, status int, format string, a ...any) {
	htmlHeaders(w)
	w.WriteHeader(status)
	_ = errorPage.Execute(w, fmt.Sprintf(format, a...))
}

// localCallback reports whether u is an http URL on the local machine,
// which the built-in client accepts as redirect_uri.
func localCallback(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.Fragment != "" || p.User != nil {
		return false
	}
	switch p.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return true
	}
	return false
}

// checkRedirect explains why uri is not an allowed callback of c ("" when
// it is).
func checkRedirect(c OAuthClient, uri string) string {
	if len(c.RedirectURIs) == 0 {
		if localCallback(uri) {
			return ""
		}
		return fmt.Sprintf("The redirect_uri %q is not allowed for %s: it accepts only http://127.0.0.1, http://localhost or http://[::1] callbacks.", uri, c.Name)
	}
	if slices.Contains(c.RedirectURIs, uri) {
		return ""
	}
	return fmt.Sprintf("The redirect_uri %q is not registered for %s (registered: %s). It must match one of them exactly: scheme, host, port, path and trailing slash.",
		uri, c.Name, strings.Join(c.RedirectURIs, ", "))
}

// redirectTo answers 302 to the callback with params added to its query.
func redirectTo(w http.ResponseWriter, r *http.Request, callback string, params url.Values) {
	u, err := url.Parse(callback)
	if err != nil {
		authorizeErrorPage(w, http.StatusBadRequest, "The redirect_uri %q is not a URL.", callback)
		return
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (s *Sandbox) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var p url.Values
	switch r.Method {
	case http.MethodGet:
		p = r.URL.Query()
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			authorizeErrorPage(w, http.StatusBadRequest, "The consent form could not be read: %v.", err)
			return
		}
		p = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		authorizeErrorPage(w, http.StatusMethodNotAllowed, "Use GET to show the consent page and POST to answer it.")
		return
	}
	clientID, redirect, state := p.Get("client_id"), p.Get("redirect_uri"), p.Get("state")
	if clientID == "" {
		authorizeErrorPage(w, http.StatusBadRequest, "The client_id parameter is missing. Add the Client ID of your Lever app.")
		return
	}
	c, ok := s.oauthClientByID(clientID)
	if !ok {
		authorizeErrorPage(w, http.StatusBadRequest, "Unknown client_id %q: no app with this Client ID is registered. Check the Client ID of your Lever app.", clientID)
		return
	}
	if redirect == "" {
		authorizeErrorPage(w, http.StatusBadRequest, "The redirect_uri parameter is missing. Add the callback URL registered for %s.", c.Name)
		return
	}
	if msg := checkRedirect(c, redirect); msg != "" {
		authorizeErrorPage(w, http.StatusBadRequest, "%s", msg)
		return
	}
	fail := func(code, desc string) {
		redirectTo(w, r, redirect, url.Values{"error": {code}, "error_description": {desc}, "state": {state}})
	}
	if rt := p.Get("response_type"); rt != "code" {
		fail("unsupported_response_type", fmt.Sprintf("Unsupported response type %q: use response_type=code.", rt))
		return
	}
	var scopes []string
	known := Scopes()
	for _, sc := range strings.Fields(p.Get("scope")) {
		if !slices.Contains(known, sc) {
			fail("invalid_scope", fmt.Sprintf("Unknown scope %q: Lever's scopes look like opportunities:read:admin, plus offline_access.", sc))
			return
		}
		if !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	aud := p.Get("audience")
	if aud == "" {
		// Without an audience only offline_access is on offer.
		scopes = slices.DeleteFunc(scopes, func(sc string) bool { return sc != ScopeOfflineAccess })
	}

	if r.Method == http.MethodGet {
		s.consent(w, r, c, p, scopes, aud == "")
		return
	}
	switch p.Get("decision") {
	case "deny":
		fail("access_denied", "The user denied access to the Lever account.")
	case "accept":
		s.mu.Lock()
		e := s.oauth.nextErr
		s.oauth.nextErr = nil
		var code string
		if e == nil {
			code = randomString(32)
			s.oauth.codes[code] = &authCode{client: c.ID, redirectURI: redirect, audience: aud, scopes: scopes,
				expires: s.now().Add(AuthCodeTTL)}
		}
		s.mu.Unlock()
		if e != nil {
			fail(e.code, e.description)
			return
		}
		redirectTo(w, r, redirect, url.Values{"code": {code}, "state": {state}})
	default:
		authorizeErrorPage(w, http.StatusBadRequest, "The consent form needs decision=accept or decision=deny.")
	}
}

func (s *Sandbox) consent(w http.ResponseWriter, r *http.Request, c OAuthClient, p url.Values, scopes []string, noAudience bool) {
	s.mu.Lock()
	u := s.users[UserPriya].clone()
	s.mu.Unlock()
	data := struct {
		App, Account, User, Email, Audience string
		Scopes                              []scopeLine
		NoAudience                          bool
		Hidden                              []hiddenField
	}{App: c.Name, Account: accountName, User: u.Name, Email: u.Email, NoAudience: noAudience,
		Audience: s.Audience(requestBase(r))}
	for _, sc := range scopes {
		data.Scopes = append(data.Scopes, scopeLine{sc, scopeText(sc)})
	}
	for _, k := range authorizeParams {
		if v := p.Get(k); v != "" || k != "prompt" {
			data.Hidden = append(data.Hidden, hiddenField{k, v})
		}
	}
	htmlHeaders(w)
	w.WriteHeader(http.StatusOK)
	_ = consentPage.Execute(w, data)
}

// requestBase is the sandbox root as the request reached it.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ---------------------------------------------------------------- token

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
	ExpiresIn    int64  `json:"expires_in"`
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// tokenForm reads the token request: form-urlencoded, or JSON as Auth0
// also accepts.
func tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			return nil, fmt.Errorf("the JSON body is invalid: %w", err)
		}
		v := url.Values{}
		for k, x := range m {
			if str, ok := x.(string); ok {
				v.Set(k, str)
			}
		}
		return v, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, fmt.Errorf("the form body is invalid: %w", err)
	}
	return r.PostForm, nil
}

func (s *Sandbox) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "Use POST with an application/x-www-form-urlencoded body.")
		return
	}
	form, err := tokenForm(w, r)
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		// RFC 6749 2.3.1: both are form-encoded before Basic encoding.
		id, secret = formDecode(u), formDecode(pw)
	}
	c, ok := s.oauthClientByID(id)
	if id == "" || !ok || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client",
			"Unknown client or wrong client secret: send the app's Client ID and Client Secret as client_id and client_secret (or HTTP Basic).")
		return
	}
	now := s.now()
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		s.exchangeCode(w, r, c, form, now)
	case "refresh_token":
		s.refreshGrant(w, r, c, form, now)
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type (authorization_code or refresh_token).")
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("Unsupported grant type %q: use authorization_code or refresh_token.", gt))
	}
}

func formDecode(v string) string {
	if d, err := url.QueryUnescape(v); err == nil {
		return d
	}
	return v
}

func (s *Sandbox) exchangeCode(w http.ResponseWriter, r *http.Request, c OAuthClient, form url.Values, now time.Time) {
	code := form.Get("code")
	if code == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: code.")
		return
	}
	s.mu.Lock()
	ac := s.oauth.codes[code]
	if ac != nil && ac.client == c.ID {
		delete(s.oauth.codes, code) // single use, whatever the outcome
	}
	s.mu.Unlock()
	switch {
	case ac == nil || ac.client != c.ID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid authorization code: it is unknown, was issued to another client, or was already used (codes are single use).")
	case !now.Before(ac.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", fmt.Sprintf("The authorization code has expired (codes last %v); authorize again.", AuthCodeTTL))
	case form.Get("redirect_uri") != ac.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the one of the authorization request; send the same value.")
	default:
		s.issue(w, r, &grant{client: c.ID, audience: ac.audience, scopes: ac.scopes, created: now}, now)
	}
}

func (s *Sandbox) refreshGrant(w http.ResponseWriter, r *http.Request, c OAuthClient, form url.Values, now time.Time) {
	tok := form.Get("refresh_token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: refresh_token.")
		return
	}
	s.mu.Lock()
	rt := s.oauth.refresh[tok]
	var msg string
	switch {
	case rt == nil || rt.grant.client != c.ID:
		msg = "Unknown or invalid refresh token: it was never issued to this client, or was already used (each refresh returns a new one)."
		rt = nil
	case !now.Before(rt.grant.created.Add(s.oauth.refreshTTL)):
		msg = fmt.Sprintf("The refresh token has expired: tokens last %v after authorization. Authorize the app again.", s.oauth.refreshTTL)
	case !now.Before(rt.lastUsed.Add(s.oauth.idleTTL)):
		msg = fmt.Sprintf("The refresh token has expired after %v without use. Authorize the app again.", s.oauth.idleTTL)
	}
	if rt != nil {
		delete(s.oauth.refresh, tok) // rotation: the used token stops working at once
	}
	s.mu.Unlock()
	if msg != "" {
		oauthError(w, http.StatusBadRequest, "invalid_grant", msg)
		return
	}
	s.issue(w, r, rt.grant, now)
}

// issue answers a token request: an access token, and a rotated refresh
// token when the grant has offline_access.
func (s *Sandbox) issue(w http.ResponseWriter, r *http.Request, g *grant, now time.Time) {
	ttl := s.oauth.accessTTL
	claims := jwtClaims{
		Iss: requestBase(r) + "/", Sub: UserPriya, Iat: now.Unix(), Exp: now.Add(ttl).Unix(),
		Scope: strings.Join(g.scopes, " "), Azp: g.client, JTI: randomString(24),
		UserID: UserPriya, AccountID: s.oauth.accountID, ClientID: g.client,
	}
	if g.audience != "" {
		claims.Aud = audience{g.audience}
	}
	resp := tokenResponse{AccessToken: s.signJWT(claims), TokenType: "Bearer", Scope: claims.Scope, ExpiresIn: int64(ttl / time.Second)}
	if slices.Contains(g.scopes, ScopeOfflineAccess) {
		resp.RefreshToken = randomString(48)
		s.mu.Lock()
		s.oauth.refresh[resp.RefreshToken] = &refreshToken{grant: g, lastUsed: now}
		s.mu.Unlock()
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// ---------------------------------------------------------------- JWT

// audience is a JWT aud claim: one string or an array.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud must be a string or an array of strings: %w", err)
	}
	*a = many
	return nil
}

type jwtClaims struct {
	Iss       string   `json:"iss"`
	Sub       string   `json:"sub"`
	Aud       audience `json:"aud,omitempty"`
	Iat       int64    `json:"iat"`
	Exp       int64    `json:"exp"`
	Scope     string   `json:"scope"`
	Azp       string   `json:"azp"`
	JTI       string   `json:"jti"`
	UserID    string   `json:"https://oauth.lever.co/userId"`
	AccountID string   `json:"https://oauth.lever.co/accountId"`
	ClientID  string   `json:"https://oauth.lever.co/clientId"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

func (s *Sandbox) signJWT(c jwtClaims) string {
	payload, _ := json.Marshal(c)
	signing := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, s.oauth.key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// parseJWT decodes a JWT's claims without checking its signature.
func parseJWT(tok string) (jwtClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jwtClaims{}, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return jwtClaims{}, fmt.Errorf("bad payload encoding: %w", err)
	}
	var c jwtClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return jwtClaims{}, fmt.Errorf("bad payload: %w", err)
	}
	return c, nil
}

// verifyJWT checks that the sandbox signed tok with HS256 and returns its
// claims.
func (s *Sandbox) verifyJWT(tok string) (jwtClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return jwtClaims{}, errors.New("not a JWT")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return jwtClaims{}, errors.New("bad header encoding")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &h) != nil || h.Alg != "HS256" {
		return jwtClaims{}, errors.New("not signed with HS256")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jwtClaims{}, errors.New("bad signature encoding")
	}
	m := hmac.New(sha256.New, s.oauth.key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, m.Sum(nil)) {
		return jwtClaims{}, errors.New("signature does not verify (not issued by this sandbox)")
	}
	return parseJWT(tok)
}

func unauthorized(msg string) *apiError {
	return &apiError{http.StatusUnauthorized, "UnauthorizedError", msg}
}

// audienceMatches reports whether aud names this API as reached by r:
// http(s)://<request Host>/v1/.
func audienceMatches(aud audience, r *http.Request) bool {
	for _, a := range aud {
		u, err := url.Parse(a)
		if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Path == "/v1/" && u.RawQuery == "" &&
			sameHost(u.Host, r.Host) {
			return true
		}
	}
	return false
}

func sameHost(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	ha, pa, errA := net.SplitHostPort(a)
	hb, pb, errB := net.SplitHostPort(b)
	return errA == nil && errB == nil && pa == pb && strings.EqualFold(ha, hb)
}

// authenticateJWT accepts an unexpired access token the sandbox issued for
// this API's audience.
func (s *Sandbox) authenticateJWT(r *http.Request, tok string) (string, *apiError) {
	c, err := s.verifyJWT(tok)
	if err != nil {
		return "", unauthorized("The access token is invalid: " + err.Error() + ".")
	}
	if !s.now().Before(time.Unix(c.Exp, 0)) {
		return "", unauthorized("The access token has expired; get a new one with the refresh token.")
	}
	s.mu.Lock()
	revoked := s.oauth.revoked[c.JTI]
	s.mu.Unlock()
	if revoked {
		return "", unauthorized("The access token was revoked.")
	}
	if !audienceMatches(c.Aud, r) {
		want := s.Audience(requestBase(r))
		if len(c.Aud) == 0 {
			return "", unauthorized("The access token has no audience: authorize with audience=" + want + " to call the API.")
		}
		return "", unauthorized(fmt.Sprintf("The access token is for audience %q, not this API: authorize with audience=%s.", strings.Join(c.Aud, " "), want))
	}
	return "oauth:" + c.JTI, nil
}
