package engine_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/workflow"
)

// slowServer answers after 30s, or stops when the request's context ends;
// it reports each request's arrival on started and the end of its context
// on ended.
func slowServer(t *testing.T) (srv *httptest.Server, started, ended chan time.Time) {
	t.Helper()
	started, ended = make(chan time.Time, 4), make(chan time.Time, 4)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- time.Now()
		select {
		case <-time.After(30 * time.Second):
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
			ended <- time.Now()
		}
	}))
	t.Cleanup(srv.Close)
	return srv, started, ended
}

// TestCancelThroughAnotherEngineStopsAStepInFlight runs an http.request
// step against a slow server on one engine and cancels the run through a
// second engine on the same SQLite file: the cancel watch of the first
// stops the request and ends the run within a second, although its
// heartbeat (Lease/3) is 10s away.
func TestCancelThroughAnotherEngineStopsAStepInFlight(t *testing.T) {
	t.Parallel()
	srv, started, ended := slowServer(t)
	e := setup(t, manualStart)
	path := filepath.Join(t.TempDir(), "shared.db")
	long := func(c *setupConfig) { c.Lease = 30 * time.Second }
	holder := openEngine(t, openStore(t, path), e.reg, "holder", true, long)
	other := openEngine(t, openStore(t, path), e.reg, "other", true, long)
	saveOn(t, holder, e.reg, "slow", `{"name": "slow", "trigger": {"type": "api"}, "steps": [
  {"id": "call", "type": "http.request", "input": {"url": "`+srv.URL+`", "timeout": "60s"}}]}`)
	run, err := holder.StartRun(e.ctx, engine.StartRequest{WorkflowID: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the http.request step never reached the server")
	}
	if r, _ := other.GetRun(e.ctx, run.ID); r.LeaseOwner != "holder" {
		t.Fatalf("the run is held by %q, want holder", r.LeaseOwner)
	}
	begin := time.Now()
	if _, err := other.CancelRun(e.ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	var stopped time.Duration
	select {
	case at := <-ended:
		stopped = at.Sub(begin)
	case <-time.After(5 * time.Second):
		t.Fatal("the server's request context did not end within 5s of the cancel")
	}
	done := pollRun(t, openStore(t, path), run.ID, "cancelled", func(r *workflow.Run) bool { return r.Status.Terminal() })
	finished := time.Since(begin)
	wantStatus(t, done, workflow.RunCancelled)
	wantSteps(t, done, map[string]workflow.StepStatus{"call": workflow.StepFailed})
	t.Logf("cancel through another engine: request stopped after %v, run cancelled after %v", stopped, finished)
	if stopped > time.Second || finished > time.Second {
		t.Errorf("cancel took %v (request) / %v (run), want both under a second", stopped, finished)
	}
}
