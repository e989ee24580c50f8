package storetest

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// redaction returns e's store as a store.Redaction.
func (e *env) redaction() store.Redaction {
	e.t.Helper()
	rd, ok := e.st.(store.Redaction)
	if !ok {
		e.t.Fatalf("%T does not implement store.Redaction", e.st)
	}
	return rd
}

// testApplyRedacted checks that the final commit of a redacted run writes
// its trigger with its state, in one transaction fenced by the lease.
func testApplyRedacted(t *testing.T, e *env) {
	r := e.claimed("w1")
	a := step("a", workflow.StepSucceeded)
	a.Output = json.RawMessage(`{"email":"[redacted]"}`)
	red := json.RawMessage(`{"email":"[redacted]"}`)

	// Another owner writes nothing, the trigger included.
	err := e.st.Apply(e.ctx, "w2", store.Update{RunID: r.ID, Status: workflow.RunSucceeded, FinishedAt: tp(e.now), Release: true, Steps: []*workflow.StepRun{a}, Trigger: red})
	wantErr(t, err, store.ErrLeaseLost)
	if got := e.get(r.ID); string(got.Trigger) != `{"kind":"manual"}` || got.Status != workflow.RunRunning || len(got.Steps) != 0 {
		t.Fatalf("a lost lease wrote: trigger %s, status %s, %d steps", got.Trigger, got.Status, len(got.Steps))
	}

	if err := e.st.Apply(e.ctx, "w1", store.Update{RunID: r.ID, Status: workflow.RunSucceeded, FinishedAt: tp(e.now), Release: true, Steps: []*workflow.StepRun{a}, Trigger: red}); err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if string(got.Trigger) != string(red) || got.Status != workflow.RunSucceeded || got.LeaseOwner != "" || got.Steps["a"] == nil || string(got.Steps["a"].Output) != string(a.Output) {
		t.Errorf("after Apply with a trigger: trigger %s, status %s, lease %q, steps %v", got.Trigger, got.Status, got.LeaseOwner, keys(got))
	}

	// Without a trigger the trigger data is left alone.
	r2 := e.claimed("w1")
	if err := e.st.Apply(e.ctx, "w1", store.Update{RunID: r2.ID, Status: workflow.RunFailed, Error: "x", FinishedAt: tp(e.now), Release: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.get(r2.ID); string(got.Trigger) != `{"kind":"manual"}` || got.Status != workflow.RunFailed {
		t.Errorf("nil trigger: trigger %s, status %s", got.Trigger, got.Status)
	}
}

// testRedactEventPayload checks that an event's payload is replaced, and
// nothing else of it.
func testRedactEventPayload(t *testing.T, e *env) {
	rd := e.redaction()
	ev := e.insertEvent(e.event("d1", 0))
	red := json.RawMessage(`{"email":"[redacted]"}`)
	if err := rd.RedactEventPayload(e.ctx, ev.ID, red); err != nil {
		t.Fatal(err)
	}
	got := e.getEvent(ev.ID)
	if string(got.Payload) != string(red) || got.Type != ev.Type || got.DedupeKey != "d1" || got.Status != store.EventPending {
		t.Errorf("event after redaction = %+v", got)
	}
	wantErr(t, rd.RedactEventPayload(e.ctx, "no-such-event", red), store.ErrNotFound)
}

// testResetRunConcurrency checks that a reset with a concurrency group puts
// the run under it: a run that had no limit is then held back by a full
// group.
func testResetRunConcurrency(t *testing.T, e *env, rec store.Recovery) {
	r := e.failedRun(step("a", workflow.StepFailed))
	lim := store.Concurrency{Key: "k", Limit: 1}
	active := e.limited(lim, "w2")
	if active.Status != workflow.RunRunning {
		t.Fatalf("the active run is %s", active.Status)
	}
	if _, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{ResetKeys: []string{"a"}, Version: 2, Now: e.now, Concurrency: &lim}); err != nil {
		t.Fatal(err)
	}
	if got := e.claimIDs("w3"); slices.Contains(got, r.ID) {
		t.Fatalf("the retried run was claimed past its group's limit: %v", got)
	}
	e.succeed("w2", active.ID)
	if got := e.claimIDs("w3"); !slices.Contains(got, r.ID) {
		t.Errorf("the retried run was not claimed once its group freed: %v", got)
	}

	// A zero limit lifts it.
	r2 := e.failedRun(step("a", workflow.StepFailed))
	e.limited(lim, "w2")
	if _, err := rec.ResetRun(e.ctx, r2.ID, store.RetryReset{ResetKeys: []string{"a"}, Now: e.now, Concurrency: &store.Concurrency{}}); err != nil {
		t.Fatal(err)
	}
	if got := e.claimIDs("w3"); !slices.Contains(got, r2.ID) {
		t.Errorf("a run reset with no limit was not claimed: %v", got)
	}
}
