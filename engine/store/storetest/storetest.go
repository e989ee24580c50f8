package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// subtest is one named check of the suite.
type subtest struct {
	name string
	fn   func(t *testing.T, e *env)
}

// Run runs the conformance suite. newStore must return a fresh, empty store
// on every call (and arrange its closing with t.Cleanup); the subtests run
// in parallel, one store each.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []subtest{
		{"WorkflowVersions", testWorkflowVersions},
		{"CreateAndGetRun", testCreateAndGetRun},
		{"CreateRunDuplicate", testCreateRunDuplicate},
		{"ListRunsFilters", testListRunsFilters},
		{"ListRunsKeysetPaging", testListRunsKeysetPaging},
		{"ListRunsDefaultLimit", testListRunsDefaultLimit},
		{"ClaimQueued", testClaimQueued},
		{"ClaimDueWaiting", testClaimDueWaiting},
		{"ClaimSkipsNotDueWaiting", testClaimSkipsNotDueWaiting},
		{"ClaimTakesOverExpiredLease", testClaimTakesOverExpiredLease},
		{"ClaimSkipsLiveLease", testClaimSkipsLiveLease},
		{"ClaimSkipsFinished", testClaimSkipsFinished},
		{"ClaimOldestFirstUpToLimit", testClaimOldestFirst},
		{"ClaimRunConflict", testClaimRunConflict},
		{"ConcurrentClaimRuns", testConcurrentClaimRuns},
		{"ConcurrentClaimRun", testConcurrentClaimRun},
		{"ApplyFencing", testApplyFencing},
		{"ApplyUpsertReplacesStepRun", testApplyUpsert},
		{"ApplyManySteps", testApplyManySteps},
		{"ApplyRunFields", testApplyRunFields},
		{"Release", testRelease},
		{"ExtendLeases", testExtendLeases},
		{"RequestCancelQueued", testRequestCancelQueued},
		{"RequestCancelWaiting", testRequestCancelWaiting},
		{"RequestCancelLeased", testRequestCancelLeased},
		{"RequestCancelExpiredLease", testRequestCancelExpiredLease},
		{"RequestCancelFinished", testRequestCancelFinished},
		{"ResetForRetry", testResetForRetry},
		{"ResetForRetryConflict", testResetForRetryConflict},
		{"TimesRoundTripUTC", testTimesRoundTripUTC},
		{"LargeOutput", testLargeOutput},
	}
	tests = append(tests, connectionTests...)
	tests = append(tests, workflowTests...)
	tests = append(tests, tokenTests...)
	tests = append(tests, eventTests...)
	tests = append(tests, pruneTests...)
	tests = append(tests, triggerStateTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, setup(t, newStore))
		})
	}
}

// env is one subtest's fresh store and fixed clock.
type env struct {
	t   *testing.T
	st  store.Store
	ctx context.Context
	now time.Time
}

func setup(t *testing.T, newStore func(t *testing.T) store.Store) *env {
	t.Helper()
	return &env{
		t:   t,
		st:  newStore(t),
		ctx: t.Context(),
		now: time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC),
	}
}

const lease = time.Minute

var idSeq atomic.Uint64

// newID returns a new run id shaped like a UUIDv7: later ids sort higher.
func newID() string {
	n := idSeq.Add(1)
	return fmt.Sprintf("01900000-%04x-7%03x-8000-%012x", n>>28&0xffff, n>>16&0xfff, n&0xffffffffffff)
}

func tp(t time.Time) *time.Time { return &t }

func (e *env) run(status workflow.RunStatus, steps ...*workflow.StepRun) *workflow.Run {
	e.t.Helper()
	r := &workflow.Run{
		ID:         newID(),
		WorkflowID: "wf",
		Version:    1,
		Status:     status,
		Trigger:    json.RawMessage(`{"kind":"manual"}`),
		CreatedAt:  e.now,
		Steps:      map[string]*workflow.StepRun{},
	}
	for _, s := range steps {
		r.Steps[s.Key] = s
	}
	return r
}

// create inserts a run with the given status and steps.
func (e *env) create(status workflow.RunStatus, steps ...*workflow.StepRun) *workflow.Run {
	e.t.Helper()
	r := e.run(status, steps...)
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		e.t.Fatalf("CreateRun: %v", err)
	}
	return r
}

// claimed creates a queued run and claims it for owner at e.now.
func (e *env) claimed(owner string, steps ...*workflow.StepRun) *workflow.Run {
	e.t.Helper()
	r := e.create(workflow.RunQueued, steps...)
	got, err := e.st.ClaimRun(e.ctx, r.ID, owner, e.now, lease)
	if err != nil {
		e.t.Fatalf("ClaimRun: %v", err)
	}
	return got
}

func (e *env) get(id string) *workflow.Run {
	e.t.Helper()
	r, err := e.st.GetRun(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetRun %s: %v", id, err)
	}
	return r
}

func (e *env) apply(owner string, u store.Update) {
	e.t.Helper()
	if err := e.st.Apply(e.ctx, owner, u); err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
}

func step(key string, status workflow.StepStatus) *workflow.StepRun {
	return &workflow.StepRun{Key: key, StepID: key, Type: "test.step", Status: status, Attempts: 1}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func wantTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil, want %s", what, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s location = %s, want UTC", what, got.Location())
	}
	if !got.Equal(want) && !got.Equal(want.Truncate(time.Microsecond)) {
		t.Errorf("%s = %s, want %s (to the microsecond)", what, got, want)
	}
}

func ids(runs []*workflow.Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

func keys(r *workflow.Run) []string {
	var out []string
	for k := range r.Steps {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testWorkflowVersions(t *testing.T, e *env) {
	def1 := json.RawMessage(`{"name":"one","steps":[]}`)
	def2 := json.RawMessage(`{"name":"two","steps":[{"id":"a"}]}`)
	v1, err := e.st.SaveWorkflow(e.ctx, "wf-a", "one", def1, e.now)
	if err != nil {
		t.Fatalf("SaveWorkflow 1: %v", err)
	}
	v2, err := e.st.SaveWorkflow(e.ctx, "wf-a", "two", def2, e.now.Add(time.Second))
	if err != nil {
		t.Fatalf("SaveWorkflow 2: %v", err)
	}
	if v1.Version != 1 || v2.Version != 2 {
		t.Fatalf("versions = %d, %d, want 1, 2", v1.Version, v2.Version)
	}
	other, err := e.st.SaveWorkflow(e.ctx, "wf-b", "b", def1, e.now)
	if err != nil || other.Version != 1 {
		t.Fatalf("SaveWorkflow of another workflow = %+v, %v, want version 1", other, err)
	}
	for _, tc := range []struct {
		name    string
		version int
		want    int
		wantDef json.RawMessage
		name2   string
	}{
		{"first", 1, 1, def1, "one"},
		{"second", 2, 2, def2, "two"},
		{"latest", 0, 2, def2, "two"},
	} {
		got, err := e.st.GetWorkflowVersion(e.ctx, "wf-a", tc.version)
		if err != nil {
			t.Fatalf("%s: GetWorkflowVersion: %v", tc.name, err)
		}
		if got.WorkflowID != "wf-a" || got.Version != tc.want || got.Name != tc.name2 || !bytes.Equal(got.Definition, tc.wantDef) {
			t.Errorf("%s: got %+v (definition %s), want version %d %q %s", tc.name, got, got.Definition, tc.want, tc.name2, tc.wantDef)
		}
	}
	got, _ := e.st.GetWorkflowVersion(e.ctx, "wf-a", 1)
	wantTime(t, "CreatedAt", &got.CreatedAt, e.now)
	_, err = e.st.GetWorkflowVersion(e.ctx, "wf-a", 3)
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.GetWorkflowVersion(e.ctx, "nope", 0)
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.GetWorkflowVersion(e.ctx, "nope", 1)
	wantErr(t, err, store.ErrNotFound)
}

func testCreateAndGetRun(t *testing.T, e *env) {
	a := step("a", workflow.StepSucceeded)
	a.Input = json.RawMessage(`{"x":1}`)
	a.Output = json.RawMessage(`{"y":2}`)
	a.Branch = "true"
	a.StartedAt, a.FinishedAt = tp(e.now), tp(e.now.Add(time.Second))
	b := step("fan[0].b", workflow.StepRunning)
	b.Error = "boom"
	b.WakeAt = tp(e.now.Add(time.Hour))
	r := e.run(workflow.RunQueued, a, b)
	r.UserID = "user-1"
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	got := e.get(r.ID)
	if got.ID != r.ID || got.WorkflowID != "wf" || got.Version != 1 || got.UserID != "user-1" || got.Status != workflow.RunQueued ||
		string(got.Trigger) != string(r.Trigger) || got.LeaseOwner != "" || got.LeaseUntil != nil || got.StartedAt != nil ||
		got.FinishedAt != nil || got.WakeAt != nil || got.CancelRequested || got.Error != "" {
		t.Errorf("GetRun = %+v, want %+v", got, r)
	}
	wantTime(t, "CreatedAt", &got.CreatedAt, e.now)
	if k := keys(got); !slices.Equal(k, []string{"a", "fan[0].b"}) {
		t.Fatalf("steps = %v, want a, fan[0].b", k)
	}
	ga, gb := got.Steps["a"], got.Steps["fan[0].b"]
	if ga.RunID != r.ID || ga.StepID != "a" || ga.Type != "test.step" || ga.Status != workflow.StepSucceeded || ga.Attempts != 1 ||
		string(ga.Input) != `{"x":1}` || string(ga.Output) != `{"y":2}` || ga.Branch != "true" || ga.Error != "" || ga.WakeAt != nil {
		t.Errorf("step a = %+v", ga)
	}
	wantTime(t, "a.StartedAt", ga.StartedAt, e.now)
	wantTime(t, "a.FinishedAt", ga.FinishedAt, e.now.Add(time.Second))
	if gb.Status != workflow.StepRunning || gb.Error != "boom" || gb.Input != nil || gb.Output != nil || gb.StartedAt != nil || gb.FinishedAt != nil {
		t.Errorf("step fan[0].b = %+v", gb)
	}
	wantTime(t, "b.WakeAt", gb.WakeAt, e.now.Add(time.Hour))

	_, err := e.st.GetRun(e.ctx, "no-such-run")
	wantErr(t, err, store.ErrNotFound)
}

func testCreateRunDuplicate(t *testing.T, e *env) {
	r := e.create(workflow.RunQueued)
	dup := e.run(workflow.RunQueued)
	dup.ID = r.ID
	wantErr(t, e.st.CreateRun(e.ctx, dup), store.ErrConflict)
}

func testListRunsFilters(t *testing.T, e *env) {
	var all []*workflow.Run
	for i, st := range []workflow.RunStatus{workflow.RunQueued, workflow.RunFailed, workflow.RunQueued, workflow.RunSucceeded, workflow.RunFailed} {
		r := e.run(st, step("a", workflow.StepPending))
		if i%2 == 1 {
			r.WorkflowID = "other"
		}
		if err := e.st.CreateRun(e.ctx, r); err != nil {
			t.Fatal(err)
		}
		all = append([]*workflow.Run{r}, all...) // newest first
	}
	for _, tc := range []struct {
		name string
		f    store.RunFilter
		want []*workflow.Run
	}{
		{"all newest first", store.RunFilter{}, all},
		{"by workflow", store.RunFilter{WorkflowID: "other"}, []*workflow.Run{all[1], all[3]}},
		{"by status", store.RunFilter{Status: workflow.RunFailed}, []*workflow.Run{all[0], all[3]}},
		{"by workflow and status", store.RunFilter{WorkflowID: "wf", Status: workflow.RunQueued}, []*workflow.Run{all[2], all[4]}},
		{"no match", store.RunFilter{WorkflowID: "nope"}, nil},
		{"after", store.RunFilter{After: all[1].ID}, all[2:]},
		{"limit", store.RunFilter{Limit: 2}, all[:2]},
	} {
		got, err := e.st.ListRuns(e.ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: ListRuns: %v", tc.name, err)
		}
		if !slices.Equal(ids(got), ids(tc.want)) {
			t.Errorf("%s: ListRuns = %v, want %v", tc.name, ids(got), ids(tc.want))
		}
		for _, r := range got {
			if len(r.Steps) != 0 {
				t.Errorf("%s: ListRuns returned run %s with %d step runs, want none", tc.name, r.ID, len(r.Steps))
			}
		}
	}
}

func testListRunsKeysetPaging(t *testing.T, e *env) {
	var want []string
	for range 7 {
		want = append([]string{e.create(workflow.RunQueued).ID}, want...)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		runs, err := e.st.ListRuns(e.ctx, store.RunFilter{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 3 {
			t.Fatalf("page of %d runs, want at most 3", len(runs))
		}
		if len(runs) == 0 {
			break
		}
		got = append(got, ids(runs)...)
		after = runs[len(runs)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

func testListRunsDefaultLimit(t *testing.T, e *env) {
	for range 53 {
		e.create(workflow.RunSucceeded)
	}
	got, err := e.st.ListRuns(e.ctx, store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Errorf("ListRuns with Limit 0 = %d runs, want 50", len(got))
	}
}

func (e *env) wantClaimed(r *workflow.Run, owner string, now time.Time) {
	e.t.Helper()
	if r.Status != workflow.RunRunning || r.LeaseOwner != owner || r.WakeAt != nil {
		e.t.Errorf("claimed run = status %s owner %q wake %v, want running, %q, no wake", r.Status, r.LeaseOwner, r.WakeAt, owner)
	}
	wantTime(e.t, "LeaseUntil", r.LeaseUntil, now.Add(lease))
}

func testClaimQueued(t *testing.T, e *env) {
	r := e.create(workflow.RunQueued, step("a", workflow.StepSucceeded))
	got, err := e.st.ClaimRuns(e.ctx, "w1", e.now, lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("ClaimRuns = %v, want [%s]", ids(got), r.ID)
	}
	e.wantClaimed(got[0], "w1", e.now)
	wantTime(t, "StartedAt", got[0].StartedAt, e.now)
	if got[0].Steps["a"] == nil || got[0].Steps["a"].Status != workflow.StepSucceeded {
		t.Errorf("claimed run steps = %v, want a succeeded", got[0].Steps)
	}
	stored := e.get(r.ID)
	e.wantClaimed(stored, "w1", e.now)
	again, err := e.st.ClaimRuns(e.ctx, "w2", e.now, lease, 10)
	if err != nil || len(again) != 0 {
		t.Errorf("second ClaimRuns = %v, %v, want nothing", ids(again), err)
	}
}

// park claims a run and parks it waiting until wake.
func (e *env) park(wake time.Time) *workflow.Run {
	e.t.Helper()
	r := e.claimed("w0", step("d", workflow.StepRunning))
	e.apply("w0", store.Update{RunID: r.ID, Status: workflow.RunWaiting, WakeAt: &wake, Release: true})
	return r
}

func testClaimDueWaiting(t *testing.T, e *env) {
	r := e.park(e.now.Add(time.Minute))
	later := e.now.Add(time.Minute)
	got, err := e.st.ClaimRuns(e.ctx, "w1", later, lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("ClaimRuns at wake time = %v, want [%s]", ids(got), r.ID)
	}
	e.wantClaimed(got[0], "w1", later)
	wantTime(t, "StartedAt (kept from the first claim)", got[0].StartedAt, e.now)
	if len(got[0].Steps) != 1 {
		t.Errorf("steps = %v, want d", keys(got[0]))
	}
}

func testClaimSkipsNotDueWaiting(t *testing.T, e *env) {
	r := e.park(e.now.Add(time.Hour))
	got, err := e.st.ClaimRuns(e.ctx, "w1", e.now.Add(time.Minute), lease, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("ClaimRuns before wake time = %v, %v, want nothing", ids(got), err)
	}
	_, err = e.st.ClaimRun(e.ctx, r.ID, "w1", e.now.Add(time.Minute), lease)
	wantErr(t, err, store.ErrConflict)
	if got := e.get(r.ID); got.Status != workflow.RunWaiting || got.LeaseOwner != "" {
		t.Errorf("run = %s owner %q, want waiting, unleased", got.Status, got.LeaseOwner)
	}
}

func testClaimTakesOverExpiredLease(t *testing.T, e *env) {
	r := e.claimed("w1")
	later := e.now.Add(lease + time.Second)
	got, err := e.st.ClaimRuns(e.ctx, "w2", later, lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("ClaimRuns after the lease expired = %v, want [%s]", ids(got), r.ID)
	}
	e.wantClaimed(got[0], "w2", later)
	err = e.st.Apply(e.ctx, "w1", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{step("late", workflow.StepSucceeded)}})
	wantErr(t, err, store.ErrLeaseLost)

	// ClaimRun takes over an expired lease too.
	r2 := e.claimed("w1")
	got2, err := e.st.ClaimRun(e.ctx, r2.ID, "w3", later, lease)
	if err != nil {
		t.Fatalf("ClaimRun of an expired lease: %v", err)
	}
	e.wantClaimed(got2, "w3", later)
}

func testClaimSkipsLiveLease(t *testing.T, e *env) {
	r := e.claimed("w1")
	soon := e.now.Add(lease / 2)
	got, err := e.st.ClaimRuns(e.ctx, "w2", soon, lease, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("ClaimRuns under a live lease = %v, %v, want nothing", ids(got), err)
	}
	_, err = e.st.ClaimRun(e.ctx, r.ID, "w2", soon, lease)
	wantErr(t, err, store.ErrConflict)
	if got := e.get(r.ID); got.LeaseOwner != "w1" {
		t.Errorf("lease owner = %q, want w1", got.LeaseOwner)
	}
}

func testClaimSkipsFinished(t *testing.T, e *env) {
	for _, st := range []workflow.RunStatus{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled} {
		e.create(st)
	}
	got, err := e.st.ClaimRuns(e.ctx, "w1", e.now.Add(24*time.Hour), lease, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("ClaimRuns = %v, %v, want nothing", ids(got), err)
	}
}

func testClaimOldestFirst(t *testing.T, e *env) {
	var want []string
	for range 5 {
		want = append(want, e.create(workflow.RunQueued).ID)
	}
	got, err := e.st.ClaimRuns(e.ctx, "w1", e.now, lease, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), want[:3]) {
		t.Errorf("ClaimRuns limit 3 = %v, want %v", ids(got), want[:3])
	}
	got, err = e.st.ClaimRuns(e.ctx, "w1", e.now, lease, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), want[3:]) {
		t.Errorf("second ClaimRuns = %v, want %v", ids(got), want[3:])
	}
}

func testClaimRunConflict(t *testing.T, e *env) {
	done := e.create(workflow.RunSucceeded)
	_, err := e.st.ClaimRun(e.ctx, done.ID, "w1", e.now, lease)
	wantErr(t, err, store.ErrConflict)
	held := e.claimed("w1")
	_, err = e.st.ClaimRun(e.ctx, held.ID, "w2", e.now, lease)
	wantErr(t, err, store.ErrConflict)
	_, err = e.st.ClaimRun(e.ctx, "no-such-run", "w1", e.now, lease)
	wantErr(t, err, store.ErrNotFound)
}

func testConcurrentClaimRuns(t *testing.T, e *env) {
	const runs, workers = 60, 8
	for range runs {
		e.create(workflow.RunQueued)
	}
	var mu sync.Mutex
	owners := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		owner := fmt.Sprintf("w%d", w)
		wg.Go(func() {
			for {
				got, err := e.st.ClaimRuns(e.ctx, owner, e.now, lease, 3)
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					if prev, ok := owners[r.ID]; ok {
						errs <- fmt.Errorf("run %s claimed by %s and %s", r.ID, prev, owner)
					}
					owners[r.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(owners) != runs {
		t.Errorf("claimed %d runs, want %d", len(owners), runs)
	}
	for id, owner := range owners {
		if got := e.get(id); got.LeaseOwner != owner {
			t.Errorf("run %s lease owner = %q, want %q (the claimer)", id, got.LeaseOwner, owner)
		}
	}
}

func testConcurrentClaimRun(t *testing.T, e *env) {
	r := e.create(workflow.RunQueued)
	const workers = 8
	var wins atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			_, err := e.st.ClaimRun(e.ctx, r.ID, fmt.Sprintf("w%d", w), e.now, lease)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("ClaimRun: %v, want nil or ErrConflict", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d ClaimRun calls won, want 1", wins.Load())
	}
}

func testApplyFencing(t *testing.T, e *env) {
	r := e.claimed("w1", step("a", workflow.StepPending))
	done := step("a", workflow.StepSucceeded)
	done.Output = json.RawMessage(`{"stolen":true}`)
	for _, tc := range []struct {
		name  string
		owner string
		u     store.Update
	}{
		{"wrong owner", "w2", store.Update{RunID: r.ID, Status: workflow.RunSucceeded, FinishedAt: tp(e.now), Release: true, Steps: []*workflow.StepRun{done, step("b", workflow.StepSucceeded)}}},
		{"wrong owner, steps only", "w2", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{done}}},
		{"empty owner", "", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{done}}},
		{"unknown run", "w1", store.Update{RunID: "no-such-run", Steps: []*workflow.StepRun{done}}},
	} {
		wantErr(t, e.st.Apply(e.ctx, tc.owner, tc.u), store.ErrLeaseLost)
		got := e.get(r.ID)
		if got.Status != workflow.RunRunning || got.LeaseOwner != "w1" || got.FinishedAt != nil || !slices.Equal(keys(got), []string{"a"}) ||
			got.Steps["a"].Status != workflow.StepPending || got.Steps["a"].Output != nil {
			t.Errorf("%s: run after a fenced-out Apply = %+v, steps %v: something was written", tc.name, got, keys(got))
		}
	}
	_, err := e.st.GetRun(e.ctx, "no-such-run")
	wantErr(t, err, store.ErrNotFound)

	// After its release, the former owner is fenced out too.
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunQueued, Release: true})
	wantErr(t, e.st.Apply(e.ctx, "w1", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{done}}), store.ErrLeaseLost)
}

func testApplyUpsert(t *testing.T, e *env) {
	r := e.claimed("w1")
	a := step("a", workflow.StepRunning)
	a.Input = json.RawMessage(`{"in":1}`)
	a.StartedAt = tp(e.now)
	a.WakeAt = tp(e.now.Add(time.Minute))
	e.apply("w1", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{a}})
	if got := e.get(r.ID).Steps["a"]; got == nil || got.Status != workflow.StepRunning || string(got.Input) != `{"in":1}` {
		t.Fatalf("step a = %+v, want running with input", got)
	}
	a2 := a.Clone()
	a2.Status = workflow.StepSucceeded
	a2.Attempts = 2
	a2.Output = json.RawMessage(`{"out":2}`)
	a2.Error = ""
	a2.WakeAt = nil
	a2.FinishedAt = tp(e.now.Add(time.Second))
	e.apply("w1", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{a2, step("b", workflow.StepSkipped)}})
	got := e.get(r.ID)
	if !slices.Equal(keys(got), []string{"a", "b"}) {
		t.Fatalf("steps = %v, want a, b", keys(got))
	}
	ga := got.Steps["a"]
	if ga.Status != workflow.StepSucceeded || ga.Attempts != 2 || string(ga.Output) != `{"out":2}` || string(ga.Input) != `{"in":1}` || ga.WakeAt != nil {
		t.Errorf("replaced step a = %+v", ga)
	}
	wantTime(t, "a.FinishedAt", ga.FinishedAt, e.now.Add(time.Second))
	if got.Steps["b"].Status != workflow.StepSkipped {
		t.Errorf("step b = %+v", got.Steps["b"])
	}
	if got.Status != workflow.RunRunning || got.LeaseOwner != "w1" {
		t.Errorf("run = %s owner %q: an Apply without Status or Release changed the run", got.Status, got.LeaseOwner)
	}
}

func testApplyManySteps(t *testing.T, e *env) {
	r := e.claimed("w1")
	const n = 2500
	steps := make([]*workflow.StepRun, n)
	for i := range steps {
		steps[i] = step(fmt.Sprintf("fan[%d].item", i), workflow.StepSucceeded)
		steps[i].Output = json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))
	}
	e.apply("w1", store.Update{RunID: r.ID, Steps: steps})
	got := e.get(r.ID)
	if len(got.Steps) != n {
		t.Fatalf("%d step runs, want %d", len(got.Steps), n)
	}
	if s := got.Steps["fan[1234].item"]; s == nil || string(s.Output) != `{"i":1234}` {
		t.Errorf("step fan[1234].item = %+v", s)
	}
}

func testApplyRunFields(t *testing.T, e *env) {
	r := e.claimed("w1")
	wake := e.now.Add(time.Hour)
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunWaiting, WakeAt: &wake, Release: true})
	got := e.get(r.ID)
	if got.Status != workflow.RunWaiting || got.LeaseOwner != "" || got.LeaseUntil != nil {
		t.Errorf("parked run = %s owner %q until %v, want waiting and released", got.Status, got.LeaseOwner, got.LeaseUntil)
	}
	wantTime(t, "WakeAt", got.WakeAt, wake)

	c, err := e.st.ClaimRun(e.ctx, r.ID, "w2", wake, lease)
	if err != nil {
		t.Fatalf("ClaimRun at wake time: %v", err)
	}
	e.wantClaimed(c, "w2", wake)
	fin := wake.Add(time.Second)
	e.apply("w2", store.Update{RunID: r.ID, Status: workflow.RunFailed, Error: "step a failed", FinishedAt: &fin, Release: true})
	got = e.get(r.ID)
	if got.Status != workflow.RunFailed || got.Error != "step a failed" || got.LeaseOwner != "" || got.WakeAt != nil {
		t.Errorf("finished run = %+v", got)
	}
	wantTime(t, "FinishedAt", got.FinishedAt, fin)
	wantTime(t, "StartedAt", got.StartedAt, e.now)

	// StartedAt is written when given.
	r2 := e.claimed("w1")
	st := e.now.Add(-time.Hour)
	e.apply("w1", store.Update{RunID: r2.ID, StartedAt: &st})
	if got := e.get(r2.ID); got.Status != workflow.RunRunning || got.LeaseOwner != "w1" {
		t.Errorf("run = %s owner %q, want running and still leased", got.Status, got.LeaseOwner)
	} else {
		wantTime(t, "StartedAt", got.StartedAt, st)
	}
}

func testRelease(t *testing.T, e *env) {
	r := e.claimed("w1")
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunQueued, Release: true})
	got := e.get(r.ID)
	if got.Status != workflow.RunQueued || got.LeaseOwner != "" || got.LeaseUntil != nil {
		t.Fatalf("released run = %s owner %q until %v, want queued, no lease", got.Status, got.LeaseOwner, got.LeaseUntil)
	}
	c, err := e.st.ClaimRuns(e.ctx, "w2", e.now, lease, 10)
	if err != nil || len(c) != 1 || c[0].ID != r.ID {
		t.Fatalf("ClaimRuns after release = %v, %v, want [%s]", ids(c), err, r.ID)
	}
	e.wantClaimed(c[0], "w2", e.now)
}

func testExtendLeases(t *testing.T, e *env) {
	r1 := e.claimed("w1")
	r2 := e.claimed("w1")
	r3 := e.claimed("w2")
	r4 := e.claimed("w1")
	e.apply("w1", store.Update{RunID: r4.ID, Status: workflow.RunQueued, Release: true})
	if _, err := e.st.RequestCancel(e.ctx, r2.ID, e.now); err != nil {
		t.Fatal(err)
	}
	until := e.now.Add(3 * lease)
	cancels, lost, err := e.st.ExtendLeases(e.ctx, "w1", []string{r1.ID, r2.ID, r3.ID, r4.ID, "no-such-run"}, until)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cancels, []string{r2.ID}) {
		t.Errorf("cancelRequested = %v, want [%s]", cancels, r2.ID)
	}
	slices.Sort(lost)
	wantLost := []string{r3.ID, r4.ID, "no-such-run"}
	slices.Sort(wantLost)
	if !slices.Equal(lost, wantLost) {
		t.Errorf("lost = %v, want %v", lost, wantLost)
	}
	for _, id := range []string{r1.ID, r2.ID} {
		got := e.get(id)
		if got.LeaseOwner != "w1" {
			t.Errorf("run %s owner = %q, want w1", id, got.LeaseOwner)
		}
		wantTime(t, "extended LeaseUntil", got.LeaseUntil, until)
	}
	if got := e.get(r3.ID); got.LeaseOwner != "w2" {
		t.Errorf("another owner's run: owner = %q, want w2", got.LeaseOwner)
	} else {
		wantTime(t, "another owner's LeaseUntil", got.LeaseUntil, e.now.Add(lease))
	}
	// An extended lease is live past the original expiry.
	if c, err := e.st.ClaimRuns(e.ctx, "w3", e.now.Add(2*lease), lease, 10); err != nil || slices.Contains(ids(c), r1.ID) {
		t.Errorf("ClaimRuns within the extended lease = %v, %v, want r1 not taken", ids(c), err)
	}
	if c, l, err := e.st.ExtendLeases(e.ctx, "w1", nil, until); err != nil || len(c)+len(l) != 0 {
		t.Errorf("ExtendLeases of nothing = %v, %v, %v", c, l, err)
	}
}

func testRequestCancelQueued(t *testing.T, e *env) {
	r := e.create(workflow.RunQueued)
	got, err := e.st.RequestCancel(e.ctx, r.ID, e.now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunCancelled || len(got.Steps) != 0 {
		t.Errorf("RequestCancel = %+v, want cancelled without steps", got)
	}
	wantTime(t, "returned FinishedAt", got.FinishedAt, e.now)
	stored := e.get(r.ID)
	if stored.Status != workflow.RunCancelled || stored.LeaseOwner != "" {
		t.Errorf("stored run = %+v, want cancelled", stored)
	}
	wantTime(t, "FinishedAt", stored.FinishedAt, e.now)
	if c, err := e.st.ClaimRuns(e.ctx, "w1", e.now, lease, 10); err != nil || len(c) != 0 {
		t.Errorf("ClaimRuns after cancel = %v, %v, want nothing", ids(c), err)
	}
	_, err = e.st.RequestCancel(e.ctx, "no-such-run", e.now)
	wantErr(t, err, store.ErrNotFound)
}

func testRequestCancelWaiting(t *testing.T, e *env) {
	r := e.park(e.now.Add(time.Hour))
	got, err := e.st.RequestCancel(e.ctx, r.ID, e.now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunCancelled {
		t.Errorf("RequestCancel of a parked run = %s, want cancelled", got.Status)
	}
	wantTime(t, "FinishedAt", e.get(r.ID).FinishedAt, e.now)
	if c, err := e.st.ClaimRuns(e.ctx, "w1", e.now.Add(2*time.Hour), lease, 10); err != nil || len(c) != 0 {
		t.Errorf("ClaimRuns after cancel = %v, %v, want nothing", ids(c), err)
	}
}

func testRequestCancelLeased(t *testing.T, e *env) {
	r := e.claimed("w1")
	got, err := e.st.RequestCancel(e.ctx, r.ID, e.now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunRunning || !got.CancelRequested || got.FinishedAt != nil || got.LeaseOwner != "w1" {
		t.Errorf("RequestCancel of a leased run = %+v, want running with CancelRequested", got)
	}
	stored := e.get(r.ID)
	if stored.Status != workflow.RunRunning || !stored.CancelRequested || stored.LeaseOwner != "w1" {
		t.Errorf("stored run = %+v, want running with CancelRequested", stored)
	}
	// The worker acts on it.
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunCancelled, Error: "cancelled", FinishedAt: tp(e.now), Release: true})
	if got := e.get(r.ID); got.Status != workflow.RunCancelled {
		t.Errorf("status = %s, want cancelled", got.Status)
	}
}

func testRequestCancelExpiredLease(t *testing.T, e *env) {
	r := e.claimed("w1")
	later := e.now.Add(2 * lease)
	got, err := e.st.RequestCancel(e.ctx, r.ID, later)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunCancelled {
		t.Errorf("RequestCancel of a run whose worker died = %s, want cancelled at once", got.Status)
	}
	// The worker, if it was only paused, is fenced out.
	err = e.st.Apply(e.ctx, "w1", store.Update{RunID: r.ID, Status: workflow.RunSucceeded, FinishedAt: &later, Release: true})
	wantErr(t, err, store.ErrLeaseLost)
	if got := e.get(r.ID); got.Status != workflow.RunCancelled {
		t.Errorf("status = %s, want cancelled", got.Status)
	}
}

func testRequestCancelFinished(t *testing.T, e *env) {
	for _, st := range []workflow.RunStatus{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled} {
		r := e.create(st)
		_, err := e.st.RequestCancel(e.ctx, r.ID, e.now)
		wantErr(t, err, store.ErrConflict)
		if got := e.get(r.ID); got.Status != st {
			t.Errorf("status = %s, want %s unchanged", got.Status, st)
		}
	}
}

func testResetForRetry(t *testing.T, e *env) {
	a := step("a", workflow.StepSucceeded)
	a.Output = json.RawMessage(`{"kept":true}`)
	r := e.claimed("w1", a, step("b", workflow.StepFailed), step("c", workflow.StepRunning), step("d", workflow.StepSkipped))
	e.apply("w1", store.Update{RunID: r.ID, Status: workflow.RunFailed, Error: "b failed", FinishedAt: tp(e.now), Release: true})
	got, err := e.st.ResetForRetry(e.ctx, r.ID, []string{"b", "c", "no-such-key"}, e.now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != workflow.RunQueued || got.Error != "" || got.FinishedAt != nil || len(got.Steps) != 0 {
		t.Errorf("ResetForRetry = %+v, want queued, no error, no finish time, no steps", got)
	}
	stored := e.get(r.ID)
	if stored.Status != workflow.RunQueued || stored.Error != "" || stored.FinishedAt != nil || stored.LeaseOwner != "" {
		t.Errorf("stored run = %+v", stored)
	}
	if stored.StartedAt == nil || !stored.StartedAt.Equal(e.now.Add(time.Minute)) {
		t.Errorf("started_at = %v, want the retry's time %v (a run's timeout counts from its retry)", stored.StartedAt, e.now.Add(time.Minute))
	}
	if !slices.Equal(keys(stored), []string{"a", "d"}) {
		t.Errorf("steps = %v, want a, d", keys(stored))
	}
	if s := stored.Steps["a"]; s.Status != workflow.StepSucceeded || string(s.Output) != `{"kept":true}` {
		t.Errorf("kept step a = %+v", s)
	}
	c, err := e.st.ClaimRuns(e.ctx, "w2", e.now.Add(time.Minute), lease, 10)
	if err != nil || len(c) != 1 || c[0].ID != r.ID {
		t.Fatalf("ClaimRuns after retry = %v, %v, want [%s]", ids(c), err, r.ID)
	}
}

func testResetForRetryConflict(t *testing.T, e *env) {
	for _, st := range []workflow.RunStatus{workflow.RunQueued, workflow.RunSucceeded, workflow.RunCancelled} {
		r := e.create(st, step("a", workflow.StepFailed))
		_, err := e.st.ResetForRetry(e.ctx, r.ID, []string{"a"}, e.now)
		wantErr(t, err, store.ErrConflict)
		if got := e.get(r.ID); got.Status != st || len(got.Steps) != 1 {
			t.Errorf("%s run after a refused retry = %s with %d steps, want unchanged", st, got.Status, len(got.Steps))
		}
	}
	r := e.claimed("w1", step("a", workflow.StepFailed))
	_, err := e.st.ResetForRetry(e.ctx, r.ID, []string{"a"}, e.now)
	wantErr(t, err, store.ErrConflict)
	_, err = e.st.ResetForRetry(e.ctx, "no-such-run", nil, e.now)
	wantErr(t, err, store.ErrNotFound)
}

func testTimesRoundTripUTC(t *testing.T, e *env) {
	loc := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2031, 7, 8, 9, 10, 11, 987654321, loc)
	s := step("a", workflow.StepRunning)
	s.StartedAt, s.FinishedAt, s.WakeAt = tp(base), tp(base.Add(time.Microsecond)), tp(base.Add(time.Hour))
	r := e.run(workflow.RunFailed, s)
	r.CreatedAt = base
	r.StartedAt, r.FinishedAt = tp(base.Add(time.Second)), tp(base.Add(2*time.Second))
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	got := e.get(r.ID)
	wantTime(t, "CreatedAt", &got.CreatedAt, base)
	wantTime(t, "StartedAt", got.StartedAt, base.Add(time.Second))
	wantTime(t, "FinishedAt", got.FinishedAt, base.Add(2*time.Second))
	gs := got.Steps["a"]
	wantTime(t, "step StartedAt", gs.StartedAt, base)
	wantTime(t, "step FinishedAt", gs.FinishedAt, base.Add(time.Microsecond))
	wantTime(t, "step WakeAt", gs.WakeAt, base.Add(time.Hour))
	if !gs.FinishedAt.After(*gs.StartedAt) {
		t.Errorf("times one microsecond apart are not ordered: %s, %s", gs.StartedAt, gs.FinishedAt)
	}

	// A claim's times compare in UTC whatever the caller's zone.
	q := e.create(workflow.RunQueued)
	c, err := e.st.ClaimRun(e.ctx, q.ID, "w1", e.now.In(loc), lease)
	if err != nil {
		t.Fatal(err)
	}
	wantTime(t, "LeaseUntil", c.LeaseUntil, e.now.Add(lease))
	if _, err := e.st.ClaimRun(e.ctx, q.ID, "w2", e.now.Add(lease/2).In(time.FixedZone("UTC-8", -8*3600)), lease); !errors.Is(err, store.ErrConflict) {
		t.Errorf("ClaimRun under a live lease, in another zone: %v, want ErrConflict", err)
	}
}

func testLargeOutput(t *testing.T, e *env) {
	r := e.claimed("w1")
	big := `{"data":"` + strings.Repeat("x", 1<<20) + `"}`
	s := step("big", workflow.StepSucceeded)
	s.Input = json.RawMessage(big)
	s.Output = json.RawMessage(big)
	e.apply("w1", store.Update{RunID: r.ID, Steps: []*workflow.StepRun{s}})
	got := e.get(r.ID).Steps["big"]
	if got == nil || string(got.Output) != big || string(got.Input) != big {
		t.Fatalf("1 MiB output did not round-trip (got %d bytes)", len(got.Output))
	}
	def := json.RawMessage(big)
	if _, err := e.st.SaveWorkflow(e.ctx, "big", "big", def, e.now); err != nil {
		t.Fatal(err)
	}
	v, err := e.st.GetWorkflowVersion(e.ctx, "big", 0)
	if err != nil || string(v.Definition) != big {
		t.Fatalf("1 MiB definition did not round-trip: %v", err)
	}
}
