package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// RunRecovery runs the conformance tests of store.Recovery (retry resets
// and the cancel watch's read). newStore is as for Run, and its stores
// must implement store.Recovery.
func RunRecovery(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *env, rec store.Recovery)
	}{
		{"ResetRunKeys", testResetRunKeys},
		{"ResetRunAllAndVersion", testResetRunAllAndVersion},
		{"ResetRunCancelled", testResetRunCancelled},
		{"ResetRunConflict", testResetRunConflict},
		{"ResetRunFinishedAtFence", testResetRunFinishedAtFence},
		{"CancelRequests", testCancelRequests},
		{"ResetRunConcurrency", testResetRunConcurrency},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, newStore)
			rec, ok := e.st.(store.Recovery)
			if !ok {
				t.Fatalf("%T does not implement store.Recovery", e.st)
			}
			tt.fn(t, e, rec)
		})
	}
}

// failedRun makes a run claimed by w1 with the given steps, then fails it
// at e.now.
func (e *env) failedRun(steps ...*workflow.StepRun) *workflow.Run {
	e.t.Helper()
	r := e.claimed("w1", steps...)
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunFailed, Error: "b failed", FinishedAt: tp(e.now), Release: true})
	return e.get(r.ID)
}

func testResetRunKeys(t *testing.T, e *env, rec store.Recovery) {
	r := e.failedRun(step("a", workflow.StepSucceeded), step("b", workflow.StepFailed), step("c", workflow.StepSkipped))
	later := e.now.Add(time.Minute)
	got, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{ResetKeys: []string{"b", "nope"}, FinishedAt: *r.FinishedAt, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunQueued || got.Version != 1 || got.FinishedAt != nil {
		t.Errorf("ResetRun = %+v, want queued on version 1, unfinished", got)
	}
	stored := e.get(r.ID)
	if !slices.Equal(keys(stored), []string{"a", "c"}) {
		t.Errorf("steps = %v, want a, c", keys(stored))
	}
	wantTime(t, "started_at", stored.StartedAt, later)
	if stored.Error != "" || stored.LeaseOwner != "" || stored.Status != workflow.RunQueued {
		t.Errorf("stored run = %+v", stored)
	}
}

func testResetRunAllAndVersion(t *testing.T, e *env, rec store.Recovery) {
	r := e.failedRun(step("a", workflow.StepSucceeded), step("b", workflow.StepFailed))
	if _, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{ResetAll: true, Version: 3, Now: e.now}); err != nil {
		t.Fatal(err)
	}
	stored := e.get(r.ID)
	if len(stored.Steps) != 0 || stored.Version != 3 || stored.Status != workflow.RunQueued {
		t.Errorf("after a reset of everything on version 3: version %d, status %s, steps %v", stored.Version, stored.Status, keys(stored))
	}
	c, err := e.st.ClaimRuns(e.ctx, "w2", e.now, lease, 10)
	if err != nil || len(c) != 1 || c[0].Version != 3 {
		t.Fatalf("ClaimRuns after the reset = %v, %v, want the run on version 3", ids(c), err)
	}
}

func testResetRunCancelled(t *testing.T, e *env, rec store.Recovery) {
	r := e.create(workflow.RunQueued, step("a", workflow.StepSucceeded))
	if _, err := e.st.RequestCancel(e.ctx, r.ID, e.now); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{Now: e.now}); err != nil {
		t.Fatalf("resetting a cancelled run: %v", err)
	}
	if got := e.get(r.ID); got.Status != workflow.RunQueued || got.Error != "" || !slices.Equal(keys(got), []string{"a"}) {
		t.Errorf("cancelled run after reset = %s %q %v, want queued, no error, step a kept", got.Status, got.Error, keys(got))
	}
}

func testResetRunConflict(t *testing.T, e *env, rec store.Recovery) {
	for _, st := range []workflow.RunStatus{workflow.RunQueued, workflow.RunSucceeded} {
		r := e.create(st, step("a", workflow.StepFailed))
		_, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{ResetAll: true, Now: e.now})
		wantErr(t, err, store.ErrConflict)
		if got := e.get(r.ID); got.Status != st || len(got.Steps) != 1 {
			t.Errorf("%s run after a refused reset = %s with %d steps, want unchanged", st, got.Status, len(got.Steps))
		}
	}
	_, err := rec.ResetRun(e.ctx, "no-such-run", store.RetryReset{Now: e.now})
	wantErr(t, err, store.ErrNotFound)
}

func testResetRunFinishedAtFence(t *testing.T, e *env, rec store.Recovery) {
	r := e.failedRun(step("a", workflow.StepFailed))
	_, err := rec.ResetRun(e.ctx, r.ID, store.RetryReset{ResetAll: true, FinishedAt: r.FinishedAt.Add(time.Second), Now: e.now})
	wantErr(t, err, store.ErrConflict)
	if got := e.get(r.ID); got.Status != workflow.RunFailed || len(got.Steps) != 1 {
		t.Errorf("run after a fenced-out reset = %s with %d steps, want failed and unchanged", got.Status, len(got.Steps))
	}
}

func testCancelRequests(t *testing.T, e *env, rec store.Recovery) {
	asked := e.claimed("w1")
	quiet := e.claimed("w1")
	other := e.claimed("w2")
	for _, id := range []string{asked.ID, other.ID} {
		if _, err := e.st.RequestCancel(e.ctx, id, e.now); err != nil {
			t.Fatal(err)
		}
	}
	got, err := rec.CancelRequests(e.ctx, "w1", []string{quiet.ID, asked.ID, other.ID, "no-such-run", asked.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{asked.ID}) {
		t.Errorf("CancelRequests(w1) = %v, want [%s]: only w1's runs with a cancel asked", got, asked.ID)
	}
	if got, err := rec.CancelRequests(e.ctx, "w1", nil); err != nil || len(got) != 0 {
		t.Errorf("CancelRequests with no ids = %v, %v", got, err)
	}
}
