package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/leverflow/leverflow/api"
	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
)

const leverWorkflow = `{"name": "Stage moved", "trigger": {"type": "lever.candidate_stage_changed", "connection": "acme"},
  "steps": [{"id": "seen", "type": "transform", "input": {"value": {"opp": "<<trigger.opportunityId>>", "to": "<<trigger.toStageId>>"}}}]}`

func TestCreateWorkflowConflict(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("echo", echoWorkflow)
	r := f.do(request{Method: "POST", Path: "/api/v1/workflows?id=echo", Body: strings.Replace(echoWorkflow, "Echo", "Other", 1)})
	if code, msg := r.errorCode(t); r.status != http.StatusConflict || code != api.CodeConflict || !strings.Contains(msg, `"echo" exists`) {
		t.Fatalf("second create: %d %s", r.status, r.body)
	}
	got := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/echo"}).json(t)
	if got["name"] != "Echo" || got["version"].(float64) != 1 || got["enabled"] != false {
		t.Errorf("the conflict wrote: %v", got)
	}
	r = f.do(request{Method: "PUT", Path: "/api/v1/workflows/nope", Body: echoWorkflow})
	if code, _ := r.errorCode(t); r.status != http.StatusNotFound || code != api.CodeNotFound {
		t.Errorf("PUT of a missing workflow: %d %s", r.status, r.body)
	}
}

func TestListWorkflows(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.createConnection("acme")
	f.saveWorkflow("a-echo", echoWorkflow)
	f.saveWorkflow("b-lever", leverWorkflow)
	f.saveWorkflow("c-echo", echoWorkflow)
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/a-echo/runs?wait=30s", Body: `{"name": "x"}`})
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/b-lever/enable"})

	type page struct {
		Workflows []struct {
			ID, Name  string
			Version   int
			Enabled   bool
			Trigger   struct{ Type, Connection string }
			LastRun   *struct{ ID, Status string } `json:"last_run"`
			RunCounts map[string]int               `json:"run_counts"`
		}
		Next *string
	}
	list := func(query string) page {
		t.Helper()
		var p page
		if err := json.Unmarshal(f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows" + query, Token: readerToken}).body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	all := list("")
	if len(all.Workflows) != 3 || all.Next != nil {
		t.Fatalf("all: %+v", all)
	}
	a, b := all.Workflows[0], all.Workflows[1]
	if a.ID != "a-echo" || a.LastRun == nil || a.LastRun.Status != "succeeded" || a.RunCounts["succeeded"] != 1 || a.RunCounts["failed"] != 0 {
		t.Errorf("a-echo: %+v", a)
	}
	if _, ok := a.RunCounts["queued"]; !ok {
		t.Errorf("run_counts lacks a status: %v", a.RunCounts)
	}
	if b.ID != "b-lever" || !b.Enabled || b.Trigger.Type != "lever.candidate_stage_changed" || b.Trigger.Connection != "acme" || b.LastRun != nil {
		t.Errorf("b-lever: %+v", b)
	}

	for _, tc := range []struct {
		name, query string
		want        []string
		next        bool
	}{
		{"first page", "?limit=2", []string{"a-echo", "b-lever"}, true},
		{"second page", "?limit=2&after=b-lever", []string{"c-echo"}, false},
		{"enabled", "?enabled=true", []string{"b-lever"}, false},
		{"disabled", "?enabled=false", []string{"a-echo", "c-echo"}, false},
		{"trigger type", "?trigger_type=api", []string{"a-echo", "c-echo"}, false},
		{"trigger types", "?trigger_type=api,lever.candidate_stage_changed", []string{"a-echo", "b-lever", "c-echo"}, false},
		{"connection", "?connection=acme", []string{"b-lever"}, false},
		{"no match", "?connection=other", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := list(tc.query)
			var ids []string
			for _, w := range p.Workflows {
				ids = append(ids, w.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) || (p.Next != nil) != tc.next {
				t.Errorf("%s: %v next %v, want %v next %v", tc.query, ids, p.Next, tc.want, tc.next)
			}
		})
	}
	for _, q := range []string{"?enabled=maybe", "?limit=0", "?limit=201", "?limit=x"} {
		r := f.do(request{Method: "GET", Path: "/api/v1/workflows" + q})
		if code, _ := r.errorCode(t); r.status != http.StatusBadRequest || code != api.CodeBadRequest {
			t.Errorf("%s: %d %s", q, r.status, r.body)
		}
	}
}

func TestDeleteWorkflow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("echo", echoWorkflow)
	run := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=30s", Body: `{"name": "x"}`}).json(t)
	if r := f.do(request{Method: "DELETE", Path: "/api/v1/workflows/echo", Token: readerToken}); r.status != http.StatusForbidden {
		t.Errorf("reader delete: %d", r.status)
	}
	r := f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/workflows/echo"})
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	for _, req := range []request{
		{Method: "GET", Path: "/api/v1/workflows/echo"},
		{Method: "GET", Path: "/api/v1/workflows/echo?version=1"},
		{Method: "GET", Path: "/api/v1/workflows/echo/versions"},
		{Method: "GET", Path: "/api/v1/workflows/echo/diff?from=1&to=1"},
		{Method: "DELETE", Path: "/api/v1/workflows/echo"},
		{Method: "PUT", Path: "/api/v1/workflows/echo", Body: echoWorkflow},
		{Method: "POST", Path: "/api/v1/workflows/echo/enable"},
	} {
		r := f.do(req)
		if code, msg := r.errorCode(t); r.status != http.StatusNotFound || code != api.CodeNotFound || !strings.Contains(msg, "echo") {
			t.Errorf("%s %s after delete: %d %s", req.Method, req.Path, r.status, r.body)
		}
	}
	if r := f.do(request{Method: "POST", Path: "/api/v1/workflows?id=echo", Body: echoWorkflow}); r.status != http.StatusConflict {
		t.Errorf("reusing a deleted id: %d %s", r.status, r.body)
	}
	if r := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + run["id"].(string)}).json(t); r["status"] != "succeeded" {
		t.Errorf("the run of a deleted workflow: %v", r)
	}
	if list := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows"}).json(t); len(list["workflows"].([]any)) != 0 {
		t.Errorf("a deleted workflow is listed: %v", list)
	}
}

func TestVersionsAndDiff(t *testing.T) {
	t.Parallel()
	f := setup(t)
	v1 := `{"name": "Tags", "trigger": {"type": "api"}, "steps": [
	  {"id": "a", "type": "transform", "input": {"value": {"tags": ["x", "y"]}}},
	  {"id": "b", "type": "transform", "input": {"value": 1}}],
	  "edges": [{"from": "a", "to": "b"}]}`
	// b moves before a and is unchanged; a's second tag changes; c is new.
	v2 := `{"name": "Tags", "trigger": {"type": "api"}, "steps": [
	  {"id": "b", "type": "transform", "input": {"value": 1}},
	  {"id": "a", "type": "transform", "input": {"value": {"tags": ["x", "z"]}}},
	  {"id": "c", "type": "transform", "input": {"value": 2}}],
	  "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}]}`
	f.saveWorkflow("tags", v1)
	r := f.do(request{Method: "GET", Path: "/api/v1/workflows/tags/diff"})
	if code, msg := r.errorCode(t); r.status != http.StatusBadRequest || code != api.CodeBadRequest || !strings.Contains(msg, "only version 1") {
		t.Errorf("diff of one version: %d %s", r.status, r.body)
	}
	f.must(http.StatusOK, request{Method: "PUT", Path: "/api/v1/workflows/tags", Body: v2})

	vs := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/tags/versions", Token: readerToken}).json(t)
	list := vs["versions"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["version"].(float64) != 2 || list[1].(map[string]any)["name"] != "Tags" {
		t.Errorf("versions: %v", vs)
	}
	if _, ok := list[0].(map[string]any)["workflow"]; ok {
		t.Errorf("versions carry definitions: %v", list[0])
	}

	var d struct {
		From, To int
		Changes  []api.Change
	}
	if err := json.Unmarshal(f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/tags/diff", Token: readerToken}).body, &d); err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, c := range d.Changes {
		got = append(got, fmt.Sprintf("%s %s %s>%s @%s", c.Op, c.Path, c.From, c.To, c.StepID))
	}
	want := []string{
		`add edges[1] >{"from":"b","to":"c"} @`,
		`replace steps[1].input.value.tags[1] "y">"z" @a`,
		`add steps[2] >{"id":"c","input":{"value":2},"type":"transform"} @c`,
	}
	if d.From != 1 || d.To != 2 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff %d..%d:\n%s\nwant:\n%s", d.From, d.To, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	back := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/tags/diff?from=2&to=1"}).json(t)
	if n := len(back["changes"].([]any)); n != 3 {
		t.Errorf("reverse diff has %d changes: %v", n, back)
	}
	for _, tc := range []struct {
		query  string
		status int
	}{
		{"?from=1&to=9", http.StatusNotFound},
		{"?from=x", http.StatusBadRequest},
		{"?to=0", http.StatusBadRequest},
	} {
		r := f.do(request{Method: "GET", Path: "/api/v1/workflows/tags/diff" + tc.query})
		if r.status != tc.status {
			t.Errorf("diff%s: %d %s", tc.query, r.status, r.body)
		}
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, to string
		want           []string // "op path"
	}{
		{"equal", `{"a": 1}`, `{"a": 1.0}`, nil},
		{"moved step", `{"steps": [{"id": "a"}, {"id": "b"}]}`, `{"steps": [{"id": "b"}, {"id": "a"}]}`, nil},
		{"removed step", `{"steps": [{"id": "a"}, {"id": "b", "x": 1}]}`, `{"steps": [{"id": "a"}]}`, []string{"remove steps[1] b"}},
		{"nested fanout step", `{"steps": [{"id": "f", "steps": [{"id": "in", "input": {"v": 1}}]}]}`,
			`{"steps": [{"id": "f", "steps": [{"id": "in", "input": {"v": 2}}]}]}`, []string{"replace steps[0].steps[0].input.v in"}},
		{"key added and removed", `{"a": 1, "b": 2}`, `{"b": 2, "c": 3}`, []string{"remove a ", "add c "}},
		{"odd key", `{"x": {"a-b": 1}}`, `{"x": {"a-b": 2}}`, []string{`replace x["a-b"] `}},
		{"insert in middle", `{"t": ["a", "c"]}`, `{"t": ["a", "b", "c"]}`, []string{"add t[1] "}},
		{"type change", `{"t": [1]}`, `{"t": {"x": 1}}`, []string{"replace t "}},
		{"whole document", `1`, `"x"`, []string{"replace  "}},
		{"duplicate ids fall back to position", `{"s": [{"id": "a"}, {"id": "a"}]}`, `{"s": [{"id": "a"}, {"id": "a", "v": 1}]}`, []string{"add s[1].v "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := api.Diff([]byte(tc.from), []byte(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range changes {
				got = append(got, c.Op+" "+c.Path+" "+c.StepID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := api.Diff([]byte(`{`), []byte(`{}`)); err == nil {
		t.Error("malformed JSON diffed")
	}
}

func TestEnableDisable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.createConnection("acme")
	f.saveWorkflow("lever", leverWorkflow)
	if r := f.do(request{Method: "POST", Path: "/api/v1/workflows/lever/enable", Token: readerToken}); r.status != http.StatusForbidden {
		t.Errorf("reader enable: %d", r.status)
	}
	got := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/lever/enable"}).json(t)
	if got["enabled"] != true || got["id"] != "lever" || got["version"].(float64) != 1 {
		t.Errorf("enable: %v", got)
	}
	// PUT keeps it enabled.
	if v := f.must(http.StatusOK, request{Method: "PUT", Path: "/api/v1/workflows/lever", Body: leverWorkflow}).json(t); v["enabled"] != true {
		t.Errorf("PUT turned it off: %v", v)
	}
	got = f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/lever/disable"}).json(t)
	if got["enabled"] != false {
		t.Errorf("disable: %v", got)
	}
	// The connection goes away: enabling is refused with the problem, and
	// nothing changes.
	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/connections/acme"})
	r := f.do(request{Method: "POST", Path: "/api/v1/workflows/lever/enable"})
	code, _ := r.errorCode(t)
	details, _ := r.json(t)["error"].(map[string]any)["details"].([]any)
	if r.status != http.StatusUnprocessableEntity || code != api.CodeInvalidWorkflow || len(details) == 0 || !strings.Contains(string(r.body), "acme") {
		t.Fatalf("enable without its connection: %d %s", r.status, r.body)
	}
	if w := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/lever"}).json(t); w["enabled"] != false {
		t.Errorf("a refused enable enabled it: %v", w)
	}
	if r := f.do(request{Method: "POST", Path: "/api/v1/workflows/nope/disable"}); r.status != http.StatusNotFound {
		t.Errorf("disable of a missing workflow: %d %s", r.status, r.body)
	}
}

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"invalid argument", fmt.Errorf("listing runs: %w", engine.ErrInvalidArgument), http.StatusBadRequest},
		{"not found", fmt.Errorf("x: %w", store.ErrNotFound), http.StatusNotFound},
		{"conflict", fmt.Errorf("x: %w", store.ErrConflict), http.StatusConflict},
		{"invalid workflow", &engine.InvalidError{}, http.StatusUnprocessableEntity},
		{"unknown", fmt.Errorf("disk on fire"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := api.StatusOf(tc.err); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
		})
	}
}
