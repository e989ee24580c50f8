package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// steppingClock is a clock that moves 1ms at each reading, from a fixed
// start: deterministic, and never giving two finishes the same time.
func steppingClock(c *setupConfig) {
	base := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	var n atomic.Int64
	c.Now = func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

// runsOf waits until the workflow has want runs, all finished, and
// returns them.
func (e *env) runsOf(workflowID string, want int) []*workflow.Run {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := e.store.ListRuns(e.ctx, store.RunFilter{WorkflowID: workflowID})
		if err != nil {
			e.t.Fatal(err)
		}
		done := len(runs) == want
		for _, r := range runs {
			done = done && r.Status.Terminal()
		}
		if done {
			return runs
		}
		if len(runs) > want || time.Now().After(deadline) {
			e.t.Fatalf("workflow %s has %d runs, want %d finished", workflowID, len(runs), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop stops the engine, waiting for its notifications.
func (e *env) stop() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if err := e.eng.Stop(ctx); err != nil {
		e.t.Fatal(err)
	}
}

const errorWorkflow = `{"name": "on error", "trigger": {"type": "api"}, "steps": [
  {"id": "log", "type": "transform", "input": {"value": "<<trigger.failed_steps[0].step_id>> of <<trigger.workflow_name>>"}}]}`

func TestOnFailureStartsErrorWorkflow(t *testing.T) {
	t.Parallel()
	e := setup(t, steppingClock)
	e.probe.perm["w"] = errors.New("boom")
	e.save("errwf", errorWorkflow)
	run := e.runOnce("main", `{"name": "main flow", "on_failure": {"workflow": "errwf"}, "trigger": {"type": "api"}, "steps": [
  {"id": "ok", "type": "transform", "input": {"value": 1}},
  {"id": "w", "type": "test.work", "input": {}}], "edges": [{"from": "ok", "to": "w"}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)

	runs := e.runsOf("errwf", 1)
	er := e.get(runs[0].ID)
	wantStatus(t, er, workflow.RunSucceeded)
	if er.TriggerType != engine.TriggerError {
		t.Errorf("error run's trigger type = %q, want %q", er.TriggerType, engine.TriggerError)
	}
	var sum engine.FailureSummary
	if err := json.Unmarshal(er.Trigger, &sum); err != nil {
		t.Fatal(err)
	}
	want := engine.FailureSummary{RunID: run.ID, WorkflowID: "main", WorkflowName: "main flow", Version: 1, Error: run.Error,
		FailedSteps: []engine.FailedStep{{StepID: "w", Type: "test.work", Error: "boom", Attempts: 1}},
		StartedAt:   run.StartedAt, FinishedAt: *run.FinishedAt, TriggerType: "api"}
	if got, w := mustJSON(t, sum), mustJSON(t, want); got != w {
		t.Errorf("summary =\n%s\nwant\n%s", got, w)
	}
	if got := output(t, er, "log"); got != "w of main flow" {
		t.Errorf("error workflow's step = %v", got)
	}

	// A retry that fails again notifies again, once.
	wantStatus(t, e.retry(run.ID), workflow.RunFailed)
	runs = e.runsOf("errwf", 2)
	if runs[0].ID == runs[1].ID {
		t.Fatal("two notifications with one id")
	}
	e.stop()
	e.runsOf("errwf", 2)
}

func TestErrorWorkflowNeverNotifiesItself(t *testing.T) {
	t.Parallel()
	e := setup(t, steppingClock)
	e.probe.perm["w"] = errors.New("boom")
	e.probe.perm["again"] = errors.New("the error workflow fails too")
	e.save("errwf", `{"name": "failing error workflow", "on_failure": {"workflow": "errwf"}, "trigger": {"type": "api"}, "steps": [
  {"id": "again", "type": "test.work", "input": {}}]}`)
	run := e.runOnce("main", `{"name": "main", "on_failure": {"workflow": "errwf"}, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	wantStatus(t, e.get(e.runsOf("errwf", 1)[0].ID), workflow.RunFailed)
	e.stop()
	e.runsOf("errwf", 1)
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOnFailureMissingWorkflowIsLogged(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := setup(t, steppingClock, func(c *setupConfig) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	e.probe.perm["w"] = errors.New("boom")
	run := e.runOnce("main", `{"name": "main", "on_failure": {"workflow": "gone"}, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	e.stop()
	if !strings.Contains(logs.String(), "level=WARN msg=\"on_failure names a workflow that does not exist") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

func TestOnFailureWebhook(t *testing.T) {
	t.Parallel()
	type hit struct {
		body []byte
		key  string
	}
	hits := make(chan hit, 10)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		hits <- hit{body, r.Header.Get("Idempotency-Key")}
		if n.Add(1) == 1 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	e := setup(t, steppingClock, manualStart, func(c *setupConfig) { c.HTTPClient = srv.Client() })
	engine.SetNotifyBackoff(e.eng, 5*time.Millisecond)
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.probe.perm["w"] = errors.New("boom")
	run := e.runOnce("main", `{"name": "main", "on_failure": {"webhook": "`+srv.URL+`/hook"}, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	var got []hit
	for len(got) < 2 {
		select {
		case h := <-hits:
			got = append(got, h)
		case <-time.After(10 * time.Second):
			t.Fatalf("the webhook got %d posts, want 2 (a 500, then the retry)", len(got))
		}
	}
	e.stop()
	if len(hits) != 0 {
		t.Errorf("the webhook got %d more posts after its 2xx", len(hits))
	}
	if !bytes.Equal(got[0].body, got[1].body) || got[0].key == "" || got[0].key != got[1].key {
		t.Errorf("the retry differs: %s (%s) vs %s (%s)", got[0].body, got[0].key, got[1].body, got[1].key)
	}
	var sum engine.FailureSummary
	if err := json.Unmarshal(got[1].body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.RunID != run.ID || sum.WorkflowID != "main" || len(sum.FailedSteps) != 1 || sum.FailedSteps[0].Error != "boom" || sum.Error != run.Error {
		t.Errorf("summary = %+v", sum)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// get reads a run with its steps.
func (e *env) get(id string) *workflow.Run {
	e.t.Helper()
	run, err := e.eng.GetRun(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}
