package api_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/engine/store/gormstore"
)

func TestNewToken(t *testing.T) {
	t.Parallel()
	tok, hash := api.NewToken()
	if !regexp.MustCompile(`^lf_[A-Za-z0-9_-]{43}$`).MatchString(tok) {
		t.Errorf("token %q", tok)
	}
	if hash != api.HashToken(tok) || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
		t.Errorf("hash %q", hash)
	}
	if other, _ := api.NewToken(); other == tok {
		t.Error("two tokens are equal")
	}
}

func TestTokenLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	created := f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/tokens", Body: map[string]any{"name": "ci", "admin": false}})
	if created.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", created.header.Get("Cache-Control"))
	}
	c := created.json(t)
	tok, id := c["token"].(string), c["id"].(string)
	if !strings.HasPrefix(tok, api.TokenPrefix) || id == "" || c["name"] != "ci" || c["admin"] != false {
		t.Fatalf("created: %s", created.body)
	}

	// The new token reads and starts runs, but is no admin.
	f.saveWorkflow("echo", echoWorkflow)
	f.must(http.StatusAccepted, request{Method: "POST", Path: "/api/v1/workflows/echo/runs", Body: `{"name": "ci"}`, Token: tok})
	f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows", Token: tok})
	if r := f.do(request{Method: "GET", Path: "/api/v1/tokens", Token: tok}); r.status != http.StatusForbidden {
		t.Errorf("a reader listing tokens: %d", r.status)
	}
	f.eventually("last_used_at recorded", func() bool {
		list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/tokens"})
		return strings.Contains(string(list.body), `"last_used_at":"`)
	})
	list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/tokens"})
	if strings.Contains(string(list.body), tok) || strings.Contains(string(list.body), api.HashToken(tok)) || strings.Contains(string(list.body), `"token"`) {
		t.Errorf("the list shows the token or its hash: %s", list.body)
	}
	tokens := list.json(t)["tokens"].([]any)
	if len(tokens) != 1 || tokens[0].(map[string]any)["id"] != id || tokens[0].(map[string]any)["revoked_at"] != nil {
		t.Errorf("list: %s", list.body)
	}

	// An admin token created the same way is an admin.
	adm := f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/tokens", Body: `{"name": "ops", "admin": true}`}).json(t)
	f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/tokens", Token: adm["token"].(string)})

	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/tokens/" + id})
	r := f.do(request{Method: "GET", Path: "/api/v1/workflows", Token: tok})
	if code, msg := r.errorCode(t); r.status != http.StatusUnauthorized || code != api.CodeUnauthorized || !strings.Contains(msg, "revoked") {
		t.Errorf("revoked token: %d %s", r.status, r.body)
	}
	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/tokens/" + id}) // again: still revoked
	if r := f.do(request{Method: "DELETE", Path: "/api/v1/tokens/nope"}); r.status != http.StatusNotFound {
		t.Errorf("revoking a missing token: %d %s", r.status, r.body)
	}
	after := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/tokens"}).json(t)["tokens"].([]any)
	for _, x := range after {
		if x.(map[string]any)["id"] == id && x.(map[string]any)["revoked_at"] == nil {
			t.Errorf("revoked_at not set: %v", x)
		}
	}
	if r := f.do(request{Method: "GET", Path: "/api/v1/workflows", Token: "lf_unknown"}); r.status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d", r.status)
	}
	f.tokens.Wait()
	if logs := f.logs.String(); strings.Contains(logs, tok) || strings.Contains(logs, adm["token"].(string)) {
		t.Error("the log holds a created token")
	}
}

func TestCreateTokenErrors(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, tc := range []struct {
		name   string
		req    request
		status int
	}{
		{"no name", request{Body: `{"admin": true}`}, http.StatusBadRequest},
		{"blank name", request{Body: `{"name": "  "}`}, http.StatusBadRequest},
		{"long name", request{Body: `{"name": "` + strings.Repeat("x", 101) + `"}`}, http.StatusBadRequest},
		{"unknown field", request{Body: `{"name": "x", "scopes": []}`}, http.StatusBadRequest},
		{"not JSON", request{Body: `name=x`, Header: map[string]string{"Content-Type": "text/plain"}}, http.StatusUnsupportedMediaType},
		{"reader", request{Body: `{"name": "x"}`, Token: readerToken}, http.StatusForbidden},
		{"no token", request{Body: `{"name": "x"}`, Token: "-"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Method, tc.req.Path = "POST", "/api/v1/tokens"
			r := f.do(tc.req)
			if r.status != tc.status {
				t.Errorf("%d, want %d: %s", r.status, tc.status, r.body)
			}
			r.errorCode(t)
		})
	}
	if list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/tokens"}).json(t)["tokens"].([]any); len(list) != 0 {
		t.Errorf("a refused request made a token: %v", list)
	}
}

func TestChain(t *testing.T) {
	t.Parallel()
	f := setup(t)
	static, err := api.NewStaticTokens("tok-static")
	if err != nil {
		t.Fatal(err)
	}
	live := f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/tokens", Body: `{"name": "live"}`}).json(t)
	gone := f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/tokens", Body: `{"name": "gone"}`}).json(t)
	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/tokens/" + gone["id"].(string)})

	// A store that is closed fails with an error that is neither.
	closed, err := gormstore.Open(t.Context(), gormstore.Config{DSN: filepath.Join(t.TempDir(), "closed.db")})
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	broken := api.NewStoreTokens(closed, nil, nil)

	stored := f.tokens
	for _, tc := range []struct {
		name     string
		chain    api.Authenticator
		token    string
		wantName string
		wantErr  error
	}{
		{"static first", api.Chain(static, stored), "tok-static", "admin", nil},
		{"stored second", api.Chain(static, stored), live["token"].(string), "live", nil},
		{"static before a broken store", api.Chain(static, broken), "tok-static", "admin", nil},
		{"none knows it", api.Chain(static, stored), "lf_nobody", "", api.ErrInvalidToken},
		{"revoked", api.Chain(static, stored), gone["token"].(string), "", api.ErrRevokedToken},
		{"empty chain", api.Chain(), "tok-static", "", api.ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.chain.Authenticate(t.Context(), tc.token)
			if !errors.Is(err, tc.wantErr) || p.Name != tc.wantName {
				t.Errorf("got %+v %v, want %q %v", p, err, tc.wantName, tc.wantErr)
			}
		})
	}
	_, err = api.Chain(static, broken).Authenticate(t.Context(), "lf_nobody")
	if err == nil || errors.Is(err, api.ErrInvalidToken) || errors.Is(err, api.ErrRevokedToken) {
		t.Errorf("a broken store: %v, want its error", err)
	}
}
