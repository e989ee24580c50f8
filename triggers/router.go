package triggers

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
)

// RunNamespace is the namespace of the run ids RunID derives.
var RunNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://leverflow.dev/ns/triggers/event-run"))

// RunID returns the id of the run an inbox event starts for a workflow:
// replay 0 is the first routing, n the nth replay. It is deterministic, so
// that routing an event twice (a crash between starting the runs and
// recording them, or the sweep racing the router) finds the run started
// already (store.ErrConflict) instead of starting a second one.
//
// The id is laid out as a UUIDv7, like every other run id, so that runs
// still list newest first by id: its 48-bit time is at (the event's
// receipt for the first routing, its previous routing for a replay: both
// read from the store, so every node computes the same id) and the rest
// comes from uuid.NewSHA1(RunNamespace, eventID + "/" + workflowID
// [+ "/replay-n"]).
func RunID(eventID, workflowID string, replay int, at time.Time) string {
	name := eventID + "/" + workflowID
	if replay > 0 {
		name += fmt.Sprintf("/replay-%d", replay)
	}
	u := uuid.NewSHA1(RunNamespace, []byte(name))
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(max(at.UnixMilli(), 0)))
	copy(u[0:6], ms[2:8])
	u[6] = u[6]&0x0f | 0x70 // version 7; NewSHA1 set the RFC 4122 variant
	return u.String()
}

// Start starts the router goroutines and the sweep; they stop with Stop
// or when ctx is cancelled. The first sweep runs at once, routing what a
// previous process acknowledged but never routed.
func (r *Receiver) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.stopped:
		return errors.New("triggers: the receiver was stopped; make a new one")
	case r.started:
		return errors.New("triggers: the receiver is started already")
	}
	r.started = true
	runCtx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	for range routeWorkers {
		r.done.Go(func() { r.routeLoop(runCtx) })
	}
	r.done.Go(func() { r.sweepLoop(runCtx) })
	return nil
}

// Stop stops the router and the sweep: routings in progress finish unless
// ctx ends first, in which case they are cancelled (their events stay
// pending for the next sweep) and ctx's error is returned. Events still
// queued stay pending too.
func (r *Receiver) Stop(ctx context.Context) error {
	r.mu.Lock()
	if !r.started || r.stopped {
		r.stopped = true
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	close(r.stop)
	r.mu.Unlock()

	done := make(chan struct{})
	go func() { r.done.Wait(); close(done) }()
	select {
	case <-done:
		r.cancel()
		return nil
	case <-ctx.Done():
		r.cancel()
		<-done
		return fmt.Errorf("stopping the event router: %w", ctx.Err())
	}
}

func (r *Receiver) routeLoop(ctx context.Context) {
	for {
		select {
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		case id := <-r.queue:
			if _, err := r.Route(ctx, id); err != nil && ctx.Err() == nil {
				r.log.Error("routing event", "event_id", id, "error", err)
			}
		}
	}
}

func (r *Receiver) sweepLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.SweepInterval)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("sweeping pending events", "error", err)
		}
		select {
		case <-r.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep routes every pending Lever event (webhook or polled) received
// more than RouteDelay ago (what a crashed process acknowledged but never
// routed, what did not fit in the router queue, and events whose routing
// failed and is retried) and returns how many left the pending state. The
// Start goroutine calls it every SweepInterval.
func (r *Receiver) Sweep(ctx context.Context) (routed int, err error) {
	var errs []error
	for _, source := range []string{store.EventSourceLever, store.EventSourcePoll} {
		n, err := r.sweep(ctx, source)
		routed += n
		if err != nil {
			if ctx.Err() != nil {
				return routed, err
			}
			errs = append(errs, err)
		}
	}
	return routed, errors.Join(errs...)
}

// sweep is Sweep for the events of one source.
func (r *Receiver) sweep(ctx context.Context, source string) (routed int, err error) {
	// ListEvents rather than ListPendingEvents: it filters on the source
	// and pages with a cursor, so pending events of other sources, or
	// events whose routing keeps failing, cannot hide the rest.
	f := store.EventFilter{
		Source:         source,
		Status:         store.EventPending,
		ReceivedBefore: r.cfg.Now().Add(-r.cfg.RouteDelay),
		Limit:          pageSize,
	}
	var errs []error
	for {
		page, err := r.cfg.Store.ListEvents(ctx, f)
		if err != nil {
			return routed, fmt.Errorf("sweeping pending events: %w", err)
		}
		for _, e := range page {
			if r.stopping() {
				return routed, nil
			}
			ev, err := r.Route(ctx, e.ID)
			if err != nil {
				if ctx.Err() != nil {
					return routed, fmt.Errorf("sweeping pending events: %w", ctx.Err())
				}
				errs = append(errs, err)
				continue
			}
			if ev.Status != store.EventPending {
				routed++
			}
		}
		if len(page) < pageSize {
			break
		}
		f.After = page[len(page)-1].ID
	}
	if len(errs) > 0 {
		return routed, fmt.Errorf("sweeping pending events: %w", errors.Join(errs...))
	}
	return routed, nil
}

// stopping reports whether Stop was called.
func (r *Receiver) stopping() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// Route routes one pending event now and returns it as recorded: it starts
// a run of every enabled workflow of the event's user whose trigger type is
// in Match and whose trigger connection is the event's, with TriggerData
// as `trigger` and RunID ids, then records the outcome with FinishEvent:
//
//   - routed, with the run ids, when every matching workflow has its run
//     (a run that exists already counts: it was started by an earlier
//     routing that did not get to record it);
//   - unmatched when no enabled workflow matches (Lever's test delivery
//     included); the event is kept and can be replayed;
//   - when some run could not be started, the event stays pending with the
//     runs started so far and "attempt n of MaxRouteAttempts: <error>" as
//     its error (its RoutedAt is the last attempt), and the sweep tries
//     again; the last attempt marks it failed. Starting again is safe:
//     the runs already started keep their ids.
//
// An event that is not pending is returned as it is: it was routed
// already (by the sweep, the router or another node). Route returns an
// error only when the outcome could not be recorded (the event then stays
// pending); a failed routing is reported in the returned event.
func (r *Receiver) Route(ctx context.Context, eventID string) (*store.Event, error) {
	unlock := r.locks.lock(eventID)
	defer unlock()
	ev, err := r.cfg.Store.GetEvent(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("routing event %s: %w", eventID, err)
	}
	if ev.Status != store.EventPending {
		return ev, nil
	}
	return r.route(ctx, ev, false)
}

// Replay routes an event again, whatever its state but pending
// (ErrPending): a new run of every enabled workflow that matches it now,
// with RunID ids for replay Replays+1. The runs are added to the event's,
// its replay count grows, and its status becomes that of this routing
// (routed, unmatched or failed). Replaying the same event from two places
// at once starts one run per workflow.
func (r *Receiver) Replay(ctx context.Context, eventID string) (*store.Event, error) {
	unlock := r.locks.lock(eventID)
	defer unlock()
	ev, err := r.cfg.Store.GetEvent(ctx, eventID)
	if err != nil {
		return nil, fmt.Errorf("replaying event %s: %w", eventID, err)
	}
	if ev.Status == store.EventPending {
		return nil, fmt.Errorf("replaying event %s: %w", eventID, ErrPending)
	}
	return r.route(ctx, ev, true)
}

// ReplayMatching replays up to maxEvents events that f selects (newest first;
// f.After and f.Limit are the method's own), skipping pending ones, and
// returns how many it replayed. It stops at the first error.
func (r *Receiver) ReplayMatching(ctx context.Context, f store.EventFilter, maxEvents int) (replayed int, err error) {
	if maxEvents <= 0 {
		return 0, fmt.Errorf("replaying events: max must be positive, got %d", maxEvents)
	}
	if f.Status == store.EventPending {
		return 0, fmt.Errorf("replaying pending events: %w", ErrPending)
	}
	// Only Lever's events (webhooks by default, or polled ones when asked)
	// are replayed here; the inbox also records runs started over the API
	// (their Idempotency-Keys), which are not events to route again.
	if f.Source != "" && f.Source != store.EventSourceLever && f.Source != store.EventSourcePoll {
		return 0, fmt.Errorf("replaying %q events: %w", f.Source, ErrUnsupportedEvent)
	}
	if f.Source == "" {
		f.Source = store.EventSourceLever
	}
	f.After, f.Limit = "", pageSize
	for {
		page, err := r.cfg.Store.ListEvents(ctx, f)
		if err != nil {
			return replayed, fmt.Errorf("replaying events: %w", err)
		}
		for _, e := range page {
			if e.Status == store.EventPending {
				continue
			}
			if _, err := r.Replay(ctx, e.ID); err != nil {
				return replayed, err
			}
			replayed++
			if replayed == maxEvents {
				return replayed, nil
			}
		}
		if len(page) < pageSize {
			return replayed, nil
		}
		f.After = page[len(page)-1].ID
	}
}

// route starts the runs of ev (the nth replay when replay is set) and
// records the outcome; the caller holds ev's lock.
func (r *Receiver) route(ctx context.Context, ev *store.Event, replay bool) (*store.Event, error) {
	what := "routing"
	if replay {
		what = "replaying"
	}
	var types []string
	var trigger json.RawMessage
	var err error
	switch ev.Source {
	case store.EventSourceLever:
		var lev *LeverEvent
		if lev, err = ParseLeverWebhook(ev.Payload); err == nil {
			types, trigger = Match(lev), TriggerData(lev)
		}
	case store.EventSourcePoll:
		types, trigger, err = PolledTrigger(ev.Type, ev.Payload)
	default:
		return nil, fmt.Errorf("%s event %s from %q: %w", what, ev.ID, ev.Source, ErrUnsupportedEvent)
	}
	log := r.log.With("event_id", ev.ID, "connection", ev.Connection, "user_id", ev.UserID, "event", ev.Type, "source", ev.Source)
	res := store.EventResult{Replay: replay}
	var runIDs []string
	if err == nil {
		n, at := 0, ev.ReceivedAt
		if replay {
			n = ev.Replays + 1
			if ev.RoutedAt != nil {
				at = *ev.RoutedAt
			}
		}
		runIDs, err = r.start(ctx, ev, types, trigger, n, at)
	} else {
		// It was parsed when received; a stored payload that no longer
		// parses will not get better.
		err = fmt.Errorf("the stored payload: %w", err)
		res.Status, res.Error = store.EventFailed, err.Error()
	}
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s event %s: %w", what, ev.ID, err)
	}
	res.RunIDs = runIDs
	switch {
	case res.Status != "":
	case err != nil && replay:
		res.Status, res.Error = store.EventFailed, err.Error()
	case err != nil:
		attempt := attemptsOf(ev.Error) + 1
		res.Status, res.Error = store.EventPending, fmt.Sprintf("attempt %d of %d: %v", attempt, MaxRouteAttempts, err)
		if attempt >= MaxRouteAttempts {
			res.Status = store.EventFailed
		}
	case len(runIDs) == 0:
		res.Status = store.EventUnmatched
	default:
		res.Status = store.EventRouted
	}
	res.At = r.cfg.Now().UTC()
	if ferr := r.cfg.Store.FinishEvent(ctx, ev.ID, res); ferr != nil {
		return nil, fmt.Errorf("%s event %s: recording the outcome %s: %w", what, ev.ID, res.Status, ferr)
	}
	switch {
	case err != nil:
		log.Error("routing Lever event failed", "replay", replay, "status", res.Status, "runs", len(runIDs), "error", err)
	default:
		log.Info("Lever event routed", "replay", replay, "status", res.Status, "runs", len(runIDs))
	}
	out, gerr := r.cfg.Store.GetEvent(ctx, ev.ID)
	if gerr != nil {
		return nil, fmt.Errorf("%s event %s: %w", what, ev.ID, gerr)
	}
	return out, nil
}

// start starts (or finds started) the run of every matching workflow and
// returns the run ids, with the errors of the runs it could not start.
func (r *Receiver) start(ctx context.Context, ev *store.Event, types []string, trigger json.RawMessage, replay int, at time.Time) ([]string, error) {
	if len(types) == 0 {
		return nil, nil
	}
	enabled := true
	f := store.WorkflowFilter{Enabled: &enabled, TriggerTypes: types, TriggerConnection: ev.Connection, Limit: pageSize}
	var ids []string
	var errs []error
	for {
		page, err := r.cfg.Engine.ListWorkflows(ctx, f)
		if err != nil {
			return ids, fmt.Errorf("listing the workflows it triggers: %w", err)
		}
		for _, w := range page {
			// A connection belongs to one user (or the workspace): only
			// that user's workflows see its events.
			if w.UserID != ev.UserID {
				continue
			}
			id := RunID(ev.ID, w.ID, replay, at)
			_, err := r.cfg.Engine.StartRun(ctx, engine.StartRequest{
				WorkflowID:  w.ID,
				Trigger:     trigger,
				UserID:      ev.UserID,
				RunID:       id,
				EventID:     ev.ID,
				TriggerType: w.TriggerType,
			})
			switch {
			case err == nil, errors.Is(err, store.ErrConflict):
				ids = append(ids, id) // a conflict: started by an earlier routing
			case errors.Is(err, store.ErrNotFound):
				// deleted since it was listed: it no longer matches
			default:
				if ctx.Err() != nil {
					return ids, err
				}
				errs = append(errs, fmt.Errorf("starting workflow %s: %w", w.ID, err))
			}
		}
		if len(page) < pageSize {
			break
		}
		f.After = page[len(page)-1].ID
	}
	return ids, errors.Join(errs...)
}

// attemptsOf reads the attempt count route writes into a pending event's
// error ("attempt 2 of 5: ...").
func attemptsOf(errText string) int {
	var n, m int
	if _, err := fmt.Sscanf(errText, "attempt %d of %d:", &n, &m); err != nil {
		return 0
	}
	return n
}

// keyedLocks serialises the routing of each event within the process, so
// that the sweep, the router and Route/Replay callers do not route the
// same event at once (across processes, RunID keeps that safe).
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock.
func (k *keyedLocks) lock(key string) (unlock func()) {
	k.mu.Lock()
	l := k.m[key]
	if l == nil {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.refs++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
