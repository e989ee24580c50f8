package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// pruneBatch is how many runs one pruning transaction deletes at most: a
// batch holds the write lock for a few milliseconds, so runs go on
// committing between batches.
const pruneBatch = 500

// PruneResult counts what Prune deleted.
type PruneResult struct {
	Runs   int // runs deleted
	Steps  int // their step runs
	Events int // inbox events deleted
}

// Prune deletes the finished runs (succeeded, failed or cancelled) whose
// finish time is older at now than the retention of their workflow
// version (its "retention"; Options.DefaultRetention, else
// workflow.DefaultRetention, when it names none), with their step runs, in
// transactions of at most 500 runs. A queued, running or waiting run is
// never deleted. Inbox events that are not pending and were received
// longer ago than the default retention go too. When it deleted something
// it then gives the space back to
// the file system (store.ReclaimSpace). The engine calls it every
// Options.PruneEvery; it is safe to call at any time, from any number of
// engines at once.
func (e *Engine) Prune(ctx context.Context, now time.Time) (PruneResult, error) {
	var res PruneResult
	versions, err := e.store.ListPrunableVersions(ctx, now)
	if err != nil {
		return res, fmt.Errorf("pruning runs: %w", err)
	}
	for _, v := range versions {
		keep, err := e.retentionOf(ctx, v.WorkflowID, v.Version)
		if err != nil {
			return res, fmt.Errorf("pruning runs of %s version %d: %w", v.WorkflowID, v.Version, err)
		}
		before := now.Add(-keep)
		for {
			runs, steps, err := e.store.DeleteFinishedRuns(ctx, v.WorkflowID, v.Version, before, pruneBatch)
			res.Runs += runs
			res.Steps += steps
			if err != nil {
				return res, fmt.Errorf("pruning runs: %w", err)
			}
			if runs < pruneBatch {
				break
			}
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("pruning runs: %w", err)
			}
		}
	}
	// The event inbox is kept as long as the default retention: an event
	// is the record of what started runs, and replaying an old one is
	// rarely wanted after its runs are gone. Pending events are never
	// deleted (they still have to be routed).
	evBefore := now.Add(-e.opts.DefaultRetention)
	for {
		n, err := e.store.DeleteOldEvents(ctx, evBefore, pruneBatch)
		res.Events += n
		if err != nil {
			return res, fmt.Errorf("pruning inbox events: %w", err)
		}
		if n < pruneBatch {
			break
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("pruning inbox events: %w", err)
		}
	}
	if res.Runs > 0 || res.Events > 0 {
		if err := e.store.ReclaimSpace(ctx); err != nil {
			return res, fmt.Errorf("pruning runs: %w", err)
		}
	}
	return res, nil
}

// retentionOf returns how long the finished runs of a workflow version are
// kept. Versions are immutable, so each is read once.
func (e *Engine) retentionOf(ctx context.Context, workflowID string, version int) (time.Duration, error) {
	key := workflowID + "\x00" + strconv.Itoa(version)
	if d, ok := e.retentions.Load(key); ok {
		return d.(time.Duration), nil
	}
	keep := e.opts.DefaultRetention
	v, err := e.store.GetWorkflowVersion(ctx, workflowID, version)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Runs of a version that is gone: keep them the default time.
		return keep, nil
	case err != nil:
		return 0, err
	}
	var def struct {
		Retention workflow.Duration `json:"retention"`
	}
	if err := json.Unmarshal(v.Definition, &def); err == nil {
		keep = def.Retention.Std(keep)
	}
	e.retentions.Store(key, keep)
	return keep, nil
}

// pruneLoop prunes every Options.PruneEvery, the first time soon after
// Start (a server restarted more often than PruneEvery still prunes).
func (e *Engine) pruneLoop() {
	defer e.loopsDone.Done()
	t := time.NewTimer(min(e.opts.PruneEvery, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		start := time.Now()
		res, err := e.Prune(ctx, e.opts.Now().UTC())
		cancel()
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			e.log.Warn("pruning finished runs", "error", err, "runs", res.Runs)
		case res.Runs > 0:
			e.log.Info("pruned finished runs", "runs", res.Runs, "steps", res.Steps, "duration_ms", time.Since(start).Milliseconds())
		}
		t.Reset(e.opts.PruneEvery)
	}
}
