package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWorkflowVersions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.must(http.StatusCreated, request{Method: "POST", Path: "/api/v1/workflows", Body: echoWorkflow}).json(t)
	id := r["id"].(string)
	if r["version"].(float64) != 1 || r["name"] != "Echo" {
		t.Fatalf("created: %v", r)
	}
	wf := r["workflow"].(map[string]any)
	if !strings.Contains(fmt.Sprint(wf["steps"]), "<<trigger.name>>") {
		t.Errorf("the workflow lost its reference: %v", wf)
	}
	f.must(http.StatusOK, request{Method: "PUT", Path: "/api/v1/workflows/" + id, Body: strings.Replace(echoWorkflow, `"Echo"`, `"Echo 2"`, 1)})
	latest := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/" + id, Token: readerToken}).json(t)
	first := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/workflows/" + id + "?version=1"}).json(t)
	if latest["version"].(float64) != 2 || latest["name"] != "Echo 2" || first["name"] != "Echo" {
		t.Errorf("latest %v, first %v", latest, first)
	}
}

func TestRunWithWait(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("echo", echoWorkflow)
	r := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=30s", Body: `{"name": "Ada"}`, Token: readerToken})
	run := r.json(t)
	if run["status"] != "succeeded" || run["workflow_id"] != "echo" || run["version"].(float64) != 1 {
		t.Fatalf("run: %s", r.body)
	}
	step := run["steps"].(map[string]any)["echo"].(map[string]any)
	if fmt.Sprint(step["output"]) != "map[hello:Ada]" || step["status"] != "succeeded" || step["attempts"].(float64) != 1 {
		t.Errorf("step: %v", step)
	}
	for _, k := range []string{"input", "error", "started_at", "finished_at"} {
		if _, ok := step[k]; !ok {
			t.Errorf("step lacks %s: %v", k, step)
		}
	}
	got := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + run["id"].(string)}).json(t)
	if got["status"] != "succeeded" || got["steps"].(map[string]any)["echo"] == nil {
		t.Errorf("GET run: %v", got)
	}
	// Without wait: 202 with the id.
	r = f.must(http.StatusAccepted, request{Method: "POST", Path: "/api/v1/workflows/echo/runs"})
	if id, _ := r.json(t)["id"].(string); id == "" || r.header.Get("Location") != "/api/v1/runs/"+id {
		t.Errorf("202: %s, Location %q", r.body, r.header.Get("Location"))
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("echo", echoWorkflow)
	key := map[string]string{"Idempotency-Key": "order-42"}
	first := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=30s", Body: `{"name": "A"}`, Header: key}).json(t)
	// The same request again (spaced differently) finds the first run.
	second := f.do(request{Method: "POST", Path: "/api/v1/workflows/echo/runs", Body: `{ "name":"A" }`, Header: key})
	if second.status != http.StatusOK || second.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat: %d %v %s", second.status, second.header, second.body)
	}
	if second.json(t)["id"] != first["id"] {
		t.Errorf("repeat started another run: %s vs %v", second.body, first["id"])
	}
	// The key with another body is a mistake, said so, and starts nothing.
	other := f.do(request{Method: "POST", Path: "/api/v1/workflows/echo/runs", Body: `{"name": "B"}`, Header: key})
	if code, msg := other.errorCode(t); other.status != http.StatusConflict || code != "conflict" || !strings.Contains(msg, "already used with another body") {
		t.Errorf("same key, other body: %d %s %s", other.status, code, msg)
	}
	if n := f.runCount(); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	// Ten requests racing with a new key start one run.
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.do(request{Method: "POST", Path: "/api/v1/workflows/echo/runs", Body: `{"name": "C"}`, Header: map[string]string{"Idempotency-Key": "order-43"}})
			if r.status == http.StatusAccepted || r.status == http.StatusOK {
				ids[i], _ = r.json(t)["id"].(string)
			}
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("racing requests got runs %v, want one", ids)
		}
	}
	if n := f.runCount(); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
	// Their runs sort by time like any other: the newest first.
	page := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs?workflow_id=echo"}).json(t)["runs"].([]any)
	if len(page) != 2 || page[0].(map[string]any)["id"] != ids[0] || page[1].(map[string]any)["id"] != first["id"] {
		t.Errorf("runs listed: %v, want %s then %v", page, ids[0], first["id"])
	}
	// An unknown workflow is a 404 and records nothing.
	f.must(http.StatusNotFound, request{Method: "POST", Path: "/api/v1/workflows/nope/runs", Header: key})
}

func TestRespondStep(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("answer", respondWorkflow)
	// The run goes on (a one-hour delay) after the respond step answers.
	r := f.do(request{Method: "POST", Path: "/api/v1/workflows/answer/runs?wait=30s", Body: `{"name": "Grace"}`})
	if r.status != http.StatusCreated || r.header.Get("X-Answer") != "yes" || strings.TrimSpace(string(r.body)) != `{"greeting":"hi Grace"}` {
		t.Fatalf("answer: %d %v %s", r.status, r.header, r.body)
	}
	runID := r.header.Get("X-Leverflow-Run-Id")
	run := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + runID}).json(t)
	if run["status"] == "succeeded" {
		t.Errorf("the run should still be waiting: %v", run["status"])
	}
	// Cancel it.
	c := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + runID + "/cancel"}).json(t)
	if c["status"] != "cancelled" {
		t.Errorf("cancel: %v", c)
	}
	r = f.must(http.StatusConflict, request{Method: "POST", Path: "/api/v1/runs/" + runID + "/cancel"})
	if _, msg := r.errorCode(t); !strings.Contains(msg, "is cancelled and cannot be cancelled") {
		t.Errorf("second cancel: %s", msg)
	}
}

func TestCancelAndWaitTimeout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("slow", slowWorkflow)
	r := f.must(http.StatusAccepted, request{Method: "POST", Path: "/api/v1/workflows/slow/runs?wait=200ms"}).json(t)
	id := r["id"].(string)
	if r["status"] == "succeeded" {
		t.Fatalf("a one-hour delay finished: %v", r)
	}
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/cancel", Token: readerToken})
	run := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + id}).json(t)
	if run["status"] != "cancelled" {
		t.Errorf("status %v, want cancelled", run["status"])
	}
	// A cancelled run can be retried: it parks in its delay again, and a
	// run that is not finished cannot be retried.
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry"})
	f.eventually("the retried run to park", func() bool {
		run, err := f.eng.GetRun(t.Context(), id)
		return err == nil && run.Status == "waiting"
	})
	r2 := f.must(http.StatusConflict, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry"})
	if _, msg := r2.errorCode(t); !strings.Contains(msg, "is waiting and cannot be retried") {
		t.Errorf("retry of a waiting run: %s", msg)
	}
}

func TestRetryFailedRun(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.createConnection("acme")
	f.saveWorkflow("users", usersWorkflow)
	// The connection goes away: the run fails.
	f.must(http.StatusNoContent, request{Method: "DELETE", Path: "/api/v1/connections/acme"})
	run := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/users/runs?wait=30s"}).json(t)
	if run["status"] != "failed" || !strings.Contains(fmt.Sprint(run["steps"]), "acme") {
		t.Fatalf("run: %v", run)
	}
	id := run["id"].(string)
	// It comes back: the retry succeeds.
	f.createConnection("acme")
	retried := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/runs/" + id + "/retry"}).json(t)
	if retried["id"] != id {
		t.Errorf("retry: %v", retried)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := f.eng.Wait(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the retried run is %s: %s", got.Status, got.Error)
		}
	}
	done := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs/" + id}).json(t)
	step := done["steps"].(map[string]any)["users"].(map[string]any)
	if step["status"] != "succeeded" || step["output"] == nil {
		t.Errorf("step after retry: %v", step)
	}
}

func TestListRunsKeyset(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.saveWorkflow("echo", echoWorkflow)
	f.saveWorkflow("other", echoWorkflow)
	var ids []string
	for range 5 {
		r := f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=30s", Body: `{"name": "n"}`}).json(t)
		ids = append(ids, r["id"].(string))
	}
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/other/runs?wait=30s", Body: `{"name": "n"}`})
	// A failed run is left out by the status filter.
	f.must(http.StatusOK, request{Method: "POST", Path: "/api/v1/workflows/echo/runs?wait=30s"})

	var seen []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		page := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs?workflow_id=echo&status=succeeded&limit=2&after=" + after, Token: readerToken}).json(t)
		for _, r := range page["runs"].([]any) {
			m := r.(map[string]any)
			if m["workflow_id"] != "echo" {
				t.Errorf("another workflow's run: %v", m)
			}
			seen = append(seen, m["id"].(string))
		}
		next, ok := page["next"].(string)
		if !ok {
			if page["next"] != nil {
				t.Fatalf("next: %v", page["next"])
			}
			break
		}
		after = next
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d runs, want 5: %v", len(seen), seen)
	}
	for i := range seen {
		if seen[i] != ids[len(ids)-1-i] {
			t.Errorf("run %d is %s, want newest first %v", i, seen[i], ids)
		}
	}
	all := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/runs"}).json(t)
	if n := len(all["runs"].([]any)); n != 7 || all["next"] != nil {
		t.Errorf("all runs: %d, next %v", n, all["next"])
	}
}

func TestStepTypes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	r := f.must(http.StatusOK, request{Method: "GET", Path: "/api/v1/step-types", Token: readerToken}).json(t)
	types := map[string]map[string]any{}
	for _, s := range r["step_types"].([]any) {
		m := s.(map[string]any)
		types[m["type"].(string)] = m
	}
	for _, want := range []string{"transform", "respond", "condition", "lever.get_opportunity", "lever.update_opportunity_stage"} {
		if types[want] == nil {
			t.Errorf("no step type %s", want)
		}
	}
	if in, _ := types["respond"]["input"].(map[string]any); in["type"] != "object" {
		t.Errorf("respond input schema: %v", types["respond"]["input"])
	}
}
