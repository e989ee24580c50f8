package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/store/gormstore"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/steps/catalog"
)

// schedEnv is a real store (SQLite in a temp dir), a real engine with a
// "test.block" step that waits for gate, and a fake clock.
type schedEnv struct {
	t     *testing.T
	ctx   context.Context
	path  string
	st    *gormstore.Store
	reg   *steps.Registry
	eng   *engine.Engine
	clock *clock
	gate  chan struct{}
}

func newSchedEnv(t *testing.T, now time.Time) *schedEnv {
	t.Helper()
	e := &schedEnv{t: t, ctx: t.Context(), path: filepath.Join(t.TempDir(), "sched.db"), clock: newClock(now), gate: make(chan struct{})}
	st, err := gormstore.Open(e.ctx, gormstore.Config{DSN: e.path})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	if e.reg, err = catalog.New(catalog.Options{}); err != nil {
		t.Fatal(err)
	}
	gate := e.gate
	if err := e.reg.Add(steps.Spec{Type: "test.block", Title: "Block", Category: "Test",
		Run: func(ctx context.Context, _ *steps.Request) (any, error) {
			select {
			case <-gate:
				return map[string]any{}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}); err != nil {
		t.Fatal(err)
	}
	e.eng, err = engine.New(engine.Options{Store: st, Steps: e.reg, Now: e.clock.Now, PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-e.gate:
		default:
			close(e.gate)
		}
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.eng.Stop(sctx); err != nil {
			t.Errorf("stopping the engine: %v", err)
		}
		st.Close()
	})
	return e
}

// scheduler makes a new scheduler on the env's store (a restart).
func (e *schedEnv) scheduler() *Scheduler {
	e.t.Helper()
	s, err := NewScheduler(SchedulerConfig{Store: e.st, Engine: e.eng, Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// workflow saves and enables a schedule workflow; block makes its step
// wait for the gate.
func (e *schedEnv) workflow(id string, trigger map[string]any, block bool) {
	e.t.Helper()
	trigger["type"] = "schedule"
	step := map[string]any{"id": "at", "type": "transform", "input": map[string]any{"value": "<<trigger.triggered_at>>"}}
	if block {
		step = map[string]any{"id": "block", "type": "test.block"}
	}
	doc, _ := json.Marshal(map[string]any{"name": id, "trigger": trigger, "steps": []any{step}})
	wf, probs := workflow.Parse(doc, workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		e.t.Fatalf("workflow %s: %v", id, probs)
	}
	if _, err := e.eng.CreateWorkflow(e.ctx, id, wf); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.eng.EnableWorkflow(e.ctx, id); err != nil {
		e.t.Fatal(err)
	}
}

// tick sets the clock and ticks s.
func (e *schedEnv) tick(s *Scheduler, at time.Time) {
	e.t.Helper()
	e.clock.Set(at)
	if err := s.Tick(e.ctx); err != nil {
		e.t.Fatalf("Tick at %s: %v", at, err)
	}
}

// slots returns the triggered_at of the workflow's runs, oldest first,
// checking each run's id and trigger.
func (e *schedEnv) slots(id string) []string {
	e.t.Helper()
	runs, err := e.st.ListRuns(e.ctx, store.RunFilter{WorkflowID: id, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, r := range runs {
		var trig struct {
			TriggeredAt string `json:"triggered_at"`
			Cron        string `json:"cron"`
			Timezone    string `json:"timezone"`
		}
		if err := json.Unmarshal(r.Trigger, &trig); err != nil {
			e.t.Fatal(err)
		}
		at, err := time.Parse(time.RFC3339, trig.TriggeredAt)
		if err != nil {
			e.t.Fatalf("run %s: triggered_at %q: %v", r.ID, trig.TriggeredAt, err)
		}
		if want := ScheduleRunID(id, at); r.ID != want || r.TriggerType != "schedule" || trig.Cron == "" || trig.Timezone == "" {
			e.t.Errorf("run %s (trigger %s, type %s): want id %s, type schedule, cron and timezone", r.ID, r.Trigger, r.TriggerType, want)
		}
		out = append(out, trig.TriggeredAt)
	}
	slices.Sort(out)
	return out
}

// waitIdle waits until the workflow has no run queued, running or waiting.
func (e *schedEnv) waitIdle(id string) {
	e.t.Helper()
	runs, err := e.st.ListRuns(e.ctx, store.RunFilter{WorkflowID: id, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range runs {
		wctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		got, err := e.eng.Wait(wctx, r.ID)
		cancel()
		if err != nil || got.Status != workflow.RunSucceeded {
			e.t.Fatalf("run %s: %v %+v", r.ID, err, got)
		}
	}
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestScheduleSlotsFireOnceAcrossRestarts(t *testing.T) {
	t.Parallel()
	e := newSchedEnv(t, utc("2025-05-21T13:04:58Z"))
	e.workflow("wf", map[string]any{"cron": "*/30 * * * * *", "overlap": "allow"}, false) // seconds: every 30s
	s1 := e.scheduler()
	e.tick(s1, utc("2025-05-21T13:04:58Z")) // first sight: next slot 13:05:00, nothing fired
	e.tick(s1, utc("2025-05-21T13:04:59Z"))
	if got := e.slots("wf"); len(got) != 0 {
		t.Fatalf("fired before the first slot: %v", got)
	}
	e.tick(s1, utc("2025-05-21T13:05:00.2Z"))
	e.tick(s1, utc("2025-05-21T13:05:01Z"))
	// A restart and a second server at the same instant: nothing again.
	s2, s3 := e.scheduler(), e.scheduler()
	e.tick(s2, utc("2025-05-21T13:05:02Z"))
	e.tick(s3, utc("2025-05-21T13:05:02Z"))
	e.tick(s2, utc("2025-05-21T13:05:30Z"))
	e.tick(s3, utc("2025-05-21T13:05:30Z"))
	e.tick(s1, utc("2025-05-21T13:05:31Z"))
	e.tick(e.scheduler(), utc("2025-05-21T13:06:00.5Z"))
	want := []string{"2025-05-21T13:05:00.000Z", "2025-05-21T13:05:30.000Z", "2025-05-21T13:06:00.000Z"}
	if got := e.slots("wf"); !slices.Equal(got, want) {
		t.Fatalf("slots fired %v, want %v", got, want)
	}
	st, err := e.st.GetTriggerState(e.ctx, "wf", store.TriggerStateSchedule, "")
	if err != nil || !st.Cursor.Equal(utc("2025-05-21T13:06:30Z")) {
		t.Fatalf("stored next fire %v (%v), want 13:06:30", st, err)
	}
}

func TestScheduleCatchUp(t *testing.T) {
	t.Parallel()
	// Every minute; the server is down from 13:04:58 to 13:10:30, so the
	// slots 13:05 to 13:10 (six) are missed.
	tests := []struct {
		name    string
		trigger map[string]any
		want    []string // minutes fired on coming back
	}{
		{"none", map[string]any{}, nil},
		{"none explicit", map[string]any{"catch_up": "none"}, nil},
		{"last", map[string]any{"catch_up": "last"}, []string{"10"}},
		{"all capped", map[string]any{"catch_up": "all", "catch_up_max": 3}, []string{"08", "09", "10"}},
		{"all default cap", map[string]any{"catch_up": "all"}, []string{"05", "06", "07", "08", "09", "10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSchedEnv(t, utc("2025-05-21T13:04:58Z"))
			tt.trigger["cron"], tt.trigger["timezone"], tt.trigger["overlap"] = "* * * * *", "Europe/Paris", "allow"
			e.workflow("wf", tt.trigger, false)
			e.tick(e.scheduler(), utc("2025-05-21T13:04:58Z"))
			s := e.scheduler() // the restart
			e.tick(s, utc("2025-05-21T13:10:30Z"))
			var want []string
			for _, m := range tt.want {
				want = append(want, "2025-05-21T13:"+m+":00.000Z")
			}
			if got := e.slots("wf"); !slices.Equal(got, want) {
				t.Fatalf("after the downtime fired %v, want %v", got, want)
			}
			// Back on time: the next slot fires, once.
			e.tick(s, utc("2025-05-21T13:11:00.5Z"))
			e.tick(s, utc("2025-05-21T13:11:01Z"))
			want = append(want, "2025-05-21T13:11:00.000Z")
			if got := e.slots("wf"); !slices.Equal(got, want) {
				t.Fatalf("then fired %v, want %v", got, want)
			}
		})
	}
}

func TestScheduleOverlap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		overlap      string
		whileBlocked []string // slots fired while the first run blocks
		after        []string // once it has finished
	}{
		{"skip", []string{"05"}, []string{"05", "08"}},
		{"queue", []string{"05"}, []string{"05", "06", "07", "08"}},
		{"allow", []string{"05", "06", "07"}, []string{"05", "06", "07", "08"}},
	}
	for _, tt := range tests {
		t.Run(tt.overlap, func(t *testing.T) {
			t.Parallel()
			e := newSchedEnv(t, utc("2025-05-21T13:04:58Z"))
			e.workflow("wf", map[string]any{"cron": "* * * * *", "overlap": tt.overlap}, true)
			s := e.scheduler()
			e.tick(s, utc("2025-05-21T13:04:58Z"))
			for _, at := range []string{"13:05:00", "13:06:00", "13:07:00", "13:07:30"} {
				e.tick(s, utc("2025-05-21T"+at+"Z"))
			}
			minutes := func(ms []string) []string {
				var out []string
				for _, m := range ms {
					out = append(out, "2025-05-21T13:"+m+":00.000Z")
				}
				return out
			}
			if got := e.slots("wf"); !slices.Equal(got, minutes(tt.whileBlocked)) {
				t.Fatalf("while the run blocks fired %v, want %v", got, minutes(tt.whileBlocked))
			}
			close(e.gate)
			e.waitIdle("wf")
			// Queued slots start one at a time, in order, each once the
			// one before has finished.
			for i, at := range []string{"13:07:40", "13:07:50", "13:08:00", "13:08:10"} {
				e.tick(s, utc("2025-05-21T"+at+"Z"))
				e.waitIdle("wf")
				if tt.overlap == "queue" && i < 2 {
					if got := e.slots("wf"); len(got) != 2+i {
						t.Fatalf("queue: after tick %d fired %v", i, got)
					}
				}
			}
			if got := e.slots("wf"); !slices.Equal(got, minutes(tt.after)) {
				t.Fatalf("in the end fired %v, want %v", got, minutes(tt.after))
			}
		})
	}
}

func TestScheduleDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cron, tz string
		from, to       time.Time
		want           []string // UTC slots
	}{
		// 2025-03-09 02:30 does not exist in New York: robfig/cron skips it.
		{"spring forward skips", "30 2 * * *", "America/New_York",
			utc("2025-03-08T17:00:00Z"), utc("2025-03-10T12:00:00Z"), []string{"2025-03-10T06:30:00.000Z"}},
		// 2025-11-02 01:30 happens twice in New York: it fires once.
		{"fall back fires once", "30 1 * * *", "America/New_York",
			utc("2025-11-01T16:00:00Z"), utc("2025-11-02T16:00:00Z"), []string{"2025-11-02T05:30:00.000Z"}},
		// Paris: 2025-10-26 02:00-03:00 happens twice; hourly fires 02:00 once.
		{"fall back hourly in Paris", "0 2,3 * * *", "Europe/Paris",
			utc("2025-10-25T12:00:00Z"), utc("2025-10-26T06:00:00Z"), []string{"2025-10-26T00:00:00.000Z", "2025-10-26T02:00:00.000Z"}},
		{"spring forward in Paris", "30 2 * * *", "Europe/Paris",
			utc("2025-03-29T12:00:00Z"), utc("2025-03-30T12:00:00Z"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSchedEnv(t, tt.from)
			e.workflow("wf", map[string]any{"cron": tt.cron, "timezone": tt.tz, "overlap": "allow"}, false)
			s := e.scheduler()
			// Tick every 15 minutes, like a server that never stops, with
			// a grace that makes each tick on time.
			s.cfg.Grace = 20 * time.Minute
			for at := tt.from; !at.After(tt.to); at = at.Add(15 * time.Minute) {
				e.tick(s, at)
			}
			if got := e.slots("wf"); !slices.Equal(got, tt.want) {
				t.Fatalf("fired %v, want %v", got, tt.want)
			}
		})
	}
}

func TestScheduleRunIDIsAUUIDv7AtTheSlot(t *testing.T) {
	t.Parallel()
	slot := utc("2025-05-21T13:05:00Z")
	a, b := ScheduleRunID("wf", slot), ScheduleRunID("wf", slot)
	if a != b || a == ScheduleRunID("wf2", slot) || a == ScheduleRunID("wf", slot.Add(time.Second)) {
		t.Fatalf("ids not deterministic per (workflow, slot): %s %s", a, b)
	}
	if a[14] != '7' || fmt.Sprintf("%012x", slot.UnixMilli()) != a[0:8]+a[9:13] {
		t.Fatalf("%s is not a UUIDv7 at %d", a, slot.UnixMilli())
	}
}

func TestScheduleCatchUpAllFiresEveryMissedSlotUnderOverlapSkip(t *testing.T) {
	t.Parallel()
	// Every minute, runs that block, the default overlap (skip); down from
	// 13:04:58 to 13:10:30: the slots 13:08 to 13:10 are one catch-up and
	// all start, though the first is still running when the others do.
	e := newSchedEnv(t, utc("2025-05-21T13:04:58Z"))
	e.workflow("wf", map[string]any{"cron": "* * * * *", "catch_up": "all", "catch_up_max": 3}, true)
	e.tick(e.scheduler(), utc("2025-05-21T13:04:58Z"))
	s := e.scheduler() // the restart
	e.tick(s, utc("2025-05-21T13:10:30Z"))
	want := []string{"2025-05-21T13:08:00.000Z", "2025-05-21T13:09:00.000Z", "2025-05-21T13:10:00.000Z"}
	if got := e.slots("wf"); !slices.Equal(got, want) {
		t.Fatalf("after the downtime fired %v, want %v", got, want)
	}
	// Back on time, overlap skip applies again: 13:11 finds runs going.
	e.tick(s, utc("2025-05-21T13:11:00.5Z"))
	if got := e.slots("wf"); !slices.Equal(got, want) {
		t.Fatalf("while the caught-up runs block fired %v, want %v", got, want)
	}
	close(e.gate)
	e.waitIdle("wf")
	e.tick(s, utc("2025-05-21T13:12:00.5Z"))
	if got, want := e.slots("wf"), append(want, "2025-05-21T13:12:00.000Z"); !slices.Equal(got, want) {
		t.Fatalf("then fired %v, want %v", got, want)
	}
}

func TestScheduleKeepsItsStateOnASameTriggerSaveOrEnable(t *testing.T) {
	t.Parallel()
	e := newSchedEnv(t, utc("2025-05-21T13:04:58Z"))
	trigger := map[string]any{"cron": "* * * * *", "overlap": "queue"}
	e.workflow("wf", trigger, true)
	s := e.scheduler()
	e.tick(s, utc("2025-05-21T13:04:58Z"))
	e.tick(s, utc("2025-05-21T13:05:00Z")) // 13:05 starts and blocks
	e.tick(s, utc("2025-05-21T13:06:00Z")) // 13:06 waits (queue)
	// After the slot 13:07 and before the tick that finds it due: the
	// workflow is enabled again (it is enabled) and saved with a new step
	// but the same trigger.
	e.clock.Set(utc("2025-05-21T13:07:00.2Z"))
	if _, err := e.eng.EnableWorkflow(e.ctx, "wf"); err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"name": "wf renamed", "trigger": map[string]any{"type": "schedule", "cron": "* * * * *", "overlap": "queue"},
		"steps": []any{map[string]any{"id": "block2", "type": "test.block"}}})
	wf, probs := workflow.Parse(doc, workflow.ValidateOptions{Steps: e.reg})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if _, err := e.eng.UpdateWorkflow(e.ctx, "wf", wf); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(utc("2025-05-21T13:07:00.4Z"))
	if _, err := e.eng.EnableWorkflow(e.ctx, "wf"); err != nil {
		t.Fatal(err)
	}
	e.tick(s, utc("2025-05-21T13:07:01Z")) // 13:07 waits too
	st, err := e.st.GetTriggerState(e.ctx, "wf", store.TriggerStateSchedule, "")
	if err != nil {
		t.Fatal(err)
	}
	var data scheduleData
	if err := json.Unmarshal(st.Data, &data); err != nil {
		t.Fatal(err)
	}
	if want := []int64{utc("2025-05-21T13:06:00Z").UnixMicro(), utc("2025-05-21T13:07:00Z").UnixMicro()}; !slices.Equal(data.Pending, want) {
		t.Fatalf("pending %v, want 13:06 and 13:07 (%v)", data.Pending, want)
	}
	close(e.gate)
	e.waitIdle("wf")
	e.tick(s, utc("2025-05-21T13:07:10Z"))
	e.waitIdle("wf")
	e.tick(s, utc("2025-05-21T13:07:20Z"))
	e.waitIdle("wf")
	want := []string{"2025-05-21T13:05:00.000Z", "2025-05-21T13:06:00.000Z", "2025-05-21T13:07:00.000Z"}
	if got := e.slots("wf"); !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	// Disabled and enabled again: the schedule starts afresh from now.
	e.clock.Set(utc("2025-05-21T13:07:30Z"))
	if _, err := e.eng.DisableWorkflow(e.ctx, "wf"); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(utc("2025-05-21T13:09:30Z"))
	if _, err := e.eng.EnableWorkflow(e.ctx, "wf"); err != nil {
		t.Fatal(err)
	}
	e.tick(s, utc("2025-05-21T13:09:31Z"))
	if st, err = e.st.GetTriggerState(e.ctx, "wf", store.TriggerStateSchedule, ""); err != nil || !st.Cursor.Equal(utc("2025-05-21T13:10:00Z")) {
		t.Fatalf("after enabling again the next fire is %v (%v), want 13:10", st, err)
	}
	if got := e.slots("wf"); !slices.Equal(got, want) {
		t.Fatalf("after enabling again fired %v, want %v", got, want)
	}
}

func TestScheduleLongDowntimeOnAFastCron(t *testing.T) {
	t.Parallel()
	down := utc("2025-05-21T13:04:58Z")
	back := down.Add(3 * 24 * time.Hour).Add(2 * time.Second) // a whole second
	tests := []struct {
		name    string
		trigger map[string]any
		want    []time.Time
	}{
		{"last", map[string]any{"catch_up": "last"}, []time.Time{back}},
		{"all", map[string]any{"catch_up": "all", "catch_up_max": 5},
			[]time.Time{back.Add(-4 * time.Second), back.Add(-3 * time.Second), back.Add(-2 * time.Second), back.Add(-time.Second), back}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSchedEnv(t, down)
			tt.trigger["cron"], tt.trigger["overlap"] = "* * * * * *", "allow" // every second
			e.workflow("wf", tt.trigger, false)
			e.tick(e.scheduler(), down)
			s := e.scheduler() // the restart, 3 days later
			// The latest slot is late too: every slot fired is a missed one.
			s.cfg.Grace = 100 * time.Millisecond
			e.tick(s, back.Add(500*time.Millisecond))
			var want []string
			for _, at := range tt.want {
				want = append(want, formatTriggeredAt(at))
			}
			if got := e.slots("wf"); !slices.Equal(got, want) {
				t.Fatalf("after the downtime fired %v, want %v", got, want)
			}
			// Then on time, from now on.
			e.tick(s, back.Add(time.Second))
			e.tick(s, back.Add(1500*time.Millisecond))
			e.tick(s, back.Add(2*time.Second))
			want = append(want, formatTriggeredAt(back.Add(time.Second)), formatTriggeredAt(back.Add(2*time.Second)))
			if got := e.slots("wf"); !slices.Equal(got, want) {
				t.Fatalf("then fired %v, want %v", got, want)
			}
		})
	}
}
