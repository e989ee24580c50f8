package gormstore_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/store/storetest"
	"github.com/leverflow/leverflow/engine/workflow"
)

func open(t testing.TB, dsn string) *gormstore.Store {
	t.Helper()
	st, err := gormstore.Open(context.Background(), gormstore.Config{DSN: dsn})
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "runs.db"))
	})
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, ":memory:")
	})
}

func TestOpenDSNForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		dsn  string
	}{
		{"bare path", filepath.Join(dir, "a.db")},
		{"sqlite URL", "sqlite://" + filepath.Join(dir, "b.db")},
		{"with parameters", filepath.Join(dir, "c.db") + "?_busy_timeout=10000"},
		{"memory", ":memory:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t, tc.dsn)
			if _, err := st.SaveWorkflow(t.Context(), "wf", "wf", []byte(`{}`), time.Now()); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, dsn := range []string{"", "postgres://localhost/leverflow", "mysql://x"} {
		if _, err := gormstore.Open(t.Context(), gormstore.Config{DSN: dsn}); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", dsn)
		}
	}
}

// TestTwoStoresOneFile claims from two Stores on one file (as two processes
// would) and checks that no run is given to both.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := []*gormstore.Store{open(t, path), open(t, path)}
	ctx := t.Context()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const runs = 200
	for i := range runs {
		r := &workflow.Run{ID: fmt.Sprintf("run-%05d", i), WorkflowID: "wf", Version: 1, Status: workflow.RunQueued, CreatedAt: now}
		if err := stores[i%2].CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	owner := map[string]string{}
	var wg sync.WaitGroup
	for s, st := range stores {
		for w := range 4 {
			name := fmt.Sprintf("store%d-w%d", s, w)
			wg.Go(func() {
				for {
					got, err := st.ClaimRuns(ctx, name, now, time.Minute, 5)
					if err != nil {
						t.Errorf("%s: ClaimRuns: %v", name, err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, r := range got {
						if prev, ok := owner[r.ID]; ok {
							t.Errorf("run %s claimed by %s and %s", r.ID, prev, name)
						}
						owner[r.ID] = name
					}
					mu.Unlock()
					// Each claim is followed by the writes a worker makes.
					for _, r := range got {
						err := st.Apply(ctx, name, store.Update{RunID: r.ID, Status: workflow.RunSucceeded, FinishedAt: &now, Release: true,
							Steps: []*workflow.StepRun{{Key: "a", StepID: "a", Status: workflow.StepSucceeded}}})
						if err != nil {
							t.Errorf("%s: Apply: %v", name, err)
						}
					}
				}
			})
		}
	}
	wg.Wait()
	if len(owner) != runs {
		t.Errorf("claimed %d runs, want %d", len(owner), runs)
	}
	byStore := map[byte]int{}
	for _, o := range owner {
		byStore[o[5]]++
	}
	t.Logf("claims per store: %v", byStore)
	for _, st := range stores {
		list, err := st.ListRuns(ctx, store.RunFilter{Status: workflow.RunSucceeded, Limit: runs + 1})
		if err != nil || len(list) != runs {
			t.Errorf("ListRuns succeeded = %d runs, %v, want %d", len(list), err, runs)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "runs.db")
	first := open(t, path)
	if _, err := first.SaveWorkflow(t.Context(), "wf", "wf", []byte(`{"v":1}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	// Reopening (also concurrently, as two processes starting at once
	// would) applies nothing twice and keeps the data.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { open(t, path) })
	}
	wg.Wait()
	second := open(t, path)
	v, err := second.GetWorkflowVersion(t.Context(), "wf", 0)
	if err != nil || string(v.Definition) != `{"v":1}` {
		t.Fatalf("GetWorkflowVersion after reopening = %+v, %v", v, err)
	}
	versions, err := gormstore.AppliedMigrations(t.Context(), second)
	if err != nil {
		t.Fatal(err)
	}
	want := gormstore.KnownMigrations()
	if fmt.Sprint(versions) != fmt.Sprint(want) {
		t.Errorf("schema_migrations = %v, want each of %v once", versions, want)
	}
}

func TestApplyUnknownRun(t *testing.T) {
	t.Parallel()
	st := open(t, filepath.Join(t.TempDir(), "runs.db"))
	err := st.Apply(t.Context(), "w1", store.Update{RunID: "nope", Status: workflow.RunSucceeded})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("Apply to an unknown run = %v, want ErrLeaseLost", err)
	}
}

func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	st := open(t, filepath.Join(t.TempDir(), "runs.db"))
	w, r, err := gormstore.Pragmas(t.Context(), st, "journal_mode", "busy_timeout", "foreign_keys", "synchronous", "query_only")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1"}
	for k, v := range want {
		if w[k] != v || r[k] != v {
			t.Errorf("PRAGMA %s = writer %q, reader %q, want %q", k, w[k], r[k], v)
		}
	}
	if w["query_only"] != "0" || r["query_only"] != "1" {
		t.Errorf("PRAGMA query_only = writer %q, reader %q, want 0 and 1", w["query_only"], r["query_only"])
	}
}
