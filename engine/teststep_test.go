package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

func TestTestStep(t *testing.T) {
	e := setup(t)
	var throttled atomic.Int32
	anyObj := &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}
	// test.throttle asks to wait 20 ms twice, then succeeds.
	if err := e.reg.Add(steps.Spec{Type: "test.throttle", Title: "Throttle", Category: "Test", Input: anyObj,
		Run: func(_ context.Context, req *steps.Request) (any, error) {
			if throttled.Add(1) <= 2 {
				return nil, steps.Park(errors.New("throttled"), req.Now.Add(20*time.Millisecond), "throttled")
			}
			return map[string]any{"attempt": req.Attempt}, nil
		}}); err != nil {
		t.Fatal(err)
	}
	// test.forever always asks to wait, 1 ms at a time.
	if err := e.reg.Add(steps.Spec{Type: "test.forever", Title: "Forever", Category: "Test", Input: anyObj,
		Run: func(_ context.Context, req *steps.Request) (any, error) {
			return nil, steps.Park(errors.New("throttled"), req.Now.Add(time.Millisecond), "still throttled")
		}}); err != nil {
		t.Fatal(err)
	}
	// A draft: "prev" is no step of it, which a test of one step allows.
	wf, probs := workflow.Decode([]byte(`{"name": "t", "trigger": {"type": "api"}, "steps": [
		{"id": "greet", "type": "transform", "input": {"value": "<<trigger.name>> / <<steps.prev.n>>"}},
		{"id": "pause", "type": "delay", "input": {"for": "1h"}},
		{"id": "slow", "type": "test.throttle"},
		{"id": "stuck", "type": "test.forever"},
		{"id": "boom", "type": "test.work", "input": {}},
		{"id": "each", "type": "fanout", "input": {"items": [1]}, "steps": [{"id": "inner", "type": "transform", "input": {"value": "<<item + index>>"}}]}
	]}`))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	e.probe.mu.Lock()
	e.probe.perm["boom"] = errors.New("bad input")
	e.probe.mu.Unlock()

	tests := []struct {
		name, step string
		req        engine.TestStepRequest
		status     string
		output     any
		errHolds   string
	}{
		{"renders references", "greet", engine.TestStepRequest{Trigger: map[string]any{"name": "Ada"}, Steps: map[string]any{"prev": map[string]any{"n": 3}}}, "succeeded", "Ada / 3", ""},
		{"a long delay is reported, not waited", "pause", engine.TestStepRequest{}, "waiting", nil, "would wait until"},
		{"a short throttle is waited out", "slow", engine.TestStepRequest{}, "succeeded", map[string]any{"attempt": float64(3)}, ""},
		{"a step that keeps waiting stops after a few attempts", "stuck", engine.TestStepRequest{}, "waiting", nil, "still throttled"},
		{"a permanent failure", "boom", engine.TestStepRequest{}, "failed", nil, "bad input"},
		{"item and index inside a fanout", "inner", engine.TestStepRequest{Item: 40, Index: 2}, "succeeded", float64(42), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Workflow, tc.req.StepID = wf, tc.step
			res, err := e.eng.TestStep(e.ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || !strings.Contains(res.Error, tc.errHolds) {
				t.Fatalf("status %s, error %q; want %s holding %q", res.Status, res.Error, tc.status, tc.errHolds)
			}
			if tc.output != nil && !equalJSON(res.Output, tc.output) {
				t.Errorf("output %#v, want %#v", res.Output, tc.output)
			}
		})
	}
	if n := e.probe.count("boom"); n != 1 {
		t.Errorf("the failing step ran %d times, want 1 (a test never retries a failure)", n)
	}

	for _, tc := range []struct {
		step string
		want error
	}{{"nope", engine.ErrStepNotFound}, {"each", engine.ErrNotTestable}} {
		if _, err := e.eng.TestStep(e.ctx, engine.TestStepRequest{Workflow: wf, StepID: tc.step}); !errors.Is(err, tc.want) {
			t.Errorf("TestStep(%s): %v, want %v", tc.step, err, tc.want)
		}
	}
}

// equalJSON compares two values as JSON.
func equalJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
