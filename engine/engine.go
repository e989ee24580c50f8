package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

// Catalog is what the engine needs of the step registry.
type Catalog interface {
	Lookup(typ string) (*steps.Spec, bool)
}

// Options configure an Engine. Store and Steps are required.
type Options struct {
	Store store.Store
	Steps Catalog
	// WorkerID names this engine in leases; default a random id.
	WorkerID string
	// Concurrency is how many runs this engine executes at once (default 32).
	Concurrency int
	// Lease is how long a claimed run stays ours without a heartbeat
	// (default 30s). A run whose worker died is taken up after it expires.
	Lease time.Duration
	// PollInterval is how often the store is asked for due runs (default
	// 1s). Runs started through this engine and parked runs' wake-ups do not
	// wait for it.
	PollInterval time.Duration
	// MaxOutputBytes caps one step's stored output (default 1 MiB).
	MaxOutputBytes int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// NewID makes run ids (default UUIDv7).
	NewID func() string
	// Override, when set, is asked before a step runs; when it returns true
	// the step is not run and succeeds with the given output. Workflow tests
	// use it to fix the outputs of chosen steps.
	Override func(stepID string) (output any, ok bool)
	// HasConnection, when set, reports whether the user ("" for the
	// workspace) has a connection of that name; EnableWorkflow checks the
	// workflow's connections with it. Nil means connections are not
	// checked.
	HasConnection func(userID, name string) bool
	// Observer, when set, is told of every run and step that finished
	// (for metrics). See Observer.
	Observer Observer
	Logger   *slog.Logger
	// DefaultRetention is how long the finished runs of a workflow that
	// names no retention are kept (default workflow.DefaultRetention, 30
	// days).
	DefaultRetention time.Duration
	// PruneEvery is how often a started engine deletes the runs past
	// their retention (see Prune): default 1h, the first time a minute
	// after Start; negative turns the pruning off.
	PruneEvery time.Duration
	// HTTPClient posts failure notifications to workflows' on_failure
	// webhooks (default a client of its own; each post is bounded by 10s).
	HTTPClient *http.Client
	// CancelPoll is how often a started engine asks the store whether a
	// cancel was requested (through another engine) for a run it holds
	// (default 500ms; negative turns the watch off, leaving it to the
	// heartbeat every Lease/3). See cancelwatch.go.
	CancelPoll time.Duration
}

// Engine runs workflows durably: it claims due runs from the store, runs
// their steps in DAG order, commits every step result before the steps
// after it start, parks runs that wait, and takes up runs whose worker died.
type Engine struct {
	opts  Options
	store store.Store
	log   *slog.Logger
	plans planCache

	slots chan struct{} // one token per run executing

	mu      sync.Mutex
	runners map[string]*runner
	waiters map[string][]chan struct{}
	timers  map[string]*time.Timer
	started bool
	stopped bool

	kick      chan struct{}
	stop      chan struct{}
	loopsDone sync.WaitGroup
	runsDone  sync.WaitGroup

	// lastTick is when the poll loop last finished a round (UnixNano of
	// the engine's clock), for Healthy.
	lastTick atomic.Int64
	// onTick, when set (by tests), is called after each poll round.
	onTick func()

	// retentions caches each workflow version's retention (versions are
	// immutable), keyed "<workflow id>\x00<version>".
	retentions sync.Map
	// notifying counts the failure notifications in progress; Stop waits
	// for them (a webhook's attempts stop when it is called).
	notifying sync.WaitGroup
	// notifyBackoff is the wait before the second attempt of a failure
	// webhook (doubled before the third).
	notifyBackoff time.Duration
}

// New checks opts and returns an engine that is not yet started.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil || opts.Steps == nil {
		return nil, errors.New("engine: Options.Store and Options.Steps are required")
	}
	if opts.WorkerID == "" {
		opts.WorkerID = "worker-" + uuid.NewString()[:8]
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.Lease == 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Lease < 10*time.Millisecond {
		return nil, fmt.Errorf("engine: a lease of %s is too short: it must be at least 10ms (30s is the default)", opts.Lease)
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.MaxOutputBytes <= 0 {
		opts.MaxOutputBytes = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DefaultRetention <= 0 {
		opts.DefaultRetention = workflow.DefaultRetention
	}
	if opts.PruneEvery == 0 {
		opts.PruneEvery = time.Hour
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	return &Engine{
		opts:    opts,
		store:   opts.Store,
		log:     opts.Logger,
		slots:   make(chan struct{}, opts.Concurrency),
		runners: map[string]*runner{},
		waiters: map[string][]chan struct{}{},
		timers:  map[string]*time.Timer{},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),

		notifyBackoff: time.Second,
	}, nil
}

// Start begins claiming and running due runs until Stop.
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return errors.New("engine: already started")
	}
	e.started = true
	e.lastTick.Store(e.opts.Now().UnixNano())
	e.loopsDone.Add(2)
	go e.pollLoop()
	go e.heartbeatLoop()
	e.startCancelWatch()
	if e.opts.PruneEvery > 0 {
		e.loopsDone.Add(1)
		go e.pruneLoop()
	}
	return nil
}

// Stop stops claiming new runs and waits for the runs in progress to reach
// a point where they can be left (a step result committed, or parked). When
// ctx ends first, the runs still going are abandoned: their leases expire
// and another worker takes them up. Stop is idempotent.
func (e *Engine) Stop(ctx context.Context) error {
	e.mu.Lock()
	if e.stopped {
		e.mu.Unlock()
		return nil
	}
	e.stopped = true
	for _, t := range e.timers {
		t.Stop()
	}
	close(e.stop)
	for _, r := range e.runners {
		r.drain()
	}
	e.mu.Unlock()

	e.loopsDone.Wait()
	done := make(chan struct{})
	go func() { e.runsDone.Wait(); e.notifying.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		e.mu.Lock()
		for _, r := range e.runners {
			r.abandon()
		}
		e.mu.Unlock()
		<-done
		return fmt.Errorf("engine stop: %w", ctx.Err())
	}
}

// SaveWorkflow validates wf and stores it as the next version of
// workflowID. A workflow with problems gives an *InvalidError.
func (e *Engine) SaveWorkflow(ctx context.Context, workflowID string, wf *workflow.Workflow) (*store.WorkflowVersion, error) {
	if probs := workflow.Validate(wf, workflow.ValidateOptions{Steps: e.opts.Steps}); len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	def, err := workflow.Encode(wf)
	if err != nil {
		return nil, fmt.Errorf("encoding workflow %s: %w", workflowID, err)
	}
	v, err := e.store.SaveWorkflow(ctx, workflowID, wf.Name, def, e.opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("saving workflow %s: %w", workflowID, err)
	}
	return v, nil
}

// StartRequest asks for a new run.
type StartRequest struct {
	WorkflowID string
	// Version 0 means the latest.
	Version int
	// Trigger is the event or request data (JSON); empty means {}.
	Trigger json.RawMessage
	UserID  string
	// RunID, when set, is used instead of a new id.
	RunID string
	// EventID is the inbox event that started the run, if any.
	EventID string
	// TriggerType is what started the run; empty means the workflow's
	// trigger type.
	TriggerType string
}

// StartRun commits a queued run and returns it; this engine picks it up at
// once when it has a free slot. The run is durable when StartRun returns.
//
// A deleted workflow cannot be started (store.ErrNotFound). A disabled one
// can: enablement decides whether triggers start a workflow, while an
// explicit start (the API, the CLI) runs it regardless.
func (e *Engine) StartRun(ctx context.Context, req StartRequest) (*workflow.Run, error) {
	if req.Version != 0 {
		// The latest version of a deleted workflow is not found; a
		// numbered one is (its runs go on), so ask about the workflow.
		if _, err := e.store.GetWorkflow(ctx, req.WorkflowID); err != nil {
			return nil, fmt.Errorf("starting run of %s: %w", req.WorkflowID, err)
		}
	}
	p, err := e.plans.get(ctx, e.store, e.opts.Steps, req.WorkflowID, req.Version)
	if err != nil {
		return nil, fmt.Errorf("starting run of %s: %w", req.WorkflowID, err)
	}
	triggerType := req.TriggerType
	if triggerType == "" {
		triggerType = p.wf.Trigger.Type
	}
	trig := req.Trigger
	if len(trig) == 0 {
		trig = json.RawMessage(`{}`)
	}
	if !json.Valid(trig) {
		return nil, fmt.Errorf("starting run of %s: trigger data is not valid JSON", req.WorkflowID)
	}
	id := req.RunID
	if id == "" {
		id = e.opts.NewID()
	}
	run := &workflow.Run{
		ID:          id,
		WorkflowID:  req.WorkflowID,
		Version:     p.version,
		UserID:      req.UserID,
		Status:      workflow.RunQueued,
		Trigger:     trig,
		TriggerType: triggerType,
		EventID:     req.EventID,
		CreatedAt:   e.opts.Now().UTC(),
	}
	// With a free slot the run is created already claimed by this engine,
	// saving a claim transaction; otherwise it waits in the queue.
	own := e.reserveSlot()
	if own {
		until := run.CreatedAt.Add(e.opts.Lease)
		run.Status, run.LeaseOwner, run.LeaseUntil, run.StartedAt = workflow.RunRunning, e.opts.WorkerID, &until, &run.CreatedAt
	}
	if err := e.createRun(ctx, p, run); err != nil {
		if own {
			<-e.slots
		}
		return nil, fmt.Errorf("starting run of %s: %w", req.WorkflowID, err)
	}
	if own && run.Status != workflow.RunRunning {
		// Its concurrency group is full: it waits its turn in the queue.
		<-e.slots
		own = false
	}
	view := *run
	if own {
		run.Steps = map[string]*workflow.StepRun{}
		e.launch(run)
	} else {
		e.nudge()
	}
	return &view, nil
}

// GetRun returns a run with its step runs.
func (e *Engine) GetRun(ctx context.Context, id string) (*workflow.Run, error) {
	return e.store.GetRun(ctx, id)
}

// CancelRun cancels a run. A run no worker holds is cancelled at once; a
// run this engine executes stops within moments (its steps' contexts are
// cancelled); a run held by another engine stops within its
// Options.CancelPoll (500ms by default; see cancelwatch.go).
func (e *Engine) CancelRun(ctx context.Context, id string) (*workflow.Run, error) {
	run, err := e.store.RequestCancel(ctx, id, e.opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("cancelling run %s: %w", id, err)
	}
	e.mu.Lock()
	r := e.runners[id]
	if t := e.timers[id]; t != nil && run.Status.Terminal() {
		t.Stop()
		delete(e.timers, id)
	}
	e.mu.Unlock()
	if r != nil {
		r.requestCancel()
	}
	if run.Status.Terminal() {
		e.redactFinished(ctx, run)
		e.observeRun(run)
		e.notify(id)
		// A queued or parked run cancelled here held a place in its
		// concurrency group: the runs behind it may start now.
		e.nudge()
	}
	return run, nil
}

// RetryRun re-queues a failed or cancelled run from its failed steps, on
// its own version: steps that succeeded keep their outputs and are not
// run again. It is RetryRunWith with the zero RetryOptions.
func (e *Engine) RetryRun(ctx context.Context, id string) (*workflow.Run, error) {
	return e.RetryRunWith(ctx, id, RetryOptions{})
}

// underKeptFanout reports whether key is a step of a fanout item (at any
// depth) whose fanout keeps its record on retry: that fanout is not run
// again, so its items' records stay as its output describes them.
func underKeptFanout(key string, recs map[string]*workflow.StepRun, reset map[string]bool) bool {
	for i := strings.LastIndexByte(key, '['); i > 0; i = strings.LastIndexByte(key[:i], '[') {
		fan := key[:i]
		if recs[fan] != nil && !reset[fan] {
			return true
		}
	}
	return false
}

// Wait blocks until the run is finished (succeeded, failed or cancelled)
// or ctx ends, and returns the run with its steps.
func (e *Engine) Wait(ctx context.Context, id string) (*workflow.Run, error) {
	ch := make(chan struct{}, 1)
	e.mu.Lock()
	e.waiters[id] = append(e.waiters[id], ch)
	e.mu.Unlock()
	defer e.dropWaiter(id, ch)
	poll := time.NewTicker(e.opts.PollInterval)
	defer poll.Stop()
	for {
		run, err := e.store.GetRun(ctx, id)
		if err != nil {
			return nil, err
		}
		if run.Status.Terminal() {
			return run, nil
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-ch:
		case <-poll.C:
		}
	}
}

func (e *Engine) dropWaiter(id string, ch chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.waiters[id]
	for i, w := range ws {
		if w == ch {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(e.waiters, id)
	} else {
		e.waiters[id] = ws
	}
}

func (e *Engine) notify(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.waiters[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// reserveSlot takes a run slot if the engine is running and one is free.
func (e *Engine) reserveSlot() bool {
	e.mu.Lock()
	running := e.started && !e.stopped
	e.mu.Unlock()
	if !running {
		return false
	}
	select {
	case e.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// tryClaim claims one run by id and runs it, when a slot is free; otherwise
// it nudges the poll loop.
func (e *Engine) tryClaim(id string) {
	e.mu.Lock()
	busy := e.runners[id] != nil
	e.mu.Unlock()
	if busy {
		return
	}
	if !e.reserveSlot() {
		e.nudge()
		return
	}
	run, err := e.store.ClaimRun(context.Background(), id, e.opts.WorkerID, e.opts.Now().UTC(), e.opts.Lease)
	if err != nil {
		<-e.slots
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			e.log.Warn("claiming run", "run_id", id, "error", err)
		}
		return
	}
	e.launch(run)
}

func (e *Engine) nudge() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// launch runs a claimed run in its own goroutine; the caller holds a slot.
func (e *Engine) launch(run *workflow.Run) {
	e.mu.Lock()
	if old := e.runners[run.ID]; old != nil && !e.stopped {
		// We claimed again a run that our runner of it is leaving (it
		// parked on a wake-up time already due, or handed the run back):
		// take the run up once that runner is gone rather than leave the
		// claim to expire.
		e.runsDone.Add(1)
		e.mu.Unlock()
		go e.relaunch(old, run.ID)
		return
	}
	if e.stopped || e.runners[run.ID] != nil {
		e.mu.Unlock()
		<-e.slots
		// Leave the lease to expire (stopped) or to the runner we have.
		return
	}
	r := newRunner(e, run)
	e.runners[run.ID] = r
	if t := e.timers[run.ID]; t != nil {
		t.Stop()
		delete(e.timers, run.ID)
	}
	e.runsDone.Add(1)
	e.mu.Unlock()
	go func() {
		defer close(r.gone)
		defer e.runsDone.Done()
		defer e.afterRun(r) // once the slot is free
		defer func() { <-e.slots }()
		r.execute()
		e.mu.Lock()
		delete(e.runners, run.ID)
		e.mu.Unlock()
		if r.finished {
			e.notify(run.ID)
		}
		if r.parkedUntil != nil {
			if r.cancelRequested() && e.cancelParked(run.ID) {
				return
			}
			e.scheduleWake(run.ID, *r.parkedUntil)
		}
	}()
}

// relaunch runs a run claimed while old, our previous runner of it, was
// leaving, from the run's state once old is gone; the caller holds a slot.
func (e *Engine) relaunch(old *runner, id string) {
	defer e.runsDone.Done()
	<-old.gone
	run, err := e.store.GetRun(context.Background(), id)
	if err != nil || run.Status != workflow.RunRunning || run.LeaseOwner != e.opts.WorkerID {
		// It ended, or our claim was undone by old's last write (its lease
		// had expired and we claimed it under old's feet): it is due again
		// through the store, or not at all.
		<-e.slots
		return
	}
	e.launch(run)
}

// cancelParked cancels a run that parked after a cancel was asked of its
// runner (the cancel came while it held the lease, and the runner parked
// before seeing it): now that nobody holds it, the store cancels it at
// once instead of at its wake-up time. It reports whether the run ended.
func (e *Engine) cancelParked(id string) bool {
	run, err := e.store.RequestCancel(context.Background(), id, e.opts.Now().UTC())
	if err != nil {
		if !errors.Is(err, store.ErrConflict) {
			e.log.Warn("cancelling parked run", "run_id", id, "error", err)
		}
		return false
	}
	if !run.Status.Terminal() {
		return false
	}
	e.redactFinished(context.Background(), run)
	e.observeRun(run)
	e.notify(id)
	return true
}

// scheduleWake claims a parked run again at its wake time without a
// goroutine sleeping in between; other engines find it by polling.
func (e *Engine) scheduleWake(id string, at time.Time) {
	d := at.Sub(e.opts.Now())
	if d < 0 {
		d = 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if t := e.timers[id]; t != nil {
		t.Stop()
	}
	e.timers[id] = time.AfterFunc(d, func() {
		e.mu.Lock()
		delete(e.timers, id)
		e.mu.Unlock()
		e.tryClaim(id)
	})
}

func (e *Engine) pollLoop() {
	defer e.loopsDone.Done()
	t := time.NewTicker(e.opts.PollInterval)
	defer t.Stop()
	for {
		e.claimDue()
		e.lastTick.Store(e.opts.Now().UnixNano())
		if e.onTick != nil {
			e.onTick()
		}
		select {
		case <-e.stop:
			return
		case <-t.C:
		case <-e.kick:
		}
	}
}

func (e *Engine) claimDue() {
	for {
		free := cap(e.slots) - len(e.slots)
		if free <= 0 {
			return
		}
		// Reserve the slots first so a concurrent tryClaim cannot oversubscribe.
		got := 0
		for ; got < free; got++ {
			select {
			case e.slots <- struct{}{}:
				continue
			default:
			}
			break
		}
		if got == 0 {
			return
		}
		runs, err := e.store.ClaimRuns(context.Background(), e.opts.WorkerID, e.opts.Now().UTC(), e.opts.Lease, got)
		if err != nil {
			e.log.Warn("claiming due runs", "error", err)
		}
		for i := len(runs); i < got; i++ {
			<-e.slots
		}
		for _, run := range runs {
			e.launch(run)
		}
		if len(runs) < got {
			return
		}
	}
}

func (e *Engine) heartbeatLoop() { e.every(e.opts.Lease/3, e.heartbeat) }

// every calls fn every d until the engine stops; it is the body of a loop
// goroutine counted in loopsDone.
func (e *Engine) every(d time.Duration, fn func()) {
	defer e.loopsDone.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		fn()
	}
}

func (e *Engine) heartbeat() {
	e.mu.Lock()
	ids := make([]string, 0, len(e.runners))
	for id := range e.runners {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	cancels, lost, err := e.store.ExtendLeases(context.Background(), e.opts.WorkerID, ids, e.opts.Now().UTC().Add(e.opts.Lease))
	if err != nil {
		e.log.Warn("extending leases", "error", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range cancels {
		if r := e.runners[id]; r != nil {
			r.requestCancel()
		}
	}
	for _, id := range lost {
		if r := e.runners[id]; r != nil {
			e.log.Warn("lease lost; abandoning run", "run_id", id)
			r.abandon()
		}
	}
}
