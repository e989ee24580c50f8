package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps/catalog"
)

// Example saves a workflow, starts a run with trigger data and waits for
// it: the life of a run in a few calls.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "leverflow-example-")
	defer os.RemoveAll(dir)
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: filepath.Join(dir, "runs.db")})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	reg, _ := catalog.New(catalog.Options{})
	eng, _ := engine.New(engine.Options{Store: st, Steps: reg})
	_ = eng.Start(ctx)
	defer eng.Stop(ctx)

	wf, problems := workflow.Parse([]byte(`{
  "name": "Greet",
  "trigger": {"type": "api"},
  "steps": [
    {"id": "senior", "type": "condition", "input": {"if": "<<'Senior' in trigger.headline>>"}},
    {"id": "greet", "type": "transform", "input": {"value": "Welcome, <<trigger.name>>!"}}
  ],
  "edges": [{"from": "senior", "to": "greet", "branch": "true"}]
}`), workflow.ValidateOptions{Steps: reg})
	if len(problems) > 0 {
		panic(fmt.Sprint(problems))
	}
	if _, err := eng.SaveWorkflow(ctx, "greet", wf); err != nil {
		panic(err)
	}
	run, _ := eng.StartRun(ctx, engine.StartRequest{WorkflowID: "greet", Trigger: json.RawMessage(`{"name": "Ada", "headline": "Senior Engineer"}`)})
	done, _ := eng.Wait(ctx, run.ID)
	fmt.Println(done.Status, done.Steps["senior"].Branch, string(done.Steps["greet"].Output))
	// Output: succeeded true "Welcome, Ada!"
}
