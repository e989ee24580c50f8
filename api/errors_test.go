package api_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/engine/store"
)

// snapshot is what a refused request must leave as it was.
type snapshot struct {
	runs, connections, baseVersion int
	ghost                          bool
}

func (f *fixture) snapshot() snapshot {
	f.t.Helper()
	ctx := f.t.Context()
	conns, err := f.conns.List(ctx, "")
	if err != nil {
		f.t.Fatal(err)
	}
	base, err := f.store.GetWorkflowVersion(ctx, "base", 0)
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = f.store.GetWorkflowVersion(ctx, "ghost", 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	return snapshot{runs: f.runCount(), connections: len(conns), baseVersion: base.Version, ghost: err == nil}
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("base", echoWorkflow)
	before := f.snapshot()
	big := `{"name": "` + strings.Repeat("x", 70<<10) + `"}`

	tests := []struct {
		name       string
		req        request
		status     int
		code       string
		message    string
		wantHeader [2]string
	}{
		{"malformed workflow JSON", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: "{\n  \"name\": \"x\",\n  \"steps\": [}"},
			400, "bad_request", "line 3, column 13", [2]string{}},
		{"malformed trigger JSON", request{Method: "POST", Path: "/api/v1/workflows/base/runs", Body: `{"a": tru}`},
			400, "bad_request", "line 1, column", [2]string{}},
		{"malformed connection JSON", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": "acme",}`},
			400, "bad_request", "line 1, column 17", [2]string{}},
		{"two JSON values", request{Method: "POST", Path: "/api/v1/connections", Body: `{} {}`},
			400, "bad_request", "unexpected data after the JSON value", [2]string{}},
		{"empty body", request{Method: "POST", Path: "/api/v1/connections", Body: ``},
			400, "bad_request", "the request body is empty", [2]string{}},
		{"wrong type", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": 5, "environment": "local"}`},
			400, "bad_request", `field "name" must be a string, not number`, [2]string{}},
		{"unknown field", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": "acme", "environment": "local", "api_kee": "k"}`},
			400, "bad_request", `unknown field "api_kee"`, [2]string{}},
		{"oauth through POST", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": "acme", "environment": "local", "auth": "oauth"}`},
			400, "bad_request", "/api/v1/connections/lever/authorize", [2]string{}},
		{"invalid connection name", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": "Acme Corp", "environment": "local", "api_key": "k"}`},
			400, "bad_request", "not a valid connection name", [2]string{}},
		{"unknown field in a workflow", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: `{"name": "x", "trigger": {"type": "api"}, "stepz": []}`},
			422, "invalid_workflow", "stepz", [2]string{}},
		{"wrong type in a workflow", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: `{"name": "x", "trigger": {"type": "api"}, "steps": "none"}`},
			422, "invalid_workflow", "steps", [2]string{}},
		{"unknown step type", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: `{"name": "x", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "lever.get_opportunty"}]}`},
			422, "invalid_workflow", "steps[0].type", [2]string{}},
		{"unknown connection in a workflow", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: usersWorkflow},
			422, "invalid_workflow", "steps[0].connection", [2]string{}},
		{"bad workflow id", request{Method: "POST", Path: "/api/v1/workflows?id=Bad%20Id", Body: echoWorkflow},
			400, "bad_request", "not a valid workflow id", [2]string{}},
		{"workflow id taken", request{Method: "POST", Path: "/api/v1/workflows?id=base", Body: echoWorkflow},
			409, "conflict", "PUT /api/v1/workflows/base", [2]string{}},
		{"run of an unknown workflow", request{Method: "POST", Path: "/api/v1/workflows/ghost/runs", Body: `{}`},
			404, "not_found", `no workflow "ghost"`, [2]string{}},
		{"get an unknown workflow", request{Method: "GET", Path: "/api/v1/workflows/ghost"},
			404, "not_found", `no workflow "ghost"`, [2]string{}},
		{"get an unknown version", request{Method: "GET", Path: "/api/v1/workflows/base?version=9"},
			404, "not_found", `has no version 9`, [2]string{}},
		{"put an unknown workflow", request{Method: "PUT", Path: "/api/v1/workflows/ghost", Body: echoWorkflow},
			404, "not_found", `POST /api/v1/workflows?id=ghost`, [2]string{}},
		{"unknown run", request{Method: "GET", Path: "/api/v1/runs/nope"},
			404, "not_found", `no run "nope"`, [2]string{}},
		{"cancel an unknown run", request{Method: "POST", Path: "/api/v1/runs/nope/cancel"},
			404, "not_found", `no run "nope"`, [2]string{}},
		{"delete an unknown connection", request{Method: "DELETE", Path: "/api/v1/connections/nope"},
			404, "not_found", `no connection named "nope"`, [2]string{}},
		{"proxy through an unknown connection", request{Method: "GET", Path: "/api/v1/connections/nope/proxy/users"},
			404, "not_found", `no connection named "nope"`, [2]string{}},
		{"oversized body", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: big},
			413, "payload_too_large", "limit of 65536 bytes", [2]string{}},
		{"oversized chunked body", request{Method: "POST", Path: "/api/v1/connections", Body: io.MultiReader(strings.NewReader(big))},
			413, "payload_too_large", "limit of 65536 bytes", [2]string{}},
		{"wrong content type", request{Method: "POST", Path: "/api/v1/connections", Body: `{"name": "acme"}`, Header: map[string]string{"Content-Type": "text/plain"}},
			415, "unsupported_media_type", "Content-Type: application/json", [2]string{}},
		{"missing token", request{Method: "GET", Path: "/api/v1/runs", Token: "-"},
			401, "unauthorized", "needs a token", [2]string{"WWW-Authenticate", `Bearer realm="leverflow"`}},
		{"wrong token", request{Method: "GET", Path: "/api/v1/runs", Token: "not-the-token"},
			401, "unauthorized", "not valid", [2]string{"WWW-Authenticate", `Bearer realm="leverflow", error="invalid_token"`}},
		{"not a bearer token", request{Method: "GET", Path: "/api/v1/runs", Header: map[string]string{"Authorization": "Basic YTpi"}},
			401, "unauthorized", `"Bearer <token>"`, [2]string{}},
		{"reader saving a workflow", request{Method: "POST", Path: "/api/v1/workflows?id=ghost", Body: echoWorkflow, Token: readerToken},
			403, "forbidden", "needs an admin token", [2]string{}},
		{"wrong method", request{Method: "DELETE", Path: "/api/v1/runs"},
			405, "method_not_allowed", "DELETE is not allowed", [2]string{"Allow", "GET"}},
		{"unknown route", request{Method: "GET", Path: "/api/v1/nothing-here"},
			404, "not_found", "no route GET /api/v1/nothing-here", [2]string{}},
		{"wait too long", request{Method: "POST", Path: "/api/v1/workflows/base/runs?wait=10m"},
			400, "bad_request", "at most 5m", [2]string{}},
		{"wait not a duration", request{Method: "POST", Path: "/api/v1/workflows/base/runs?wait=soon"},
			400, "bad_request", "not a duration", [2]string{}},
		{"bad page size", request{Method: "GET", Path: "/api/v1/runs?limit=0"},
			400, "bad_request", "limit", [2]string{}},
		{"bad status filter", request{Method: "GET", Path: "/api/v1/runs?status=done"},
			400, "bad_request", "not a run status", [2]string{}},
		{"trigger data that is not UTF-8", request{Method: "POST", Path: "/api/v1/workflows/base/runs", Body: "{\"name\": \"\xff\xfe\"}"},
			400, "bad_request", "not valid UTF-8", [2]string{}},
		{"a workflow that is not UTF-8", request{Method: "POST", Path: "/api/v1/workflows", Body: "{\"name\": \"\xc3\"}"},
			400, "bad_request", "not valid UTF-8", [2]string{}},
		{"bad proxy path", request{Method: "GET", Path: "/api/v1/connections/acme/proxy/"},
			400, "bad_request", "not a Lever endpoint path", [2]string{}},
		{"proxy path escaping the API root, double-encoded", request{Method: "GET", Path: "/api/v1/connections/acme/proxy/%252e%252e/oauth/token"},
			400, "bad_request", "not a Lever endpoint path", [2]string{}},
		{"proxy path with an encoded slash", request{Method: "GET", Path: "/api/v1/connections/acme/proxy/users%2F..%2F..%2Foauth"},
			400, "bad_request", "not a Lever endpoint path", [2]string{}},
		{"proxy path with a backslash", request{Method: "GET", Path: "/api/v1/connections/acme/proxy/users%5C..%5Cx"},
			400, "bad_request", "not a Lever endpoint path", [2]string{}},
		{"proxy path with an empty segment", request{Method: "GET", Path: "/api/v1/connections/acme/proxy//users"},
			400, "bad_request", "not a Lever endpoint path", [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.req)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			code, msg := r.errorCode(t)
			if code != tt.code || !strings.Contains(msg, tt.message) {
				t.Errorf("error %s %q, want %s containing %q", code, msg, tt.code, tt.message)
			}
			if h := tt.wantHeader; h[0] != "" && r.header.Get(h[0]) != h[1] {
				t.Errorf("%s: %q, want %q", h[0], r.header.Get(h[0]), h[1])
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if after := f.snapshot(); after != before {
				t.Errorf("something was written: %+v, was %+v", after, before)
			}
		})
	}
}

func TestInvalidWorkflowDetails(t *testing.T) {
	t.Parallel()
	f := setup(t)
	body := `{"name": "x", "trigger": {"type": "api"}, "steps": [
  {"id": "a", "type": "transform", "input": {"value": "<<steps.b.x>>"}},
  {"id": "b", "type": "lever.get_users", "connection": "nowhere"}]}`
	r := f.must(http.StatusUnprocessableEntity, request{Method: "POST", Path: "/api/v1/workflows", Body: body})
	details := r.json(t)["error"].(map[string]any)["details"].([]any)
	paths := map[string]bool{}
	for _, d := range details {
		m := d.(map[string]any)
		if m["message"] == "" {
			t.Errorf("detail without message: %v", m)
		}
		paths[m["path"].(string)] = true
	}
	for _, want := range []string{"steps[0].input.value", "steps[1].connection"} {
		if !paths[want] {
			t.Errorf("no problem at %s in %s", want, r.body)
		}
	}
	// validate answers the same problems with 200.
	v := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/validate", Body: body}).json(t)
	if v["valid"] != false || len(v["problems"].([]any)) != len(details) {
		t.Errorf("validate: %v", v)
	}
	v = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/validate", Body: `{"name": `}).json(t)
	if v["valid"] != false || !strings.Contains(v["problems"].([]any)[0].(map[string]any)["message"].(string), "line 1") {
		t.Errorf("validate of malformed JSON: %v", v)
	}
	v = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/validate", Body: echoWorkflow}).json(t)
	if v["valid"] != true || len(v["problems"].([]any)) != 0 {
		t.Errorf("validate of a valid workflow: %v", v)
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/step-types?access_token=" + adminToken, Header: map[string]string{"X-Request-Id": "req-123"}})
	if got := r.header.Get("X-Request-Id"); got != "req-123" {
		t.Errorf("X-Request-Id = %q, want the caller's", got)
	}
	r = f.must(http.StatusOK, request{Method: "GET", Path: "/healthz", Token: "-", Header: map[string]string{"X-Request-Id": "bad id\twith tab"}})
	if got := r.header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-Id = %q, want a fresh id", got)
	}
	if h := r.json(t); h["status"] != "ok" {
		t.Errorf("healthz: %s", r.body)
	}
	logs := f.logs.String()
	for _, want := range []string{`"request_id":"req-123"`, `"route":"/api/v1/step-types"`, `"status":200`, `"method":"GET"`, `"duration_ms"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("access log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "access_token") {
		t.Error("the access log holds a query string")
	}
}
