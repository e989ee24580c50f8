package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestHeartbeatKeepsALongStepFromBeingTakenOver runs a step that lasts
// several leases while a second engine polls the same database: the
// heartbeat keeps the run with its first worker, so the step runs once.
func TestHeartbeatKeepsALongStepFromBeingTakenOver(t *testing.T) {
	t.Parallel()
	lease := func(o *setupConfig) {
		// A lease of a second: a loaded 2-core CI machine running the race
		// detector can stall a heartbeat (every lease/3) for a few hundred
		// milliseconds.
		o.Lease = time.Second
		o.PollInterval = 20 * time.Millisecond
	}
	e := setup(t, lease)
	path := filepath.Join(t.TempDir(), "shared.db")
	first := openEngine(t, openStore(t, path), e.reg, "first", true, lease)
	saveOn(t, first, e.reg, "long", `{"name": "long", "trigger": {"type": "api"}, "steps": [
  {"id": "long", "type": "test.work", "input": {"sleep": "3500ms"}, "retry": {"max_attempts": 5}}]}`)
	run, err := first.StartRun(e.ctx, engine.StartRequest{WorkflowID: "long"})
	if err != nil {
		t.Fatal(err)
	}
	second := openEngine(t, openStore(t, path), e.reg, "second", true, lease)
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	done, err := second.Wait(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, done, workflow.RunSucceeded)
	if n := e.probe.count("long"); n != 1 {
		t.Errorf("the step ran %d times, want once: the lease was lost while it ran", n)
	}
	if got := done.Steps["long"].Attempts; got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}
