package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestRedactPIIFailureSummary fails a redact_pii run with an email and a
// phone number in its error: neither reaches the error workflow's stored
// trigger data nor the webhook.
func TestRedactPIIFailureSummary(t *testing.T) {
	t.Parallel()
	bodies := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	e := setup(t, steppingClock, func(c *setupConfig) { c.HTTPClient = srv.Client() })
	e.probe.perm["w"] = errors.New("no answer from jane@example.com at +1 415 555 0134")
	e.save("errwf", errorWorkflow)
	run := e.runOnce("main", `{"name": "main", "redact_pii": true, "on_failure": {"workflow": "errwf", "webhook": "`+srv.URL+`"}, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`, `{}`)
	wantStatus(t, run, workflow.RunFailed)
	er := e.get(e.runsOf("errwf", 1)[0].ID)
	var body string
	select {
	case body = <-bodies:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook post")
	}
	for what, s := range map[string]string{"error run's trigger": string(er.Trigger), "webhook body": body} {
		if strings.Contains(s, "jane@example.com") || strings.Contains(s, "415 555 0134") {
			t.Errorf("%s holds PII: %s", what, s)
		}
		if !strings.Contains(s, "no answer from [redacted]") {
			t.Errorf("%s lost the redacted error: %s", what, s)
		}
	}
}

// TestRetryCancelledResetsDownstream cancels a run after a step failed
// under on_error "continue" and the next consumed its error output: the
// retry runs the failed step again, and so everything downstream of it.
func TestRetryCancelledResetsDownstream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	doc := func(sleep string) string {
		return `{"name": "c", "trigger": {"type": "api"}, "steps": [
  {"id": "a", "type": "test.work", "on_error": "continue", "input": {}},
  {"id": "b", "type": "test.work", "input": {"seen": "<<steps.a>>"}},
  {"id": "c", "type": "test.work", "input": {"sleep": "` + sleep + `"}}],
  "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}]}`
	}
	e.probe.perm["a"] = errors.New("down")
	e.save("c", doc("30s"))
	run := e.start("c", `{}`)
	pollRun(t, e.store, run.ID, "c running", func(r *workflow.Run) bool {
		return r.Steps["c"] != nil && r.Steps["c"].Status == workflow.StepRunning
	})
	if _, err := e.eng.CancelRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(run.ID), workflow.RunCancelled)
	e.probe.heal("a")
	e.save("c", doc("1ms"))
	if _, err := e.eng.RetryRunWith(e.ctx, run.ID, engine.RetryOptions{Latest: true}); err != nil {
		t.Fatal(err)
	}
	done := e.wait(run.ID)
	wantStatus(t, done, workflow.RunSucceeded)
	if got := [3]int{e.probe.count("a"), e.probe.count("b"), e.probe.count("c")}; got != [3]int{2, 2, 2} {
		t.Errorf("calls a/b/c = %v, want [2 2 2] (b consumed a's error output)", got)
	}
}

// TestRetryOnLatestTakesItsConcurrencyLimit retries a failed run on a
// latest version that added a concurrency limit while another run holds
// the group: the retried run waits its turn.
func TestRetryOnLatestTakesItsConcurrencyLimit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const steps = `"trigger": {"type": "api"}, "steps": [{"id": "w", "type": "test.work", "input": {"sleep": "<<trigger.sleep>>"}}]}`
	e.probe.perm["w"] = errors.New("down")
	run := e.runOnce("lim", `{"name": "lim", `+steps, `{"sleep": "1ms"}`)
	wantStatus(t, run, workflow.RunFailed)
	e.probe.heal("w")
	e.save("lim", `{"name": "lim", "concurrency": {"limit": 1}, `+steps)
	blocker := e.start("lim", `{"sleep": "30s"}`)
	pollRun(t, e.store, blocker.ID, "blocker running", func(r *workflow.Run) bool {
		return r.Steps["w"] != nil && r.Steps["w"].Status == workflow.StepRunning
	})
	if _, err := e.eng.RetryRunWith(e.ctx, run.ID, engine.RetryOptions{Latest: true}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.get(run.ID); got.Status != workflow.RunQueued {
		t.Fatalf("the retried run is %s while its group is full, want queued", got.Status)
	}
	if _, err := e.eng.CancelRun(e.ctx, blocker.ID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(run.ID), workflow.RunSucceeded)
}

// failingRedactRun is the real store whose RedactRun always fails, as a
// busy or crashed store would after a run's final commit.
type failingRedactRun struct{ *gormstore.Store }

func (failingRedactRun) RedactRun(context.Context, string, json.RawMessage, []*workflow.StepRun) error {
	return errors.New("database is locked")
}

// TestRedactPIITriggerInFinalCommit checks that a redacted run's trigger
// is written by its final commit, not by a later write that may fail.
func TestRedactPIITriggerInFinalCommit(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *setupConfig) { c.Store = failingRedactRun{c.Store.(*gormstore.Store)} })
	run := e.runOnce("pii", `{"name": "pii", "redact_pii": true, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`, `{"email": "jane@example.com", "n": 1}`)
	wantStatus(t, run, workflow.RunSucceeded)
	if want := `{"email":"[redacted]","n":1}`; string(run.Trigger) != want {
		t.Errorf("trigger = %s, want %s", run.Trigger, want)
	}
}

// TestRedactPIIEventPayload checks that a redact_pii run started by an
// inbox event redacts that event's payload when it ends.
func TestRedactPIIEventPayload(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.save("pii", `{"name": "pii", "redact_pii": true, "trigger": {"type": "api"}, "steps": [
  {"id": "w", "type": "test.work", "input": {}}]}`)
	payload := `{"email":"jane@example.com","n":1}`
	ev, _, err := e.store.InsertEvent(e.ctx, &store.Event{ID: "01900000-0000-7000-8000-0000000000e1", Source: store.EventSourceAPI,
		Type: "x", Payload: json.RawMessage(payload), ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "pii", Trigger: json.RawMessage(payload), EventID: ev.ID})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e.wait(run.ID), workflow.RunSucceeded)
	want := `{"email":"[redacted]","n":1}`
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := e.store.GetEvent(e.ctx, ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Payload) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("event payload = %s, want %s", got.Payload, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
