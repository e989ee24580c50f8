package api

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/connections"
)

// The browser-binding cookie of the OAuth flow: set by authorize, read
// and cleared by the callback, so a callback finishes only in the browser
// that started the flow (an attacker's stolen or planted state alone does
// not).
const (
	bindingCookie     = "leverflow_oauth_binding"
	bindingCookiePath = "/api/v1/connections/lever/callback"
	bindingTTL        = 10 * time.Minute
)

// oauthAuthorize is GET /connections/lever/authorize?name=&environment=
// [&client_id=&scopes=&replace=&confirm_account_change=]: a 302 to Lever's
// consent page. A browser navigates here (the editor opens it in a popup),
// so the token may come as ?access_token= instead of the Authorization
// header; the access log never records query strings, and the redirect
// carries Referrer-Policy: no-referrer so Lever does not see this URL.
// Scopes are separated by spaces or commas. It serves the built-in app of
// the local sandbox and reconnecting a connection with its own app; a
// client secret never travels in a URL (browser history, proxies' access
// logs): with one, use POST.
func (s *Server) oauthAuthorize(c *gin.Context) {
	q := c.Request.URL.Query()
	if q.Has("client_secret") {
		fail(c, badRequest("a client secret must not travel in a URL: send it in the JSON body of POST /api/v1/connections/lever/authorize, which answers the authorize URL to open"))
		return
	}
	replace, err := boolParam(q.Get("replace"), "replace")
	if err != nil {
		fail(c, err)
		return
	}
	confirm, err := boolParam(q.Get("confirm_account_change"), "confirm_account_change")
	if err != nil {
		fail(c, err)
		return
	}
	u, ok := s.startAuthorize(c, connections.AuthorizeRequest{
		Name:                 q.Get("name"),
		Environment:          q.Get("environment"),
		ClientID:             q.Get("client_id"),
		Scopes:               strings.FieldsFunc(q.Get("scopes"), func(r rune) bool { return r == ',' || r == ' ' }),
		Replace:              replace,
		ConfirmAccountChange: confirm,
	})
	if !ok {
		return
	}
	c.Redirect(http.StatusFound, u)
}

// authorizeRequest is the body of POST /connections/lever/authorize.
type authorizeRequest struct {
	Name                 string   `json:"name"`
	Environment          string   `json:"environment"`
	ClientID             string   `json:"client_id"`
	ClientSecret         string   `json:"client_secret"`
	Scopes               []string `json:"scopes"`
	Replace              bool     `json:"replace"`
	ConfirmAccountChange bool     `json:"confirm_account_change"`
}

// oauthAuthorizePost is POST /connections/lever/authorize with the app's
// client id and secret in the JSON body: it answers {"authorize_url"} for
// the editor to open in a popup, and sets the same browser-binding cookie
// as the GET (the editor calls it from the page, same origin).
func (s *Server) oauthAuthorizePost(c *gin.Context) {
	var req authorizeRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	u, ok := s.startAuthorize(c, connections.AuthorizeRequest{
		Name: req.Name, Environment: req.Environment, ClientID: req.ClientID, ClientSecret: req.ClientSecret,
		Scopes: req.Scopes, Replace: req.Replace, ConfirmAccountChange: req.ConfirmAccountChange,
	})
	if !ok {
		return
	}
	writeJSON(c, http.StatusOK, map[string]string{"authorize_url": u})
}

// startAuthorize stores the pending authorization bound to a new random
// value, sets that value as the binding cookie of the callback, and
// returns Lever's authorize URL; on failure it has answered the error.
func (s *Server) startAuthorize(c *gin.Context, req connections.AuthorizeRequest) (string, bool) {
	req.Binding = randomToken()
	u, err := s.conns.Authorize(c.Request.Context(), req)
	if err != nil {
		fail(c, err)
		return "", false
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: bindingCookie, Value: req.Binding, Path: bindingCookiePath,
		MaxAge: int(bindingTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.baseURL != nil && s.baseURL.Scheme == "https",
	})
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	return u, true
}

func boolParam(v, name string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, badRequest("%s %q must be true or false", name, v)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oauthCallback is GET /connections/lever/callback, where Lever sends the
// browser back. It needs no bearer token: the one-time state and the
// binding cookie set by authorize authenticate it. It answers a small HTML
// page that also posts {type: "leverflow:oauth", ...} to window.opener
// (the editor's popup opener) and closes nothing itself.
func (s *Server) oauthCallback(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: bindingCookie, Value: "", Path: bindingCookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.baseURL != nil && s.baseURL.Scheme == "https"})
	binding := ""
	if ck, err := c.Request.Cookie(bindingCookie); err == nil {
		binding = ck.Value
	}
	if binding == "" {
		s.callbackPage(c, http.StatusBadRequest, callbackData{
			Title:   "Connection not finished",
			Message: "This browser did not start this authorization (its sign-in cookie is missing or expired, after 10 minutes).",
			Fix:     []string{"Start connecting again from Leverflow, in this browser, and finish within 10 minutes."},
			Status:  "error", Code: "bad_state",
		})
		return
	}
	conn, err := s.conns.Callback(c.Request.Context(), connections.CallbackRequest{
		Query: c.Request.URL.Query(), Binding: binding,
	})
	var authErr *connections.AuthError
	switch {
	case err == nil:
		s.callbackPage(c, http.StatusOK, callbackData{
			Title:   "Connected to " + accountLabel(conn),
			Message: "The connection \"" + conn.Name + "\" is ready. You can close this window.",
			Status:  "connected", Connection: conn.Name,
		})
	case errors.As(err, &authErr):
		s.callbackPage(c, http.StatusBadRequest, callbackData{
			Title: "Lever refused the connection", Message: authErr.Error(), Fix: authErr.Fix,
			Status: "error", Code: authErr.Code,
		})
	case errors.Is(err, connections.ErrBadState):
		s.callbackPage(c, http.StatusBadRequest, callbackData{
			Title: "Connection not finished", Message: err.Error(),
			Fix:    []string{"Start connecting again from Leverflow, in this browser, and finish within 10 minutes."},
			Status: "error", Code: "bad_state",
		})
	default:
		e := errorFrom(err)
		if e.Status >= 500 {
			s.log.Error("OAuth callback failed", "request_id", requestID(c), "error", err)
		}
		s.callbackPage(c, e.Status, callbackData{
			Title: "Connection not finished", Message: e.Message, Status: "error", Code: e.Code,
		})
	}
}

func accountLabel(conn *connections.Connection) string {
	switch {
	case conn.Account.Name != "":
		return conn.Account.Name
	case conn.Account.UserEmail != "":
		return conn.Account.UserEmail
	}
	return "Lever (" + conn.Name + ")"
}

type callbackData struct {
	Title, Message string
	Fix            []string
	// Status ("connected" or "error"), Connection and Code are posted to
	// window.opener.
	Status, Connection, Code string
	// Origin is where the message may go; Nonce allows the inline script.
	Origin, Nonce string
}

var callbackTemplate = template.Must(template.New("callback").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;color:#1f2430;margin:0}
main{max-width:32rem;margin:3rem auto;background:#fff;border-radius:8px;padding:2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Fix}}<p>To fix it:</p>
<ol>
{{range .Fix}}<li>{{.}}</li>
{{end}}</ol>{{end}}
</main>
<script nonce="{{.Nonce}}">
if (window.opener) {
  window.opener.postMessage({type: "leverflow:oauth", status: {{.Status}}, connection: {{.Connection}}, code: {{.Code}}}, {{.Origin}});
}
</script>
</body>
</html>
`))

func (s *Server) callbackPage(c *gin.Context, status int, d callbackData) {
	d.Nonce = randomToken()
	// The message holds no secret (a status, a connection name, an error
	// code), but it goes only to the editor's own origin: the public base
	// URL, else the origin this page was requested on.
	if s.baseURL != nil {
		d.Origin = s.baseURL.Scheme + "://" + s.baseURL.Host
	} else {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		d.Origin = scheme + "://" + c.Request.Host
	}
	var b strings.Builder
	if err := callbackTemplate.Execute(&b, d); err != nil {
		fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+d.Nonce+"'; frame-ancestors 'none'")
	c.Data(status, "text/html; charset=utf-8", []byte(b.String()))
}
