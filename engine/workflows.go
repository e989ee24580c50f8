package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// ErrInvalidArgument marks a request the engine refuses before asking the
// store: an empty id, a page size out of range, an unknown status, an empty
// time window. The HTTP API answers it with 400.
var ErrInvalidArgument = errors.New("invalid argument")

// MaxPageSize is the largest Limit ListWorkflows and ListRuns accept.
const MaxPageSize = 1000

// Observer is told of runs and steps as they finish, after the commit
// that finished them (the server counts them for Prometheus). Its methods
// are called on the engine's hot path, from the goroutine that runs the
// run: implementations must be fast and must not block (increment a
// counter, observe a histogram; hand anything slower to a goroutine of
// their own), and must not modify what they are given.
type Observer interface {
	// RunFinished is called once a run succeeded, failed or was cancelled,
	// with the run as committed (without its step runs). A run the store
	// cancelled at once (queued or waiting: CancelRun) is reported by the
	// engine that cancelled it.
	RunFinished(run *workflow.Run)
	// StepFinished is called once a step run succeeded, failed for good or
	// was skipped, with its type ("lever.get_opportunity") and its record.
	// Steps closed by a cancel the store applied at once are not reported.
	StepFinished(stepType string, step *workflow.StepRun)
}

// observeRun reports a run finished outside any runner (cancelled in the
// store).
func (e *Engine) observeRun(run *workflow.Run) {
	if e.opts.Observer == nil {
		return
	}
	c := *run
	c.Steps = nil
	e.opts.Observer.RunFinished(&c)
}

func invalidArg(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidArgument)
}

func checkID(what, id string) error {
	if id == "" {
		return invalidArg("the %s id is required", what)
	}
	return nil
}

func checkLimit(limit int) error {
	if limit < 0 || limit > MaxPageSize {
		return invalidArg("limit %d is out of range: use 1 to %d (0 means 50)", limit, MaxPageSize)
	}
	return nil
}

// CreateWorkflow validates wf and stores it as version 1 of a new,
// disabled workflow. A workflow with problems gives an *InvalidError; an id
// in use, now or by a deleted workflow, gives store.ErrConflict.
func (e *Engine) CreateWorkflow(ctx context.Context, workflowID string, wf *workflow.Workflow) (*store.WorkflowVersion, error) {
	return e.saveWith(ctx, workflowID, wf, e.store.CreateWorkflow)
}

// UpdateWorkflow validates wf and stores it as the next version of an
// existing workflow; a missing or deleted one gives store.ErrNotFound. The
// workflow stays enabled or disabled as it was; runs already started keep
// their version.
func (e *Engine) UpdateWorkflow(ctx context.Context, workflowID string, wf *workflow.Workflow) (*store.WorkflowVersion, error) {
	return e.saveWith(ctx, workflowID, wf, e.store.UpdateWorkflow)
}

// saveFunc is one of the store's ways of saving a version.
type saveFunc func(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error)

func (e *Engine) saveWith(ctx context.Context, workflowID string, wf *workflow.Workflow, save saveFunc) (*store.WorkflowVersion, error) {
	if err := checkID("workflow", workflowID); err != nil {
		return nil, err
	}
	if probs := workflow.Validate(wf, workflow.ValidateOptions{Steps: e.opts.Steps}); len(probs) > 0 {
		return nil, &InvalidError{Problems: probs}
	}
	def, err := workflow.Encode(wf)
	if err != nil {
		return nil, fmt.Errorf("encoding workflow %s: %w", workflowID, err)
	}
	v, err := save(ctx, workflowID, wf.Name, def, e.opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("saving workflow %s: %w", workflowID, err)
	}
	return v, nil
}

// GetWorkflow returns a workflow's state; a missing or deleted one gives
// store.ErrNotFound.
func (e *Engine) GetWorkflow(ctx context.Context, id string) (*store.Workflow, error) {
	if err := checkID("workflow", id); err != nil {
		return nil, err
	}
	return e.store.GetWorkflow(ctx, id)
}

// ListWorkflows lists the workflows that are not deleted, by id, with
// their newest run and run counts. Limit must be 0 (50) to MaxPageSize.
func (e *Engine) ListWorkflows(ctx context.Context, f store.WorkflowFilter) ([]*store.WorkflowSummary, error) {
	if err := checkLimit(f.Limit); err != nil {
		return nil, fmt.Errorf("listing workflows: %w", err)
	}
	for _, t := range f.TriggerTypes {
		if t == "" {
			return nil, fmt.Errorf("listing workflows: %w", invalidArg("an empty trigger type"))
		}
	}
	return e.store.ListWorkflows(ctx, f)
}

// ListWorkflowVersions lists a workflow's versions, newest first, without
// their definitions.
func (e *Engine) ListWorkflowVersions(ctx context.Context, id string) ([]*store.WorkflowVersion, error) {
	if err := checkID("workflow", id); err != nil {
		return nil, err
	}
	return e.store.ListWorkflowVersions(ctx, id)
}

// EnableWorkflow turns a workflow on for its trigger. Its latest version
// is validated again first, this time with its connections checked through
// Options.HasConnection (one may have been deleted since the save): a
// workflow with problems is refused with an *InvalidError listing them
// all, and stays as it was. A version saved while it is being enabled is
// enabled without this check (it was validated when saved).
func (e *Engine) EnableWorkflow(ctx context.Context, id string) (*store.Workflow, error) {
	if err := checkID("workflow", id); err != nil {
		return nil, err
	}
	w, err := e.store.GetWorkflow(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("enabling workflow %s: %w", id, err)
	}
	v, err := e.store.GetWorkflowVersion(ctx, id, w.LatestVersion)
	if err != nil {
		return nil, fmt.Errorf("enabling workflow %s: %w", id, err)
	}
	wf, probs := workflow.Decode(v.Definition)
	if len(probs) == 0 {
		opts := workflow.ValidateOptions{Steps: e.opts.Steps}
		if has := e.opts.HasConnection; has != nil {
			opts.HasConnection = func(name string) bool { return has(w.UserID, name) }
		}
		probs = workflow.Validate(wf, opts)
	}
	if len(probs) > 0 {
		return nil, fmt.Errorf("enabling workflow %s (version %d): %w", id, v.Version, &InvalidError{Problems: probs})
	}
	out, err := e.store.SetWorkflowEnabled(ctx, id, true, e.opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("enabling workflow %s: %w", id, err)
	}
	return out, nil
}

// DisableWorkflow turns a workflow off: its trigger starts no more runs.
// Runs already started go on.
func (e *Engine) DisableWorkflow(ctx context.Context, id string) (*store.Workflow, error) {
	if err := checkID("workflow", id); err != nil {
		return nil, err
	}
	out, err := e.store.SetWorkflowEnabled(ctx, id, false, e.opts.Now().UTC())
	if err != nil {
		return nil, fmt.Errorf("disabling workflow %s: %w", id, err)
	}
	return out, nil
}

// DeleteWorkflow deletes a workflow softly: it is disabled, no longer
// found or listed, and cannot be started or saved again, nor its id
// reused. Its runs are left alone: queued, waiting and running runs finish
// on the version they started with (cancel them with CancelRun if they
// must stop), and every run stays listed and readable. A missing or
// already deleted workflow gives store.ErrNotFound.
func (e *Engine) DeleteWorkflow(ctx context.Context, id string) error {
	if err := checkID("workflow", id); err != nil {
		return err
	}
	return e.store.DeleteWorkflow(ctx, id, e.opts.Now().UTC())
}

// ListRuns lists runs newest first, without their step runs. The status
// must be a run state, Limit 0 (50) to MaxPageSize, and a time window
// with both ends must not be empty.
func (e *Engine) ListRuns(ctx context.Context, f store.RunFilter) ([]*workflow.Run, error) {
	if err := checkLimit(f.Limit); err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	switch f.Status {
	case "", workflow.RunQueued, workflow.RunRunning, workflow.RunWaiting, workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled:
	default:
		return nil, fmt.Errorf("listing runs: %w", invalidArg("unknown run status %q (use queued, running, waiting, succeeded, failed or cancelled)", f.Status))
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return nil, fmt.Errorf("listing runs: %w", invalidArg("created_after (%s) must be before created_before (%s)",
			f.CreatedAfter.Format(time.RFC3339), f.CreatedBefore.Format(time.RFC3339)))
	}
	return e.store.ListRuns(ctx, f)
}

// healthyTicks is how many poll intervals the worker loop may go without
// a round before Healthy reports it stuck.
const healthyTicks = 3

// Healthy reports whether the engine can work: the store answers a cheap
// read, and, once the engine is started, its worker loop finished a round
// within the last three poll intervals (a loop stuck on a locked database
// or a hung claim shows here). A stopped engine is not healthy; one never
// started (an API-only process) is, if its store answers.
func (e *Engine) Healthy(ctx context.Context) error {
	if err := e.store.Ping(ctx); err != nil {
		return fmt.Errorf("engine unhealthy: %w", err)
	}
	e.mu.Lock()
	started, stopped := e.started, e.stopped
	e.mu.Unlock()
	switch {
	case stopped:
		return errors.New("engine unhealthy: the engine is stopped")
	case !started:
		return nil
	}
	since := e.opts.Now().Sub(time.Unix(0, e.lastTick.Load()))
	if limit := healthyTicks * e.opts.PollInterval; since > limit {
		return fmt.Errorf("engine unhealthy: the worker loop has not ticked for %s (more than %d poll intervals of %s)",
			since.Round(time.Millisecond), healthyTicks, e.opts.PollInterval)
	}
	return nil
}
