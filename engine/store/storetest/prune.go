package storetest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// pruneTests are the conformance tests of retention and redaction.
var pruneTests = []subtest{
	{"ListPrunableVersions", testListPrunableVersions},
	{"DeleteFinishedRuns", testDeleteFinishedRuns},
	{"DeleteFinishedRunsBatches", testDeleteFinishedRunsBatches},
	{"DeleteOldEvents", testDeleteOldEvents},
	{"ReclaimSpace", testReclaimSpace},
	{"RedactRun", testRedactRun},
	{"ApplyRedacted", testApplyRedacted},
	{"RedactEventPayload", testRedactEventPayload},
}

// finished inserts a run of workflow wf, version v, in status, finished at
// e.now - age, with two step runs.
func (e *env) finished(wf string, v int, status workflow.RunStatus, age time.Duration) *workflow.Run {
	e.t.Helper()
	r := e.run(status, step("a", workflow.StepSucceeded), step("b", workflow.StepSucceeded))
	r.WorkflowID, r.Version = wf, v
	r.StartedAt, r.FinishedAt = tp(e.now.Add(-age-time.Minute)), tp(e.now.Add(-age))
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		e.t.Fatalf("CreateRun: %v", err)
	}
	return r
}

func (e *env) exists(id string) bool {
	e.t.Helper()
	_, err := e.st.GetRun(e.ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		e.t.Fatalf("GetRun %s: %v", id, err)
	}
	return err == nil
}

func testListPrunableVersions(t *testing.T, e *env) {
	day := 24 * time.Hour
	e.finished("b", 2, workflow.RunSucceeded, 10*day)
	e.finished("a", 3, workflow.RunFailed, 10*day)
	e.finished("a", 1, workflow.RunCancelled, 10*day)
	e.finished("a", 1, workflow.RunSucceeded, 20*day)
	e.finished("c", 1, workflow.RunSucceeded, time.Hour) // too recent
	e.finished("d", 1, workflow.RunQueued, 10*day)       // not finished
	got, err := e.st.ListPrunableVersions(e.ctx, e.now.Add(-day))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, v := range got {
		refs = append(refs, v.WorkflowID+"/"+string(rune('0'+v.Version)))
	}
	if want := []string{"a/1", "a/3", "b/2"}; !slices.Equal(refs, want) {
		t.Errorf("versions = %v, want %v", refs, want)
	}
}

func testDeleteFinishedRuns(t *testing.T, e *env) {
	day := 24 * time.Hour
	old := []*workflow.Run{
		e.finished("wf", 1, workflow.RunSucceeded, 40*day),
		e.finished("wf", 1, workflow.RunFailed, 35*day),
		e.finished("wf", 1, workflow.RunCancelled, 31*day),
	}
	keep := []*workflow.Run{
		e.finished("wf", 1, workflow.RunSucceeded, 29*day), // within retention
		e.finished("wf", 2, workflow.RunSucceeded, 40*day), // another version
		e.finished("other", 1, workflow.RunFailed, 40*day), // another workflow
		// Not finished, whatever their finish time says.
		e.finished("wf", 1, workflow.RunQueued, 40*day),
		e.finished("wf", 1, workflow.RunRunning, 40*day),
		e.finished("wf", 1, workflow.RunWaiting, 40*day),
	}
	runs, steps, err := e.st.DeleteFinishedRuns(e.ctx, "wf", 1, e.now.Add(-30*day), 100)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 3 || steps != 6 {
		t.Errorf("deleted %d runs and %d steps, want 3 and 6", runs, steps)
	}
	for _, r := range old {
		if e.exists(r.ID) {
			t.Errorf("run %s (%s, finished %s) was kept", r.ID, r.Status, r.FinishedAt)
		}
	}
	for _, r := range keep {
		if got := e.get(r.ID); len(got.Steps) != 2 {
			t.Errorf("run %s (%s %s v%d) lost steps: %d", r.ID, r.Status, r.WorkflowID, r.Version, len(got.Steps))
		}
	}
	runs, steps, err = e.st.DeleteFinishedRuns(e.ctx, "wf", 1, e.now.Add(-30*day), 100)
	if err != nil || runs != 0 || steps != 0 {
		t.Errorf("second delete = %d, %d, %v; want nothing", runs, steps, err)
	}
}

func testDeleteFinishedRunsBatches(t *testing.T, e *env) {
	day := 24 * time.Hour
	var ids []string
	for i := range 5 {
		ids = append(ids, e.finished("wf", 1, workflow.RunSucceeded, time.Duration(50-i)*day).ID)
	}
	runs, _, err := e.st.DeleteFinishedRuns(e.ctx, "wf", 1, e.now.Add(-30*day), 2)
	if err != nil || runs != 2 {
		t.Fatalf("delete = %d, %v; want 2", runs, err)
	}
	// Oldest first.
	for i, id := range ids {
		if got, want := e.exists(id), i >= 2; got != want {
			t.Errorf("run %d (finished %d days ago) exists = %v, want %v", i, 50-i, got, want)
		}
	}
	if runs, _, err := e.st.DeleteFinishedRuns(e.ctx, "wf", 1, e.now, 0); err != nil || runs != 0 {
		t.Errorf("limit 0 deleted %d (%v)", runs, err)
	}
}

func testDeleteOldEvents(t *testing.T, e *env) {
	old := e.insertEvent(e.event("old", -48*time.Hour))
	if err := e.st.FinishEvent(e.ctx, old.ID, store.EventResult{Status: store.EventRouted, RunIDs: []string{"r1"}, At: e.now}); err != nil {
		t.Fatal(err)
	}
	oldUnmatched := e.event("old-unmatched", -47*time.Hour)
	oldUnmatched.Status = store.EventUnmatched
	e.insertEvent(oldUnmatched)
	oldPending := e.insertEvent(e.event("old-pending", -46*time.Hour))
	recent := e.event("recent", -time.Hour)
	recent.Status = store.EventRouted
	e.insertEvent(recent)

	// A limit of one deletes the oldest first.
	n, err := e.st.DeleteOldEvents(e.ctx, e.now.Add(-24*time.Hour), 1)
	if err != nil || n != 1 {
		t.Fatalf("DeleteOldEvents limit 1 = %d, %v; want 1", n, err)
	}
	if _, err := e.st.GetEvent(e.ctx, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the oldest event is still there: %v", err)
	}
	n, err = e.st.DeleteOldEvents(e.ctx, e.now.Add(-24*time.Hour), 100)
	if err != nil || n != 1 {
		t.Fatalf("DeleteOldEvents = %d, %v; want 1 (the unmatched one)", n, err)
	}
	left, err := e.st.ListEvents(e.ctx, store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if ids := eventIDs(left); !slices.Equal(ids, []string{recent.ID, oldPending.ID}) {
		t.Errorf("events left %v, want the recent one and the pending one", ids)
	}
}

func testReclaimSpace(t *testing.T, e *env) {
	e.finished("wf", 1, workflow.RunSucceeded, 48*time.Hour)
	if _, _, err := e.st.DeleteFinishedRuns(e.ctx, "wf", 1, e.now, 10); err != nil {
		t.Fatal(err)
	}
	if err := e.st.ReclaimSpace(e.ctx); err != nil {
		t.Fatalf("ReclaimSpace: %v", err)
	}
	if err := e.st.ReclaimSpace(e.ctx); err != nil {
		t.Fatalf("ReclaimSpace with nothing to reclaim: %v", err)
	}
}

func testRedactRun(t *testing.T, e *env) {
	a, b := step("a", workflow.StepSucceeded), step("b", workflow.StepFailed)
	a.Input, a.Output = json.RawMessage(`{"email":"jane@example.com"}`), json.RawMessage(`{"name":"Jane"}`)
	b.Input, b.Error = json.RawMessage(`{"x":1}`), "boom"
	r := e.run(workflow.RunFailed, a, b)
	r.FinishedAt = tp(e.now)
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	ra := a.Clone()
	ra.Input, ra.Output = json.RawMessage(`{"email":"[redacted]"}`), json.RawMessage(`{"name":"[redacted]"}`)
	if err := e.st.RedactRun(e.ctx, r.ID, json.RawMessage(`{"kind":"[redacted]"}`), []*workflow.StepRun{ra}); err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	if string(got.Trigger) != `{"kind":"[redacted]"}` {
		t.Errorf("trigger = %s", got.Trigger)
	}
	if ga := got.Steps["a"]; string(ga.Input) != string(ra.Input) || string(ga.Output) != string(ra.Output) || ga.Status != workflow.StepSucceeded || ga.Attempts != 1 {
		t.Errorf("step a = %+v", ga)
	}
	if gb := got.Steps["b"]; string(gb.Input) != `{"x":1}` || gb.Error != "boom" {
		t.Errorf("step b changed: %+v", gb)
	}
	// A nil trigger is left alone.
	if err := e.st.RedactRun(e.ctx, r.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.get(r.ID); string(got.Trigger) != `{"kind":"[redacted]"}` {
		t.Errorf("trigger after nil = %s", got.Trigger)
	}

	live := e.create(workflow.RunQueued)
	wantErr(t, e.st.RedactRun(e.ctx, live.ID, json.RawMessage(`{}`), nil), store.ErrConflict)
	wantErr(t, e.st.RedactRun(e.ctx, "no-such-run", json.RawMessage(`{}`), nil), store.ErrNotFound)
}
