package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

// edgeSteps are step types of the edge-case tests, added to an env's
// registry before its engine starts (the registry is not safe to change
// while an engine reads it).
type edgeSteps struct {
	mu    sync.Mutex
	calls map[string]int // by run id + "/" + step key

	gate     chan struct{} // closes to free gated steps
	gateOnce sync.Once
	gated    chan string // a key each time a gated step starts
}

func addEdgeSteps(t *testing.T, e *env) *edgeSteps {
	t.Helper()
	s := &edgeSteps{calls: map[string]int{}, gate: make(chan struct{}), gated: make(chan string, 100)}
	t.Cleanup(s.open)
	anyObj := &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}
	for _, spec := range []steps.Spec{
		{Type: "test.count", Title: "Count", Category: "Test", Input: anyObj, Run: s.count},
		{Type: "test.panic", Title: "Panic", Category: "Test", Input: anyObj, Run: s.panic},
		{Type: "test.gate", Title: "Gate", Category: "Test", Input: anyObj, Run: s.gateRun},
	} {
		if err := e.reg.Add(spec); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *edgeSteps) open() { s.gateOnce.Do(func() { close(s.gate) }) }

func (s *edgeSteps) count(_ context.Context, req *steps.Request) (any, error) {
	s.mu.Lock()
	s.calls[req.RunID+"/"+req.Key]++
	s.mu.Unlock()
	return map[string]any{"key": req.Key, "input": req.Input}, nil
}

func (s *edgeSteps) panic(_ context.Context, req *steps.Request) (any, error) {
	panic(fmt.Sprintf("kaboom in %s", req.Key))
}

// gateRun waits for the gate or its context.
func (s *edgeSteps) gateRun(ctx context.Context, req *steps.Request) (any, error) {
	s.gated <- req.Key
	select {
	case <-s.gate:
		return map[string]any{"opened": true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *edgeSteps) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// openEngine builds an engine of its own on st (started when start is
// set) and stops it at the end of the test.
func openEngine(t *testing.T, st store.Store, reg engine.Catalog, worker string, start bool, opts ...option) *engine.Engine {
	t.Helper()
	c := setupConfig{Options: engine.Options{Store: st, Steps: reg, WorkerID: worker, PollInterval: 50 * time.Millisecond, Lease: 5 * time.Second}}
	for _, f := range opts {
		f(&c)
	}
	eng, err := engine.New(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if start && !c.manual {
		if err := eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Stop(ctx); err != nil {
			t.Errorf("stop %s: %v", worker, err)
		}
	})
	return eng
}

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := gormstore.Open(context.Background(), gormstore.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func saveOn(t *testing.T, eng *engine.Engine, reg *steps.Registry, id, doc string) {
	t.Helper()
	wf, probs := workflow.Parse([]byte(doc), workflow.ValidateOptions{Steps: reg})
	if len(probs) > 0 {
		t.Fatalf("workflow %s invalid: %v", id, probs)
	}
	if _, err := eng.SaveWorkflow(context.Background(), id, wf); err != nil {
		t.Fatal(err)
	}
}

func waitOn(t *testing.T, eng *engine.Engine, id string) *workflow.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := eng.Wait(ctx, id)
	if err != nil {
		t.Fatalf("waiting for run %s: %v", id, err)
	}
	return run
}

// pollRun reads the run from the store until ok holds, failing the test
// after a deadline.
func pollRun(t *testing.T, st store.Store, id string, what string, ok func(*workflow.Run) bool) *workflow.Run {
	t.Helper()
	var last *workflow.Run
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r, err := st.GetRun(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		last = r
		if ok(r) {
			return r
		}
	}
	t.Fatalf("run %s never became %s; last status %s (error %q), steps %v", id, what, last.Status, last.Error, stepStatuses(last))
	return nil
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hookStore lets a test act just before and just after the engine parks a
// run, and watch the engine's claims.
type hookStore struct {
	store.Store
	beforePark atomic.Pointer[func(runID string)]
	afterPark  atomic.Pointer[func(runID string)]

	claimCalls atomic.Int64 // ClaimRuns calls begun
	mu         sync.Mutex
	claimedIn  map[string]int64 // run id -> the ClaimRuns call that claimed it
}

func (h *hookStore) Apply(ctx context.Context, owner string, u store.Update) error {
	if u.Status == workflow.RunWaiting {
		if f := h.beforePark.Load(); f != nil {
			(*f)(u.RunID)
		}
	}
	err := h.Store.Apply(ctx, owner, u)
	if err == nil && u.Status == workflow.RunWaiting {
		if f := h.afterPark.Load(); f != nil {
			(*f)(u.RunID)
		}
	}
	return err
}

func (h *hookStore) ClaimRuns(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*workflow.Run, error) {
	call := h.claimCalls.Add(1)
	runs, err := h.Store.ClaimRuns(ctx, owner, now, lease, limit)
	h.mu.Lock()
	if h.claimedIn == nil {
		h.claimedIn = map[string]int64{}
	}
	for _, r := range runs {
		h.claimedIn[r.ID] = call
	}
	h.mu.Unlock()
	return runs, err
}

// claimHandled reports whether the engine claimed the run through
// ClaimRuns and has since begun another ClaimRuns call: the poll loop
// hands what it claims to launch before it claims again.
func (h *hookStore) claimHandled(id string) bool {
	h.mu.Lock()
	call := h.claimedIn[id]
	h.mu.Unlock()
	return call != 0 && h.claimCalls.Load() > call
}

// shiftedClock is a clock a test can move forward.
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func TestNestedFanoutSeesInnerItemAndOuterSteps(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("nested", `{"name": "nested", "trigger": {"type": "api"}, "steps": [
  {"id": "base", "type": "transform", "input": {"value": {"mult": 10}}},
  {"id": "outer", "type": "fanout", "input": {"items": "<<trigger.groups>>", "concurrency": 2},
   "steps": [
     {"id": "label", "type": "transform", "input": {"value": "g<<index>>-<<item.name>>"}},
     {"id": "inner", "type": "fanout", "input": {"items": "<<item.members>>", "concurrency": 2},
      "steps": [
        {"id": "cell", "type": "test.work", "input": {"item": "<<item>>", "index": "<<index>>", "label": "<<steps.label>>", "scaled": "<<item * steps.base.mult>>"}},
        {"id": "shape", "type": "transform", "input": {"value": {"item": "<<item>>", "index": "<<index>>", "label": "<<steps.label>>", "scaled": "<<steps.cell.input.scaled>>"}}}],
      "edges": [{"from": "cell", "to": "shape"}]}],
   "edges": [{"from": "label", "to": "inner"}]},
  {"id": "all", "type": "transform", "input": {"value": "<<steps.outer>>"}}],
  "edges": [{"from": "base", "to": "outer"}, {"from": "outer", "to": "all"}]}`,
		`{"groups": [{"name": "a", "members": [1, 2, 3]}, {"name": "b", "members": []}, {"name": "c", "members": [4]}]}`)
	wantStatus(t, run, workflow.RunSucceeded)
	want := `[[{"index":0,"item":1,"label":"g0-a","scaled":10},{"index":1,"item":2,"label":"g0-a","scaled":20},{"index":2,"item":3,"label":"g0-a","scaled":30}],` +
		`[],[{"index":0,"item":4,"label":"g2-c","scaled":40}]]`
	if got := jsonOf(t, output(t, run, "all")); got != want {
		t.Errorf("outer output\n got %s\nwant %s", got, want)
	}
	for _, key := range []string{"outer[0].inner[2].cell", "outer[2].inner[0].shape", "outer[1].inner", "outer[1].label"} {
		if rec := run.Steps[key]; rec == nil || rec.Status != workflow.StepSucceeded {
			t.Errorf("step %s not succeeded: %v", key, stepStatuses(run))
		}
	}
	for _, key := range []string{"outer[0].inner[0].cell", "outer[0].inner[1].cell", "outer[0].inner[2].cell", "outer[2].inner[0].cell"} {
		if n := e.probe.count(key); n != 1 {
			t.Errorf("%s ran %d times, want once", key, n)
		}
	}
}

// deadWorkerRun creates a run as a worker that died would have left it:
// claimed under a short lease, with the given step runs written.
func deadWorkerRun(t *testing.T, e *env, id, workflowID string, recs []*workflow.StepRun) {
	t.Helper()
	run := &workflow.Run{ID: id, WorkflowID: workflowID, Version: 1, Status: workflow.RunQueued, Trigger: json.RawMessage(`{}`), CreatedAt: time.Now().UTC()}
	if err := e.store.CreateRun(e.ctx, run); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ClaimRun(e.ctx, id, "dead-worker", time.Now().UTC(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		rec.RunID = id
	}
	if err := e.store.Apply(e.ctx, "dead-worker", store.Update{RunID: id, Steps: recs}); err != nil {
		t.Fatal(err)
	}
}

func TestFanoutResumesAfterDeadWorker(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	e.save("fanresume", `{"name": "fanresume", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "test.work"},
  {"id": "each", "type": "fanout", "input": {"items": [0, 1, 2, 3, 4, 5], "concurrency": 2},
   "steps": [
     {"id": "work", "type": "test.work", "input": {"n": "<<item>>"}},
     {"id": "shape", "type": "transform", "input": {"value": {"n": "<<item>>", "k": "<<steps.work.key>>", "i": "<<index>>"}}}],
   "edges": [{"from": "work", "to": "shape"}]},
  {"id": "after", "type": "transform", "input": {"value": "<<steps.each>>"}}],
  "edges": [{"from": "first", "to": "each"}, {"from": "each", "to": "after"}]}`)
	now := time.Now().UTC()
	done := func(key, step, typ, out string) *workflow.StepRun {
		return &workflow.StepRun{Key: key, StepID: step, Type: typ, Status: workflow.StepSucceeded, Attempts: 1,
			Input: json.RawMessage(`{}`), Output: json.RawMessage(out), StartedAt: &now, FinishedAt: &now}
	}
	recs := []*workflow.StepRun{
		done("first", "first", "test.work", `{"key":"first"}`),
		{Key: "each", StepID: "each", Type: "fanout", Status: workflow.StepRunning, Attempts: 1,
			Input: json.RawMessage(`{"items":[0,1,2,3,4,5],"concurrency":2}`), StartedAt: &now},
		{Key: "each[3].work", StepID: "work", Type: "test.work", Status: workflow.StepRunning, Attempts: 1,
			Input: json.RawMessage(`{"n":3}`), StartedAt: &now},
	}
	for i := 0; i < 3; i++ {
		k := fmt.Sprintf("each[%d].work", i)
		recs = append(recs,
			done(k, "work", "test.work", fmt.Sprintf(`{"key":%q,"attempt":1,"input":{"n":%d}}`, k, i)),
			done(fmt.Sprintf("each[%d].shape", i), "shape", "transform", fmt.Sprintf(`{"n":%d,"k":%q,"i":%d}`, i, k, i)))
	}
	const id = "0192f000-0000-7000-8000-0000000000f1"
	deadWorkerRun(t, e, id, "fanresume", recs)
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	run := e.wait(id)
	wantStatus(t, run, workflow.RunSucceeded)
	for i := 0; i < 6; i++ {
		key := fmt.Sprintf("each[%d].work", i)
		want := 1
		if i < 3 {
			want = 0 // finished by the dead worker
		}
		if n := e.probe.count(key); n != want {
			t.Errorf("%s ran %d times, want %d", key, n, want)
		}
	}
	if e.probe.count("first") != 0 {
		t.Errorf("first ran again")
	}
	if got := run.Steps["each[3].work"].Attempts; got != 2 {
		t.Errorf("each[3].work attempts = %d, want 2 (the lost attempt counts)", got)
	}
	items := output(t, run, "after").([]any)
	if len(items) != 6 {
		t.Fatalf("fanout output has %d items: %v", len(items), items)
	}
	for i, it := range items {
		m, _ := it.(map[string]any)
		if m["n"] != float64(i) || m["i"] != float64(i) || m["k"] != fmt.Sprintf("each[%d].work", i) {
			t.Errorf("item %d = %v", i, it)
		}
	}
	if m := e.probe.maxSeen.Load(); m > 2 {
		t.Errorf("%d items ran at once after the resume, want at most the concurrency 2", m)
	}
}

func TestRetryRunReRunsOnlyFailedFanoutItems(t *testing.T) {
	t.Parallel()
	t.Run("failed fanout", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["each[1].work"] = errors.New("boom one")
		e.probe.perm["each[3].work"] = errors.New("boom three")
		e.save("fanretry", `{"name": "fanretry", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": ["a", "b", "c", "d", "e"], "concurrency": 2},
   "steps": [
     {"id": "work", "type": "test.work", "input": {"id": "<<item>>"}},
     {"id": "shape", "type": "transform", "input": {"value": "<<item>>-<<steps.work.attempt>>"}}],
   "edges": [{"from": "work", "to": "shape"}]}]}`)
		run := e.wait(e.start("fanretry", `{}`).ID)
		wantStatus(t, run, workflow.RunFailed)
		if _, ok := run.Steps["each[1].shape"]; ok {
			t.Errorf("a step after a failed step of its item ran")
		}
		e.probe.mu.Lock()
		clear(e.probe.perm)
		e.probe.mu.Unlock()
		if _, err := e.eng.RetryRun(e.ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		run = e.wait(run.ID)
		wantStatus(t, run, workflow.RunSucceeded)
		for i, want := range []int{1, 2, 1, 2, 1} {
			if n := e.probe.count(fmt.Sprintf("each[%d].work", i)); n != want {
				t.Errorf("each[%d].work ran %d times, want %d", i, n, want)
			}
		}
		if got, want := jsonOf(t, output(t, run, "each")), `["a-1","b-1","c-1","d-1","e-1"]`; got != want {
			t.Errorf("output %s, want %s", got, want)
		}
	})
	t.Run("fanout that continued on error keeps its items", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["each[1].work"] = errors.New("boom one")
		e.probe.perm["after"] = errors.New("down")
		e.save("fankeep", `{"name": "fankeep", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "on_error": "continue", "input": {"items": [1, 2, 3]},
   "steps": [{"id": "work", "type": "test.work"}]},
  {"id": "after", "type": "test.work", "input": {"each": "<<steps.each>>"}}],
  "edges": [{"from": "each", "to": "after"}]}`)
		run := e.wait(e.start("fankeep", `{}`).ID)
		wantStatus(t, run, workflow.RunFailed)
		each := string(run.Steps["each"].Output)
		e.probe.heal("after")
		run = e.retry(run.ID)
		wantStatus(t, run, workflow.RunSucceeded)
		if got := string(run.Steps["each"].Output); got != each {
			t.Errorf("the kept fanout's output changed: %s -> %s", each, got)
		}
		// The fanout kept its result (it is not run again), so the item
		// behind its "failed" list must keep its record too.
		if rec := run.Steps["each[1].work"]; rec == nil || rec.Status != workflow.StepFailed {
			t.Errorf("the failed item of a kept fanout lost its record: %v", stepStatuses(run))
		}
		if n := e.probe.count("each[1].work"); n != 1 {
			t.Errorf("each[1].work ran %d times, want once", n)
		}
	})
}

func TestFanoutOnErrorContinueReportsFailedItems(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.probe.perm["each[1].work"] = errors.New("boom one")
	e.probe.perm["each[2].work"] = errors.New("boom two")
	run := e.runOnce("fancont", `{"name": "fancont", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "on_error": "continue", "input": {"items": [10, 20, 30, 40], "concurrency": 2},
   "steps": [
     {"id": "work", "type": "test.work"},
     {"id": "shape", "type": "transform", "input": {"value": "<<item>>"}}],
   "edges": [{"from": "work", "to": "shape"}]},
  {"id": "report", "type": "transform", "input": {"value": "<<steps.each>>"}}],
  "edges": [{"from": "each", "to": "report"}]}`, `{}`)
	wantStatus(t, run, workflow.RunSucceeded)
	wantSteps(t, run, map[string]workflow.StepStatus{
		"each": workflow.StepFailed, "report": workflow.StepSucceeded,
		"each[0].shape": workflow.StepSucceeded, "each[3].shape": workflow.StepSucceeded,
		"each[1].work": workflow.StepFailed, "each[2].work": workflow.StepFailed,
	})
	// (The validator refuses <<steps.each.error>> and the like: it types
	// a fanout's output as a list, on_error: continue notwithstanding.)
	rep := output(t, run, "report").(map[string]any)
	errObj, _ := rep["error"].(map[string]any)
	if errObj["code"] != "items_failed" {
		t.Errorf("error = %v", rep["error"])
	}
	msg, _ := errObj["message"].(string)
	for _, want := range []string{"2 of 4 items failed", "item 1: step work: boom one", "item 2: step work: boom two"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if got := jsonOf(t, rep["items"]); got != `[10,null,null,40]` {
		t.Errorf("items = %s", got)
	}
	if got, want := jsonOf(t, rep["failed"]), `[{"error":"boom one","index":1,"step":"work"},{"error":"boom two","index":2,"step":"work"}]`; got != want {
		t.Errorf("failed = %s, want %s", got, want)
	}
	if got, want := jsonOf(t, output(t, run, "each")), jsonOf(t, rep); got != want {
		t.Errorf("the fanout's stored output %s differs from what the next step saw %s", got, want)
	}
}

func TestFailedBranchingStepWithContinueDeactivatesItsBranches(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("branchfail", `{"name": "branchfail", "trigger": {"type": "api"}, "steps": [
  {"id": "check", "type": "condition", "on_error": "continue", "input": {"if": "<<trigger.flag>>"}},
  {"id": "yes", "type": "transform", "input": {"value": "yes"}},
  {"id": "after_yes", "type": "transform", "input": {"value": "after yes"}},
  {"id": "no", "type": "transform", "input": {"value": "no"}},
  {"id": "always", "type": "transform", "input": {"value": "<<steps.check>>"}},
  {"id": "route", "type": "switch", "on_error": "continue", "input": {"cases": [{"name": "big", "if": "<<trigger.flag>>"}]}},
  {"id": "big", "type": "transform", "input": {"value": "big"}},
  {"id": "fallback", "type": "transform", "input": {"value": "default"}},
  {"id": "plain", "type": "transform", "input": {"value": "plain"}},
  {"id": "join", "type": "transform", "input": {"value": "joined"}}],
  "edges": [
    {"from": "check", "to": "yes", "branch": "true"},
    {"from": "yes", "to": "after_yes"},
    {"from": "check", "to": "no", "branch": "false"},
    {"from": "check", "to": "always"},
    {"from": "route", "to": "big", "branch": "big"},
    {"from": "route", "to": "fallback", "branch": "default"},
    {"from": "route", "to": "plain"},
    {"from": "after_yes", "to": "join"}, {"from": "no", "to": "join"}]}`, `{"flag": "yes"}`)
	wantStatus(t, run, workflow.RunSucceeded)
	wantSteps(t, run, map[string]workflow.StepStatus{
		"check": workflow.StepFailed, "route": workflow.StepFailed,
		"yes": workflow.StepSkipped, "after_yes": workflow.StepSkipped, "no": workflow.StepSkipped, "join": workflow.StepSkipped,
		"big": workflow.StepSkipped, "fallback": workflow.StepSkipped,
		"always": workflow.StepSucceeded, "plain": workflow.StepSucceeded,
	})
	if got := jsonOf(t, output(t, run, "always")); !strings.Contains(got, "must be a boolean") {
		t.Errorf("always = %s, want the condition's error", got)
	}
	for _, k := range []string{"check", "route"} {
		if b := run.Steps[k].Branch; b != "" {
			t.Errorf("failed %s chose branch %q", k, b)
		}
	}
}

func TestCancelQueuedRunBeforeStart(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	e.save("queued", `{"name": "queued", "trigger": {"type": "api"}, "steps": [{"id": "qstep", "type": "test.work"}]}`)
	e.save("control", `{"name": "control", "trigger": {"type": "api"}, "steps": [{"id": "cstep", "type": "test.work"}]}`)
	run := e.start("queued", `{}`)
	if run.Status != workflow.RunQueued {
		t.Fatalf("a run started on a stopped engine is %s, want queued", run.Status)
	}
	got, err := e.eng.CancelRun(e.ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunCancelled {
		t.Errorf("cancel returned status %s, want cancelled at once", got.Status)
	}
	// Started after the cancelled run, the control run is claimed after it
	// would have been (oldest first): once it is done the poll has passed.
	control := e.start("control", `{}`)
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(control.ID), workflow.RunSucceeded)
	final := e.wait(run.ID)
	wantStatus(t, final, workflow.RunCancelled)
	if n := e.probe.count("qstep"); n != 0 {
		t.Errorf("the cancelled run's step ran %d times", n)
	}
	if final.StartedAt != nil || final.FinishedAt == nil {
		t.Errorf("cancelled queued run: started %v, finished %v", final.StartedAt, final.FinishedAt)
	}
}

func TestCancelParkedRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("parked", `{"name": "parked", "trigger": {"type": "api"}, "steps": [
  {"id": "pause", "type": "delay", "input": {"for": "400ms"}},
  {"id": "after_pause", "type": "test.work"}],
  "edges": [{"from": "pause", "to": "after_pause"}]}`)
	e.save("control", `{"name": "control", "trigger": {"type": "api"}, "steps": [
  {"id": "cpause", "type": "delay", "input": {"for": "400ms"}},
  {"id": "cafter", "type": "test.work"}],
  "edges": [{"from": "cpause", "to": "cafter"}]}`)
	run := e.start("parked", `{}`)
	pollRun(t, e.store, run.ID, "waiting", func(r *workflow.Run) bool { return r.Status == workflow.RunWaiting })
	got, err := e.eng.CancelRun(e.ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunCancelled {
		t.Fatalf("cancelling a parked run gave status %s, want cancelled at once", got.Status)
	}
	// The control run wakes after the cancelled run would have.
	control := e.start("control", `{}`)
	wantStatus(t, e.wait(control.ID), workflow.RunSucceeded)
	final := e.wait(run.ID)
	wantStatus(t, final, workflow.RunCancelled)
	wantSteps(t, final, map[string]workflow.StepStatus{"pause": workflow.StepFailed})
	if _, ok := final.Steps["after_pause"]; ok || e.probe.count("after_pause") != 0 {
		t.Errorf("a step after the cancelled delay ran: %v", stepStatuses(final))
	}
}

// TestCancelWhileParking cancels a run in the moment between its last look
// at its signals and the commit that parks it: the cancel must not wait for
// the wake-up time (an hour).
func TestCancelWhileParking(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	hs := &hookStore{Store: e.store}
	eng := openEngine(t, hs, e.reg, "parker", false)
	saveOn(t, eng, e.reg, "longpark", `{"name": "longpark", "trigger": {"type": "api"}, "steps": [
  {"id": "pause", "type": "delay", "input": {"for": "1h"}},
  {"id": "never", "type": "test.work"}],
  "edges": [{"from": "pause", "to": "never"}]}`)
	var once sync.Once
	hook := func(runID string) {
		once.Do(func() {
			r, err := eng.CancelRun(context.Background(), runID)
			if err != nil {
				t.Errorf("cancel: %v", err)
			} else if r.Status.Terminal() {
				t.Errorf("a run still leased was cancelled at once (%s)", r.Status)
			}
		})
	}
	hs.beforePark.Store(&hook)
	if err := eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	run, err := eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "longpark"})
	if err != nil {
		t.Fatal(err)
	}
	done := pollRun(t, e.store, run.ID, "cancelled", func(r *workflow.Run) bool { return r.Status.Terminal() })
	wantStatus(t, done, workflow.RunCancelled)
	if e.probe.count("never") != 0 {
		t.Errorf("a step after the delay ran")
	}
}

func TestStopHandsBackARunInFlight(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	gs := addEdgeSteps(t, e)
	path := filepath.Join(t.TempDir(), "shared.db")
	stA := openStore(t, path)
	a := openEngine(t, stA, e.reg, "engine-a", true)
	saveOn(t, a, e.reg, "handback", `{"name": "handback", "trigger": {"type": "api"}, "steps": [
  {"id": "one", "type": "test.count"},
  {"id": "two", "type": "test.gate"},
  {"id": "three", "type": "test.count", "input": {"from": "<<steps.two.opened>>"}}],
  "edges": [{"from": "one", "to": "two"}, {"from": "two", "to": "three"}]}`)
	saveOn(t, a, e.reg, "noop", `{"name": "noop", "trigger": {"type": "api"}, "steps": [{"id": "n", "type": "test.count"}]}`)
	run, err := a.StartRun(e.ctx, engine.StartRequest{WorkflowID: "handback"})
	if err != nil {
		t.Fatal(err)
	}
	if key := <-gs.gated; key != "two" {
		t.Fatalf("gated step %s started", key)
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- a.Stop(ctx)
	}()
	// A stopping engine queues new runs instead of running them: once one
	// comes back queued, Stop has asked every run to drain.
	var noops []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r, err := a.StartRun(e.ctx, engine.StartRequest{WorkflowID: "noop"})
		if err != nil {
			t.Fatal(err)
		}
		noops = append(noops, r.ID)
		if r.Status == workflow.RunQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the engine never started stopping")
		}
	}
	gs.open()
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	back, err := stA.GetRun(e.ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, back, workflow.RunQueued)
	if back.LeaseOwner != "" || back.LeaseUntil != nil {
		t.Errorf("handed-back run still leased: %q until %v", back.LeaseOwner, back.LeaseUntil)
	}
	wantSteps(t, back, map[string]workflow.StepStatus{"one": workflow.StepSucceeded, "two": workflow.StepSucceeded})
	if _, ok := back.Steps["three"]; ok {
		t.Errorf("a step started after Stop: %v", stepStatuses(back))
	}

	b := openEngine(t, openStore(t, path), e.reg, "engine-b", true)
	done := waitOn(t, b, run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	calls := gs.snapshot()
	for _, k := range []string{"one", "three"} {
		if n := calls[run.ID+"/"+k]; n != 1 {
			t.Errorf("step %s ran %d times, want once", k, n)
		}
	}
	if got := done.Steps["two"].Attempts; got != 1 {
		t.Errorf("the drained step ran %d times, want once", got)
	}
	for _, id := range noops {
		wantStatus(t, waitOn(t, b, id), workflow.RunSucceeded)
		if n := calls[id+"/n"]; n > 1 {
			t.Errorf("noop run %s ran %d times", id, n)
		}
	}
}

func TestPanickingStepFailsTheRun(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	addEdgeSteps(t, e)
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	run := e.runOnce("panic", `{"name": "panic", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "transform", "input": {"value": 1}},
  {"id": "boom", "type": "test.panic", "retry": {"max_attempts": 3, "initial": "1ms"}},
  {"id": "after", "type": "transform", "input": {"value": 2}},
  {"id": "each", "type": "fanout", "on_error": "continue", "input": {"items": [1, 2]}, "steps": [{"id": "inner_boom", "type": "test.panic"}]}],
  "edges": [{"from": "first", "to": "boom"}, {"from": "boom", "to": "after"}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	rec := run.Steps["boom"]
	if rec.Status != workflow.StepFailed || !strings.Contains(rec.Error, "step boom panicked: kaboom in boom") {
		t.Errorf("boom: %s %q", rec.Status, rec.Error)
	}
	if rec.Attempts != 1 {
		t.Errorf("a panic was retried: %d attempts", rec.Attempts)
	}
	if !strings.Contains(run.Error, "step boom failed: step boom panicked") {
		t.Errorf("run error = %q", run.Error)
	}
	if _, ok := run.Steps["after"]; ok {
		t.Errorf("a step after the panic ran")
	}
	if r := run.Steps["each[1].inner_boom"]; r == nil || !strings.Contains(r.Error, "panicked: kaboom in each[1].inner_boom") {
		t.Errorf("a panic inside a fanout item: %v", stepStatuses(run))
	}
}

func TestDelayInsideFanoutParksTheRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("fandelay", `{"name": "fandelay", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": ["a", "b", "c"], "concurrency": 2},
   "steps": [
     {"id": "pause", "type": "delay", "input": {"for": "300ms"}},
     {"id": "work", "type": "test.work", "input": {"id": "<<item>>", "waited": "<<steps.pause.waited_until>>"}},
     {"id": "shape", "type": "transform", "input": {"value": "<<item>><<index>>"}}],
   "edges": [{"from": "pause", "to": "work"}, {"from": "work", "to": "shape"}]}]}`)
	run := e.start("fandelay", `{}`)
	parked := pollRun(t, e.store, run.ID, "waiting", func(r *workflow.Run) bool {
		if r.Status.Terminal() {
			t.Fatalf("run finished (%s) without parking", r.Status)
		}
		return r.Status == workflow.RunWaiting
	})
	if parked.WakeAt == nil || parked.LeaseOwner != "" {
		t.Errorf("parked run: wake_at %v, lease owner %q", parked.WakeAt, parked.LeaseOwner)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	if got := jsonOf(t, output(t, done, "each")); got != `["a0","b1","c2"]` {
		t.Errorf("output %s", got)
	}
	for i := 0; i < 3; i++ {
		p := done.Steps[fmt.Sprintf("each[%d].pause", i)]
		if took := p.FinishedAt.Sub(*p.StartedAt); took < 300*time.Millisecond {
			t.Errorf("item %d's delay ended after %v, want at least 300ms", i, took)
		}
		if p.Attempts != 1 {
			t.Errorf("item %d's delay attempts = %d, want 1", i, p.Attempts)
		}
		if n := e.probe.count(fmt.Sprintf("each[%d].work", i)); n != 1 {
			t.Errorf("item %d's work ran %d times", i, n)
		}
	}
}

func TestManyRunsAtOnceRunEachStepOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart, func(o *setupConfig) { o.Concurrency = 8 })
	cs := addEdgeSteps(t, e)
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.save("many", `{"name": "many", "trigger": {"type": "api"}, "steps": [
  {"id": "a", "type": "test.count", "input": {"n": "<<trigger.n>>"}},
  {"id": "fan", "type": "fanout", "input": {"items": [1, 2, 3], "concurrency": 2}, "steps": [{"id": "x", "type": "test.count"}]},
  {"id": "b", "type": "test.count", "input": {"n": "<<steps.a.input.n>>"}}],
  "edges": [{"from": "a", "to": "fan"}, {"from": "fan", "to": "b"}]}`)
	const n = 200
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				run, err := e.eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "many", Trigger: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i))})
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = run.ID
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, id := range ids {
		run := e.wait(id)
		wantStatus(t, run, workflow.RunSucceeded)
		if got := output(t, run, "b").(map[string]any)["input"].(map[string]any)["n"]; got != float64(i) {
			t.Errorf("run %d saw n = %v", i, got)
		}
	}
	calls := cs.snapshot()
	for _, id := range ids {
		for _, k := range []string{"a", "fan[0].x", "fan[1].x", "fan[2].x", "b"} {
			if c := calls[id+"/"+k]; c != 1 {
				t.Errorf("run %s step %s ran %d times, want once", id, k, c)
			}
		}
	}
	if len(calls) != n*5 {
		t.Errorf("%d step runs counted, want %d", len(calls), n*5)
	}
}

// TestFailureBesideARunningFanoutFailsTheRun fails a step while a fanout
// beside it is still going: the run must fail with that step's error once
// the fanout's items in flight are done.
func TestFailureBesideARunningFanoutFailsTheRun(t *testing.T) {
	t.Parallel()
	t.Run("top level", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["bad"] = errors.New("bad input")
		run := e.runOnce("beside", `{"name": "beside", "trigger": {"type": "api"}, "steps": [
  {"id": "bad", "type": "test.work", "input": {"sleep": "30ms"}},
  {"id": "each", "type": "fanout", "input": {"items": [1, 2, 3, 4], "concurrency": 1},
   "steps": [
     {"id": "work", "type": "test.work", "input": {"sleep": "100ms"}},
     {"id": "shape", "type": "transform", "input": {"value": "<<item>>"}}],
   "edges": [{"from": "work", "to": "shape"}]}]}`, `{}`)
		wantStatus(t, run, workflow.RunFailed)
		if !strings.Contains(run.Error, "step bad failed: bad input") {
			t.Errorf("run error = %q, want step bad's failure", run.Error)
		}
		if rec := run.Steps["each"]; rec == nil || rec.Status != workflow.StepFailed {
			t.Errorf("the unfinished fanout was not closed: %v", stepStatuses(run))
		}
		if e.probe.count("each[3].work") != 0 {
			t.Errorf("items kept starting after the run failed")
		}
	})
	t.Run("inside a fanout item", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["outer[0].bad"] = errors.New("bad item")
		run := e.runOnce("besideinner", `{"name": "besideinner", "trigger": {"type": "api"}, "steps": [
  {"id": "outer", "type": "fanout", "input": {"items": [1, 2]},
   "steps": [
     {"id": "bad", "type": "test.work", "input": {"sleep": "30ms"}},
     {"id": "inner", "type": "fanout", "input": {"items": [1, 2, 3], "concurrency": 1},
      "steps": [
        {"id": "work", "type": "test.work", "input": {"sleep": "100ms"}},
        {"id": "shape", "type": "transform", "input": {"value": "<<item>>"}}],
      "edges": [{"from": "work", "to": "shape"}]}]}]}`, `{}`)
		wantStatus(t, run, workflow.RunFailed)
		if msg := run.Steps["outer"].Error; !strings.Contains(msg, "1 of 2 items failed: item 0: step bad: bad item") {
			t.Errorf("outer error = %q", msg)
		}
		if !strings.Contains(run.Error, "step outer failed") {
			t.Errorf("run error = %q", run.Error)
		}
		wantSteps(t, run, map[string]workflow.StepStatus{"outer[0].inner": workflow.StepFailed, "outer[1].inner": workflow.StepSucceeded})
		if e.probe.count("outer[0].inner[2].work") != 0 {
			t.Errorf("the failed item's inner fanout kept starting items")
		}
	})
}

// TestParkedRunTimesOutAtItsDeadline parks a run on a delay longer than the
// workflow's timeout: the run must fail at the timeout, not after the delay.
func TestParkedRunTimesOutAtItsDeadline(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("parktimeout", `{"name": "parktimeout", "trigger": {"type": "api"}, "timeout": "300ms", "steps": [
  {"id": "pause", "type": "delay", "input": {"for": "1h"}}]}`)
	run := e.start("parktimeout", `{}`)
	done := pollRun(t, e.store, run.ID, "finished", func(r *workflow.Run) bool { return r.Status.Terminal() })
	wantStatus(t, done, workflow.RunFailed)
	if !strings.Contains(done.Error, "run timed out after 300ms") {
		t.Errorf("run error = %q", done.Error)
	}
	wantSteps(t, done, map[string]workflow.StepStatus{"pause": workflow.StepFailed})
}

// TestRetriedRunGetsAFreshTimeout retries a failed run, with a timeout, long
// after it started: the retry must not time out at once.
func TestRetriedRunGetsAFreshTimeout(t *testing.T) {
	t.Parallel()
	clock := &shiftedClock{}
	e := setup(t, func(o *setupConfig) { o.Now = clock.now })
	e.probe.perm["second"] = errors.New("down for maintenance")
	e.save("retrytimeout", `{"name": "retrytimeout", "trigger": {"type": "api"}, "timeout": "10s", "steps": [
  {"id": "first", "type": "test.work"}, {"id": "second", "type": "test.work"}],
  "edges": [{"from": "first", "to": "second"}]}`)
	run := e.wait(e.start("retrytimeout", `{}`).ID)
	wantStatus(t, run, workflow.RunFailed)
	e.probe.heal("second")
	clock.offset.Store(int64(time.Hour)) // the retry comes an hour later
	if _, err := e.eng.RetryRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	run = e.wait(run.ID)
	wantStatus(t, run, workflow.RunSucceeded)
	if e.probe.count("first") != 1 || e.probe.count("second") != 2 {
		t.Errorf("calls first/second = %d/%d, want 1/2", e.probe.count("first"), e.probe.count("second"))
	}
}

// TestRunClaimedAgainWhileItsRunnerParksIsTakenUp parks a run on a short
// back-off and lets the poll loop claim it again before the
// runner that parked it is gone: the engine must run it then, not leave
// the claim to expire (a whole lease later).
func TestRunClaimedAgainWhileItsRunnerParksIsTakenUp(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	e.probe.failures["flaky"] = 1
	hs := &hookStore{Store: e.store}
	const lease = 3 * time.Second
	eng := openEngine(t, hs, e.reg, "reclaimer", false, func(o *setupConfig) {
		o.PollInterval = 5 * time.Millisecond
		o.Lease = lease
	})
	saveOn(t, eng, e.reg, "reclaim", `{"name": "reclaim", "trigger": {"type": "api"}, "steps": [
  {"id": "flaky", "type": "test.work", "retry": {"max_attempts": 3, "backoff": "fixed", "initial": "100ms"}}]}`)
	var once sync.Once
	var parked atomic.Bool
	hook := func(runID string) {
		once.Do(func() {
			parked.Store(true)
			for deadline := time.Now().Add(2 * time.Second); !hs.claimHandled(runID); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the poll loop never claimed the parked run")
					return
				}
			}
		})
	}
	hs.afterPark.Store(&hook)
	if err := eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	run, err := eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "reclaim"})
	if err != nil {
		t.Fatal(err)
	}
	done := waitOn(t, eng, run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	if took := time.Since(begin); took > lease/2 {
		t.Errorf("the run took %v: its claim was left to expire", took)
	}
	if n := e.probe.count("flaky"); n != 2 {
		t.Errorf("flaky ran %d times, want 2", n)
	}
	if !parked.Load() {
		t.Errorf("the run never parked")
	}
}

// TestItemFinishedAtOnceCompletesItsFanout: an item whose only step
// finishes as it starts (an inner fanout over an empty list) must complete
// the item in the same pass, with nothing else in flight to wake the run.
func TestItemFinishedAtOnceCompletesItsFanout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("instant", `{"name": "instant", "trigger": {"type": "api"}, "steps": [
  {"id": "outer", "type": "fanout", "input": {"items": [1]},
   "steps": [{"id": "inner", "type": "fanout", "input": {"items": []},
              "steps": [{"id": "cell", "type": "transform", "input": {"value": "<<item>>"}}]}]}]}`, `{}`)
	wantStatus(t, run, workflow.RunSucceeded)
	if got := string(run.Steps["outer"].Output); got != "[[]]" {
		t.Errorf("outer output = %s, want [[]]", got)
	}
}

// TestFanoutGroupsIdenticalFailures: items failing for the same reason are
// named together rather than repeating the reason once per item.
func TestFanoutGroupsIdenticalFailures(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for i := range 12 {
		e.probe.perm[fmt.Sprintf("each[%d].work", i)] = errors.New("the same reason")
	}
	run := e.runOnce("samefail", `{"name": "samefail", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": [0,1,2,3,4,5,6,7,8,9,10,11,12]},
   "steps": [{"id": "work", "type": "test.work"}]}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	want := "12 of 13 items failed: items 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more: step work: the same reason"
	if got := run.Steps["each"].Error; got != want {
		t.Errorf("error = %q\nwant    %q", got, want)
	}
}
