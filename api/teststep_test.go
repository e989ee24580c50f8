package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// testStepWorkflow is a draft that is not valid as a whole (the tag step
// has no input yet): a test of one step must not care.
const testStepWorkflow = `{"name": "draft", "trigger": {"type": "api"},
 "vars": {"tag": "from-vars"},
 "steps": [
  {"id": "opp", "type": "lever.get_opportunity", "connection": "acme", "input": {"opportunity_id": "<<trigger.opportunityId>>"}},
  {"id": "greet", "type": "transform", "input": {"value": "Hi <<steps.opp.name>> (<<vars.tag>>)"}},
  {"id": "tag", "type": "lever.add_opportunity_tags", "connection": "acme"},
  {"id": "each", "type": "fanout", "input": {"items": [1, 2]}, "steps": [
    {"id": "double", "type": "transform", "input": {"value": "<<item * 2>>"}}]}
 ],
 "edges": [{"from": "opp", "to": "greet"}, {"from": "greet", "to": "tag"}]}`

func TestTestStep(t *testing.T) {
	f := setup(t)
	f.createConnection("acme")
	opp := f.sb.Opportunities()[0]
	before := f.runCount()
	wf := jsonValue(t, testStepWorkflow)

	tests := []struct {
		name       string
		body       map[string]any
		status     string
		output     func(t *testing.T, out any)
		errorHolds string
	}{
		{
			name:   "a Lever step calls the sandbox",
			body:   map[string]any{"workflow": wf, "step_id": "opp", "trigger": map[string]any{"opportunityId": opp.ID}},
			status: "succeeded",
			output: func(t *testing.T, out any) {
				if m, _ := out.(map[string]any); m["id"] != opp.ID || m["name"] != opp.Name {
					t.Errorf("output %v, want opportunity %s (%s)", out, opp.ID, opp.Name)
				}
			},
		},
		{
			name:   "references read the given upstream outputs and vars",
			body:   map[string]any{"workflow": wf, "step_id": "greet", "steps": map[string]any{"opp": map[string]any{"name": "Ada"}}},
			status: "succeeded",
			output: func(t *testing.T, out any) {
				if out != "Hi Ada (from-vars)" {
					t.Errorf("output %v, want the rendered greeting", out)
				}
			},
		},
		{
			name:   "a step inside a fanout gets item",
			body:   map[string]any{"workflow": wf, "step_id": "double", "item": 21},
			status: "succeeded",
			output: func(t *testing.T, out any) {
				if out != float64(42) {
					t.Errorf("output %v, want 42", out)
				}
			},
		},
		{
			name:       "a missing upstream output fails the step with the reason",
			body:       map[string]any{"workflow": wf, "step_id": "greet"},
			status:     "failed",
			errorHolds: "steps.opp",
		},
		{
			name:       "Lever's 404 is the step's error",
			body:       map[string]any{"workflow": wf, "step_id": "opp", "trigger": map[string]any{"opportunityId": "nope"}},
			status:     "failed",
			errorHolds: "404",
		},
		{
			name:       "a step without its required input fails as in a run",
			body:       map[string]any{"workflow": wf, "step_id": "tag"},
			status:     "failed",
			errorHolds: "opportunity_id",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ans := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/test-step", Body: tc.body}).json(t)
			if ans["status"] != tc.status {
				t.Fatalf("status %v, want %s: %v", ans["status"], tc.status, ans)
			}
			if tc.output != nil {
				tc.output(t, ans["output"])
			}
			if msg, _ := ans["error"].(string); !strings.Contains(msg, tc.errorHolds) {
				t.Errorf("error %q does not hold %q", msg, tc.errorHolds)
			}
			if _, ok := ans["duration_ms"].(float64); !ok {
				t.Errorf("no duration_ms in %v", ans)
			}
		})
	}
	if after := f.runCount(); after != before {
		t.Errorf("testing steps made %d runs; it must store nothing", after-before)
	}
}

func TestTestStepBadRequests(t *testing.T) {
	f := setup(t)
	wf := jsonValue(t, testStepWorkflow)
	tests := []struct {
		name   string
		req    request
		status int
		code   string
		holds  string
	}{
		{"no workflow", request{Body: map[string]any{"step_id": "opp"}}, 400, "bad_request", "workflow is missing"},
		{"no step id", request{Body: map[string]any{"workflow": wf}}, 400, "bad_request", "step_id is missing"},
		{"unknown step", request{Body: map[string]any{"workflow": wf, "step_id": "zz"}}, 422, "invalid_workflow", `no step "zz"`},
		{"a fanout cannot run alone", request{Body: map[string]any{"workflow": wf, "step_id": "each"}}, 422, "invalid_workflow", "test the steps inside it"},
		{"a workflow that does not decode", request{Body: map[string]any{"workflow": map[string]any{"steps": "no"}, "step_id": "x"}}, 422, "invalid_workflow", "workflow.steps"},
		{"unknown field", request{Body: map[string]any{"workflow": wf, "step_id": "opp", "stepid": 1}}, 400, "bad_request", "stepid"},
		{"a reader may not", request{Body: map[string]any{"workflow": wf, "step_id": "greet"}, Token: readerToken}, 403, "forbidden", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Method, tc.req.Path = "POST", "/api/v1/workflows/test-step"
			r := f.do(tc.req)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			code, msg := r.errorCode(t)
			if code != tc.code || !strings.Contains(msg, tc.holds) {
				t.Errorf("error %s %q, want %s holding %q", code, msg, tc.code, tc.holds)
			}
		})
	}
}

func TestListRunsFilters(t *testing.T) {
	f := setup(t)
	f.saveWorkflow("echo", `{"name": "echo", "trigger": {"type": "api"}, "steps": [{"id": "t", "type": "transform", "input": {"value": "<<trigger.n>>"}}]}`)
	var ids []string
	for i := range 3 {
		r := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=10s", Body: fmt.Sprintf(`{"n": %d}`, i)}).json(t)
		ids = append(ids, r["id"].(string))
	}
	list := func(q string) []any {
		t.Helper()
		runs, _ := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs?" + q}).json(t)["runs"].([]any)
		return runs
	}
	if got := list("trigger_type=api"); len(got) != 3 || got[0].(map[string]any)["trigger_type"] != "api" {
		t.Errorf("trigger_type=api: %v, want the 3 runs with their trigger type", got)
	}
	if got := list("trigger_type=schedule"); len(got) != 0 {
		t.Errorf("trigger_type=schedule: %d runs, want 0", len(got))
	}
	if got := list("since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z"); len(got) != 3 {
		t.Errorf("a window around now: %d runs, want 3", len(got))
	}
	if got := list("until=2000-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("until long ago: %d runs, want 0", len(got))
	}
	for _, q := range []string{"since=yesterday", "until=3", "since=2030-01-01T00:00:00Z&until=2020-01-01T00:00:00Z"} {
		if r := f.do(request{Method: "GET", Path: "/api/v1/runs?" + q}); r.status != http.StatusBadRequest {
			t.Errorf("GET /runs?%s: %d, want 400", q, r.status)
		}
	}
}

// jsonValue decodes a JSON literal of a test.
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("a test's JSON: %v", err)
	}
	return v
}
