package triggers

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// Defaults of SchedulerConfig.
const (
	DefaultScheduleTick = time.Second
	// DefaultScheduleGrace is how late a slot may be found and still be on
	// time: a slot older than that when the scheduler first sees it due
	// was missed (the server was down) and follows the catch-up policy.
	DefaultScheduleGrace = 10 * time.Second
	// MaxQueuedSlots bounds the slots a schedule keeps waiting (overlap
	// queue, catch-up all); the oldest beyond it are dropped and logged.
	MaxQueuedSlots = workflow.MaxCatchUpMax
	// maxSlotScan bounds the slots walked when catching up after a long
	// downtime (a schedule every second, down for a week): the slots due
	// are found near now, not by walking from the old cursor.
	maxSlotScan = 100000
)

// ScheduleNamespace is the namespace of the run ids ScheduleRunID derives.
var ScheduleNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://leverflow.dev/ns/triggers/schedule-run"))

// cronParser reads cron expressions as workflow validation does: five
// fields, six with seconds first, or a descriptor.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ScheduleRunID returns the id of the run a schedule slot starts: laid out
// as a UUIDv7 whose time is the slot, the rest from uuid.NewSHA1 of the
// workflow id and the slot. Every server and every restart computes the
// same id for a slot, so starting it twice finds it started
// (store.ErrConflict): one run per slot.
func ScheduleRunID(workflowID string, slot time.Time) string {
	u := uuid.NewSHA1(ScheduleNamespace, []byte(workflowID+"/"+slot.UTC().Format(time.RFC3339Nano)))
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(max(slot.UnixMilli(), 0)))
	copy(u[0:6], ms[2:8])
	u[6] = u[6]&0x0f | 0x70
	return u.String()
}

// ScheduleEngine is what the scheduler needs of the engine;
// *engine.Engine satisfies it. The run counts of ListWorkflows' summaries
// tell whether a workflow has a run going (overlap).
type ScheduleEngine interface {
	ListWorkflows(ctx context.Context, f store.WorkflowFilter) ([]*store.WorkflowSummary, error)
	StartRun(ctx context.Context, req engine.StartRequest) (*workflow.Run, error)
}

// TriggerStateStore keeps triggers' state; store.Store satisfies it.
type TriggerStateStore interface {
	GetTriggerState(ctx context.Context, workflowID, kind, key string) (*store.TriggerState, error)
	PutTriggerState(ctx context.Context, s *store.TriggerState) error
}

// ScheduleStore is the scheduler's part of the store: trigger state and
// workflow definitions; store.Store satisfies it.
type ScheduleStore interface {
	TriggerStateStore
	GetWorkflowVersion(ctx context.Context, workflowID string, version int) (*store.WorkflowVersion, error)
}

var (
	_ ScheduleEngine = (*engine.Engine)(nil)
	_ ScheduleStore  = store.Store(nil)
)

// SchedulerConfig configures a Scheduler. Store and Engine are required.
type SchedulerConfig struct {
	Store  ScheduleStore
	Engine ScheduleEngine
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Tick is how often Start's loop calls Tick (default 1s).
	Tick time.Duration
	// Grace is how late a slot may be and still be on time (default
	// DefaultScheduleGrace).
	Grace time.Duration
}

// Scheduler starts the runs of enabled schedule workflows at the slots of
// their cron expressions. Its state (each workflow's next slot, and slots
// waiting for an earlier run to end) is in the store, so a restart or a
// second server neither misses nor repeats a slot:
//
//   - a workflow first seen, enabled again (after being disabled), or
//     saved with a different cron, time zone, catch_up, catch_up_max or
//     overlap starts at the next slot after now: nothing before it is
//     caught up and the slots waiting are dropped. Saving a version that
//     keeps the trigger, or enabling an enabled workflow, changes nothing;
//   - a slot due within Grace fires; slots found due later than that were
//     missed while no scheduler ran, and follow trigger.catch_up: none
//     drops them, last fires the latest, all fires the latest
//     catch_up_max of them (default 10), oldest first. They are found
//     near now however long the downtime (not by walking every slot
//     since), and the schedule goes on from now;
//   - a slot whose workflow still has a run queued, running or waiting
//     follows trigger.overlap: skip drops it (logged), queue keeps it
//     until no run is active (queued slots start in order, one at a time),
//     allow starts it anyway. The slots of one catch-up (catch_up all,
//     with the on-time slot found with them) are one decision: under
//     overlap skip they all start, oldest first, even though the first
//     of them is then running;
//   - each slot's run id is ScheduleRunID(workflow, slot), so a slot two
//     servers (or a crash and a restart) both fire runs once; the state is
//     written conditionally on the version read.
//
// Cron expressions are read by robfig/cron with optional seconds, in
// trigger.timezone (default UTC). Around DST changes it behaves as that
// library documents: a local time skipped by the spring change fires not at
// all; a local time repeated by the autumn change fires once (the first
// time): the library would give both, and the scheduler drops the repeat.
type Scheduler struct {
	cfg SchedulerConfig
	log *slog.Logger

	defsMu sync.Mutex
	defs   map[string]*scheduleDef // by workflow id + "@" + version

	mu      sync.Mutex
	started bool
	stopped bool
	stop    chan struct{}
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// scheduleDef is a workflow version's schedule, parsed.
type scheduleDef struct {
	trigger workflow.Trigger
	sched   cron.Schedule
	loc     *time.Location
	// created is when the version was saved; fingerprint identifies what
	// of the trigger the schedule state depends on.
	created     time.Time
	fingerprint string
	err         error
}

// scheduleData is the JSON of a schedule's trigger state.
type scheduleData struct {
	// Cron, Timezone, Trigger (the fingerprint of the trigger's cron,
	// time zone and policies) and Since (the workflow's UpdatedAt)
	// identify what the state was computed for: when the trigger changes
	// or the workflow is enabled again, the schedule starts afresh; a save
	// that keeps the trigger only moves Since.
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Trigger  string `json:"trigger,omitempty"`
	Since    int64  `json:"since"`
	// Pending are slots due but not started yet (overlap queue, catch-up
	// all), oldest first, in Unix microseconds.
	Pending []int64 `json:"pending,omitempty"`
	// CatchUpThrough, when set, is the last slot of a catch-up: the
	// pending slots up to it start even under overlap skip.
	CatchUpThrough int64 `json:"catch_up_through,omitempty"`
}

// NewScheduler checks cfg and returns a scheduler that is not started.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Store == nil || cfg.Engine == nil {
		return nil, errors.New("triggers: SchedulerConfig.Store and Engine are required")
	}
	clockAndLog(&cfg.Now, &cfg.Logger)
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultScheduleTick
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultScheduleGrace
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger, defs: map[string]*scheduleDef{}, stop: make(chan struct{})}, nil
}

// Start runs Tick every Tick until Stop or ctx ends; the first tick runs
// at once.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return errors.New("triggers: the scheduler was stopped; make a new one")
	case s.started:
		return errors.New("triggers: the scheduler is started already")
	}
	s.started = true
	runCtx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.done.Go(func() { loop(runCtx, s.stop, s.cfg.Tick, s.log, "schedule tick", s.Tick) })
	return nil
}

// Stop stops the loop, waiting for a tick in progress unless ctx ends
// first (the tick is then cancelled; what it did not record is done again
// by the next scheduler, with the same run ids).
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.stopped = true
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	close(s.stop)
	s.mu.Unlock()
	return waitStopped(ctx, &s.done, s.cancel, "the scheduler")
}

// loop calls fn now and every interval until stop closes or ctx ends.
func loop(ctx context.Context, stop <-chan struct{}, interval time.Duration, log *slog.Logger, what string, fn func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Error(what+" failed", "error", err)
		}
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// waitStopped waits for done, cancelling the work when ctx ends first.
func waitStopped(ctx context.Context, done *sync.WaitGroup, cancel context.CancelFunc, what string) error {
	finished := make(chan struct{})
	go func() { done.Wait(); close(finished) }()
	select {
	case <-finished:
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		<-finished
		return fmt.Errorf("stopping %s: %w", what, ctx.Err())
	}
}

// Tick fires every due slot of every enabled schedule workflow, as of the
// clock's now. Start calls it every Tick; tests call it on a fake clock.
// It goes on past a workflow that fails and returns the errors joined.
func (s *Scheduler) Tick(ctx context.Context) error {
	now := s.cfg.Now().UTC()
	enabled := true
	f := store.WorkflowFilter{Enabled: &enabled, TriggerTypes: []string{workflow.TriggerSchedule}, Limit: pageSize}
	var errs []error
	for {
		page, err := s.cfg.Engine.ListWorkflows(ctx, f)
		if err != nil {
			return fmt.Errorf("schedule tick: listing schedule workflows: %w", err)
		}
		for _, w := range page {
			if err := s.tickWorkflow(ctx, w, now); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("schedule tick: %w", ctx.Err())
				}
				errs = append(errs, fmt.Errorf("schedule of workflow %s: %w", w.ID, err))
			}
		}
		if len(page) < pageSize {
			break
		}
		f.After = page[len(page)-1].ID
	}
	return errors.Join(errs...)
}

// def returns the parsed schedule of a workflow's version.
func (s *Scheduler) def(ctx context.Context, w *store.WorkflowSummary) (*scheduleDef, error) {
	key := fmt.Sprintf("%s@%d", w.ID, w.LatestVersion)
	s.defsMu.Lock()
	d := s.defs[key]
	s.defsMu.Unlock()
	if d != nil {
		return d, d.err
	}
	v, err := s.cfg.Store.GetWorkflowVersion(ctx, w.ID, w.LatestVersion)
	if err != nil {
		return nil, fmt.Errorf("reading version %d: %w", w.LatestVersion, err)
	}
	d = parseSchedule(v.Definition)
	d.created = v.CreatedAt
	s.defsMu.Lock()
	s.defs[key] = d
	s.defsMu.Unlock()
	return d, d.err
}

// parseSchedule reads the schedule of a workflow document.
func parseSchedule(def json.RawMessage) *scheduleDef {
	var doc struct {
		Trigger workflow.Trigger `json:"trigger"`
	}
	d := &scheduleDef{}
	if err := json.Unmarshal(def, &doc); err != nil {
		d.err = fmt.Errorf("decoding the trigger: %w", err)
		return d
	}
	d.trigger = doc.Trigger
	fp, _ := json.Marshal([]any{ // strings and ints cannot fail to marshal
		strings.TrimSpace(doc.Trigger.Cron), cmp.Or(doc.Trigger.Timezone, "UTC"),
		cmp.Or(doc.Trigger.CatchUp, workflow.CatchUpNone), catchUpMax(doc.Trigger),
		cmp.Or(doc.Trigger.Overlap, workflow.OverlapSkip),
	})
	d.fingerprint = string(fp)
	tz := doc.Trigger.Timezone
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		d.err = fmt.Errorf("time zone %q: %w", tz, err)
		return d
	}
	d.loc = loc
	sched, err := cronParser.Parse(strings.TrimSpace(doc.Trigger.Cron))
	if err != nil {
		d.err = fmt.Errorf("cron expression %q: %w", doc.Trigger.Cron, err)
		return d
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	d.sched = sched
	return d
}

// next returns the first slot after t, dropping a repeat of t's local
// wall-clock time (the hour an autumn DST change repeats).
func (d *scheduleDef) next(t time.Time) time.Time {
	n := d.sched.Next(t)
	if _, ok := d.sched.(*cron.SpecSchedule); ok && !n.IsZero() {
		lt, ln := t.In(d.loc).Truncate(time.Second), n.In(d.loc)
		if wall(lt) == wall(ln) {
			n = d.sched.Next(n)
		}
	}
	return n
}

// wall is a local time's clock reading, without its offset.
func wall(t time.Time) string { return t.Format("2006-01-02T15:04:05") }

// tickWorkflow fires a workflow's due slots and records its state.
func (s *Scheduler) tickWorkflow(ctx context.Context, w *store.WorkflowSummary, now time.Time) error {
	d, err := s.def(ctx, w)
	if err != nil {
		return err
	}
	log := s.log.With("workflow_id", w.ID, "cron", d.trigger.Cron, "timezone", d.trigger.Timezone)
	st, err := s.cfg.Store.GetTriggerState(ctx, w.ID, store.TriggerStateSchedule, "")
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if st == nil {
		st = &store.TriggerState{WorkflowID: w.ID, Kind: store.TriggerStateSchedule}
	}
	var data scheduleData
	if len(st.Data) > 0 {
		if err := json.Unmarshal(st.Data, &data); err != nil {
			log.Warn("unreadable schedule state; starting afresh", "error", err)
			st.Cursor = time.Time{}
		}
	}
	since := w.UpdatedAt.UnixMicro()
	// An older state has no fingerprint: its cron and time zone decide.
	sameTrigger := data.Cron == d.trigger.Cron && data.Timezone == d.trigger.Timezone &&
		(data.Trigger == "" || data.Trigger == d.fingerprint)
	changed := false
	reset := st.Cursor.IsZero() || !sameTrigger
	if !reset && data.Since != since {
		// UpdatedAt moves on a save (to the new version's time) and when
		// the workflow is enabled or disabled for real. A save keeping
		// the trigger carries the schedule over; anything else since is
		// the workflow enabled again.
		if reset = since != d.created.UnixMicro(); !reset {
			data.Since, data.Trigger, changed = since, d.fingerprint, true
		}
	}
	if reset {
		// First sight, a changed trigger or enabling again: the next slot
		// after now, nothing caught up.
		first := st.Cursor.IsZero()
		data = scheduleData{Cron: d.trigger.Cron, Timezone: d.trigger.Timezone, Trigger: d.fingerprint, Since: since}
		st.Cursor = d.next(now)
		if first {
			log.Info("schedule found", "next_fire", st.Cursor)
		} else {
			log.Info("schedule changed or enabled again; starting from now", "next_fire", st.Cursor)
		}
		return s.put(ctx, st, data, now)
	}
	if data.Trigger == "" {
		data.Trigger, changed = d.fingerprint, true
	}
	if !st.Cursor.After(now) {
		due, next, catchUp := s.dueSlots(d, st.Cursor, now, log)
		for _, slot := range due {
			data.Pending = append(data.Pending, slot.UnixMicro())
		}
		if catchUp && len(due) > 0 {
			data.CatchUpThrough = due[len(due)-1].UnixMicro()
		}
		if over := len(data.Pending) - MaxQueuedSlots; over > 0 {
			log.Warn("too many schedule slots waiting; dropping the oldest", "dropped", over)
			data.Pending = data.Pending[over:]
		}
		st.Cursor = next
		changed = true
	}
	if len(data.Pending) > 0 {
		fired, err := s.fire(ctx, w, d, &data, log)
		changed = changed || fired
		if err != nil {
			// Record what was decided; the slots not started stay pending.
			if perr := s.put(ctx, st, data, now); perr != nil {
				return errors.Join(err, perr)
			}
			return err
		}
	}
	if !changed {
		return nil
	}
	return s.put(ctx, st, data, now)
}

// catchUpMax is the number of missed slots catch_up all fires.
func catchUpMax(t workflow.Trigger) int {
	if t.CatchUp != workflow.CatchUpAll {
		return 0
	}
	if t.CatchUpMax <= 0 {
		return workflow.DefaultCatchUpMax
	}
	return t.CatchUpMax
}

// countSlots counts the slots from first (a slot) through now, up to limit.
func (d *scheduleDef) countSlots(first, now time.Time, limit int) int {
	n := 0
	for slot := first; n < limit && !slot.IsZero() && !slot.After(now); slot = d.next(slot) {
		n++
	}
	return n
}

// scanStart returns the slot from which walking to now meets the newest
// keep slots at or before now, and fewer than maxSlotScan in all: cursor
// itself (a slot at or before now) when it is near enough, and whether it
// is. It looks back from now by doubling steps, then halves the step
// found until the walk is short enough, so a long downtime on a fast cron
// costs a few short walks, not one from the old cursor.
func (d *scheduleDef) scanStart(cursor, now time.Time, keep int) (time.Time, bool) {
	hi := now // fewer than keep slots lie after hi
	for step := time.Second; ; step *= 2 {
		lo := now.Add(-step)
		if step > 1<<60 || !lo.After(cursor) {
			lo = cursor
		}
		first := cursor
		if !lo.Equal(cursor) {
			first = d.next(lo)
			if d.countSlots(first, now, keep) < keep {
				hi = lo
				continue
			}
		}
		for hi.Sub(lo) > time.Second && d.countSlots(first, now, maxSlotScan) >= maxSlotScan {
			mid := lo.Add(hi.Sub(lo) / 2)
			if m := d.next(mid); d.countSlots(m, now, keep) >= keep {
				lo, first = mid, m
			} else {
				hi = mid
			}
		}
		return first, first.Equal(cursor)
	}
}

// dueSlots applies the catch-up policy to the slots from cursor to now. It
// returns the slots to fire, the slot after now to go on from, and
// whether the slots fired are a catch-up (catch_up all firing missed
// slots), which overlap skip does not split.
func (s *Scheduler) dueSlots(d *scheduleDef, cursor, now time.Time, log *slog.Logger) (out []time.Time, next time.Time, catchUp bool) {
	all := d.trigger.CatchUp == workflow.CatchUpAll
	keep := 1
	if all {
		keep = catchUpMax(d.trigger) + 1 // the latest slot may be on time, not missed
	}
	first, whole := d.scanStart(cursor, now, keep)
	var recent []time.Time // the last keep slots due
	count := 0
	for slot := first; !slot.IsZero() && !slot.After(now) && count < maxSlotScan; slot = d.next(slot) {
		count++
		recent = append(recent, slot)
		if len(recent) > keep {
			recent = recent[1:]
		}
	}
	if len(recent) == 0 {
		return nil, d.next(now), false
	}
	latest := recent[len(recent)-1]
	onTime := now.Sub(latest) <= s.cfg.Grace
	switch {
	case all:
		out = recent
		if !onTime && len(out) > keep-1 {
			out = out[1:] // all missed: catch_up_max of them
		}
		catchUp = len(out) > 1 || !onTime
	case d.trigger.CatchUp == workflow.CatchUpLast || onTime:
		out = recent[len(recent)-1:]
	}
	if missed := count - len(out); missed > 0 || !whole {
		log.Warn("schedule slots missed while no scheduler ran were dropped", "missed", missed, "exact", whole,
			"missed_since", cursor, "catch_up", cmp.Or(d.trigger.CatchUp, workflow.CatchUpNone), "firing", len(out))
	}
	return out, d.next(latest), catchUp
}

// fire starts the pending slots the overlap policy allows, oldest first,
// and removes them (started or skipped) from data.Pending. It reports
// whether it changed data.
func (s *Scheduler) fire(ctx context.Context, w *store.WorkflowSummary, d *scheduleDef, data *scheduleData, log *slog.Logger) (bool, error) {
	active := w.RunCounts[workflow.RunQueued]+w.RunCounts[workflow.RunRunning]+w.RunCounts[workflow.RunWaiting] > 0
	overlap := cmp.Or(d.trigger.Overlap, workflow.OverlapSkip)
	changed := false
	for len(data.Pending) > 0 {
		slot := time.UnixMicro(data.Pending[0]).UTC()
		// The slots of one catch-up all start under overlap skip.
		caughtUp := overlap == workflow.OverlapSkip && data.Pending[0] <= data.CatchUpThrough
		if active && overlap != workflow.OverlapAllow && !caughtUp {
			if overlap == workflow.OverlapQueue {
				log.Info("schedule slot waits for the running run", "slot", slot, "queued", len(data.Pending))
				return changed, nil
			}
			log.Warn("schedule slot skipped: the workflow still has a run going (overlap skip)", "slot", slot)
			data.Pending, changed = data.Pending[1:], true
			continue
		}
		id := ScheduleRunID(w.ID, slot)
		trig, _ := json.Marshal(map[string]string{ // strings cannot fail to marshal
			"triggered_at": formatTriggeredAt(slot),
			"cron":         d.trigger.Cron,
			"timezone":     cmp.Or(d.trigger.Timezone, "UTC"),
		})
		_, err := s.cfg.Engine.StartRun(ctx, engine.StartRequest{
			WorkflowID: w.ID, Trigger: trig, UserID: w.UserID, RunID: id, TriggerType: workflow.TriggerSchedule,
		})
		switch {
		case err == nil:
			log.Info("schedule slot fired", "slot", slot, "run_id", id)
		case errors.Is(err, store.ErrConflict):
			log.Info("schedule slot fired already", "slot", slot, "run_id", id)
		case errors.Is(err, store.ErrNotFound):
			log.Info("schedule workflow deleted; slot dropped", "slot", slot)
		default:
			return changed, fmt.Errorf("starting the run of slot %s: %w", slot.Format(time.RFC3339), err)
		}
		data.Pending, changed, active = data.Pending[1:], true, true
		if len(data.Pending) == 0 || data.Pending[0] > data.CatchUpThrough {
			data.CatchUpThrough = 0
		}
	}
	if len(data.Pending) == 0 {
		data.CatchUpThrough = 0
	}
	return changed, nil
}

// put writes a schedule's state over the version read.
func (s *Scheduler) put(ctx context.Context, st *store.TriggerState, data scheduleData, now time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encoding the schedule state: %w", err)
	}
	st.Data, st.UpdatedAt = raw, now
	if err := s.cfg.Store.PutTriggerState(ctx, st); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// Another scheduler advanced it: its runs have the same ids.
			s.log.Info("schedule state advanced by another scheduler", "workflow_id", st.WorkflowID)
			return nil
		}
		return fmt.Errorf("recording the schedule state: %w", err)
	}
	return nil
}
