package storetest

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// workflowTests are the subtests of workflow state, soft delete, run
// origins and the run filters that go with them.
var workflowTests = []subtest{
	{"WorkflowState", testWorkflowState},
	{"CreateWorkflowConflict", testCreateWorkflowConflict},
	{"UpdateWorkflowNotFound", testUpdateWorkflowNotFound},
	{"SetWorkflowEnabled", testSetWorkflowEnabled},
	{"SoftDeleteVisibility", testSoftDeleteVisibility},
	{"ListWorkflowsFilters", testListWorkflowsFilters},
	{"ListWorkflowsKeysetPaging", testListWorkflowsKeysetPaging},
	{"ListWorkflowsRunSummary", testListWorkflowsRunSummary},
	{"ListWorkflowVersions", testListWorkflowVersions},
	{"RunOrigins", testRunOrigins},
	{"ListRunsOriginFilters", testListRunsOriginFilters},
	{"CountRuns", testCountRuns},
	{"Ping", testPing},
}

// def is a workflow document with the given trigger.
func def(name, trigger string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"name":%q,"trigger":%s,"steps":[]}`, name, trigger))
}

// saveWF saves a version of workflow id with the given trigger.
func (e *env) saveWF(id, trigger string) *store.WorkflowVersion {
	e.t.Helper()
	v, err := e.st.SaveWorkflow(e.ctx, id, id, def(id, trigger), e.now)
	if err != nil {
		e.t.Fatalf("SaveWorkflow %s: %v", id, err)
	}
	return v
}

func (e *env) getWF(id string) *store.Workflow {
	e.t.Helper()
	w, err := e.st.GetWorkflow(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetWorkflow %s: %v", id, err)
	}
	return w
}

func (e *env) enable(id string, on bool) {
	e.t.Helper()
	if _, err := e.st.SetWorkflowEnabled(e.ctx, id, on, e.now); err != nil {
		e.t.Fatalf("SetWorkflowEnabled %s %v: %v", id, on, err)
	}
}

func summaryIDs(ws []*store.WorkflowSummary) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.ID
	}
	return out
}

func testWorkflowState(t *testing.T, e *env) {
	if _, err := e.st.CreateWorkflow(e.ctx, "wf", "first", def("first", `{"type":"lever.candidate_hired","connection":"acme"}`), e.now); err != nil {
		t.Fatalf("CreateWorkflow: %v", err)
	}
	w := e.getWF("wf")
	if w.ID != "wf" || w.Name != "first" || w.LatestVersion != 1 || w.Enabled || w.TriggerType != "lever.candidate_hired" ||
		w.TriggerConnection != "acme" || w.UserID != "" {
		t.Errorf("GetWorkflow after create = %+v", w)
	}
	wantTime(t, "CreatedAt", &w.CreatedAt, e.now)
	wantTime(t, "UpdatedAt", &w.UpdatedAt, e.now)

	later := e.now.Add(time.Minute)
	for _, tc := range []struct {
		name, doc     string
		typ, conn     string
		latestVersion int
	}{
		{"new trigger", string(def("second", `{"type":"api"}`)), "api", "", 2},
		{"no trigger", `{"name":"third","steps":[]}`, "", "", 3},
		{"not JSON", `nope`, "", "", 4},
		{"trigger again", string(def("fifth", `{"type":"schedule","cron":"* * * * *"}`)), "schedule", "", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.st.UpdateWorkflow(e.ctx, "wf", tc.name, json.RawMessage(tc.doc), later); err != nil {
				t.Fatalf("UpdateWorkflow: %v", err)
			}
			w := e.sub(t).getWF("wf")
			if w.Name != tc.name || w.LatestVersion != tc.latestVersion || w.TriggerType != tc.typ || w.TriggerConnection != tc.conn {
				t.Errorf("GetWorkflow = %+v, want name %q, version %d, trigger %q/%q", w, tc.name, tc.latestVersion, tc.typ, tc.conn)
			}
			wantTime(t, "CreatedAt", &w.CreatedAt, e.now)
			wantTime(t, "UpdatedAt", &w.UpdatedAt, later)
		})
	}
	_, err := e.st.GetWorkflow(e.ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testCreateWorkflowConflict(t *testing.T, e *env) {
	e.saveWF("live", `{"type":"api"}`)
	e.saveWF("gone", `{"type":"api"}`)
	if err := e.st.DeleteWorkflow(e.ctx, "gone", e.now); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"live", "gone"} {
		_, err := e.st.CreateWorkflow(e.ctx, id, id, def(id, `{"type":"api"}`), e.now)
		wantErr(t, err, store.ErrConflict)
	}
	if w := e.getWF("live"); w.LatestVersion != 1 {
		t.Errorf("a refused create changed the workflow: %+v", w)
	}
}

func testUpdateWorkflowNotFound(t *testing.T, e *env) {
	e.saveWF("gone", `{"type":"api"}`)
	if err := e.st.DeleteWorkflow(e.ctx, "gone", e.now); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		save func() error
	}{
		{"update missing", func() error {
			_, err := e.st.UpdateWorkflow(e.ctx, "nope", "x", def("x", `{"type":"api"}`), e.now)
			return err
		}},
		{"update deleted", func() error {
			_, err := e.st.UpdateWorkflow(e.ctx, "gone", "x", def("x", `{"type":"api"}`), e.now)
			return err
		}},
		{"save deleted", func() error {
			_, err := e.st.SaveWorkflow(e.ctx, "gone", "x", def("x", `{"type":"api"}`), e.now)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.save(), store.ErrNotFound) })
	}
	if _, err := e.st.GetWorkflowVersion(e.ctx, "nope", 1); err == nil {
		t.Error("a refused update created a workflow")
	}
}

func testSetWorkflowEnabled(t *testing.T, e *env) {
	e.saveWF("wf", `{"type":"api"}`)
	// UpdatedAt moves only when the state changes: enabling an enabled
	// workflow changes nothing (a scheduler reads UpdatedAt to tell a
	// re-enable from a no-op).
	lastChange := e.getWF("wf").UpdatedAt
	prev := false
	for i, on := range []bool{true, true, false, true} {
		at := e.now.Add(time.Duration(i+1) * time.Second)
		w, err := e.st.SetWorkflowEnabled(e.ctx, "wf", on, at)
		if err != nil {
			t.Fatalf("SetWorkflowEnabled %v: %v", on, err)
		}
		if w.Enabled != on || w.ID != "wf" || w.TriggerType != "api" {
			t.Errorf("SetWorkflowEnabled(%v) = %+v", on, w)
		}
		if on != prev {
			lastChange = at
		}
		prev = on
		wantTime(t, "UpdatedAt", &w.UpdatedAt, lastChange)
		if got := e.getWF("wf"); got.Enabled != on {
			t.Errorf("GetWorkflow.Enabled = %v, want %v", got.Enabled, on)
		}
	}
	// A new version keeps the workflow enabled.
	e.saveWF("wf", `{"type":"api"}`)
	if !e.getWF("wf").Enabled {
		t.Error("saving a version disabled the workflow")
	}
	_, err := e.st.SetWorkflowEnabled(e.ctx, "nope", true, e.now)
	wantErr(t, err, store.ErrNotFound)
}

func testSoftDeleteVisibility(t *testing.T, e *env) {
	e.saveWF("gone", `{"type":"api"}`)
	e.saveWF("gone", `{"type":"api"}`)
	e.saveWF("kept", `{"type":"api"}`)
	e.enable("gone", true)
	r := e.run(workflow.RunQueued)
	r.WorkflowID, r.Version = "gone", 2
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DeleteWorkflow(e.ctx, "gone", e.now); err != nil {
		t.Fatalf("DeleteWorkflow: %v", err)
	}

	_, err := e.st.GetWorkflow(e.ctx, "gone")
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.ListWorkflowVersions(e.ctx, "gone")
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.GetWorkflowVersion(e.ctx, "gone", 0)
	wantErr(t, err, store.ErrNotFound)
	_, err = e.st.SetWorkflowEnabled(e.ctx, "gone", true, e.now)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, e.st.DeleteWorkflow(e.ctx, "gone", e.now), store.ErrNotFound)
	wantErr(t, e.st.DeleteWorkflow(e.ctx, "nope", e.now), store.ErrNotFound)
	for _, enabled := range []*bool{nil, new(true)} {
		ws, err := e.st.ListWorkflows(e.ctx, store.WorkflowFilter{Enabled: enabled})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(summaryIDs(ws), "gone") {
			t.Errorf("ListWorkflows(enabled %v) lists the deleted workflow: %v", enabled, summaryIDs(ws))
		}
	}

	// Its runs go on: the version they run stays readable, and they stay
	// listed and claimable.
	if v, err := e.st.GetWorkflowVersion(e.ctx, "gone", 2); err != nil || v.Version != 2 {
		t.Errorf("GetWorkflowVersion(gone, 2) = %+v, %v; want version 2", v, err)
	}
	runs, err := e.st.ListRuns(e.ctx, store.RunFilter{WorkflowID: "gone"})
	if err != nil || !slices.Equal(ids(runs), []string{r.ID}) {
		t.Errorf("ListRuns(gone) = %v, %v; want [%s]", ids(runs), err, r.ID)
	}
	if _, err := e.st.ClaimRun(e.ctx, r.ID, "w1", e.now, lease); err != nil {
		t.Errorf("ClaimRun of a deleted workflow's run: %v", err)
	}
	if got := e.getWF("kept"); got.ID != "kept" {
		t.Errorf("GetWorkflow(kept) = %+v", got)
	}
}

func testListWorkflowsFilters(t *testing.T, e *env) {
	for _, w := range []struct {
		id, trigger string
		enabled     bool
	}{
		{"a-hired", `{"type":"lever.candidate_hired","connection":"acme"}`, true},
		{"b-api", `{"type":"api"}`, false},
		{"c-stage", `{"type":"lever.candidate_stage_changed","connection":"acme"}`, false},
		{"d-stage-other", `{"type":"lever.candidate_stage_changed","connection":"other"}`, true},
		{"e-schedule", `{"type":"schedule","cron":"@daily"}`, true},
	} {
		e.saveWF(w.id, w.trigger)
		if w.enabled {
			e.enable(w.id, true)
		}
	}
	for _, tc := range []struct {
		name string
		f    store.WorkflowFilter
		want []string
	}{
		{"all by id", store.WorkflowFilter{}, []string{"a-hired", "b-api", "c-stage", "d-stage-other", "e-schedule"}},
		{"enabled", store.WorkflowFilter{Enabled: new(true)}, []string{"a-hired", "d-stage-other", "e-schedule"}},
		{"disabled", store.WorkflowFilter{Enabled: new(false)}, []string{"b-api", "c-stage"}},
		{"one trigger type", store.WorkflowFilter{TriggerTypes: []string{"lever.candidate_stage_changed"}}, []string{"c-stage", "d-stage-other"}},
		{"trigger types", store.WorkflowFilter{TriggerTypes: []string{"api", "lever.candidate_hired"}}, []string{"a-hired", "b-api"}},
		{"connection", store.WorkflowFilter{TriggerConnection: "acme"}, []string{"a-hired", "c-stage"}},
		{"routing", store.WorkflowFilter{Enabled: new(true), TriggerConnection: "acme", TriggerTypes: []string{"lever.candidate_stage_changed", "lever.candidate_hired"}}, []string{"a-hired"}},
		{"after", store.WorkflowFilter{After: "b-api"}, []string{"c-stage", "d-stage-other", "e-schedule"}},
		{"limit", store.WorkflowFilter{Limit: 2}, []string{"a-hired", "b-api"}},
		{"no match", store.WorkflowFilter{TriggerConnection: "nope"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.st.ListWorkflows(e.ctx, tc.f)
			if err != nil {
				t.Fatalf("ListWorkflows: %v", err)
			}
			if ids := summaryIDs(got); !slices.Equal(ids, tc.want) {
				t.Errorf("ListWorkflows = %v, want %v", ids, tc.want)
			}
		})
	}
}

func testListWorkflowsKeysetPaging(t *testing.T, e *env) {
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("wf-%02d", i)
		e.saveWF(id, `{"type":"api"}`)
		want = append(want, id)
	}
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("paging does not end")
		}
		ws, err := e.st.ListWorkflows(e.ctx, store.WorkflowFilter{Limit: 3, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) > 3 {
			t.Fatalf("page of %d workflows, want at most 3", len(ws))
		}
		if len(ws) == 0 {
			break
		}
		got = append(got, summaryIDs(ws)...)
		after = ws[len(ws)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

func testListWorkflowsRunSummary(t *testing.T, e *env) {
	e.saveWF("busy", `{"type":"api"}`)
	e.saveWF("idle", `{"type":"api"}`)
	var last *workflow.Run
	for i, st := range []workflow.RunStatus{workflow.RunSucceeded, workflow.RunFailed, workflow.RunSucceeded, workflow.RunQueued} {
		r := e.run(st)
		r.WorkflowID = "busy"
		r.CreatedAt = e.now.Add(time.Duration(i) * time.Second)
		if err := e.st.CreateRun(e.ctx, r); err != nil {
			t.Fatal(err)
		}
		last = r
	}
	other := e.run(workflow.RunFailed) // a workflow not listed
	other.WorkflowID = "zz-unlisted"
	if err := e.st.CreateRun(e.ctx, other); err != nil {
		t.Fatal(err)
	}
	ws, err := e.st.ListWorkflows(e.ctx, store.WorkflowFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(summaryIDs(ws), []string{"busy", "idle"}) {
		t.Fatalf("ListWorkflows = %v, want busy, idle", summaryIDs(ws))
	}
	busy, idle := ws[0], ws[1]
	if busy.LastRun == nil || busy.LastRun.ID != last.ID || busy.LastRun.Status != workflow.RunQueued {
		t.Errorf("busy.LastRun = %+v, want %s queued", busy.LastRun, last.ID)
	} else {
		wantTime(t, "LastRun.CreatedAt", &busy.LastRun.CreatedAt, last.CreatedAt)
	}
	want := map[workflow.RunStatus]int{workflow.RunSucceeded: 2, workflow.RunFailed: 1, workflow.RunQueued: 1}
	if !maps.Equal(busy.RunCounts, want) {
		t.Errorf("busy.RunCounts = %v, want %v", busy.RunCounts, want)
	}
	if idle.LastRun != nil || len(idle.RunCounts) != 0 {
		t.Errorf("idle: LastRun = %+v, RunCounts = %v; want nil and none", idle.LastRun, idle.RunCounts)
	}
	if busy.TriggerType != "api" || busy.LatestVersion != 1 {
		t.Errorf("busy = %+v", busy.Workflow)
	}
}

func testListWorkflowVersions(t *testing.T, e *env) {
	for i := range 3 {
		if _, err := e.st.SaveWorkflow(e.ctx, "wf", fmt.Sprintf("v%d", i+1), def("x", `{"type":"api"}`), e.now.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	vs, err := e.st.ListWorkflowVersions(e.ctx, "wf")
	if err != nil {
		t.Fatalf("ListWorkflowVersions: %v", err)
	}
	if len(vs) != 3 {
		t.Fatalf("%d versions, want 3", len(vs))
	}
	for i, v := range vs {
		n := 3 - i
		if v.WorkflowID != "wf" || v.Version != n || v.Name != fmt.Sprintf("v%d", n) || v.Definition != nil {
			t.Errorf("versions[%d] = %+v (definition %q), want version %d without definition", i, v, v.Definition, n)
		}
		wantTime(t, "CreatedAt", &v.CreatedAt, e.now.Add(time.Duration(n-1)*time.Minute))
	}
	_, err = e.st.ListWorkflowVersions(e.ctx, "nope")
	wantErr(t, err, store.ErrNotFound)
}

func testRunOrigins(t *testing.T, e *env) {
	r := e.run(workflow.RunQueued)
	r.TriggerType, r.EventID = "lever.candidate_hired", "evt-1"
	if err := e.st.CreateRun(e.ctx, r); err != nil {
		t.Fatal(err)
	}
	plain := e.create(workflow.RunQueued)
	for _, tc := range []struct {
		name       string
		got        *workflow.Run
		typ, event string
	}{
		{"GetRun", e.get(r.ID), "lever.candidate_hired", "evt-1"},
		{"GetRun without origin", e.get(plain.ID), "", ""},
	} {
		if tc.got.TriggerType != tc.typ || tc.got.EventID != tc.event {
			t.Errorf("%s: trigger type %q, event %q; want %q, %q", tc.name, tc.got.TriggerType, tc.got.EventID, tc.typ, tc.event)
		}
	}
	listed, err := e.st.ListRuns(e.ctx, store.RunFilter{Limit: 1, After: plain.ID})
	if err != nil || len(listed) != 1 || listed[0].TriggerType != "lever.candidate_hired" || listed[0].EventID != "evt-1" {
		t.Errorf("ListRuns = %+v, %v; want the run with its origin", listed, err)
	}
	claimed, err := e.st.ClaimRun(e.ctx, r.ID, "w1", e.now, lease)
	if err != nil || claimed.TriggerType != "lever.candidate_hired" || claimed.EventID != "evt-1" {
		t.Errorf("ClaimRun = %+v, %v; want the run with its origin", claimed, err)
	}
}

func testListRunsOriginFilters(t *testing.T, e *env) {
	var all []*workflow.Run // newest first
	for i, o := range []struct{ typ, event string }{
		{"api", ""}, {"lever.candidate_hired", "evt-1"}, {"lever.candidate_hired", "evt-2"}, {"schedule", ""}, {"lever.candidate_hired", "evt-1"},
	} {
		r := e.run(workflow.RunSucceeded)
		r.TriggerType, r.EventID = o.typ, o.event
		r.CreatedAt = e.now.Add(time.Duration(i) * time.Hour)
		if err := e.st.CreateRun(e.ctx, r); err != nil {
			t.Fatal(err)
		}
		all = append([]*workflow.Run{r}, all...)
	}
	for _, tc := range []struct {
		name string
		f    store.RunFilter
		want []*workflow.Run
	}{
		{"trigger type", store.RunFilter{TriggerType: "lever.candidate_hired"}, []*workflow.Run{all[0], all[2], all[3]}},
		{"event", store.RunFilter{EventID: "evt-1"}, []*workflow.Run{all[0], all[3]}},
		{"created after (inclusive)", store.RunFilter{CreatedAfter: e.now.Add(3 * time.Hour)}, all[:2]},
		{"created before (exclusive)", store.RunFilter{CreatedBefore: e.now.Add(1 * time.Hour)}, all[4:]},
		{"window", store.RunFilter{CreatedAfter: e.now.Add(time.Hour), CreatedBefore: e.now.Add(3 * time.Hour)}, all[2:4]},
		{"window and type", store.RunFilter{TriggerType: "lever.candidate_hired", CreatedAfter: e.now.Add(time.Hour), CreatedBefore: e.now.Add(3 * time.Hour)}, all[2:4]},
		{"type, after, limit", store.RunFilter{TriggerType: "lever.candidate_hired", After: all[0].ID, Limit: 1}, all[2:3]},
		{"no match", store.RunFilter{EventID: "nope"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.st.ListRuns(e.ctx, tc.f)
			if err != nil {
				t.Fatalf("ListRuns: %v", err)
			}
			if !slices.Equal(ids(got), ids(tc.want)) {
				t.Errorf("ListRuns = %v, want %v", ids(got), ids(tc.want))
			}
		})
	}
}

func testCountRuns(t *testing.T, e *env) {
	for _, st := range []workflow.RunStatus{workflow.RunQueued, workflow.RunQueued, workflow.RunFailed, workflow.RunQueued} {
		e.create(st)
	}
	e.claimed("w1")
	for _, tc := range []struct {
		status workflow.RunStatus
		want   int
	}{
		{workflow.RunQueued, 3},
		{workflow.RunRunning, 1},
		{workflow.RunFailed, 1},
		{workflow.RunWaiting, 0},
	} {
		got, err := e.st.CountRuns(e.ctx, tc.status)
		if err != nil || got != tc.want {
			t.Errorf("CountRuns(%s) = %d, %v; want %d", tc.status, got, err, tc.want)
		}
	}
}

func testPing(t *testing.T, e *env) {
	if err := e.st.Ping(e.ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
