package engine_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestHeartbeatKeepsALongStepFromBeingTakenOver runs a step that lasts
// several leases while a second engine polls the same database: the
// heartbeat keeps the run with its first worker, so the step runs once.
func TestHeartbeatKeepsALongStepFromBeingTakenOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lease := func(o *setupConfig) {
		o.Lease = 300 * time.Millisecond
		o.PollInterval = 20 * time.Millisecond
	}
	e := setup(t, lease)
	// setup opened its own store; point both engines at one file instead.
	path := filepath.Join(dir, "shared.db")
	open := func(worker string) *engine.Engine {
		st, err := gormstore.Open(context.Background(), gormstore.Config{DSN: path})
		if err != nil {
			t.Fatal(err)
		}
		c := setupConfig{Options: engine.Options{Store: st, Steps: e.reg, WorkerID: worker}}
		lease(&c)
		eng, err := engine.New(c.Options)
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := eng.Stop(ctx); err != nil {
				t.Errorf("stop %s: %v", worker, err)
			}
			st.Close()
		})
		return eng
	}
	first := open("first")
	wf, probs := workflow.Parse([]byte(`{"name": "long", "trigger": {"type": "api"}, "steps": [
  {"id": "long", "type": "test.work", "input": {"sleep": "1500ms"}, "retry": {"max_attempts": 5}}]}`), workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := first.SaveWorkflow(e.ctx, "long", wf); err != nil {
		t.Fatal(err)
	}
	run, err := first.StartRun(e.ctx, engine.StartRequest{WorkflowID: "long"})
	if err != nil {
		t.Fatal(err)
	}
	second := open("second")
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
