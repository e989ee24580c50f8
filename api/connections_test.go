package api_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/steps/lever/sandbox"
)

func TestConnections(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.createConnection("acme")

	r := f.must(http.StatusConflict, request{Method: "POST", Path: "/api/v1/connections",
		Body: map[string]any{"name": "acme", "environment": "local", "api_key": leverAPIKey}})
	if code, msg := r.errorCode(t); code != "conflict" || !strings.Contains(msg, `"replace": true`) {
		t.Errorf("taken name: %s %q", code, msg)
	}
	if !strings.Contains(string(r.body), `"reason":"name_taken"`) {
		t.Errorf("a taken name's details do not say so: %s", r.body)
	}
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/connections",
		Body: map[string]any{"name": "acme", "environment": "local", "api_key": leverAPIKey, "replace": true}})

	list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections", Token: readerToken}).json(t)
	conns := list["connections"].([]any)
	if len(conns) != 1 || conns[0].(map[string]any)["name"] != "acme" || conns[0].(map[string]any)["status"] != "connected" {
		t.Errorf("list: %v", list)
	}

	test := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/connections/acme/test"}).json(t)
	if acct := test["account"].(map[string]any); acct["super_admin_id"] == "" || acct["user_email"] == nil {
		t.Errorf("test: %v", test)
	}

	// The proxy passes Lever's answer through.
	r = f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections/acme/proxy/opportunities?limit=2"})
	page := r.json(t)
	opps := page["data"].([]any)
	if len(opps) != 2 || page["hasNext"] != true || r.header.Get("X-Leverflow-Upstream") != "lever" {
		t.Fatalf("proxy list: %s", r.body)
	}
	oppID := opps[0].(map[string]any)["id"].(string)
	r = f.must(http.StatusOK, request{Method: "PUT", Path: "/api/v1/connections/acme/proxy/opportunities/" + oppID + "/stage?perform_as=" + sandbox.UserPriya,
		Body: map[string]any{"stage": sandbox.StageOffer}})
	if o, ok := f.sb.Opportunity(oppID); !ok || o.Stage != sandbox.StageOffer {
		t.Errorf("the stage change did not reach the sandbox: %+v\n%s", o.Stage, r.body)
	}
	// A Lever error keeps Lever's status and body.
	r = f.do(request{Method: "GET", Path: "/api/v1/connections/acme/proxy/opportunities/no-such-opportunity"})
	if r.status != http.StatusNotFound || r.json(t)["code"] == nil || r.header.Get("X-Leverflow-Upstream") != "lever" {
		t.Errorf("Lever 404: %d %s", r.status, r.body)
	}
	r = f.do(request{Method: "PUT", Path: "/api/v1/connections/acme/proxy/opportunities/" + oppID + "/stage", Body: map[string]any{"stage": "nope"}})
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "does not exist") {
		t.Errorf("Lever 400: %d %s", r.status, r.body)
	}
	// A reader token may not use the proxy.
	f.must(http.StatusForbidden, request{Method: "GET", Path: "/api/v1/connections/acme/proxy/users", Token: readerToken})

	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/connections/acme"})
	f.must(http.StatusNotFound, request{Method: "POST", Path: "/api/v1/connections/acme/test"})
}

func TestConnectionRejectedKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.must(http.StatusBadRequest, request{Method: "POST", Path: "/api/v1/connections",
		Body: map[string]any{"name": "acme", "environment": "local", "api_key": "wrong-key"}})
	code, msg := r.errorCode(t)
	details := r.json(t)["error"].(map[string]any)["details"].([]any)
	if code != "bad_request" || !strings.Contains(msg, "invalid_api_key") || len(details) != 1 {
		t.Errorf("rejected key: %s", r.body)
	}
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// browser is a real http.Client with a cookie jar, as a person's browser.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// consent loads Lever's consent page from resp and accepts it, returning
// the answer of the page it lands on (the callback).
func (f *fixture) consent(hc *http.Client, resp *http.Response) *http.Response {
	f.t.Helper()
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Authorize") {
		f.t.Fatalf("consent page: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"decision": {"accept"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	out, err := hc.PostForm(resp.Request.URL.ResolveReference(&url.URL{Path: "authorize"}).String(), form)
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

func readPage(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOAuthFlow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hc := browser(t)
	authorize := f.url + "/api/v1/connections/lever/authorize?name=acme-oauth&environment=local&access_token=" + adminToken

	resp, err := hc.Get(authorize) // follows the 302 to the consent page
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), f.sbURL+"/oauth/authorize") {
		t.Fatalf("authorize led to %s", resp.Request.URL)
	}
	done := f.consent(hc, resp)
	page := readPage(t, done)
	f.record(page)
	if done.StatusCode != http.StatusOK || !strings.Contains(page, "Connected to ") || !strings.Contains(page, "window.opener.postMessage") {
		t.Fatalf("callback: %d %s", done.StatusCode, page)
	}
	conn := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections"}).json(t)["connections"].([]any)
	if len(conn) != 1 || conn[0].(map[string]any)["auth"] != "oauth" {
		t.Fatalf("connections: %v", conn)
	}
	r := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections/acme-oauth/proxy/users?limit=1"})
	if len(r.json(t)["data"].([]any)) != 1 {
		t.Errorf("proxy over OAuth: %s", r.body)
	}
}

func TestOAuthCallbackNeedsTheBrowser(t *testing.T) {
	t.Parallel()
	f := setup(t)
	started := browser(t)
	// No redirects followed: the callback URL is handed to another browser.
	started.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.Contains(req.URL.Path, "/callback") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := started.Get(f.url + "/api/v1/connections/lever/authorize?name=acme&environment=local&access_token=" + adminToken)
	if err != nil {
		t.Fatal(err)
	}
	cb := f.consent(started, resp)
	readPage(t, cb)
	callback := cb.Header.Get("Location")
	if !strings.Contains(callback, "/api/v1/connections/lever/callback?") {
		t.Fatalf("consent led to %q", callback)
	}
	// Another browser (no binding cookie) is refused, and so is a forged
	// cookie.
	other := browser(t)
	resp, err = other.Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	page := readPage(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Connection not finished") {
		t.Errorf("callback without the cookie: %d %s", resp.StatusCode, page)
	}
	req, _ := http.NewRequest(http.MethodGet, callback, nil)
	req.AddCookie(&http.Cookie{Name: "leverflow_oauth_binding", Value: "forged"})
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page = readPage(t, resp)
	if resp.StatusCode != http.StatusBadRequest || strings.Contains(page, "Connected to") {
		t.Errorf("callback with a forged cookie: %d %s", resp.StatusCode, page)
	}
	if list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections"}).json(t)["connections"].([]any); len(list) != 0 {
		t.Errorf("a refused callback made a connection: %v", list)
	}
	// Authorize itself needs a token.
	f.must(http.StatusUnauthorized, request{Method: "GET", Path: "/api/v1/connections/lever/authorize?name=acme&environment=local", Token: "-"})
}

func TestOAuthRefusedByLever(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.sb.SetAuthorizeError("access_denied", "The user trying to authorize the integration has not logged into Lever recently.")
	hc := browser(t)
	resp, err := hc.Get(f.url + "/api/v1/connections/lever/authorize?name=acme&environment=local&access_token=" + adminToken)
	if err != nil {
		t.Fatal(err)
	}
	done := f.consent(hc, resp)
	page := readPage(t, done)
	if done.StatusCode != http.StatusBadRequest || !strings.Contains(page, "Lever refused the connection") || !strings.Contains(page, "Authorized Apps") {
		t.Errorf("refused: %d %s", done.StatusCode, page)
	}
}

// TestOAuthOwnAppByPost connects with the user's own app: the client id
// and secret go in a POST body, never a URL; the answer is the URL to open,
// and the binding cookie set by that POST lets the callback finish in the
// same browser. A client secret in the GET's query is refused.
func TestOAuthOwnAppByPost(t *testing.T) {
	t.Parallel()
	f := setup(t)
	app := f.sb.OAuthClient()
	hc := browser(t)
	body, _ := json.Marshal(map[string]any{"name": "own-app", "environment": "local",
		"client_id": app.ID, "client_secret": app.Secret, "scopes": []string{"opportunities:read:admin", "users:read:admin"}})
	req, _ := http.NewRequest("POST", f.url+"/api/v1/connections/lever/authorize", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	f.record(string(raw))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || !strings.HasPrefix(out.AuthorizeURL, f.sbURL+"/oauth/authorize") {
		t.Fatalf("POST authorize: %d %s", resp.StatusCode, raw)
	}
	if strings.Contains(out.AuthorizeURL, app.Secret) {
		t.Fatal("the authorize URL carries the client secret")
	}
	page, err := hc.Get(out.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	done := f.consent(hc, page)
	if text := readPage(t, done); done.StatusCode != http.StatusOK || !strings.Contains(text, "Connected to ") {
		t.Fatalf("callback: %d %s", done.StatusCode, text)
	}
	c := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/connections/own-app"}).json(t)
	if c["client_id"] != app.ID {
		t.Errorf("connection: %v", c)
	}
	// The secret in a URL is refused before anything is stored.
	r := f.do(request{Method: "GET", Path: "/api/v1/connections/lever/authorize?name=x&environment=local&client_id=a&client_secret=b"})
	if code, msg := r.errorCode(t); r.status != http.StatusBadRequest || code != "bad_request" || !strings.Contains(msg, "must not travel in a URL") {
		t.Errorf("secret in the query: %d %s %s", r.status, code, msg)
	}
}
