package storetest

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine/store"
)

// triggerStateTests are the subtests of trigger state (schedules' next
// fire times, polls' cursors).
var triggerStateTests = []subtest{
	{"TriggerStateRoundTrip", testTriggerStateRoundTrip},
	{"TriggerStateFencing", testTriggerStateFencing},
	{"TriggerStateKeys", testTriggerStateKeys},
	{"ConcurrentTriggerStatePut", testConcurrentTriggerStatePut},
}

func (e *env) getTriggerState(workflowID, kind, key string) *store.TriggerState {
	e.t.Helper()
	s, err := e.st.GetTriggerState(e.ctx, workflowID, kind, key)
	if err != nil {
		e.t.Fatalf("GetTriggerState(%q, %q, %q): %v", workflowID, kind, key, err)
	}
	return s
}

func testTriggerStateRoundTrip(t *testing.T, e *env) {
	if _, err := e.st.GetTriggerState(e.ctx, "wf", store.TriggerStateSchedule, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTriggerState of nothing: %v, want ErrNotFound", err)
	}
	s := &store.TriggerState{WorkflowID: "wf", Kind: store.TriggerStateSchedule, Cursor: e.now.Add(time.Hour),
		Data: json.RawMessage(`{"pending":[1,2]}`), UpdatedAt: e.now}
	if err := e.st.PutTriggerState(e.ctx, s); err != nil {
		t.Fatalf("PutTriggerState (insert): %v", err)
	}
	if s.Version == 0 {
		t.Fatal("PutTriggerState left Version 0")
	}
	got := e.getTriggerState("wf", store.TriggerStateSchedule, "")
	if !got.Cursor.Equal(e.now.Add(time.Hour)) || got.Cursor.Location() != time.UTC || !got.UpdatedAt.Equal(e.now) ||
		string(got.Data) != `{"pending":[1,2]}` || got.Version != s.Version {
		t.Fatalf("got %+v, want %+v", got, s)
	}
	// An update over the version read; a zero cursor reads back zero.
	got.Cursor, got.Data, got.UpdatedAt = time.Time{}, nil, e.now.Add(time.Minute)
	old := got.Version
	if err := e.st.PutTriggerState(e.ctx, got); err != nil {
		t.Fatalf("PutTriggerState (update): %v", err)
	}
	if got.Version != old+1 {
		t.Fatalf("Version = %d after update of %d, want %d", got.Version, old, old+1)
	}
	again := e.getTriggerState("wf", store.TriggerStateSchedule, "")
	if !again.Cursor.IsZero() || len(again.Data) != 0 || again.Version != got.Version || !again.UpdatedAt.Equal(e.now.Add(time.Minute)) {
		t.Fatalf("after update got %+v", again)
	}
}

func testTriggerStateFencing(t *testing.T, e *env) {
	s := &store.TriggerState{Kind: store.TriggerStatePoll, Key: "acme/lever.posting_created", Cursor: e.now, UpdatedAt: e.now}
	if err := e.st.PutTriggerState(e.ctx, s); err != nil {
		t.Fatalf("PutTriggerState: %v", err)
	}
	dup := &store.TriggerState{Kind: store.TriggerStatePoll, Key: "acme/lever.posting_created", Cursor: e.now.Add(time.Hour), UpdatedAt: e.now}
	if err := e.st.PutTriggerState(e.ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second insert: %v, want ErrConflict", err)
	}
	a := e.getTriggerState("", store.TriggerStatePoll, "acme/lever.posting_created")
	b := e.getTriggerState("", store.TriggerStatePoll, "acme/lever.posting_created")
	a.Cursor = e.now.Add(time.Second)
	if err := e.st.PutTriggerState(e.ctx, a); err != nil {
		t.Fatalf("first writer: %v", err)
	}
	b.Cursor = e.now.Add(2 * time.Second)
	if err := e.st.PutTriggerState(e.ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale writer: %v, want ErrConflict", err)
	}
	missing := &store.TriggerState{Kind: store.TriggerStatePoll, Key: "nobody", Version: 3, UpdatedAt: e.now}
	if err := e.st.PutTriggerState(e.ctx, missing); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update of a missing state: %v, want ErrConflict", err)
	}
	if got := e.getTriggerState("", store.TriggerStatePoll, "acme/lever.posting_created"); !got.Cursor.Equal(e.now.Add(time.Second)) {
		t.Fatalf("cursor = %v, want the first writer's %v", got.Cursor, e.now.Add(time.Second))
	}
}

func testTriggerStateKeys(t *testing.T, e *env) {
	states := []*store.TriggerState{
		{WorkflowID: "wf1", Kind: store.TriggerStateSchedule},
		{WorkflowID: "wf2", Kind: store.TriggerStateSchedule},
		{Kind: store.TriggerStatePoll, Key: "a"},
		{Kind: store.TriggerStatePoll, Key: "b"},
		{WorkflowID: "wf1", Kind: store.TriggerStatePoll, Key: "a"},
	}
	for i, s := range states {
		s.Cursor, s.UpdatedAt = e.now.Add(time.Duration(i)*time.Minute), e.now
		if err := e.st.PutTriggerState(e.ctx, s); err != nil {
			t.Fatalf("PutTriggerState %d: %v", i, err)
		}
	}
	for i, s := range states {
		got := e.getTriggerState(s.WorkflowID, s.Kind, s.Key)
		if !got.Cursor.Equal(e.now.Add(time.Duration(i) * time.Minute)) {
			t.Errorf("state %d (%q %q %q): cursor %v, want %v", i, s.WorkflowID, s.Kind, s.Key, got.Cursor, e.now.Add(time.Duration(i)*time.Minute))
		}
	}
}

func testConcurrentTriggerStatePut(t *testing.T, e *env) {
	s := &store.TriggerState{WorkflowID: "wf", Kind: store.TriggerStateSchedule, Cursor: e.now, UpdatedAt: e.now}
	if err := e.st.PutTriggerState(e.ctx, s); err != nil {
		t.Fatalf("PutTriggerState: %v", err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		c := *s
		c.Cursor = e.now.Add(time.Duration(i+1) * time.Minute)
		wg.Go(func() { errs[i] = e.st.PutTriggerState(e.ctx, &c) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d writers advanced the same version, want exactly 1", won)
	}
}
