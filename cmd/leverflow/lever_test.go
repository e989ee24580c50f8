package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRunLeverWorkflow runs a Lever workflow through `leverflow run`: its
// steps call the built-in sandbox whatever their connection is named.
func TestRunLeverWorkflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := write(t, dir, "users.json", `{"name": "users", "trigger": {"type": "api"}, "steps": [
	  {"id": "users", "type": "lever.get_users", "connection": "any-name", "input": {"all_pages": true, "include_deactivated": true}},
	  {"id": "paid", "type": "transform", "input": {"value": "<<len(filter(steps.users.items, #.license_status == 'paid'))>>"}},
	  {"id": "opp", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "no-such-id"}, "on_error": "continue"}],
	  "edges": [{"from": "users", "to": "paid"}]}`)
	out, errOut, code := cli(t, "run", wf, "--json")
	var v struct {
		Status string `json:"status"`
		Steps  map[string]struct {
			Status string          `json:"status"`
			Output json.RawMessage `json:"output"`
			Error  string          `json:"error"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s\n%s", err, out, errOut)
	}
	var users struct {
		Count int `json:"count"`
	}
	_ = json.Unmarshal(v.Steps["users"].Output, &users)
	if v.Steps["users"].Status != "succeeded" || users.Count != 10 || string(v.Steps["paid"].Output) != "8" {
		t.Errorf("users %s (%d users), paid %s; want 10 users, 8 paid (code %d)", v.Steps["users"].Status, users.Count, v.Steps["paid"].Output, code)
	}
	if !strings.Contains(v.Steps["opp"].Error, "Lever answered 404 ResourceNotFound") {
		t.Errorf("opp error = %q", v.Steps["opp"].Error)
	}
}

func TestStepTypesListsLever(t *testing.T) {
	t.Parallel()
	out, _, code := cli(t, "step-types")
	for _, typ := range []string{"lever.create_opportunity", "lever.get_users", "lever.request"} {
		if code != 0 || !strings.Contains(out, typ) {
			t.Errorf("step-types (code %d) lacks %s", code, typ)
		}
	}
}

// TestRunSink: the users-directory example sends its batches to the local
// sink of --sink.
func TestRunSink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	wf := write(t, dir, "sync.json", `{"name": "sync", "trigger": {"type": "api"}, "steps": [
	  {"id": "users", "type": "lever.get_users", "connection": "local", "input": {}},
	  {"id": "post", "type": "http.request", "input": {"method": "POST", "url": "<<trigger.url>>", "body": "<<steps.users.items>>"}}],
	  "edges": [{"from": "users", "to": "post"}]}`)
	trig := write(t, dir, "t.json", `{"url": "http://127.0.0.1:18766/users"}`)
	out, errOut, code := cli(t, "run", wf, "--trigger", trig, "--sink", "127.0.0.1:18766")
	if code != 0 || !strings.Contains(out, "received 1 request(s)") || !strings.Contains(out, "8 list item(s)") {
		t.Errorf("code %d\n%s\n%s", code, out, errOut)
	}
}
