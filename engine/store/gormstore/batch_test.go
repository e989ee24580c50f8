package gormstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestGroupCommitKeepsEachWriteItsOwn sends many writes at once: good
// Applies, Applies under a lost lease and CreateRuns of ids that exist.
// They share transactions (fewer commits than writes), yet each gets its
// own result and the refused ones write nothing.
func TestGroupCommitKeepsEachWriteItsOwn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := open(t, filepath.Join(t.TempDir(), "runs.db"))
	if _, err := st.SaveWorkflow(ctx, "wf", "wf", json.RawMessage(`{}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	const n = 60
	now := time.Now().UTC()
	until := now.Add(time.Hour)
	for i := range n {
		run := &workflow.Run{ID: fmt.Sprintf("run-%03d", i), WorkflowID: "wf", Version: 1, Status: workflow.RunRunning,
			Trigger: json.RawMessage(`{}`), CreatedAt: now, StartedAt: &now, LeaseOwner: "w", LeaseUntil: &until}
		if err := st.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	before := gormstore.Commits(st)

	type result struct {
		kind string
		id   string
		err  error
	}
	results := make(chan result, 3*n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		id := fmt.Sprintf("run-%03d", i)
		wg.Add(3)
		go func() {
			defer wg.Done()
			<-start
			err := st.Apply(ctx, "w", store.Update{RunID: id, Steps: []*workflow.StepRun{
				{Key: "a", StepID: "a", Type: "transform", Status: workflow.StepSucceeded, Attempts: 1, Output: json.RawMessage(`"` + id + `"`)},
			}})
			results <- result{"apply", id, err}
		}()
		go func() {
			defer wg.Done()
			<-start
			err := st.Apply(ctx, "intruder", store.Update{RunID: id, Steps: []*workflow.StepRun{
				{Key: "b", StepID: "b", Type: "transform", Status: workflow.StepSucceeded, Attempts: 1},
			}})
			results <- result{"intruder", id, err}
		}()
		go func() {
			defer wg.Done()
			<-start
			err := st.CreateRun(ctx, &workflow.Run{ID: id, WorkflowID: "wf", Version: 1, Status: workflow.RunQueued, Trigger: json.RawMessage(`{}`), CreatedAt: now})
			results <- result{"duplicate", id, err}
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	for r := range results {
		switch r.kind {
		case "apply":
			if r.err != nil {
				t.Errorf("apply %s: %v", r.id, r.err)
			}
		case "intruder":
			if !errors.Is(r.err, store.ErrLeaseLost) {
				t.Errorf("intruder's apply %s: err = %v, want ErrLeaseLost", r.id, r.err)
			}
		case "duplicate":
			if !errors.Is(r.err, store.ErrConflict) {
				t.Errorf("duplicate create %s: err = %v, want ErrConflict", r.id, r.err)
			}
		}
	}
	for i := range n {
		id := fmt.Sprintf("run-%03d", i)
		run, err := st.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Steps) != 1 || string(run.Steps["a"].Output) != `"`+id+`"` {
			t.Errorf("run %s steps = %v, want only a with its own output", id, run.Steps)
		}
		if run.Status != workflow.RunRunning || run.LeaseOwner != "w" {
			t.Errorf("run %s = %s leased by %q: a refused write changed it", id, run.Status, run.LeaseOwner)
		}
	}
	// The successful applies committed; how many transactions that took
	// depends on timing, but with 180 writes racing, some should have
	// shared. A loaded machine can serialize one burst by chance, so a
	// few more bursts of applies get their chance before this fails.
	commits := gormstore.Commits(st) - before
	for try := 0; commits >= n && try < 5; try++ {
		before = gormstore.Commits(st)
		var burst sync.WaitGroup
		release := make(chan struct{})
		for i := range n {
			id := fmt.Sprintf("run-%03d", i)
			burst.Go(func() {
				<-release
				if err := st.Apply(ctx, "w", store.Update{RunID: id, Steps: []*workflow.StepRun{
					{Key: "a", StepID: "a", Type: "transform", Status: workflow.StepSucceeded, Attempts: 1, Output: json.RawMessage(`"` + id + `"`)},
				}}); err != nil {
					t.Errorf("apply %s again: %v", id, err)
				}
			})
		}
		close(release)
		burst.Wait()
		commits = gormstore.Commits(st) - before
	}
	if commits >= n {
		t.Errorf("%d commits for %d successful applies, in every burst: writes were not grouped", commits, n)
	}
}
