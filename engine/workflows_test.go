package engine_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// connections is a set of connection names per user that tests change.
type connections struct {
	mu    sync.Mutex
	names map[string]bool // "user/name"
}

func (c *connections) add(user, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.names[user+"/"+name] = true
}

func (c *connections) has(user, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names[user+"/"+name]
}

const hiredDoc = `{
  "name": "on hire",
  "trigger": {"type": "lever.candidate_hired", "connection": "acme"},
  "steps": [{"id": "note", "type": "transform", "input": {"value": "<<trigger>>"}}]
}`

func TestEnableWorkflowRevalidatesConnections(t *testing.T) {
	t.Parallel()
	conns := &connections{names: map[string]bool{}}
	e := setup(t, func(c *setupConfig) { c.HasConnection = conns.has })
	e.save("hired", hiredDoc)
	if w, err := e.eng.GetWorkflow(e.ctx, "hired"); err != nil || w.Enabled {
		t.Fatalf("a saved workflow = %+v, %v; want it disabled", w, err)
	}

	_, err := e.eng.EnableWorkflow(e.ctx, "hired")
	var inv *engine.InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, engine.ErrInvalidWorkflow) {
		t.Fatalf("EnableWorkflow with connection acme missing = %v, want an InvalidError", err)
	}
	if len(inv.Problems) != 1 || inv.Problems[0].Path != "trigger.connection" || !strings.Contains(inv.Problems[0].Message, "acme") {
		t.Errorf("problems = %v, want one at trigger.connection naming acme", inv.Problems)
	}
	if w, _ := e.eng.GetWorkflow(e.ctx, "hired"); w.Enabled {
		t.Error("a refused enable enabled the workflow")
	}

	conns.add("", "acme")
	w, err := e.eng.EnableWorkflow(e.ctx, "hired")
	if err != nil || !w.Enabled || w.TriggerType != "lever.candidate_hired" || w.TriggerConnection != "acme" {
		t.Fatalf("EnableWorkflow = %+v, %v; want it enabled", w, err)
	}
	listed, err := e.eng.ListWorkflows(e.ctx, store.WorkflowFilter{Enabled: new(true), TriggerConnection: "acme"})
	if err != nil || len(listed) != 1 || listed[0].ID != "hired" {
		t.Errorf("ListWorkflows(enabled, acme) = %v, %v; want hired", listed, err)
	}
	if w, err := e.eng.DisableWorkflow(e.ctx, "hired"); err != nil || w.Enabled {
		t.Errorf("DisableWorkflow = %+v, %v; want it disabled", w, err)
	}
	for _, id := range []string{"nope", ""} {
		if _, err := e.eng.EnableWorkflow(e.ctx, id); err == nil {
			t.Errorf("EnableWorkflow(%q) succeeded", id)
		}
	}
}

func TestCreateUpdateDeleteWorkflow(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wf, probs := workflow.Parse([]byte(hiredDoc), workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := e.eng.CreateWorkflow(e.ctx, "wf", wf); err != nil {
		t.Fatalf("CreateWorkflow: %v", err)
	}
	if _, err := e.eng.CreateWorkflow(e.ctx, "wf", wf); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateWorkflow of an existing id = %v, want ErrConflict", err)
	}
	if v, err := e.eng.UpdateWorkflow(e.ctx, "wf", wf); err != nil || v.Version != 2 {
		t.Errorf("UpdateWorkflow = %+v, %v; want version 2", v, err)
	}
	if _, err := e.eng.UpdateWorkflow(e.ctx, "nope", wf); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateWorkflow of a missing id = %v, want ErrNotFound", err)
	}
	vs, err := e.eng.ListWorkflowVersions(e.ctx, "wf")
	if err != nil || len(vs) != 2 || vs[0].Version != 2 {
		t.Errorf("ListWorkflowVersions = %v, %v; want 2 then 1", vs, err)
	}
	bad := *wf
	bad.Steps = nil
	var inv *engine.InvalidError
	if _, err := e.eng.UpdateWorkflow(e.ctx, "wf", &bad); !errors.As(err, &inv) {
		t.Errorf("UpdateWorkflow of an invalid workflow = %v, want an InvalidError", err)
	}

	// A run queued before the delete still runs; none starts after it.
	queued := e.start("wf", `{"x": 1}`)
	if err := e.eng.DeleteWorkflow(e.ctx, "wf"); err != nil {
		t.Fatalf("DeleteWorkflow: %v", err)
	}
	wantStatus(t, e.wait(queued.ID), workflow.RunSucceeded)
	for _, req := range []engine.StartRequest{{WorkflowID: "wf"}, {WorkflowID: "wf", Version: 1}} {
		if _, err := e.eng.StartRun(e.ctx, req); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("StartRun(%+v) of a deleted workflow = %v, want ErrNotFound", req, err)
		}
	}
	for name, err := range map[string]error{
		"delete again": e.eng.DeleteWorkflow(e.ctx, "wf"),
		"get":          second(e.eng.GetWorkflow(e.ctx, "wf")),
		"versions":     second(e.eng.ListWorkflowVersions(e.ctx, "wf")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a deleted workflow = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := e.eng.CreateWorkflow(e.ctx, "wf", wf); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateWorkflow with a deleted workflow's id = %v, want ErrConflict", err)
	}
	runs, err := e.eng.ListRuns(e.ctx, store.RunFilter{WorkflowID: "wf"})
	if err != nil || len(runs) != 1 {
		t.Errorf("ListRuns of a deleted workflow = %d runs, %v; want its run", len(runs), err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestStartRunRecordsOrigin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("hired", hiredDoc)
	for _, tc := range []struct {
		name      string
		req       engine.StartRequest
		wantType  string
		wantEvent string
	}{
		{"the workflow's trigger type", engine.StartRequest{WorkflowID: "hired", EventID: "evt-1"}, "lever.candidate_hired", "evt-1"},
		{"an explicit trigger type", engine.StartRequest{WorkflowID: "hired", TriggerType: "api"}, "api", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, err := e.eng.StartRun(e.ctx, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got := e.wait(run.ID)
			if run.TriggerType != tc.wantType || got.TriggerType != tc.wantType || got.EventID != tc.wantEvent {
				t.Errorf("run origin = %q/%q (stored %q), want %q/%q", run.TriggerType, got.EventID, got.TriggerType, tc.wantType, tc.wantEvent)
			}
			listed, err := e.eng.ListRuns(e.ctx, store.RunFilter{TriggerType: tc.wantType})
			if err != nil || len(listed) != 1 || listed[0].ID != run.ID {
				t.Errorf("ListRuns(trigger type %s) = %v, %v; want the run", tc.wantType, listed, err)
			}
		})
	}
}

func TestListArgumentsAreChecked(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"negative limit", func() error { return second(e.eng.ListRuns(e.ctx, store.RunFilter{Limit: -1})) }},
		{"limit too big", func() error { return second(e.eng.ListRuns(e.ctx, store.RunFilter{Limit: engine.MaxPageSize + 1})) }},
		{"unknown status", func() error { return second(e.eng.ListRuns(e.ctx, store.RunFilter{Status: "done"})) }},
		{"empty window", func() error {
			return second(e.eng.ListRuns(e.ctx, store.RunFilter{CreatedAfter: now, CreatedBefore: now}))
		}},
		{"workflows limit", func() error { return second(e.eng.ListWorkflows(e.ctx, store.WorkflowFilter{Limit: -5})) }},
		{"empty trigger type", func() error {
			return second(e.eng.ListWorkflows(e.ctx, store.WorkflowFilter{TriggerTypes: []string{""}}))
		}},
		{"empty id", func() error { return second(e.eng.GetWorkflow(e.ctx, "")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, engine.ErrInvalidArgument) {
				t.Errorf("error = %v, want ErrInvalidArgument", err)
			}
		})
	}
	if _, err := e.eng.ListRuns(e.ctx, store.RunFilter{Limit: engine.MaxPageSize, Status: workflow.RunQueued}); err != nil {
		t.Errorf("ListRuns at the largest page: %v", err)
	}
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	runs     []*workflow.Run
	steps    map[string]int // by key
	types    map[string]int // by step type
	finished chan string    // run ids
}

func newRecorder() *recorder {
	return &recorder{steps: map[string]int{}, types: map[string]int{}, finished: make(chan string, 10)}
}

func (r *recorder) RunFinished(run *workflow.Run) {
	r.mu.Lock()
	r.runs = append(r.runs, run)
	r.mu.Unlock()
	r.finished <- run.ID
}

func (r *recorder) StepFinished(stepType string, step *workflow.StepRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps[step.Key]++
	r.types[stepType]++
}

func (r *recorder) await(t *testing.T, id string) {
	t.Helper()
	select {
	case got := <-r.finished:
		if got != id {
			t.Fatalf("RunFinished(%s), want %s", got, id)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("RunFinished(%s) was not called", id)
	}
}

func TestObserverSeesEveryFinishedStepOnce(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	e := setup(t, func(c *setupConfig) { c.Observer = rec })
	e.probe.failures["flaky"] = 2
	run := e.runOnce("observed", `{
  "name": "observed",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "check", "type": "condition", "input": {"if": "<<trigger.go>>"}},
    {"id": "yes", "type": "transform", "input": {"value": 1}},
    {"id": "no", "type": "transform", "input": {"value": 2}},
    {"id": "flaky", "type": "test.work", "input": {}, "retry": {"max_attempts": 3, "initial": "1ms", "max": "1ms"}}
  ],
  "edges": [
    {"from": "check", "to": "yes", "branch": "true"},
    {"from": "check", "to": "no", "branch": "false"},
    {"from": "yes", "to": "flaky"}
  ]
}`, `{"go": true}`)
	wantStatus(t, run, workflow.RunSucceeded)
	rec.await(t, run.ID)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.runs) != 1 || rec.runs[0].Status != workflow.RunSucceeded || rec.runs[0].FinishedAt == nil || rec.runs[0].Steps != nil {
		t.Errorf("RunFinished calls = %+v, want one succeeded run without steps", rec.runs)
	}
	for key := range run.Steps {
		if rec.steps[key] != 1 {
			t.Errorf("StepFinished for %s: %d calls, want 1", key, rec.steps[key])
		}
	}
	if len(rec.steps) != len(run.Steps) {
		t.Errorf("StepFinished for %v, want the run's %d steps", rec.steps, len(run.Steps))
	}
	want := map[string]int{"condition": 1, "transform": 2, "test.work": 1}
	for typ, n := range want {
		if rec.types[typ] != n {
			t.Errorf("StepFinished(%s) %d times, want %d (all: %v)", typ, rec.types[typ], n, rec.types)
		}
	}
}

func TestObserverSeesACancelledQueuedRun(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	e := setup(t, manualStart, func(c *setupConfig) { c.Observer = rec })
	e.save("hired", hiredDoc)
	run := e.start("hired", `{}`)
	if _, err := e.eng.CancelRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	rec.await(t, run.ID)
	if got := rec.runs[0]; got.Status != workflow.RunCancelled {
		t.Errorf("RunFinished(%+v), want it cancelled", got)
	}
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestHealthy(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	const poll = time.Hour // the loop ticks once, at start, during the test
	e := setup(t, manualStart, func(c *setupConfig) { c.Now, c.PollInterval = clk.Now, poll })
	if err := e.eng.Healthy(e.ctx); err != nil {
		t.Fatalf("Healthy before Start: %v", err)
	}
	ticked := make(chan struct{}, 1)
	engine.SetOnTick(e.eng, func() {
		select {
		case ticked <- struct{}{}:
		default:
		}
	})
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	<-ticked
	for _, tc := range []struct {
		name    string
		advance time.Duration
		want    string
	}{
		{"just ticked", 0, ""},
		{"three intervals", 3 * poll, ""},
		{"past three intervals", time.Second, "has not ticked for 3h0m1s"},
	} {
		clk.advance(tc.advance)
		err := e.eng.Healthy(e.ctx)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Healthy = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Healthy = %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if err := e.eng.Stop(e.ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Healthy(e.ctx); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("Healthy after Stop = %v, want an error saying stopped", err)
	}
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Healthy(e.ctx); err == nil {
		t.Error("Healthy with the store closed succeeded")
	}
}

func TestRunsStartedFromEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("hired", hiredDoc)
	ev, inserted, err := e.store.InsertEvent(e.ctx, &store.Event{
		ID: "01900000-0000-7000-8000-000000000001", Source: store.EventSourceLever, Connection: "acme", Type: "candidateHired",
		DedupeKey: "d1", Payload: json.RawMessage(`{}`), ReceivedAt: time.Now(),
	})
	if err != nil || !inserted {
		t.Fatalf("InsertEvent = %v, %v", inserted, err)
	}
	run, err := e.eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "hired", EventID: ev.ID, Trigger: ev.Payload})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.FinishEvent(e.ctx, ev.ID, store.EventResult{Status: store.EventRouted, RunIDs: []string{run.ID}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(run.ID), workflow.RunSucceeded)
	runs, err := e.eng.ListRuns(e.ctx, store.RunFilter{EventID: ev.ID})
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID {
		t.Errorf("ListRuns(event) = %v, %v; want the run", runs, err)
	}
	if err := e.eng.Healthy(e.ctx); err != nil {
		t.Errorf("Healthy: %v", err)
	}
}
