package gormstore_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

var benchNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// claimedRuns creates n queued runs and claims them for owner.
func claimedRuns(b *testing.B, st store.Store, owner string, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("run-%08d", i)
		if err := st.CreateRun(b.Context(), &workflow.Run{ID: ids[i], WorkflowID: "wf", Version: 1, Status: workflow.RunQueued, CreatedAt: benchNow}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.ClaimRun(b.Context(), ids[i], owner, benchNow, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}

func smallStep(i int) *workflow.StepRun {
	return &workflow.StepRun{
		Key: fmt.Sprintf("step-%d", i%50), StepID: "step", Type: "transform", Status: workflow.StepSucceeded, Attempts: 1,
		Input: json.RawMessage(`{"a":1}`), Output: json.RawMessage(`{"b":"two"}`), StartedAt: &benchNow, FinishedAt: &benchNow,
	}
}

// BenchmarkApply measures one Apply of one small step run (what the engine
// commits per step) from one goroutine.
func BenchmarkApply(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	run := claimedRuns(b, st, "w1", 1)[0]
	steps := make([]*workflow.StepRun, 50)
	for i := range steps {
		steps[i] = smallStep(i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := st.Apply(b.Context(), "w1", store.Update{RunID: run, Steps: steps[i%50 : i%50+1]}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyParallel is BenchmarkApply from many runners at once.
func BenchmarkApplyParallel(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	runs := claimedRuns(b, st, "w1", 64)
	var next atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		run := runs[next.Add(1)%int64(len(runs))]
		for i := 0; pb.Next(); i++ {
			if err := st.Apply(b.Context(), "w1", store.Update{RunID: run, Steps: []*workflow.StepRun{smallStep(i)}}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkApplyFanout1000 measures one Apply writing 1000 step runs.
func BenchmarkApplyFanout1000(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	run := claimedRuns(b, st, "w1", 1)[0]
	steps := make([]*workflow.StepRun, 1000)
	for i := range steps {
		steps[i] = smallStep(0)
		steps[i].Key = fmt.Sprintf("fan[%d].item", i)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := st.Apply(b.Context(), "w1", store.Update{RunID: run, Steps: steps}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimRun measures claiming one queued run (with two step runs)
// by id.
func BenchmarkClaimRun(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	const pool = 20000
	for i := range pool {
		r := &workflow.Run{ID: fmt.Sprintf("run-%08d", i), WorkflowID: "wf", Version: 1, Status: workflow.RunQueued, CreatedAt: benchNow,
			Steps: map[string]*workflow.StepRun{"a": smallStep(0), "b": smallStep(1)}}
		if err := st.CreateRun(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// Each pass over the pool claims at a later time, after the
		// previous pass's leases expired.
		now := benchNow.Add(time.Duration(i/pool) * time.Hour)
		if _, err := st.ClaimRun(b.Context(), fmt.Sprintf("run-%08d", i%pool), "w1", now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimRuns measures claiming a batch of 10 due runs.
func BenchmarkClaimRuns(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	const pool = 20000
	for i := range pool {
		if err := st.CreateRun(b.Context(), &workflow.Run{ID: fmt.Sprintf("run-%08d", i), WorkflowID: "wf", Version: 1, Status: workflow.RunQueued, CreatedAt: benchNow}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		now := benchNow.Add(time.Duration(i*10/pool) * time.Hour)
		got, err := st.ClaimRuns(b.Context(), "w1", now, time.Minute, 10)
		if err != nil || len(got) == 0 {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkGetConnection measures reading one connection (what a Lever
// step does before its first call).
func BenchmarkGetConnection(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	c := &store.Connection{Name: "acme", Provider: "lever", Public: json.RawMessage(`{"account":"Acme"}`),
		Secrets: make([]byte, 256), AccessExpiresAt: &benchNow, CreatedAt: benchNow, UpdatedAt: benchNow}
	if err := st.CreateConnection(b.Context(), c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := st.GetConnection(b.Context(), "", "acme"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateConnection measures one revision-fenced update (a token
// refresh).
func BenchmarkUpdateConnection(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	c := &store.Connection{Name: "acme", Provider: "lever", Secrets: make([]byte, 256), CreatedAt: benchNow, UpdatedAt: benchNow}
	if err := st.CreateConnection(b.Context(), c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := st.UpdateConnection(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOAuthStateRoundTrip measures saving and taking one OAuth state.
func BenchmarkOAuthStateRoundTrip(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("state-%d", i)
		if err := st.SaveOAuthState(b.Context(), &store.OAuthState{ID: id, Payload: make([]byte, 128), ExpiresAt: benchNow.Add(time.Hour), CreatedAt: benchNow}); err != nil {
			b.Fatal(err)
		}
		if _, err := st.TakeOAuthState(b.Context(), id, benchNow); err != nil {
			b.Fatal(err)
		}
	}
}
