package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
)

// interval is when one run's step ran, from its stored step run.
type interval struct {
	run           string
	start, finish time.Time
}

// stepInterval reads the stored timing of step key of a finished run.
func stepInterval(t *testing.T, run *workflow.Run, key string) interval {
	t.Helper()
	sr := run.Steps[key]
	if sr == nil || sr.StartedAt == nil || sr.FinishedAt == nil {
		t.Fatalf("run %s: step %s has no stored timing: %+v", run.ID, key, sr)
	}
	return interval{run: run.ID, start: *sr.StartedAt, finish: *sr.FinishedAt}
}

// maxOverlap is the largest number of intervals running at one instant
// (one that finishes when another starts does not overlap it).
func maxOverlap(ivs []interval) int {
	type ev struct {
		at    time.Time
		delta int
	}
	evs := make([]ev, 0, 2*len(ivs))
	for _, iv := range ivs {
		evs = append(evs, ev{iv.start, 1}, ev{iv.finish, -1})
	}
	sort.Slice(evs, func(i, j int) bool {
		if !evs[i].at.Equal(evs[j].at) {
			return evs[i].at.Before(evs[j].at)
		}
		return evs[i].delta < evs[j].delta
	})
	n, most := 0, 0
	for _, e := range evs {
		n += e.delta
		most = max(most, n)
	}
	return most
}

const keyedDoc = `{"name": "per opportunity", "trigger": {"type": "api"},
	"concurrency": {"limit": 1, "key": "<<trigger.opportunityId>>"},
	"steps": [{"id": "w", "type": "test.work", "input": {"sleep": "%s"}}]}`

// TestConcurrencyKeyedOnOpportunity starts 50 runs for 5 opportunities
// under a limit of 1 per opportunity: from the stored step timings no two
// runs of one opportunity overlap, all 50 succeed, and opportunities run
// in parallel. The poll loop ticks once an hour: each queued run is taken
// up because a run of its group finishing wakes it.
func TestConcurrencyKeyedOnOpportunity(t *testing.T) {
	const step = 50 * time.Millisecond
	e := setup(t, func(c *setupConfig) { c.PollInterval = time.Hour })
	e.save("keyed", fmt.Sprintf(keyedDoc, step))
	began := time.Now()
	var ids []string
	keyOf := map[string]string{}
	for i := range 50 {
		key := fmt.Sprintf("opp-%d", i%5)
		run := e.start("keyed", fmt.Sprintf(`{"opportunityId": %q}`, key))
		ids = append(ids, run.ID)
		keyOf[run.ID] = key
	}
	byKey := map[string][]interval{}
	var all []interval
	for _, id := range ids {
		run := e.wait(id)
		if run.Status != workflow.RunSucceeded {
			t.Fatalf("run %s is %s: %s", id, run.Status, run.Error)
		}
		iv := stepInterval(t, run, "w")
		byKey[keyOf[id]] = append(byKey[keyOf[id]], iv)
		all = append(all, iv)
	}
	elapsed := time.Since(began)
	for key, ivs := range byKey {
		if n := maxOverlap(ivs); n != 1 {
			t.Errorf("key %s: %d runs ran at once, want 1", key, n)
		}
		if len(ivs) != 10 {
			t.Errorf("key %s: %d runs, want 10", key, len(ivs))
		}
		// In creation order: each run of a key starts after the one
		// created before it finished.
		for i := 1; i < len(ivs); i++ {
			if ivs[i].start.Before(ivs[i-1].finish) {
				t.Errorf("key %s: run %s started before run %s, created earlier, finished", key, ivs[i].run, ivs[i-1].run)
			}
		}
	}
	if n := maxOverlap(all); n < 2 {
		t.Errorf("at most %d run ran at once across keys: keys did not run in parallel", n)
	}
	if limit := 50 * step / 2; elapsed > limit {
		t.Errorf("50 runs took %s, over %s: keys did not run in parallel", elapsed, limit)
	}
	t.Logf("50 runs of 5 keys, %s steps: %s", step, elapsed)
}

// TestConcurrencyLimitWithoutKey runs 12 runs under a limit of 2 for the
// whole workflow.
func TestConcurrencyLimitWithoutKey(t *testing.T) {
	e := setup(t)
	e.save("two", `{"name": "two at a time", "trigger": {"type": "api"}, "concurrency": {"limit": 2},
		"steps": [{"id": "w", "type": "test.work", "input": {"sleep": "30ms"}}]}`)
	var ids []string
	for range 12 {
		ids = append(ids, e.start("two", `{}`).ID)
	}
	var ivs []interval
	for _, id := range ids {
		run := e.wait(id)
		if run.Status != workflow.RunSucceeded {
			t.Fatalf("run %s is %s: %s", id, run.Status, run.Error)
		}
		ivs = append(ivs, stepInterval(t, run, "w"))
	}
	if n := maxOverlap(ivs); n != 2 {
		t.Fatalf("%d runs ran at once, want 2 (the limit, reached)", n)
	}
}

// TestConcurrencyWaitReason checks the wait reason of a run queued behind
// a run of its key, and that it is cleared when the run is claimed.
func TestConcurrencyWaitReason(t *testing.T) {
	e := setup(t)
	e.save("held", `{"name": "held", "trigger": {"type": "api"},
		"concurrency": {"limit": 1, "key": "<<trigger.opportunityId>>"},
		"steps": [{"id": "w", "type": "test.wait"}]}`)
	// A start may find every slot taken for a moment by the poll loop's
	// round, and queue the run: wait for its step rather than expect it
	// running at once.
	first := e.start("held", `{"opportunityId": "opp-1"}`)
	<-e.probe.started
	if got, _ := e.eng.GetRun(e.ctx, first.ID); got.Status != workflow.RunRunning || got.WaitReason != "" {
		t.Fatalf("first run: %s %q", got.Status, got.WaitReason)
	}
	second := e.start("held", `{"opportunityId": "opp-1"}`)
	want := "concurrency: waiting for 1 earlier run(s) of this workflow with key opp-1"
	if second.Status != workflow.RunQueued || second.WaitReason != want {
		t.Fatalf("second run: %s %q; want queued, %q", second.Status, second.WaitReason, want)
	}
	if got, _ := e.eng.GetRun(e.ctx, second.ID); got.Status != workflow.RunQueued || got.WaitReason != want {
		t.Fatalf("stored second run: %s %q", got.Status, got.WaitReason)
	}
	other := e.start("held", `{"opportunityId": "opp-2"}`)
	if other.WaitReason != "" {
		t.Fatalf("a run of another opportunity waits: %q", other.WaitReason)
	}
	<-e.probe.started // other's step: it did not wait for opp-1's
	if _, err := e.eng.CancelRun(e.ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.probe.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the second run did not start after the first ended")
	}
	got, _ := e.eng.GetRun(e.ctx, second.ID)
	if got.Status != workflow.RunRunning || got.WaitReason != "" {
		t.Fatalf("second run once its turn came: %s %q", got.Status, got.WaitReason)
	}
	for _, id := range []string{second.ID, other.ID} {
		if _, err := e.eng.CancelRun(e.ctx, id); err != nil {
			t.Fatal(err)
		}
		e.wait(id)
	}
}

// TestConcurrencyKeyErrors: a key that cannot be rendered fails the start
// with the reason; a non-string key is keyed by its JSON.
func TestConcurrencyKeyErrors(t *testing.T) {
	e := setup(t)
	e.save("bad", `{"name": "bad", "trigger": {"type": "api"},
		"concurrency": {"limit": 1, "key": "<<trigger.opportunityId>>"},
		"steps": [{"id": "w", "type": "test.work"}]}`)
	_, err := e.eng.StartRun(e.ctx, engine.StartRequest{WorkflowID: "bad", Trigger: json.RawMessage(`{"other": 1}`)})
	if err == nil {
		t.Fatal("a run whose concurrency key cannot be rendered started")
	}
	t.Logf("error: %v", err)
	run := e.wait(e.start("bad", `{"opportunityId": 42}`).ID)
	if run.Status != workflow.RunSucceeded {
		t.Fatalf("run with a numeric key: %s %s", run.Status, run.Error)
	}
}

// TestConcurrencyAcrossTwoEngines runs one keyed workflow on two engines
// sharing one SQLite file: no key ever has more runs at once than its
// limit, by the stored step timings, and every run succeeds.
func TestConcurrencyAcrossTwoEngines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	reg, err := catalog.New(catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := newProbe()
	t.Cleanup(func() { close(p.release) })
	if err := reg.Add(steps.Spec{Type: "test.work", Title: "Work", Category: "Test",
		Input: &steps.Schema{Type: steps.TypeObject, AdditionalProperties: true}, Run: p.work}); err != nil {
		t.Fatal(err)
	}
	engs := []*engine.Engine{
		openEngine(t, openStore(t, path), reg, "engine-a", true),
		openEngine(t, openStore(t, path), reg, "engine-b", true),
	}
	saveOn(t, engs[0], reg, "shared", `{"name": "shared", "trigger": {"type": "api"},
		"concurrency": {"limit": 2, "key": "<<trigger.k>>"},
		"steps": [{"id": "w", "type": "test.work", "input": {"sleep": "20ms"}}]}`)
	keyOf := map[string]string{}
	var ids []string
	for i := range 36 {
		key := fmt.Sprint("k", i%3)
		run, err := engs[i%2].StartRun(context.Background(), engine.StartRequest{WorkflowID: "shared", Trigger: json.RawMessage(fmt.Sprintf(`{"k": %q}`, key))})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
		keyOf[run.ID] = key
	}
	byKey := map[string][]interval{}
	for i, id := range ids {
		run := waitOn(t, engs[(i+1)%2], id)
		if run.Status != workflow.RunSucceeded {
			t.Fatalf("run %s is %s: %s", id, run.Status, run.Error)
		}
		byKey[keyOf[id]] = append(byKey[keyOf[id]], stepInterval(t, run, "w"))
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range byKey {
			if !yield(k) {
				return
			}
		}
	}) {
		if n := maxOverlap(byKey[key]); n > 2 {
			t.Errorf("key %s: %d runs at once over two engines, limit 2", key, n)
		}
	}
}

// TestCancelOfParkedRunLetsTheNextStart: a parked run (a long delay) holds
// its group's only place; cancelling it, which no runner does since none
// holds it, wakes the claim loop: the queued run behind it starts at once,
// not a poll interval (here an hour) later.
func TestCancelOfParkedRunLetsTheNextStart(t *testing.T) {
	e := setup(t, func(c *setupConfig) { c.PollInterval = time.Hour })
	e.save("parked", `{"name": "parked", "trigger": {"type": "api"},
		"concurrency": {"limit": 1},
		"steps": [
			{"id": "nap", "type": "delay", "input": {"for": "1h"}},
			{"id": "w", "type": "test.wait"}],
		"edges": [{"from": "nap", "to": "w"}]}`)
	first := e.start("parked", `{}`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := e.eng.GetRun(e.ctx, first.ID)
		if got.Status == workflow.RunWaiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first run did not park: %s", got.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	second := e.start("parked", `{}`)
	if second.Status != workflow.RunQueued {
		t.Fatalf("second run: %s, want queued behind the parked one", second.Status)
	}
	if _, err := e.eng.CancelRun(e.ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		got, _ := e.eng.GetRun(e.ctx, second.ID)
		if got.Status != workflow.RunQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the queued run did not start after the parked run was cancelled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := e.eng.CancelRun(e.ctx, second.ID); err != nil {
		t.Fatal(err)
	}
	e.wait(second.ID)
}
