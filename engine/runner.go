package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
)

// runner executes one claimed run. One goroutine (execute) owns all of the
// runner's state; step attempts run in goroutines of their own and report
// back on results.
type runner struct {
	e    *Engine
	run  *workflow.Run
	plan *plan

	recs     map[string]*workflow.StepRun
	root     *inst
	fans     map[string]*fanState
	inflight map[string]bool

	pending  []*workflow.StepRun // changed records not yet committed
	toLaunch []*attempt          // attempts to start once pending is committed
	wakeMin  *time.Time

	failing   bool
	failMsg   string
	halted    bool // cancelled, timed out or draining: start nothing new
	cancelled bool
	draining  bool
	runCtx    context.Context
	stopRun   context.CancelFunc
	results   chan *attemptResult
	exit      chan struct{}
	gone      chan struct{} // closed once the engine has let go of the runner
	baseEnv   map[string]any
	rootLeaf  bool

	signals    chan struct{}
	sigMu      sync.Mutex
	cancelReq  bool
	abandonReq bool
	drainReq   bool

	// Set when execute returns.
	finished    bool
	parkedUntil *time.Time

	// sleepReasons are the reasons steps parked with (steps.Park), by key.
	sleepReasons map[string]string
}

// inst is one instance of a scope: the top level, or one item of a fanout.
type inst struct {
	prefix string // "" or "<fanout key>[<i>]."
	scope  *scope
	steps  map[string]any // outputs visible here, copy-on-write
	env    map[string]any // the roots, copy-on-write
}

type fanState struct {
	items  []any
	conc   int
	next   int
	active map[int]*inst
	result []any
	failed []itemFailure
}

type itemFailure struct {
	Index int    `json:"index"`
	Step  string `json:"step"`
	Error string `json:"error"`
}

type attempt struct {
	n   *node
	in  *inst
	req *steps.Request
}

type attemptResult struct {
	a      *attempt
	output any
	raw    json.RawMessage
	err    error
}

func newRunner(e *Engine, run *workflow.Run) *runner {
	return &runner{
		e:        e,
		run:      run,
		recs:     map[string]*workflow.StepRun{},
		fans:     map[string]*fanState{},
		inflight: map[string]bool{},
		results:  make(chan *attemptResult, 64),
		exit:     make(chan struct{}),
		gone:     make(chan struct{}),
		signals:  make(chan struct{}, 1),
	}
}

func (r *runner) signal() {
	select {
	case r.signals <- struct{}{}:
	default:
	}
}

func (r *runner) requestCancel() {
	r.sigMu.Lock()
	r.cancelReq = true
	r.sigMu.Unlock()
	r.signal()
}

func (r *runner) abandon() {
	r.sigMu.Lock()
	r.abandonReq = true
	r.sigMu.Unlock()
	r.signal()
}

// cancelRequested reports whether a cancel was asked of this runner.
func (r *runner) cancelRequested() bool {
	r.sigMu.Lock()
	defer r.sigMu.Unlock()
	return r.cancelReq
}

func (r *runner) drain() {
	r.sigMu.Lock()
	r.drainReq = true
	r.sigMu.Unlock()
	r.signal()
}

func (r *runner) now() time.Time { return r.e.opts.Now().UTC() }

func (r *runner) execute() {
	defer close(r.exit)
	log := r.e.log.With("run_id", r.run.ID, "workflow_id", r.run.WorkflowID)
	ctx := context.Background()
	p, err := r.e.plans.get(ctx, r.e.store, r.e.opts.Steps, r.run.WorkflowID, r.run.Version)
	if err != nil {
		r.finish(workflow.RunFailed, fmt.Sprintf("cannot run workflow version %d: %v", r.run.Version, err))
		return
	}
	r.plan = p
	for k, v := range r.run.Steps {
		r.recs[k] = v
	}
	if err := r.initEnv(); err != nil {
		r.finish(workflow.RunFailed, err.Error())
		return
	}
	r.root = r.newInst("", p.root, nil, nil, -1)

	r.runCtx, r.stopRun = context.WithCancel(ctx)
	defer r.stopRun()
	var deadline <-chan time.Time
	if p.timeout > 0 && r.run.StartedAt != nil {
		left := r.run.StartedAt.Add(p.timeout).Sub(r.e.opts.Now())
		if left <= 0 {
			r.timeOut()
		} else {
			t := time.NewTimer(left)
			defer t.Stop()
			deadline = t.C
		}
	}
	if r.run.CancelRequested {
		r.cancel()
	}

	for {
		if r.checkSignals() {
			log.Info("run abandoned by this worker")
			return
		}
		r.wakeMin = nil
		if !r.halted || len(r.inflight) > 0 {
			st := r.evalScope(r.root, r.halted || r.failing)
			if st == scopeFailed && !r.failing {
				r.failing = true
			}
		}
		if len(r.inflight) > 0 {
			// Commit the finished steps with the starts they made ready,
			// then launch; a run that ends here commits both at once below.
			if !r.commit(nil) {
				return
			}
			r.launchAll()
		} else {
			switch {
			case r.cancelled:
				r.finish(workflow.RunCancelled, "cancelled")
				return
			case r.failing:
				r.finish(workflow.RunFailed, r.failMsg)
				return
			case r.scopeDone(r.root):
				r.finish(workflow.RunSucceeded, "")
				return
			case r.draining:
				r.commit(&store.Update{RunID: r.run.ID, Status: workflow.RunQueued, Release: true})
				return
			case r.wakeMin != nil:
				// Wake no later than the run's deadline, so that a run
				// parked past its timeout times out on time.
				wake := *r.wakeMin
				if p.timeout > 0 && r.run.StartedAt != nil {
					if dl := r.run.StartedAt.Add(p.timeout); dl.Before(wake) {
						wake = dl
					}
				}
				if r.commit(&store.Update{RunID: r.run.ID, Status: workflow.RunWaiting, WakeAt: &wake, Release: true, WaitReason: r.parkReason()}) {
					r.parkedUntil = &wake
				}
				return
			default:
				r.finish(workflow.RunFailed, "internal error: run has no step to run and is not finished")
				return
			}
		}

		var wake <-chan time.Time
		var wakeTimer *time.Timer
		if r.wakeMin != nil {
			wakeTimer = time.NewTimer(r.wakeMin.Sub(r.e.opts.Now()))
			wake = wakeTimer.C
		}
		select {
		case res := <-r.results:
			r.onResult(res)
			for more := true; more; {
				select {
				case res := <-r.results:
					r.onResult(res)
				default:
					more = false
				}
			}
		case <-wake:
		case <-deadline:
			deadline = nil
			r.timeOut()
		case <-r.signals:
		}
		if wakeTimer != nil {
			wakeTimer.Stop()
		}
	}
}

// checkSignals applies cancel, drain and abandon requests; it reports
// whether the runner must stop without writing anything more.
func (r *runner) checkSignals() bool {
	r.sigMu.Lock()
	cancel, drain, abandon := r.cancelReq, r.drainReq, r.abandonReq
	r.sigMu.Unlock()
	if abandon {
		return true
	}
	if cancel && !r.cancelled {
		r.cancel()
	}
	if drain {
		r.halted, r.draining = true, true
	}
	return false
}

func (r *runner) cancel() {
	r.cancelled = true
	r.halted = true
	r.stopRun()
	r.abandonInflight("cancelled while running")
}

func (r *runner) timeOut() {
	r.halted = true
	r.failing = true
	r.failMsg = fmt.Sprintf("run timed out after %s (the workflow's timeout); raise \"timeout\" or make the steps faster", r.plan.timeout)
	if r.stopRun != nil {
		r.stopRun()
	}
	r.abandonInflight("abandoned: the run timed out")
}

// abandonInflight marks every step in flight failed; their goroutines may
// go on (a step that ignores its context) but their results are dropped.
func (r *runner) abandonInflight(reason string) {
	now := r.now()
	for key := range r.inflight {
		rec := r.recs[key].Clone()
		rec.Status = workflow.StepFailed
		rec.Error = reason
		rec.FinishedAt = &now
		rec.WakeAt = nil
		r.put(rec)
		delete(r.inflight, key)
	}
}

// finish commits the run's final state. Steps still marked running (parked,
// or in a halted scope) are closed as failed with the reason.
func (r *runner) finish(status workflow.RunStatus, msg string) {
	now := r.now()
	if status != workflow.RunSucceeded {
		reason := msg
		if status == workflow.RunFailed {
			reason = "not finished: " + msg
		}
		for _, rec := range r.recs {
			if rec.Status == workflow.StepRunning {
				c := rec.Clone()
				c.Status = workflow.StepFailed
				c.Error = reason
				c.FinishedAt = &now
				c.WakeAt = nil
				r.put(c)
			}
		}
	}
	redact := r.plan != nil && r.plan.wf.RedactPII
	stored := msg
	if redact {
		// Stored data is redacted once, when the run ends: until then a
		// resumed run (after a park, a restart) reads it back.
		stored = redactString(msg)
		for _, rec := range r.recs {
			r.put(redactRecord(rec))
		}
	}
	final := &store.Update{RunID: r.run.ID, Status: status, Error: stored, FinishedAt: &now, Release: true}
	if redact {
		// The redacted trigger goes in the final commit itself: no crash
		// or busy store between two writes leaves it in clear.
		final.Trigger = redactPIIJSON(r.run.Trigger)
	}
	if !r.commit(final) {
		return
	}
	r.finished = true
	if redact {
		r.run.Trigger = final.Trigger
		r.e.redactEvent(context.Background(), r.run)
	}
	if of := r.plan.onFailure(); status == workflow.RunFailed && of != nil && r.run.TriggerType != TriggerError {
		// A redacted run's summary is made of its redacted error (and
		// step errors), and is redacted whole.
		r.e.notifyFailure(of, r.run.UserID, r.failureSummary(stored, now))
	}
}

// commit writes the pending step records, with u's run change if given, in
// one transaction. It reports false when the runner must stop (lease lost,
// or the store keeps failing: the lease then expires and the run is taken
// up again).
func (r *runner) commit(u *store.Update) bool {
	if len(r.pending) == 0 && u == nil {
		return true
	}
	up := store.Update{RunID: r.run.ID}
	if u != nil {
		up = *u
	}
	up.Steps = dedupe(r.pending)
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.e.store.Apply(context.Background(), r.e.opts.WorkerID, up)
		if err == nil {
			r.pending = r.pending[:0]
			r.observe(up)
			return true
		}
		if errors.Is(err, store.ErrLeaseLost) || attempt >= 6 {
			r.e.log.Error("committing run state; leaving the run to its lease", "run_id", r.run.ID, "error", err)
			r.abandonInflightSilently()
			return false
		}
		r.e.log.Warn("committing run state; retrying", "run_id", r.run.ID, "error", err)
		time.Sleep(delay)
		delay *= 2
	}
}

// observe tells the engine's observer of the steps and the run that the
// committed update u finished.
func (r *runner) observe(u store.Update) {
	r.logFinished(u)
	o := r.e.opts.Observer
	if o == nil {
		return
	}
	for _, rec := range u.Steps {
		if rec.Status.Finished() {
			o.StepFinished(rec.Type, rec.Clone())
		}
	}
	if u.Status.Terminal() {
		run := *r.run
		run.Steps = nil
		run.Status, run.Error, run.FinishedAt = u.Status, u.Error, u.FinishedAt
		run.LeaseOwner, run.LeaseUntil, run.WakeAt = "", nil, nil
		o.RunFinished(&run)
	}
}

// logFinished logs each step run and the run that u finished, with their
// ids: one line per step (Warn when it failed, with its error) and one
// for the run.
func (r *runner) logFinished(u store.Update) {
	ctx := context.Background()
	log := r.e.log
	if !log.Enabled(ctx, slog.LevelInfo) && !log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	for _, rec := range u.Steps {
		if !rec.Status.Finished() {
			continue
		}
		attrs := []any{"run_id", r.run.ID, "workflow_id", r.run.WorkflowID, "step_id", rec.Key, "type", rec.Type,
			"status", rec.Status, "attempts", rec.Attempts}
		if rec.StartedAt != nil && rec.FinishedAt != nil {
			attrs = append(attrs, "duration_ms", float64(rec.FinishedAt.Sub(*rec.StartedAt).Microseconds())/1000)
		}
		if rec.Status == workflow.StepFailed {
			log.Warn("step failed", append(attrs, "error", rec.Error)...)
			continue
		}
		log.Info("step finished", attrs...)
	}
	if u.Status.Terminal() {
		attrs := []any{"run_id", r.run.ID, "workflow_id", r.run.WorkflowID, "status", u.Status}
		if u.Error != "" {
			attrs = append(attrs, "error", u.Error)
		}
		log.Info("run finished", attrs...)
	}
}

// dedupe keeps the last change of each step run, in first-change order.
func dedupe(recs []*workflow.StepRun) []*workflow.StepRun {
	if len(recs) < 2 {
		return recs
	}
	last := make(map[string]int, len(recs))
	for i, rec := range recs {
		last[rec.Key] = i
	}
	if len(last) == len(recs) {
		return recs
	}
	out := make([]*workflow.StepRun, 0, len(last))
	for i, rec := range recs {
		if last[rec.Key] == i {
			out = append(out, rec)
		}
	}
	return out
}

func (r *runner) abandonInflightSilently() {
	if r.stopRun != nil {
		r.stopRun()
	}
	r.toLaunch = nil
}

func (r *runner) put(rec *workflow.StepRun) {
	r.recs[rec.Key] = rec
	r.pending = append(r.pending, rec)
}

func (r *runner) noteWake(t time.Time) {
	if r.wakeMin == nil || t.Before(*r.wakeMin) {
		r.wakeMin = &t
	}
}

func (r *runner) initEnv() error {
	var trig any
	if err := json.Unmarshal(r.run.Trigger, &trig); err != nil {
		return fmt.Errorf("trigger data is not valid JSON: %w", err)
	}
	started := ""
	if r.run.StartedAt != nil {
		started = r.run.StartedAt.UTC().Format(time.RFC3339Nano)
	}
	vars := map[string]any{}
	for k, v := range r.plan.vars {
		vars[k] = v
	}
	r.baseEnv = map[string]any{
		"trigger": trig,
		"run":     map[string]any{"id": r.run.ID, "workflow_id": r.run.WorkflowID, "version": r.run.Version, "started_at": started},
		"vars":    vars,
		"user":    map[string]any{"id": r.run.UserID, "metadata": map[string]any{}, "settings": map[string]any{}},
	}
	return nil
}

// newInst makes a scope instance and loads the outputs of its steps that
// already finished (a resumed run).
func (r *runner) newInst(prefix string, sc *scope, parent *inst, item any, index int) *inst {
	in := &inst{prefix: prefix, scope: sc, steps: map[string]any{}}
	if parent != nil {
		for k, v := range parent.steps {
			in.steps[k] = v
		}
	}
	for _, n := range sc.nodes {
		if rec := r.recs[prefix+n.step.ID]; rec != nil && len(rec.Output) > 0 && rec.Status.Finished() {
			var out any
			if err := json.Unmarshal(rec.Output, &out); err == nil {
				in.steps[n.step.ID] = out
			}
		}
	}
	env := make(map[string]any, len(r.baseEnv)+3)
	for k, v := range r.baseEnv {
		env[k] = v
	}
	env["steps"] = in.steps
	if index >= 0 {
		env["item"] = item
		env["index"] = index
	}
	in.env = env
	return in
}

// setOutput publishes a step's output to later steps of the instance. The
// maps are replaced, not changed, since attempts in flight may hold them.
func (in *inst) setOutput(id string, out any) {
	st := make(map[string]any, len(in.steps)+1)
	for k, v := range in.steps {
		st[k] = v
	}
	st[id] = out
	in.steps = st
	env := make(map[string]any, len(in.env))
	for k, v := range in.env {
		env[k] = v
	}
	env["steps"] = st
	in.env = env
}

type scopeStatus int

const (
	scopeBusy scopeStatus = iota
	scopeDone
	scopeFailed
)

// evalScope advances one scope instance: it skips steps whose incoming
// edges are all inactive, starts steps that are ready, wakes parked steps
// that are due, and advances fanouts. With halt set it starts nothing new.
func (r *runner) evalScope(in *inst, halt bool) scopeStatus {
	hardFail := ""
	for _, n := range in.scope.nodes {
		if rec := r.recs[in.prefix+n.step.ID]; rec != nil && rec.Status == workflow.StepFailed && !n.continueOnErr {
			hardFail = n.step.ID
			r.noteFailure(in, n, rec)
			break
		}
	}
	halt = halt || hardFail != ""
	busy := false
	done := true
	for _, n := range in.scope.nodes {
		key := in.prefix + n.step.ID
		rec := r.recs[key]
		if rec != nil {
			switch rec.Status {
			case workflow.StepSucceeded, workflow.StepSkipped, workflow.StepFailed:
				continue
			}
			// Running.
			if n.spec.Container && !r.inflight[key] {
				r.evalFanout(in, n, rec, halt)
				if now := r.recs[key]; now.Status.Finished() {
					if now.Status == workflow.StepFailed && !n.continueOnErr {
						halt, hardFail = true, n.step.ID
						r.noteFailure(in, n, now)
					}
					continue
				}
				// Busy only with steps in flight under it: a halted fanout
				// with none is stuck, and must not keep its scope's
				// failure from being reported.
				done = false
				if r.inflightUnder(key + "[") {
					busy = true
				}
				continue
			}
			done = false
			switch {
			case r.inflight[key]:
				busy = true
			case halt:
			case rec.WakeAt != nil && rec.WakeAt.After(r.now()):
				r.noteWake(*rec.WakeAt)
			default:
				r.start(in, n, rec)
				busy = true
			}
			continue
		}
		ready, active := true, len(n.parents) == 0
		for _, pe := range n.parents {
			prec := r.recs[in.prefix+pe.from.step.ID]
			if prec == nil || !prec.Status.Finished() || (prec.Status == workflow.StepFailed && !pe.from.continueOnErr) {
				ready = false
				break
			}
			if prec.Status == workflow.StepSkipped {
				continue
			}
			if pe.branch == "" || pe.branch == prec.Branch {
				active = true
			}
		}
		if ready && !active {
			now := r.now()
			r.put(&workflow.StepRun{RunID: r.run.ID, Key: key, StepID: n.step.ID, Type: n.step.Type, Status: workflow.StepSkipped, FinishedAt: &now})
			continue
		}
		if ready && !halt {
			r.start(in, n, nil)
			if rec := r.recs[key]; rec != nil && rec.Status.Finished() {
				// Finished at once (a fixed output, a bad reference, an
				// empty fanout): it leaves the scope done if the rest is.
				if rec.Status == workflow.StepFailed && !n.continueOnErr {
					halt, hardFail = true, n.step.ID
					r.noteFailure(in, n, rec)
				}
				continue
			}
			busy = true
		}
		done = false
	}
	switch {
	case hardFail != "" && !busy:
		return scopeFailed
	case done:
		return scopeDone
	default:
		return scopeBusy
	}
}

// inflightUnder reports whether a step whose key starts with prefix is in
// flight.
func (r *runner) inflightUnder(prefix string) bool {
	for key := range r.inflight {
		if strings.HasPrefix(key, prefix) {
			return true
		}
	}
	return false
}

// noteFailure records the first top-level failure as the run's error.
func (r *runner) noteFailure(in *inst, n *node, rec *workflow.StepRun) {
	if in.prefix == "" && r.failMsg == "" {
		r.failMsg = fmt.Sprintf("step %s failed: %s", n.step.ID, rec.Error)
	}
}

// scopeDone reports whether every step of the instance finished.
func (r *runner) scopeDone(in *inst) bool {
	for _, n := range in.scope.nodes {
		rec := r.recs[in.prefix+n.step.ID]
		if rec == nil || !rec.Status.Finished() {
			return false
		}
	}
	return true
}

// start begins an attempt of a step (rec is nil for a first attempt): it
// renders the input and queues the attempt to launch after the commit.
func (r *runner) start(in *inst, n *node, rec *workflow.StepRun) {
	key := in.prefix + n.step.ID
	now := r.now()
	if rec == nil {
		rec = &workflow.StepRun{RunID: r.run.ID, Key: key, StepID: n.step.ID, Type: n.step.Type, StartedAt: &now}
	} else {
		rec = rec.Clone()
	}
	rec.Status = workflow.StepRunning
	rec.WakeAt = nil
	rec.Attempts++
	if rec.StartedAt == nil {
		rec.StartedAt = &now
	}
	if r.e.opts.Override != nil {
		if out, ok := r.e.opts.Override(n.step.ID); ok {
			raw, err := marshalJSON(out)
			if err != nil {
				r.fail(in, n, rec, steps.Permanentf("fixed output of step %s is not JSON: %v", n.step.ID, err))
				return
			}
			r.succeed(in, n, rec, normalize(out, raw), raw)
			return
		}
	}
	input, err := n.input.Render(in.env)
	if err != nil {
		r.fail(in, n, rec, steps.Permanent(err))
		return
	}
	inMap, _ := input.(map[string]any)
	if inMap == nil {
		inMap = map[string]any{}
	}
	raw, err := marshalJSON(inMap)
	if err != nil {
		r.fail(in, n, rec, steps.Permanentf("step %s: input is not JSON: %v", n.step.ID, err))
		return
	}
	rec.Input = raw
	if n.sensitive && !n.spec.Container {
		// The step gets the real values; the store keeps them redacted.
		// (A container's input is read back to resume its items: kept.)
		if red, err := marshalJSON(redactSensitive(inMap, n.spec.Input)); err == nil {
			rec.Input = red
		}
	}
	if n.spec.Container {
		r.put(rec)
		r.startFanout(in, n, rec, inMap)
		return
	}
	r.put(rec)
	r.inflight[key] = true
	started := now
	if rec.StartedAt != nil {
		started = *rec.StartedAt
	}
	r.toLaunch = append(r.toLaunch, &attempt{n: n, in: in, req: &steps.Request{
		RunID:      r.run.ID,
		StepID:     n.step.ID,
		Key:        key,
		Attempt:    rec.Attempts,
		Connection: n.step.Connection,
		UserID:     r.run.UserID,
		Input:      inMap,
		Now:        now,
		StartedAt:  started,
	}})
}

func (r *runner) launchAll() {
	for _, a := range r.toLaunch {
		go r.runAttempt(a)
	}
	r.toLaunch = r.toLaunch[:0]
}

// runAttempt runs one attempt under the step's timeout. A step that ignores
// its context is abandoned when the timeout passes: its result is dropped.
func (r *runner) runAttempt(a *attempt) {
	ctx, cancel := context.WithTimeout(r.runCtx, a.n.timeout)
	defer cancel()
	done := make(chan *attemptResult, 1)
	go func() {
		res := &attemptResult{a: a}
		defer func() {
			if p := recover(); p != nil {
				res.err = steps.Permanentf("step %s panicked: %v", a.n.step.ID, p)
				res.output, res.raw = nil, nil
				done <- res
			}
		}()
		out, err := a.n.spec.Run(ctx, a.req)
		if err == nil {
			raw, merr := marshalJSON(out)
			if merr != nil {
				err = steps.Permanentf("step %s returned output that is not JSON: %v", a.n.step.ID, merr)
			} else {
				res.raw = raw
				res.output = normalize(out, raw)
			}
		}
		res.err = err
		done <- res
	}()
	var res *attemptResult
	select {
	case res = <-done:
	case <-ctx.Done():
		msg := fmt.Sprintf("step %s timed out after %s; raise its \"timeout\" if it needs longer", a.n.step.ID, a.n.timeout)
		if r.runCtx.Err() != nil {
			msg = fmt.Sprintf("step %s stopped: the run was cancelled or timed out", a.n.step.ID)
		}
		res = &attemptResult{a: a, err: &steps.Error{Err: errors.New(msg), Code: "timeout"}}
	}
	select {
	case r.results <- res:
	case <-r.exit:
	}
}

// marshalJSON encodes v as compact JSON without HTML escaping, so stored
// inputs and outputs read "<<" and "&" as written.
func marshalJSON(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// normalize returns a step's output as generic JSON values (what references
// walk), decoding raw only when the step returned a typed value.
func normalize(out any, raw json.RawMessage) any {
	switch out.(type) {
	case nil, bool, float64, string, map[string]any, []any:
		return out
	}
	var g any
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil
	}
	return g
}

func (r *runner) onResult(res *attemptResult) {
	key := res.a.req.Key
	if !r.inflight[key] {
		return // abandoned
	}
	delete(r.inflight, key)
	rec := r.recs[key].Clone()
	n, in := res.a.n, res.a.in
	if res.err == nil {
		r.succeed(in, n, rec, res.output, res.raw)
		return
	}
	if sl, ok := steps.AsSleep(res.err); ok {
		until := sl.Until.UTC()
		rec.WakeAt = &until
		rec.Attempts--
		r.noteSleepReason(key, sl.Reason)
		r.put(rec)
		return
	}
	if !steps.IsPermanent(res.err) && rec.Attempts < n.retry.maxAttempts {
		d := backoff(n.retry, rec.Attempts)
		if ra, ok := steps.RetryAfterOf(res.err); ok && ra > d {
			d = ra
		}
		wake := r.now().Add(d)
		rec.WakeAt = &wake
		rec.Error = fmt.Sprintf("attempt %d of %d failed, retrying at %s: %v", rec.Attempts, n.retry.maxAttempts, wake.Format(time.RFC3339), res.err)
		r.put(rec)
		return
	}
	r.fail(in, n, rec, res.err)
}

// backoff is the wait before the attempt after `attempts` attempts:
// exponential from initial, capped at max, with equal jitter.
func backoff(p retryPolicy, attempts int) time.Duration {
	d := p.initial
	if !p.fixed {
		for i := 1; i < attempts && d < p.max; i++ {
			d *= 2
		}
		if d > p.max {
			d = p.max
		}
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

func (r *runner) succeed(in *inst, n *node, rec *workflow.StepRun, out any, raw json.RawMessage) {
	if len(raw) > r.e.opts.MaxOutputBytes {
		r.fail(in, n, rec, steps.Permanentf("output of step %s is %s, over the %s cap on a step's output; return less (pick the fields you need with a transform, or page through fewer items) or raise the cap",
			n.step.ID, byteSize(len(raw)), byteSize(r.e.opts.MaxOutputBytes)))
		return
	}
	branch := ""
	if n.spec.BranchOf != nil {
		b, err := n.spec.BranchOf(out)
		if err != nil {
			r.fail(in, n, rec, steps.Permanentf("step %s: choosing a branch: %v", n.step.ID, err))
			return
		}
		branch = b
	}
	now := r.now()
	rec.Status = workflow.StepSucceeded
	rec.Output = raw
	rec.Branch = branch
	rec.Error = ""
	rec.WakeAt = nil
	rec.FinishedAt = &now
	r.put(rec)
	in.setOutput(n.step.ID, out)
}

func (r *runner) fail(in *inst, n *node, rec *workflow.StepRun, err error) {
	now := r.now()
	rec.Status = workflow.StepFailed
	rec.Error = err.Error()
	rec.WakeAt = nil
	rec.FinishedAt = &now
	if n.continueOnErr {
		errObj := map[string]any{"message": rec.Error}
		var se *steps.Error
		if errors.As(err, &se) && se.Code != "" {
			errObj["code"] = se.Code
		}
		out := map[string]any{"error": errObj}
		rec.Output, _ = marshalJSON(out)
		in.setOutput(n.step.ID, out)
	}
	r.put(rec)
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// startFanout reads a fanout's rendered input and starts its first items.
func (r *runner) startFanout(in *inst, n *node, rec *workflow.StepRun, input map[string]any) {
	fs, err := parseFanout(n.spec, input)
	if err != nil {
		r.fail(in, n, rec, steps.Permanent(err))
		return
	}
	r.fans[rec.Key] = fs
	r.evalFanout(in, n, rec, false)
}

func parseFanout(spec *steps.Spec, input map[string]any) (*fanState, error) {
	items, conc, err := spec.Items(input)
	if err != nil {
		return nil, err
	}
	return &fanState{items: items, conc: conc, active: map[int]*inst{}, result: make([]any, len(items))}, nil
}

func itemPrefix(key string, i int) string {
	return key + "[" + strconv.Itoa(i) + "]."
}

// evalFanout advances a running fanout's items, starting new ones up to its
// concurrency, and finishes the fanout when every item is done.
func (r *runner) evalFanout(parent *inst, n *node, rec *workflow.StepRun, halt bool) scopeStatus {
	fs := r.fans[rec.Key]
	if fs == nil {
		var input map[string]any
		if err := json.Unmarshal(rec.Input, &input); err != nil {
			r.fail(parent, n, rec.Clone(), steps.Permanentf("step %s: stored input unreadable: %v", n.step.ID, err))
			return scopeFailed
		}
		var err error
		fs, err = parseFanout(n.spec, input)
		if err != nil {
			r.fail(parent, n, rec.Clone(), steps.Permanent(err))
			return scopeFailed
		}
		r.fans[rec.Key] = fs
		r.resumeFanout(parent, n, rec.Key, fs)
	}
	busy := false
	idx := make([]int, 0, len(fs.active))
	for i := range fs.active {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		if r.advanceItem(fs, n, i, fs.active[i], halt) {
			busy = true
		}
	}
	for !halt && len(fs.active) < fs.conc && fs.next < len(fs.items) {
		i := fs.next
		fs.next++
		child := r.newInst(itemPrefix(rec.Key, i), n.body, parent, fs.items[i], i)
		fs.active[i] = child
		if r.advanceItem(fs, n, i, child, halt) {
			busy = true
		}
	}
	if len(fs.active) > 0 || (fs.next < len(fs.items) && !halt) {
		return scopeBusy
	}
	if fs.next < len(fs.items) {
		// Halted before every item started: leave the fanout running; the
		// run's end closes it.
		if busy {
			return scopeBusy
		}
		return scopeFailed
	}
	r.finishFanout(parent, n, rec.Clone(), fs)
	if r.recs[rec.Key].Status == workflow.StepFailed && !n.continueOnErr {
		return scopeFailed
	}
	return scopeDone
}

// advanceItem evaluates one item; it returns whether the item is still busy.
func (r *runner) advanceItem(fs *fanState, n *node, i int, child *inst, halt bool) bool {
	st := r.evalScope(child, halt)
	switch st {
	case scopeDone:
		fs.result[i] = r.itemResult(n, child)
		delete(fs.active, i)
		return false
	case scopeFailed:
		for _, bn := range n.body.nodes {
			if rec := r.recs[child.prefix+bn.step.ID]; rec != nil && rec.Status == workflow.StepFailed && !bn.continueOnErr {
				fs.failed = append(fs.failed, itemFailure{Index: i, Step: bn.step.ID, Error: rec.Error})
				break
			}
		}
		r.closeParked(child.prefix, "not finished: another step of this item failed")
		delete(fs.active, i)
		return false
	}
	return true
}

// closeParked marks steps still running under prefix (parked, not in
// flight) as failed with reason.
func (r *runner) closeParked(prefix, reason string) {
	now := r.now()
	for key, rec := range r.recs {
		if rec.Status == workflow.StepRunning && !r.inflight[key] && strings.HasPrefix(key, prefix) {
			c := rec.Clone()
			c.Status = workflow.StepFailed
			c.Error = reason
			c.WakeAt = nil
			c.FinishedAt = &now
			r.put(c)
		}
	}
}

// itemResult is the output of an item's last step (the one with no
// outgoing edge), or an object keyed by step id when there are several.
func (r *runner) itemResult(n *node, child *inst) any {
	var leaves []*node
	for _, bn := range n.body.nodes {
		if bn.isLeaf {
			leaves = append(leaves, bn)
		}
	}
	if len(leaves) == 1 {
		return child.steps[leaves[0].step.ID]
	}
	out := make(map[string]any, len(leaves))
	for _, l := range leaves {
		out[l.step.ID] = child.steps[l.step.ID]
	}
	return out
}

// resumeFanout rebuilds a fanout's progress from the stored step runs of a
// resumed run: items with records are active (finished ones complete at
// once when evaluated); the next item to start follows the last started.
func (r *runner) resumeFanout(parent *inst, n *node, key string, fs *fanState) {
	started := map[int]bool{}
	prefix := key + "["
	for k := range r.recs {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		rest := k[len(prefix):]
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			continue
		}
		i, err := strconv.Atoi(rest[:end])
		if err != nil || i < 0 || i >= len(fs.items) {
			continue
		}
		started[i] = true
	}
	for i := range started {
		fs.active[i] = r.newInst(itemPrefix(key, i), n.body, parent, fs.items[i], i)
		if i+1 > fs.next {
			fs.next = i + 1
		}
	}
}

func (r *runner) finishFanout(parent *inst, n *node, rec *workflow.StepRun, fs *fanState) {
	if len(fs.failed) == 0 {
		raw, err := marshalJSON(fs.result)
		if err != nil {
			r.fail(parent, n, rec, steps.Permanentf("step %s: item results are not JSON: %v", n.step.ID, err))
			return
		}
		r.succeed(parent, n, rec, fs.result, raw)
		return
	}
	sort.Slice(fs.failed, func(a, b int) bool { return fs.failed[a].Index < fs.failed[b].Index })
	err := &fanoutError{msg: fanoutMessage(fs.failed, len(fs.items)), failed: fs.failed, results: fs.result}
	r.fail(parent, n, rec, err)
	if n.continueOnErr {
		out := map[string]any{"error": map[string]any{"message": err.msg, "code": "items_failed"}, "items": fs.result, "failed": fs.failed}
		raw, _ := marshalJSON(out)
		var g any
		_ = json.Unmarshal(raw, &g)
		c := r.recs[rec.Key].Clone()
		c.Output = raw
		r.put(c)
		parent.setOutput(n.step.ID, g)
	}
}

// fanoutMessage sums up failed items: items that failed at the same step
// for the same reason are named together ("items 0, 4, 9: step x: ..."),
// and at most 10 reasons are spelled out.
func fanoutMessage(failed []itemFailure, total int) string {
	type group struct {
		step, reason string
		indexes      []int
	}
	var groups []*group
	byReason := map[[2]string]*group{}
	for _, f := range failed {
		k := [2]string{f.Step, f.Error}
		g := byReason[k]
		if g == nil {
			g = &group{step: f.Step, reason: f.Error}
			byReason[k] = g
			groups = append(groups, g)
		}
		g.indexes = append(g.indexes, f.Index)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d items failed: ", len(failed), total)
	for i, g := range groups {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more reasons", len(groups)-10)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		if len(g.indexes) == 1 {
			fmt.Fprintf(&b, "item %d", g.indexes[0])
		} else {
			b.WriteString("items ")
			for j, idx := range g.indexes {
				if j == 10 {
					fmt.Fprintf(&b, " and %d more", len(g.indexes)-10)
					break
				}
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Itoa(idx))
			}
		}
		fmt.Fprintf(&b, ": step %s: %s", g.step, g.reason)
	}
	return b.String()
}

type fanoutError struct {
	msg     string
	failed  []itemFailure
	results []any
}

func (e *fanoutError) Error() string { return e.msg }
