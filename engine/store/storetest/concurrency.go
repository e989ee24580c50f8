package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// RunConcurrency runs the conformance tests of concurrency limits
// (store.Concurrency, CreateLimitedRun and the claims' turn order), with a
// fresh store per subtest as Run.
func RunConcurrency(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []subtest{
		{"CreateRunningWhenFullIsQueued", testLimitedCreateQueues},
		{"ClaimsWaitTheirTurnInOrder", testLimitedClaimOrder},
		{"LimitWithoutKey", testLimitWithoutKey},
		{"ParkedRunStaysActive", testLimitedParkedRunStaysActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, setup(t, newStore))
		})
	}
}

// limited creates a run of workflow "wf" under lim; running asks for it to
// be created claimed by owner.
func (e *env) limited(lim store.Concurrency, owner string) *workflow.Run {
	e.t.Helper()
	r := e.run(workflow.RunQueued)
	if owner != "" {
		r.Status, r.LeaseOwner, r.LeaseUntil, r.StartedAt = workflow.RunRunning, owner, tp(e.now.Add(lease)), tp(e.now)
	}
	if err := e.st.CreateLimitedRun(e.ctx, r, lim); err != nil {
		e.t.Fatalf("CreateLimitedRun: %v", err)
	}
	return r
}

// claimIDs claims every due run it may for owner and returns their ids.
func (e *env) claimIDs(owner string) []string {
	e.t.Helper()
	runs, err := e.st.ClaimRuns(e.ctx, owner, e.now, lease, 100)
	if err != nil {
		e.t.Fatalf("ClaimRuns: %v", err)
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
		if r.WaitReason != "" {
			e.t.Errorf("claimed run %s still has wait reason %q", r.ID, r.WaitReason)
		}
	}
	return ids
}

func (e *env) succeed(owner, id string) {
	e.t.Helper()
	e.apply(owner, store.Update{RunID: id, Status: workflow.RunSucceeded, FinishedAt: tp(e.now), Release: true})
}

func testLimitedCreateQueues(t *testing.T, e *env) {
	a := store.Concurrency{Key: "opp-1", Limit: 1}
	first := e.limited(a, "w1")
	if first.Status != workflow.RunRunning || first.WaitReason != "" {
		t.Fatalf("first run: status %s, reason %q; want running with no reason", first.Status, first.WaitReason)
	}
	second := e.limited(a, "w1")
	want := "concurrency: waiting for 1 earlier run(s) of this workflow with key opp-1"
	if second.Status != workflow.RunQueued || second.LeaseOwner != "" || second.LeaseUntil != nil || second.StartedAt != nil || second.WaitReason != want {
		t.Fatalf("second run: %+v; want queued, no lease, reason %q", second, want)
	}
	if got := e.get(second.ID); got.Status != workflow.RunQueued || got.WaitReason != want || got.LeaseOwner != "" {
		t.Fatalf("stored second run: status %s, owner %q, reason %q", got.Status, got.LeaseOwner, got.WaitReason)
	}
	third := e.limited(a, "")
	if want := "concurrency: waiting for 2 earlier run(s) of this workflow with key opp-1"; third.WaitReason != want {
		t.Fatalf("third run's reason %q, want %q", third.WaitReason, want)
	}
	other := e.limited(store.Concurrency{Key: "opp-2", Limit: 1}, "w1")
	if other.Status != workflow.RunRunning {
		t.Fatalf("a run of another key is %s, want running", other.Status)
	}
	e.succeed("w1", first.ID)
	if got := e.get(first.ID); got.WaitReason != "" {
		t.Fatalf("finished run has wait reason %q", got.WaitReason)
	}
}

func testLimitedClaimOrder(t *testing.T, e *env) {
	a := store.Concurrency{Key: "k", Limit: 1}
	active := e.limited(a, "w1")
	q1, q2 := e.limited(a, ""), e.limited(a, "")
	free := e.create(workflow.RunQueued) // no limit: never held back by them
	if got := e.claimIDs("w2"); !slices.Equal(got, []string{free.ID}) {
		t.Fatalf("claimed %v, want only the unlimited run %s", got, free.ID)
	}
	if _, err := e.st.ClaimRun(e.ctx, q1.ID, "w2", e.now, lease); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ClaimRun of a run whose group is full: %v, want ErrConflict", err)
	}
	e.succeed("w1", active.ID)
	// The turn is q1's (the oldest), even when q2 is asked for by id.
	if _, err := e.st.ClaimRun(e.ctx, q2.ID, "w2", e.now, lease); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ClaimRun of the second in line: %v, want ErrConflict", err)
	}
	if got := e.claimIDs("w2"); !slices.Equal(got, []string{q1.ID}) {
		t.Fatalf("claimed %v, want %s (the oldest queued)", got, q1.ID)
	}
	if got := e.get(q1.ID); got.Status != workflow.RunRunning || got.WaitReason != "" {
		t.Fatalf("claimed run: status %s, reason %q", got.Status, got.WaitReason)
	}
	e.succeed("w2", q1.ID)
	got, err := e.st.ClaimRun(e.ctx, q2.ID, "w3", e.now, lease)
	if err != nil || got.Status != workflow.RunRunning || got.WaitReason != "" {
		t.Fatalf("ClaimRun of the next in line: %+v, %v", got, err)
	}
}

func testLimitWithoutKey(t *testing.T, e *env) {
	lim := store.Concurrency{Limit: 2}
	var ids []string
	for range 5 {
		ids = append(ids, e.limited(lim, "").ID)
	}
	if want := "concurrency: waiting for 2 earlier run(s) of this workflow"; e.get(ids[2]).WaitReason != want {
		t.Fatalf("third run's reason %q, want %q", e.get(ids[2]).WaitReason, want)
	}
	if got := e.claimIDs("w1"); !slices.Equal(got, ids[:2]) {
		t.Fatalf("claimed %v, want the two oldest %v", got, ids[:2])
	}
	if got := e.claimIDs("w1"); len(got) != 0 {
		t.Fatalf("claimed %v past the limit", got)
	}
	e.succeed("w1", ids[1])
	if got := e.claimIDs("w1"); !slices.Equal(got, ids[2:3]) {
		t.Fatalf("claimed %v, want %v", got, ids[2:3])
	}
}

func testLimitedParkedRunStaysActive(t *testing.T, e *env) {
	a := store.Concurrency{Key: "k", Limit: 1}
	r := e.limited(a, "w1")
	next := e.limited(a, "")
	const why = "throttled: Lever's rate limit on connection acme, resuming at 2030-01-02T03:04:05Z"
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunWaiting, WakeAt: tp(e.now), Release: true, WaitReason: why})
	if got := e.get(r.ID); got.Status != workflow.RunWaiting || got.WaitReason != why {
		t.Fatalf("parked run: status %s, reason %q", got.Status, got.WaitReason)
	}
	// The parked run holds its group's place and is taken up again;
	// the queued one still waits.
	if got := e.claimIDs("w2"); !slices.Equal(got, []string{r.ID}) {
		t.Fatalf("claimed %v, want the parked run %s only", got, r.ID)
	}
	if got := e.get(next.ID); got.Status != workflow.RunQueued {
		t.Fatalf("queued run is %s", got.Status)
	}
}
