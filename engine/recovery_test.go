package engine_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// chainDoc is first -> second -> third, each a test.work step with the
// given inputs (JSON objects).
func chainDoc(first, second, third string) string {
	return `{"name": "chain", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "test.work", "input": ` + first + `},
  {"id": "second", "type": "test.work", "input": ` + second + `},
  {"id": "third", "type": "test.work", "input": ` + third + `}],
  "edges": [{"from": "first", "to": "second"}, {"from": "second", "to": "third"}]}`
}

// TestRetryRunWithOptions fails a run at its second step, saves a new
// version as the case says, and retries with the case's options: which
// steps run again, and on which version.
func TestRetryRunWithOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// next, when set, is saved as version 2 before the retry.
		next        string
		opts        engine.RetryOptions
		wantVersion int
		// wantCalls are first/second/third's calls over both tries.
		wantCalls [3]int
	}{
		{name: "from the failed step on the original version",
			next: chainDoc(`{"v": 2}`, `{}`, `{}`), wantVersion: 1, wantCalls: [3]int{1, 2, 1}},
		{name: "from the start on the original version",
			opts: engine.RetryOptions{FromStart: true}, wantVersion: 1, wantCalls: [3]int{2, 2, 1}},
		{name: "latest, only a later step changed: the first keeps its output",
			next: chainDoc(`{}`, `{}`, `{"v": 2}`), opts: engine.RetryOptions{Latest: true}, wantVersion: 2, wantCalls: [3]int{1, 2, 1}},
		{name: "latest, renamed and moved but unchanged: kept",
			next: `{"name": "chain", "trigger": {"type": "api"}, "steps": [
  {"id": "first", "type": "test.work", "name": "First!", "position": {"x": 9, "y": 9}, "input": {}},
  {"id": "second", "type": "test.work", "input": {}}, {"id": "third", "type": "test.work", "input": {}}],
  "edges": [{"from": "first", "to": "second"}, {"from": "second", "to": "third"}]}`,
			opts: engine.RetryOptions{Latest: true}, wantVersion: 2, wantCalls: [3]int{1, 2, 1}},
		{name: "latest, the first step changed: everything after it runs again",
			next: chainDoc(`{"v": 2}`, `{}`, `{}`), opts: engine.RetryOptions{Latest: true}, wantVersion: 2, wantCalls: [3]int{2, 2, 1}},
		{name: "latest from the start",
			next: chainDoc(`{}`, `{}`, `{"v": 2}`), opts: engine.RetryOptions{Latest: true, FromStart: true}, wantVersion: 2, wantCalls: [3]int{2, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.probe.perm["second"] = errors.New("down for maintenance")
			e.save("chain", chainDoc(`{}`, `{}`, `{}`))
			run := e.wait(e.start("chain", `{}`).ID)
			wantStatus(t, run, workflow.RunFailed)
			firstOut := string(run.Steps["first"].Output)
			if tt.next != "" {
				e.save("chain", tt.next)
			}
			e.probe.heal("second")
			queued, err := e.eng.RetryRunWith(e.ctx, run.ID, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if queued.Version != tt.wantVersion {
				t.Errorf("retried run's version = %d, want %d", queued.Version, tt.wantVersion)
			}
			done := e.wait(run.ID)
			wantStatus(t, done, workflow.RunSucceeded)
			if done.Version != tt.wantVersion {
				t.Errorf("finished run's version = %d, want %d", done.Version, tt.wantVersion)
			}
			got := [3]int{e.probe.count("first"), e.probe.count("second"), e.probe.count("third")}
			if got != tt.wantCalls {
				t.Errorf("calls first/second/third = %v, want %v", got, tt.wantCalls)
			}
			if tt.wantCalls[0] == 1 && string(done.Steps["first"].Output) != firstOut {
				t.Errorf("first's kept output changed: %s -> %s", firstOut, done.Steps["first"].Output)
			}
		})
	}
}

// TestRetryCancelledRunOnLatest cancels a run in a slow step, fixes the
// step in a new version and retries on it: the finished step is kept, the
// interrupted one runs again on the new version.
func TestRetryCancelledRunOnLatest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("fix", chainDoc(`{}`, `{"sleep": "30s"}`, `{}`))
	run := e.start("fix", `{}`)
	pollRun(t, e.store, run.ID, "second running", func(r *workflow.Run) bool {
		return r.Steps["second"] != nil && r.Steps["second"].Status == workflow.StepRunning
	})
	if _, err := e.eng.CancelRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(run.ID), workflow.RunCancelled)
	e.save("fix", chainDoc(`{}`, `{"sleep": "1ms"}`, `{}`))
	if _, err := e.eng.RetryRunWith(e.ctx, run.ID, engine.RetryOptions{Latest: true}); err != nil {
		t.Fatalf("retrying a cancelled run: %v", err)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	if done.Version != 2 {
		t.Errorf("version = %d, want 2", done.Version)
	}
	if got := [3]int{e.probe.count("first"), e.probe.count("second"), e.probe.count("third")}; got != [3]int{1, 2, 1} {
		t.Errorf("calls first/second/third = %v, want [1 2 1]", got)
	}
}

func TestRetryRefusesARunThatIsNotFailedOrCancelled(t *testing.T) {
	t.Parallel()
	e := setup(t)
	done := e.runOnce("ok", chainDoc(`{}`, `{}`, `{}`), `{}`)
	_, err := e.eng.RetryRunWith(e.ctx, done.ID, engine.RetryOptions{FromStart: true})
	var nre *engine.NotRetryableError
	if !errors.As(err, &nre) || !errors.Is(err, store.ErrConflict) || nre.Status != workflow.RunSucceeded {
		t.Fatalf("retrying a succeeded run: err = %v, want a NotRetryableError (a conflict) naming status succeeded", err)
	}
	if _, err := e.eng.RetryRun(e.ctx, "no-such-run"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("retrying a missing run: err = %v, want ErrNotFound", err)
	}
}

// TestRetryRunsByFilter fails runs of two workflows and retries a
// workflow's, a few at a time.
func TestRetryRunsByFilter(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.probe.perm["second"] = errors.New("down")
	e.save("a", chainDoc(`{}`, `{}`, `{}`))
	e.save("b", chainDoc(`{}`, `{}`, `{}`))
	var aRuns []string
	for range 3 {
		aRuns = append(aRuns, e.wait(e.start("a", `{}`).ID).ID)
	}
	bRun := e.wait(e.start("b", `{}`).ID)
	e.probe.heal("second")

	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	got, err := e.eng.RetryRuns(ctx, store.RunFilter{WorkflowID: "a"}, engine.RetryOptions{}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{aRuns[2], aRuns[1]}; !slices.Equal(got, want) {
		t.Errorf("first bulk retry = %v, want the two newest of a: %v", got, want)
	}
	for _, id := range got {
		wantStatus(t, e.wait(id), workflow.RunSucceeded)
	}
	got, err = e.eng.RetryRuns(ctx, store.RunFilter{WorkflowID: "a", Status: workflow.RunFailed}, engine.RetryOptions{}, 0)
	if err != nil || !slices.Equal(got, []string{aRuns[0]}) {
		t.Errorf("second bulk retry = %v, %v, want [%s]", got, err, aRuns[0])
	}
	wantStatus(t, e.wait(aRuns[0]), workflow.RunSucceeded)
	if r, _ := e.eng.GetRun(ctx, bRun.ID); r.Status != workflow.RunFailed {
		t.Errorf("b's run is %s: the filter on workflow a retried it", r.Status)
	}
	for _, f := range []store.RunFilter{
		{Status: workflow.RunSucceeded},
		{CreatedAfter: time.Now(), CreatedBefore: time.Now().Add(-time.Hour)},
	} {
		if _, err := e.eng.RetryRuns(ctx, f, engine.RetryOptions{}, 10); !errors.Is(err, engine.ErrBadRunFilter) {
			t.Errorf("RetryRuns(%+v): err = %v, want ErrBadRunFilter", f, err)
		}
	}
}
