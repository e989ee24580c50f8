package gormstore_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TestDeleteFinishedRunsRechecks retries a run (re-queues it) after
// DeleteFinishedRuns chose it and before it deletes it, as another node
// could on a database without SQLite's write lock: the DELETE itself must
// keep it, with its steps.
func TestDeleteFinishedRunsRechecks(t *testing.T) {
	st := open(t, filepath.Join(t.TempDir(), "runs.db"))
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	old := now.Add(-48 * time.Hour)
	mk := func(id string) {
		r := &workflow.Run{ID: id, WorkflowID: "wf", Version: 1, Status: workflow.RunFailed, Trigger: json.RawMessage(`{}`),
			CreatedAt: old, StartedAt: &old, FinishedAt: &old,
			Steps: map[string]*workflow.StepRun{"a": {Key: "a", StepID: "a", Type: "t", Status: workflow.StepFailed, Attempts: 1}}}
		if err := st.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	mk("01900000-0000-7000-8000-000000000001")
	mk("01900000-0000-7000-8000-000000000002")
	retried := "01900000-0000-7000-8000-000000000001"
	restore := gormstore.OnPruneSelected(func(tx *gorm.DB, ids []string) error {
		return tx.Exec(`UPDATE runs SET status = 'queued', finished_at = NULL WHERE id = ?`, retried).Error
	})
	defer restore()
	runs, steps, err := st.DeleteFinishedRuns(ctx, "wf", 1, now, 10)
	if err != nil {
		t.Fatal(err)
	}
	if runs != 1 || steps != 1 {
		t.Errorf("deleted %d runs and %d steps, want 1 and 1", runs, steps)
	}
	got, err := st.GetRun(ctx, retried)
	if err != nil {
		t.Fatalf("the retried run was deleted: %v", err)
	}
	if got.Status != workflow.RunQueued || got.Steps["a"] == nil {
		t.Errorf("the retried run = %s with steps %v", got.Status, got.Steps)
	}
	if _, err := st.GetRun(ctx, "01900000-0000-7000-8000-000000000002"); err == nil {
		t.Error("the finished run was kept")
	}
}
