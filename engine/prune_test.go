package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps/catalog"
)

// fileSize is the size of the database file and its write-ahead log.
func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// TestPruneShrinksTheFile fills a SQLite file with runs carrying large
// outputs, prunes with a clock past their retention, and checks that the
// expired runs are gone, the others stay and the file gives the space back.
func TestPruneShrinksTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "runs.db")
	st, err := gormstore.Open(ctx, gormstore.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
	eng, err := engine.New(engine.Options{Store: st, Steps: reg, PruneEvery: -1, Now: func() time.Time { return base }})
	if err != nil {
		t.Fatal(err)
	}
	for id, retention := range map[string]string{"short": "", "long": `"retention": "90d", `} {
		doc := `{"name": "` + id + `", ` + retention + `"trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": 1}}]}`
		wf, probs := workflow.Parse([]byte(doc), workflow.ValidateOptions{Steps: reg})
		if len(probs) > 0 {
			t.Fatal(probs)
		}
		if _, err := eng.SaveWorkflow(ctx, id, wf); err != nil {
			t.Fatal(err)
		}
	}
	big := json.RawMessage(`{"blob": "` + strings.Repeat("x", 16<<10) + `"}`)
	n := 0
	mk := func(wfID string, status workflow.RunStatus, finishedAgo time.Duration) string {
		n++
		at := base.Add(-finishedAgo)
		r := &workflow.Run{ID: fmt.Sprintf("run-%05d", n), WorkflowID: wfID, Version: 1, Status: status, Trigger: json.RawMessage(`{}`),
			CreatedAt: at.Add(-time.Minute), StartedAt: &at, Steps: map[string]*workflow.StepRun{}}
		if status.Terminal() {
			r.FinishedAt = &at
		}
		for _, k := range []string{"a", "b"} {
			r.Steps[k] = &workflow.StepRun{Key: k, StepID: k, Type: "transform", Status: workflow.StepSucceeded, Attempts: 1, Input: json.RawMessage(`{}`), Output: big}
		}
		if err := st.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	day := 24 * time.Hour
	var expired, kept []string
	statuses := []workflow.RunStatus{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled}
	for i := range 1200 {
		expired = append(expired, mk("short", statuses[i%3], 31*day+time.Duration(i)*time.Minute))
	}
	for range 20 {
		kept = append(kept, mk("short", workflow.RunSucceeded, 29*day)) // within 30 days
		kept = append(kept, mk("long", workflow.RunFailed, 60*day))     // within its 90 days
	}
	for _, s := range []workflow.RunStatus{workflow.RunQueued, workflow.RunRunning, workflow.RunWaiting} {
		kept = append(kept, mk("short", s, 100*day)) // live runs are never pruned
	}
	if err := st.ReclaimSpace(ctx); err != nil { // checkpoint: measure the file, not the log
		t.Fatal(err)
	}
	before := fileSize(t, path)

	res, err := eng.Prune(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	after := fileSize(t, path)
	t.Logf("pruned %d runs (%d steps); database + WAL: %d bytes before, %d after (%.1f%%)",
		res.Runs, res.Steps, before, after, 100*float64(after)/float64(before))
	if res.Runs != len(expired) || res.Steps != 2*len(expired) {
		t.Errorf("pruned %+v, want %d runs and %d steps", res, len(expired), 2*len(expired))
	}
	for _, id := range []string{expired[0], expired[len(expired)/2], expired[len(expired)-1]} {
		if _, err := st.GetRun(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired run %s: %v, want not found", id, err)
		}
	}
	for _, id := range kept {
		if run, err := st.GetRun(ctx, id); err != nil || len(run.Steps) != 2 {
			t.Errorf("kept run %s: %v", id, err)
		}
	}
	// 40+3 of 1243 runs stay: the file must give back most of the rest.
	if after > before/5 {
		t.Errorf("file is %d bytes after pruning, %d before: want at most a fifth", after, before)
	}
	if res, err := eng.Prune(ctx, base); err != nil || res.Runs != 0 {
		t.Errorf("second prune = %+v, %v; want nothing", res, err)
	}
}

// TestPruneRetentionRules checks Options.DefaultRetention and a
// workflow's own retention against the clock.
func TestPruneRetentionRules(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name      string
		retention string // the workflow's
		def       time.Duration
		age       time.Duration
		pruned    bool
	}{
		{"default keeps 29 days", "", 0, 29 * day, false},
		{"default drops 31 days", "", 0, 31 * day, true},
		{"option overrides the default", "", 7 * day, 8 * day, true},
		{"option keeps younger", "", 7 * day, 6 * day, false},
		{"workflow's own beats the option", `"retention": "2h", `, 7 * day, 3 * time.Hour, true},
		{"workflow's own keeps longer", `"retention": "365d", `, 0, 300 * day, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)
			e := setup(t, func(c *setupConfig) {
				c.DefaultRetention, c.PruneEvery = tt.def, -1
				c.Now = func() time.Time { return base }
			})
			e.save("wf", `{"name": "wf", `+tt.retention+`"trigger": {"type": "api"}, "steps": [{"id": "a", "type": "transform", "input": {"value": 1}}]}`)
			run := e.wait(e.start("wf", `{}`).ID)
			wantStatus(t, run, workflow.RunSucceeded)
			res, err := e.eng.Prune(e.ctx, base.Add(tt.age))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Runs == 1; got != tt.pruned {
				t.Errorf("pruned = %+v, want pruned %v", res, tt.pruned)
			}
		})
	}
}
