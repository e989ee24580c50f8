package gormstore_test

import (
	"context"
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

func TestConcurrencyConformance(t *testing.T) {
	storetest.RunConcurrency(t, func(t *testing.T) store.Store {
		return openFile(t, filepath.Join(t.TempDir(), "runs.db"))
	})
}

func openFile(t *testing.T, path string) *gormstore.Store {
	t.Helper()
	st, err := gormstore.Open(context.Background(), gormstore.Config{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestConcurrentClaimsKeepTheLimit has two stores on one SQLite file (two
// engines) claim, finish and claim again runs of three keys under a limit
// of 2 as fast as they can, and checks after every claim that no key ever
// has more than 2 runs running.
func TestConcurrentClaimsKeepTheLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	stores := []*gormstore.Store{openFile(t, path), openFile(t, path)}
	ctx := context.Background()
	now := time.Now().UTC()
	const perKey, limit = 20, 2
	for i := range 3 * perKey {
		r := &workflow.Run{ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", i), WorkflowID: "wf", Version: 1,
			Status: workflow.RunQueued, Trigger: []byte(`{}`), CreatedAt: now}
		if err := stores[i%2].CreateLimitedRun(ctx, r, store.Concurrency{Key: fmt.Sprint("k", i%3), Limit: limit}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	running := map[string]int{} // key -> runs held
	maxSeen := 0
	finished := 0
	var wg sync.WaitGroup
	for w, st := range stores {
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("w%d-%d", w, g)
				for idle := 0; idle < 50; {
					runs, err := st.ClaimRuns(ctx, owner, time.Now().UTC(), time.Minute, 2)
					if err != nil {
						t.Error(err)
						return
					}
					if len(runs) == 0 {
						idle++
						time.Sleep(2 * time.Millisecond)
						continue
					}
					for _, r := range runs {
						var n int
						fmt.Sscanf(r.ID[len(r.ID)-12:], "%d", &n)
						key := fmt.Sprint("k", n%3)
						mu.Lock()
						running[key]++
						maxSeen = max(maxSeen, running[key])
						mu.Unlock()
						time.Sleep(time.Millisecond)
						mu.Lock()
						running[key]--
						finished++
						mu.Unlock()
						// Counted down before the run is released: a claim
						// that sees the slot free is counted after.
						if err := st.Apply(ctx, owner, store.Update{RunID: r.ID, Status: workflow.RunSucceeded, Release: true}); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if maxSeen > limit {
		t.Fatalf("a key had %d runs at once, over the limit of %d", maxSeen, limit)
	}
	if finished != 3*perKey {
		t.Fatalf("%d runs finished, want %d", finished, 3*perKey)
	}
}
