package gormstore_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

func benchEvent(i int64) *store.Event {
	return &store.Event{
		ID: uuid.Must(uuid.NewV7()).String(), Source: store.EventSourceLever, Connection: "acme", Type: "candidateStageChange",
		DedupeKey: fmt.Sprintf("delivery-%d", i), ReceivedAt: benchNow,
		Payload: json.RawMessage(`{"event":"candidateStageChange","triggeredAt":1700000000000,"data":{"opportunityId":"250d8f03","toStageId":"lead-responded"}}`),
	}
}

// BenchmarkInsertEvent measures putting one webhook event in the inbox
// (what a webhook costs before it is acknowledged) from one goroutine.
func BenchmarkInsertEvent(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	var i int64
	for b.Loop() {
		i++
		if _, inserted, err := st.InsertEvent(b.Context(), benchEvent(i)); err != nil || !inserted {
			b.Fatalf("InsertEvent = %v, %v", inserted, err)
		}
	}
}

// BenchmarkInsertEventParallel is a webhook burst: many deliveries at once
// share commits.
func BenchmarkInsertEventParallel(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	var next atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, inserted, err := st.InsertEvent(b.Context(), benchEvent(next.Add(1))); err != nil || !inserted {
				b.Fatalf("InsertEvent = %v, %v", inserted, err)
			}
		}
	})
}

// BenchmarkInsertEventDuplicate measures a redelivery: the dedupe key is
// there, nothing is written.
func BenchmarkInsertEventDuplicate(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	if _, _, err := st.InsertEvent(b.Context(), benchEvent(0)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, inserted, err := st.InsertEvent(b.Context(), benchEvent(0)); err != nil || inserted {
			b.Fatalf("InsertEvent = %v, %v", inserted, err)
		}
	}
}

// BenchmarkListWorkflows lists a page of 100 workflows holding 10,000 runs
// between them, with each one's newest run and run counts (the editor's
// workflow list).
func BenchmarkListWorkflows(b *testing.B) {
	st := open(b, filepath.Join(b.TempDir(), "bench.db"))
	ctx := b.Context()
	statuses := []workflow.RunStatus{workflow.RunSucceeded, workflow.RunSucceeded, workflow.RunFailed, workflow.RunQueued, workflow.RunCancelled}
	for w := range 100 {
		id := fmt.Sprintf("wf-%03d", w)
		if _, err := st.SaveWorkflow(ctx, id, id, json.RawMessage(`{"name":"x","trigger":{"type":"api"},"steps":[]}`), benchNow); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10_000 {
		r := &workflow.Run{
			ID: uuid.Must(uuid.NewV7()).String(), WorkflowID: fmt.Sprintf("wf-%03d", i%100), Version: 1,
			Status: statuses[i%len(statuses)], CreatedAt: benchNow.Add(time.Duration(i) * time.Second), TriggerType: "api",
		}
		if err := st.CreateRun(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		ws, err := st.ListWorkflows(ctx, store.WorkflowFilter{Limit: 100})
		if err != nil || len(ws) != 100 || ws[0].LastRun == nil {
			b.Fatalf("ListWorkflows = %d workflows, %v", len(ws), err)
		}
	}
}
