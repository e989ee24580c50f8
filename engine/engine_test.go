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

	"go.uber.org/goleak"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Steps that ignore their context are abandoned on purpose by the
		// timeout tests; they return when the test releases them.
		goleak.IgnoreTopFunction("github.com/leverflow/leverflow/engine_test.(*probe).block"),
		// gorm's prepared-statement cache runs an expiry goroutine that
		// has no way to stop.
		goleak.IgnoreTopFunction("gorm.io/gorm/internal/lru.NewLRU[...].func1"),
	)
}

// probe is a family of test step types whose behaviour a test controls.
type probe struct {
	mu       sync.Mutex
	calls    map[string]int // by step key
	times    map[string][]time.Time
	failures map[string]int   // fail this many attempts of the key (retryable)
	perm     map[string]error // fail every attempt of the key permanently
	retryAft map[string]time.Duration
	inflight atomic.Int32
	maxSeen  atomic.Int32
	release  chan struct{} // closes to free blocked steps
	started  chan string   // a key each time a blocking step starts
}

func newProbe() *probe {
	return &probe{
		calls: map[string]int{}, times: map[string][]time.Time{},
		failures: map[string]int{}, perm: map[string]error{}, retryAft: map[string]time.Duration{},
		release: make(chan struct{}), started: make(chan string, 100),
	}
}

// heal stops the step run key from failing permanently.
func (p *probe) heal(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.perm, key)
}

func (p *probe) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// work counts a call, fails as configured, and echoes its input.
func (p *probe) work(ctx context.Context, req *steps.Request) (any, error) {
	n := p.inflight.Add(1)
	defer p.inflight.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	p.mu.Lock()
	p.calls[req.Key]++
	p.times[req.Key] = append(p.times[req.Key], time.Now())
	call := p.calls[req.Key]
	fails, perm, ra := p.failures[req.Key], p.perm[req.Key], p.retryAft[req.Key]
	p.mu.Unlock()
	if d, ok := req.Input["sleep"].(string); ok {
		dur, _ := time.ParseDuration(d)
		select {
		case <-time.After(dur):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if perm != nil {
		return nil, steps.Permanent(perm)
	}
	if call <= fails {
		err := fmt.Errorf("flaky failure %d", call)
		if ra > 0 {
			return nil, steps.RetryAfter(err, ra)
		}
		return nil, err
	}
	return map[string]any{"key": req.Key, "attempt": req.Attempt, "input": req.Input}, nil
}

// block waits for release, ignoring its context on purpose.
func (p *probe) block(_ context.Context, req *steps.Request) (any, error) {
	p.started <- req.Key
	<-p.release
	return map[string]any{"released": true}, nil
}

// wait waits for release or its context.
func (p *probe) wait(ctx context.Context, req *steps.Request) (any, error) {
	p.started <- req.Key
	select {
	case <-p.release:
		return map[string]any{"released": true}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type env struct {
	t     testing.TB
	store store.Store
	reg   *steps.Registry
	probe *probe
	eng   *engine.Engine
	ctx   context.Context
}

// setupConfig is what options change: the engine's options, and whether
// setup starts the engine.
type setupConfig struct {
	engine.Options
	manual bool
}

type option func(*setupConfig)

// manualStart is an option that leaves the engine stopped: the test calls
// e.eng.Start itself once it has set the store up.
func manualStart(c *setupConfig) { c.manual = true }

func setup(t testing.TB, opts ...option) *env {
	t.Helper()
	ctx := context.Background()
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(t.TempDir(), "runs.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe()
	anyObj := &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}
	for _, s := range []steps.Spec{
		{Type: "test.work", Title: "Work", Category: "Test", Input: anyObj, Run: p.work},
		{Type: "test.block", Title: "Block", Category: "Test", Input: anyObj, Run: p.block},
		{Type: "test.wait", Title: "Wait", Category: "Test", Input: anyObj, Run: p.wait},
	} {
		if err := reg.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	c := setupConfig{Options: engine.Options{Store: st, Steps: reg, PollInterval: 50 * time.Millisecond, Lease: 5 * time.Second}}
	for _, f := range opts {
		f(&c)
	}
	eng, err := engine.New(c.Options)
	if err != nil {
		t.Fatal(err)
	}
	if !c.manual {
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		close(p.release)
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Stop(sctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		st.Close()
	})
	return &env{t: t, store: st, reg: reg, probe: p, eng: eng, ctx: ctx}
}

// save decodes, validates and saves a workflow document.
func (e *env) save(id, doc string) {
	e.t.Helper()
	wf, probs := workflow.Parse([]byte(doc), workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		e.t.Fatalf("workflow %s invalid: %v", id, probs)
	}
	if _, err := e.eng.SaveWorkflow(e.ctx, id, wf); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) start(id, trigger string) *workflow.Run {
	e.t.Helper()
	run, err := e.eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: id, Trigger: json.RawMessage(trigger)})
	if err != nil {
		e.t.Fatal(err)
	}
	return run
}

func (e *env) wait(id string) *workflow.Run {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	run, err := e.eng.Wait(ctx, id)
	if err != nil {
		e.t.Fatalf("waiting for run %s: %v", id, err)
	}
	return run
}

// retry retries a failed run and waits for it to finish again.
func (e *env) retry(id string) *workflow.Run {
	e.t.Helper()
	if _, err := e.eng.RetryRun(e.ctx, id); err != nil {
		e.t.Fatalf("retrying run %s: %v", id, err)
	}
	return e.wait(id)
}

func (e *env) runOnce(id, doc, trigger string) *workflow.Run {
	e.t.Helper()
	e.save(id, doc)
	return e.wait(e.start(id, trigger).ID)
}

func output(t *testing.T, run *workflow.Run, key string) any {
	t.Helper()
	rec := run.Steps[key]
	if rec == nil {
		t.Fatalf("run has no step %s; steps: %v", key, stepStatuses(run))
	}
	var v any
	if err := json.Unmarshal(rec.Output, &v); err != nil {
		t.Fatalf("step %s output %q: %v", key, rec.Output, err)
	}
	return v
}

func stepStatuses(run *workflow.Run) map[string]string {
	out := map[string]string{}
	for k, s := range run.Steps {
		out[k] = string(s.Status)
		if s.Error != "" {
			out[k] += ": " + s.Error
		}
	}
	return out
}

func wantStatus(t *testing.T, run *workflow.Run, want workflow.RunStatus) {
	t.Helper()
	if run.Status != want {
		t.Fatalf("run status = %s (error %q), want %s; steps: %v", run.Status, run.Error, want, stepStatuses(run))
	}
}

func wantSteps(t *testing.T, run *workflow.Run, want map[string]workflow.StepStatus) {
	t.Helper()
	for key, st := range want {
		got := workflow.StepStatus("")
		if rec := run.Steps[key]; rec != nil {
			got = rec.Status
		}
		if got != st {
			t.Errorf("step %s = %q, want %q (all: %v)", key, got, st, stepStatuses(run))
		}
	}
}

func TestLinearReferencesKeepTypes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("linear", `{
  "name": "linear",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "a", "type": "transform", "input": {"value": {"n": "<<trigger.n>>", "tags": ["x", "y"]}}},
    {"id": "b", "type": "transform", "input": {"value": {"double": "<<steps.a.n * 2>>", "text": "n is <<steps.a.n>> and tags <<steps.a.tags>>"}}},
    {"id": "c", "type": "transform", "input": {"value": "<<steps.b>>"}}
  ],
  "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}]
}`, `{"n": 21}`)
	wantStatus(t, run, workflow.RunSucceeded)
	got, _ := json.Marshal(output(t, run, "c"))
	if want := `{"double":42,"text":"n is 21 and tags [\"x\",\"y\"]"}`; string(got) != want {
		t.Errorf("c = %s, want %s", got, want)
	}
	if in := string(run.Steps["b"].Input); !strings.Contains(in, `"double":42`) {
		t.Errorf("b's stored input is not the resolved one: %s", in)
	}
	for key, rec := range run.Steps {
		if rec.Attempts != 1 || rec.StartedAt == nil || rec.FinishedAt == nil {
			t.Errorf("step %s: attempts %d, started %v, finished %v", key, rec.Attempts, rec.StartedAt, rec.FinishedAt)
		}
	}
}

func TestParallelBranchesRunConcurrentlyAndJoin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("parallel", `{
  "name": "parallel",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "start", "type": "transform", "input": {"value": 1}},
    {"id": "left", "type": "test.work", "input": {"sleep": "200ms"}},
    {"id": "right", "type": "test.work", "input": {"sleep": "200ms"}},
    {"id": "join", "type": "transform", "input": {"value": ["<<steps.left.key>>", "<<steps.right.key>>"]}}
  ],
  "edges": [
    {"from": "start", "to": "left"}, {"from": "start", "to": "right"},
    {"from": "left", "to": "join"}, {"from": "right", "to": "join"}
  ]
}`, `{}`)
	wantStatus(t, run, workflow.RunSucceeded)
	if m := e.probe.maxSeen.Load(); m != 2 {
		t.Errorf("at most %d steps ran at once, want the two branches together", m)
	}
	join := run.Steps["join"]
	for _, k := range []string{"left", "right"} {
		if join.StartedAt.Before(*run.Steps[k].FinishedAt) {
			t.Errorf("join started before %s finished", k)
		}
	}
}

func TestBranchesSkipAndJoin(t *testing.T) {
	t.Parallel()
	doc := `{
  "name": "branches",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "check", "type": "condition", "input": {"if": "<<trigger.senior>>"}},
    {"id": "tag", "type": "transform", "input": {"value": "senior"}},
    {"id": "after_tag", "type": "transform", "input": {"value": "<<steps.tag>>"}},
    {"id": "other", "type": "transform", "input": {"value": "junior"}},
    {"id": "route", "type": "switch", "input": {"cases": [{"name": "big", "if": "<<trigger.size > 100>>"}, {"name": "small", "if": "<<trigger.size <= 100>>"}]}},
    {"id": "big", "type": "transform", "input": {"value": "big"}},
    {"id": "fallback", "type": "transform", "input": {"value": "default"}},
    {"id": "join", "type": "transform", "input": {"value": "joined"}}
  ],
  "edges": [
    {"from": "check", "to": "tag", "branch": "true"},
    {"from": "tag", "to": "after_tag"},
    {"from": "check", "to": "other", "branch": "false"},
    {"from": "route", "to": "big", "branch": "big"},
    {"from": "route", "to": "fallback", "branch": "default"},
    {"from": "after_tag", "to": "join"},
    {"from": "other", "to": "join"}
  ]
}`
	tests := []struct {
		name    string
		trigger string
		want    map[string]workflow.StepStatus
		branch  map[string]string
	}{
		{"senior and big", `{"senior": true, "size": 500}`, map[string]workflow.StepStatus{
			"tag": workflow.StepSucceeded, "after_tag": workflow.StepSucceeded, "other": workflow.StepSkipped,
			"big": workflow.StepSucceeded, "fallback": workflow.StepSkipped, "join": workflow.StepSucceeded,
		}, map[string]string{"check": "true", "route": "big"}},
		{"junior and small", `{"senior": false, "size": 5}`, map[string]workflow.StepStatus{
			"tag": workflow.StepSkipped, "after_tag": workflow.StepSkipped, "other": workflow.StepSucceeded,
			"big": workflow.StepSkipped, "fallback": workflow.StepSkipped, "join": workflow.StepSucceeded,
		}, map[string]string{"check": "false", "route": "small"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			run := e.runOnce("branches", doc, tc.trigger)
			wantStatus(t, run, workflow.RunSucceeded)
			wantSteps(t, run, tc.want)
			for k, b := range tc.branch {
				if got := run.Steps[k].Branch; got != b {
					t.Errorf("%s chose %q, want %q", k, got, b)
				}
			}
		})
	}
}

func TestJoinSkippedWhenAllParentsInactive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("allskip", `{
  "name": "allskip",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "check", "type": "condition", "input": {"if": false}},
    {"id": "a", "type": "transform", "input": {"value": 1}},
    {"id": "b", "type": "transform", "input": {"value": 2}},
    {"id": "c", "type": "transform", "input": {"value": 3}}
  ],
  "edges": [
    {"from": "check", "to": "a", "branch": "true"},
    {"from": "check", "to": "b", "branch": "true"},
    {"from": "a", "to": "c"}, {"from": "b", "to": "c"}
  ]
}`, `{}`)
	wantStatus(t, run, workflow.RunSucceeded)
	wantSteps(t, run, map[string]workflow.StepStatus{"a": workflow.StepSkipped, "b": workflow.StepSkipped, "c": workflow.StepSkipped})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	t.Run("retryable errors are retried with back-off", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.failures["flaky"] = 2
		run := e.runOnce("retry", `{"name": "retry", "trigger": {"type": "api"}, "steps": [
  {"id": "flaky", "type": "test.work", "retry": {"max_attempts": 4, "initial": "20ms", "max": "1s"}}]}`, `{}`)
		wantStatus(t, run, workflow.RunSucceeded)
		if got := run.Steps["flaky"].Attempts; got != 3 {
			t.Errorf("attempts = %d, want 3", got)
		}
		times := e.probe.times["flaky"]
		// Equal jitter: the n-th wait is at least half of initial*2^(n-1).
		if gap := times[1].Sub(times[0]); gap < 10*time.Millisecond {
			t.Errorf("first back-off %v, want at least 10ms", gap)
		}
		if gap := times[2].Sub(times[1]); gap < 20*time.Millisecond {
			t.Errorf("second back-off %v, want at least 20ms (exponential)", gap)
		}
	})
	t.Run("attempts run out", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.failures["flaky"] = 10
		run := e.runOnce("retry", `{"name": "retry", "trigger": {"type": "api"}, "steps": [
  {"id": "flaky", "type": "test.work", "retry": {"max_attempts": 3, "backoff": "fixed", "initial": "1ms"}}]}`, `{}`)
		wantStatus(t, run, workflow.RunFailed)
		if run.Steps["flaky"].Attempts != 3 || e.probe.count("flaky") != 3 {
			t.Errorf("attempts = %d, calls = %d, want 3", run.Steps["flaky"].Attempts, e.probe.count("flaky"))
		}
		if !strings.Contains(run.Error, "step flaky failed: flaky failure 3") {
			t.Errorf("run error = %q", run.Error)
		}
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["bad"] = errors.New("opportunity_id is not a Lever id")
		run := e.runOnce("perm", `{"name": "perm", "trigger": {"type": "api"}, "steps": [
  {"id": "bad", "type": "test.work", "retry": {"max_attempts": 5, "initial": "1ms"}}]}`, `{}`)
		wantStatus(t, run, workflow.RunFailed)
		if e.probe.count("bad") != 1 {
			t.Errorf("calls = %d, want 1", e.probe.count("bad"))
		}
	})
	t.Run("retry-after is honoured", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.failures["limited"] = 1
		e.probe.retryAft["limited"] = 300 * time.Millisecond
		run := e.runOnce("ra", `{"name": "ra", "trigger": {"type": "api"}, "steps": [
  {"id": "limited", "type": "test.work", "retry": {"max_attempts": 2, "initial": "1ms", "max": "2ms"}}]}`, `{}`)
		wantStatus(t, run, workflow.RunSucceeded)
		times := e.probe.times["limited"]
		if gap := times[1].Sub(times[0]); gap < 300*time.Millisecond {
			t.Errorf("retried after %v, want at least the 300ms Retry-After", gap)
		}
	})
}

func TestStepTimeoutAbandonsAStepThatIgnoresItsContext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	start := time.Now()
	run := e.runOnce("timeout", `{"name": "timeout", "trigger": {"type": "api"}, "steps": [
  {"id": "stuck", "type": "test.block", "timeout": "100ms", "retry": {"max_attempts": 1}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %v to fail", took)
	}
	if !strings.Contains(run.Steps["stuck"].Error, "timed out after 100ms") {
		t.Errorf("step error = %q", run.Steps["stuck"].Error)
	}
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("runtimeout", `{"name": "runtimeout", "trigger": {"type": "api"}, "timeout": "200ms", "steps": [
  {"id": "first", "type": "transform", "input": {"value": 1}},
  {"id": "stuck", "type": "test.block", "timeout": "1h"}],
  "edges": [{"from": "first", "to": "stuck"}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	if !strings.Contains(run.Error, "run timed out after 200ms") {
		t.Errorf("run error = %q", run.Error)
	}
	wantSteps(t, run, map[string]workflow.StepStatus{"first": workflow.StepSucceeded, "stuck": workflow.StepFailed})
	if took := run.FinishedAt.Sub(*run.StartedAt); took > 3*time.Second {
		t.Errorf("run failed after %v, want about 200ms", took)
	}
}

func TestOnErrorContinue(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.probe.perm["lookup"] = errors.New("no such candidate")
	run := e.runOnce("continue", `{"name": "continue", "trigger": {"type": "api"}, "steps": [
  {"id": "lookup", "type": "test.work", "on_error": "continue"},
  {"id": "report", "type": "transform", "input": {"value": "lookup said: <<steps.lookup.error.message>>"}}],
  "edges": [{"from": "lookup", "to": "report"}]}`, `{}`)
	wantStatus(t, run, workflow.RunSucceeded)
	wantSteps(t, run, map[string]workflow.StepStatus{"lookup": workflow.StepFailed, "report": workflow.StepSucceeded})
	if got := output(t, run, "report"); got != "lookup said: no such candidate" {
		t.Errorf("report = %v", got)
	}
}

func TestReferenceErrorNamesStepPathAndSuggestion(t *testing.T) {
	t.Parallel()
	e := setup(t)
	run := e.runOnce("badref", `{"name": "badref", "trigger": {"type": "api"}, "steps": [
  {"id": "opp", "type": "transform", "input": {"value": {"contact": "c1"}}},
  {"id": "use", "type": "transform", "input": {"value": {"who": "<<steps.opp.contactt>>"}}}],
  "edges": [{"from": "opp", "to": "use"}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	msg := run.Error
	for _, want := range []string{"step use failed", "value.who", "steps.opp.contactt", `did you mean "contact"?`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if run.Steps["use"].Attempts != 1 {
		t.Errorf("a bad reference was retried: %d attempts", run.Steps["use"].Attempts)
	}
}

func TestOutputCap(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *setupConfig) { c.MaxOutputBytes = 64 })
	run := e.runOnce("cap", `{"name": "cap", "trigger": {"type": "api"}, "steps": [
  {"id": "big", "type": "transform", "input": {"value": "<<trigger.text>>"}}]}`, `{"text": "`+strings.Repeat("x", 200)+`"}`)
	wantStatus(t, run, workflow.RunFailed)
	if msg := run.Steps["big"].Error; !strings.Contains(msg, "over the 64 bytes cap") {
		t.Errorf("error = %q", msg)
	}
	if len(run.Steps["big"].Output) != 0 {
		t.Errorf("an over-cap output was stored: %d bytes", len(run.Steps["big"].Output))
	}
}

func TestCancelStopsAStepInFlight(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("cancel", `{"name": "cancel", "trigger": {"type": "api"}, "steps": [
  {"id": "slow", "type": "test.wait"}, {"id": "after", "type": "transform", "input": {"value": 1}}],
  "edges": [{"from": "slow", "to": "after"}]}`)
	run := e.start("cancel", `{}`)
	<-e.probe.started
	begin := time.Now()
	if _, err := e.eng.CancelRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunCancelled)
	if took := time.Since(begin); took > time.Second {
		t.Errorf("cancel took %v, want under a second", took)
	}
	wantSteps(t, done, map[string]workflow.StepStatus{"slow": workflow.StepFailed})
	if _, ok := done.Steps["after"]; ok {
		t.Errorf("a step after the cancel ran")
	}
	if _, err := e.eng.CancelRun(e.ctx, run.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("cancelling a finished run: err = %v, want ErrConflict", err)
	}
}

func TestRetryFromFailedStep(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.probe.perm["second"] = errors.New("down for maintenance")
	e.save("retryrun", `{"name": "retryrun", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "test.work"}, {"id": "second", "type": "test.work"}, {"id": "third", "type": "test.work"}],
  "edges": [{"from": "first", "to": "second"}, {"from": "second", "to": "third"}]}`)
	run := e.wait(e.start("retryrun", `{}`).ID)
	wantStatus(t, run, workflow.RunFailed)
	firstOut := string(run.Steps["first"].Output)

	e.probe.heal("second")
	run = e.retry(run.ID)
	wantStatus(t, run, workflow.RunSucceeded)
	if e.probe.count("first") != 1 || e.probe.count("second") != 2 || e.probe.count("third") != 1 {
		t.Errorf("calls first/second/third = %d/%d/%d, want 1/2/1", e.probe.count("first"), e.probe.count("second"), e.probe.count("third"))
	}
	if got := string(run.Steps["first"].Output); got != firstOut {
		t.Errorf("first's output changed on retry: %s -> %s", firstOut, got)
	}
	if _, err := e.eng.RetryRun(e.ctx, run.ID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("retrying a succeeded run: err = %v, want ErrConflict", err)
	}
}

func TestDelayParksTheRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("delay", `{"name": "delay", "trigger": {"type": "api"}, "steps": [
  {"id": "pause", "type": "delay", "input": {"for": "600ms"}},
  {"id": "after", "type": "transform", "input": {"value": "<<steps.pause.waited_until>>"}}],
  "edges": [{"from": "pause", "to": "after"}]}`)
	run := e.start("delay", `{}`)
	var parked *workflow.Run
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, err := e.store.GetRun(e.ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == workflow.RunWaiting {
			parked = r
			break
		}
		if r.Status.Terminal() {
			t.Fatalf("run finished (%s) without parking", r.Status)
		}
	}
	if parked == nil {
		t.Fatal("run never parked")
	}
	if parked.WakeAt == nil || parked.LeaseOwner != "" {
		t.Errorf("parked run: wake_at %v, lease owner %q; want a wake-up time and no lease", parked.WakeAt, parked.LeaseOwner)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	took := done.Steps["pause"].FinishedAt.Sub(*done.Steps["pause"].StartedAt)
	if took < 600*time.Millisecond {
		t.Errorf("delay finished after %v, want at least 600ms", took)
	}
	if done.Steps["pause"].Attempts != 1 {
		t.Errorf("delay attempts = %d, want 1", done.Steps["pause"].Attempts)
	}
}

func TestFanout(t *testing.T) {
	t.Parallel()
	t.Run("items run with bounded concurrency and results keep order", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		run := e.runOnce("fan", `{"name": "fan", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": "<<trigger.ids>>", "concurrency": 3},
   "steps": [
     {"id": "work", "type": "test.work", "input": {"sleep": "20ms", "id": "<<item>>"}},
     {"id": "shape", "type": "transform", "input": {"value": {"id": "<<item>>", "index": "<<index>>", "attempt": "<<steps.work.attempt>>"}}}],
   "edges": [{"from": "work", "to": "shape"}]},
  {"id": "count", "type": "transform", "input": {"value": "<<len(steps.each)>>"}}],
  "edges": [{"from": "each", "to": "count"}]}`, `{"ids": ["a","b","c","d","e","f","g","h","i","j"]}`)
		wantStatus(t, run, workflow.RunSucceeded)
		if m := e.probe.maxSeen.Load(); m > 3 || m < 2 {
			t.Errorf("max concurrent items = %d, want 2..3", m)
		}
		items := output(t, run, "each").([]any)
		if len(items) != 10 {
			t.Fatalf("got %d results", len(items))
		}
		for i, it := range items {
			m := it.(map[string]any)
			if m["index"] != float64(i) || m["id"] != string(rune('a'+i)) {
				t.Errorf("item %d = %v", i, m)
			}
		}
		if output(t, run, "count") != float64(10) {
			t.Errorf("count = %v", output(t, run, "count"))
		}
		if run.Steps["each[7].work"] == nil {
			t.Errorf("per-item step runs are not stored: %v", stepStatuses(run))
		}
	})
	t.Run("failed items are reported with their index", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.probe.perm["each[1].work"] = errors.New("boom one")
		e.probe.perm["each[3].work"] = errors.New("boom three")
		run := e.runOnce("fanfail", `{"name": "fanfail", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": [1,2,3,4,5]},
   "steps": [{"id": "work", "type": "test.work"}]}]}`, `{}`)
		wantStatus(t, run, workflow.RunFailed)
		msg := run.Steps["each"].Error
		for _, want := range []string{"2 of 5 items failed", "item 1: step work: boom one", "item 3: step work: boom three"} {
			if !strings.Contains(msg, want) {
				t.Errorf("fanout error %q lacks %q", msg, want)
			}
		}
		if run.Steps["each[4].work"].Status != workflow.StepSucceeded {
			t.Errorf("other items did not all run: %v", stepStatuses(run))
		}
	})
	t.Run("empty list", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		run := e.runOnce("fanempty", `{"name": "fanempty", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": {"items": []}, "steps": [{"id": "work", "type": "test.work"}]}]}`, `{}`)
		wantStatus(t, run, workflow.RunSucceeded)
		if got := string(run.Steps["each"].Output); got != "[]" {
			t.Errorf("output = %s, want []", got)
		}
	})
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	e := setup(t, manualStart)
	e.save("takeover", `{"name": "takeover", "trigger": {"type": "api"}, "steps": [
  {"id": "a", "type": "test.work"}, {"id": "b", "type": "test.work"}], "edges": [{"from": "a", "to": "b"}]}`)
	// A worker that died: it claimed the run, finished step a, and was gone
	// while b was in flight.
	run := &workflow.Run{ID: "0192f000-0000-7000-8000-000000000001", WorkflowID: "takeover", Version: 1, Status: workflow.RunQueued, Trigger: json.RawMessage(`{}`), CreatedAt: time.Now().UTC()}
	if err := e.store.CreateRun(e.ctx, run); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.ClaimRun(e.ctx, run.ID, "dead-worker", time.Now().UTC(), 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	err := e.store.Apply(e.ctx, "dead-worker", store.Update{RunID: run.ID, Steps: []*workflow.StepRun{
		{RunID: run.ID, Key: "a", StepID: "a", Type: "test.work", Status: workflow.StepSucceeded, Attempts: 1, Output: json.RawMessage(`{"done":true}`), StartedAt: &now, FinishedAt: &now},
		{RunID: run.ID, Key: "b", StepID: "b", Type: "test.work", Status: workflow.StepRunning, Attempts: 1, Input: json.RawMessage(`{}`), StartedAt: &now},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Start(e.ctx); err != nil {
		t.Fatal(err)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	if e.probe.count("a") != 0 || e.probe.count("b") != 1 {
		t.Errorf("calls a/b = %d/%d, want 0/1 (a had finished; b was in flight)", e.probe.count("a"), e.probe.count("b"))
	}
	if got := done.Steps["b"].Attempts; got != 2 {
		t.Errorf("b attempts = %d, want 2 (the lost one counts)", got)
	}
}

func TestInvalidWorkflowIsRefusedOnSave(t *testing.T) {
	t.Parallel()
	e := setup(t)
	wf := &workflow.Workflow{Name: "bad", Trigger: workflow.Trigger{Type: "api"}, Steps: []workflow.Step{{ID: "x", Type: "no.such"}}}
	_, err := e.eng.SaveWorkflow(e.ctx, "bad", wf)
	var inv *engine.InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, engine.ErrInvalidWorkflow) || len(inv.Problems) == 0 {
		t.Fatalf("err = %v, want an InvalidError", err)
	}
}

// TestFanoutExamples runs the fanout spec's examples, which only the engine
// can run: each example's body is a transform shaping {"id": item, "n":
// index}, as its name says.
func TestFanoutExamples(t *testing.T) {
	t.Parallel()
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := reg.Lookup("fanout")
	if !ok || len(spec.Examples) == 0 {
		t.Fatal("no fanout examples")
	}
	for i, ex := range spec.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			id := fmt.Sprintf("ex%d", i)
			// The input comes through the trigger so that the examples of
			// bad input reach the run instead of being refused on save.
			var in map[string]any
			if err := json.Unmarshal(ex.Input, &in); err != nil {
				t.Fatal(err)
			}
			refs := map[string]string{}
			for k := range in {
				refs[k] = "<<trigger." + k + ">>"
			}
			input, _ := json.Marshal(refs)
			run := e.runOnce(id, `{"name": "example", "trigger": {"type": "api"}, "steps": [
  {"id": "each", "type": "fanout", "input": `+string(input)+`,
   "steps": [{"id": "shape", "type": "transform", "input": {"value": {"id": "<<item>>", "n": "<<index>>"}}}]}]}`, string(ex.Input))
			if ex.Error != "" {
				wantStatus(t, run, workflow.RunFailed)
				if !strings.Contains(run.Steps["each"].Error, ex.Error) {
					t.Errorf("error %q lacks %q", run.Steps["each"].Error, ex.Error)
				}
				return
			}
			wantStatus(t, run, workflow.RunSucceeded)
			var got, want any
			_ = json.Unmarshal(run.Steps["each"].Output, &got)
			_ = json.Unmarshal(ex.Output, &want)
			if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
				t.Errorf("output %s, want %s", run.Steps["each"].Output, ex.Output)
			}
		})
	}
}

// TestNewVersionIsRunAfterSave: a run started without a version runs the
// latest one, even after the previous version was run (and its plan
// cached); a run keeps the version it started with.
func TestNewVersionIsRunAfterSave(t *testing.T) {
	t.Parallel()
	e := setup(t)
	doc := func(v string) string {
		return `{"name": "versions", "trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": "` + v + `"}}]}`
	}
	first := e.runOnce("versions", doc("one"), `{}`)
	second := e.runOnce("versions", doc("two"), `{}`)
	if first.Version != 1 || output(t, first, "a") != "one" {
		t.Errorf("first run: version %d, output %v", first.Version, output(t, first, "a"))
	}
	if second.Version != 2 || output(t, second, "a") != "two" {
		t.Errorf("second run: version %d, output %v; want version 2 and \"two\"", second.Version, output(t, second, "a"))
	}
}
