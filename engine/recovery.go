package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// Recovery controls: retrying a failed or cancelled run from its failed
// step or from the start, on its own version or the workflow's latest, one
// run at a time or in bulk by filter.
//
// What a retry keeps:
//
//   - From the failed step (the default), on the run's own version: every
//     step that finished keeps its record (succeeded, skipped, or failed
//     with on_error "continue") and is not run again; the steps that
//     failed, and those a cancel or a crash interrupted, run afresh, and
//     the steps after them run for the first time.
//   - From the start: every step record is deleted and the run starts over
//     from its trigger data (its id, trigger and creation time stay).
//   - On the latest version: the run's version becomes the latest. From
//     the failed step, a step keeps its record only if it exists unchanged
//     in the latest version (same id at the top level, same definition but
//     for its name and editor position, same incoming edges) and every
//     step it depends on keeps its record too; every other step runs again
//     (a changed step, and everything downstream of it). Records of steps
//     the latest version dropped are deleted.
//
// Which runs can be retried: failed runs and cancelled runs (a cancel by
// mistake is undone by a retry; the steps the cancel interrupted run
// again). Any other status gives a *NotRetryableError (errors.Is
// store.ErrConflict) naming it, and so does a run whose workflow version
// redacts PII (its stored data is redacted, so nothing can resume from it).

// RetryOptions choose where a retry starts and which version it runs.
type RetryOptions struct {
	// FromStart reruns every step; otherwise the run resumes from its
	// failed steps.
	FromStart bool
	// Latest runs the retry on the workflow's latest version (the run's
	// version changes); otherwise on the version the run started with.
	Latest bool
}

// DefaultBulkRetry is how many runs RetryRuns retries when max is not set.
const DefaultBulkRetry = 100

// ErrBadRunFilter is returned (wrapped) by RetryRuns for a filter it does
// not take.
var ErrBadRunFilter = errors.New("bad run filter")

// NotRetryableError says why a run cannot be retried. It wraps
// store.ErrConflict.
type NotRetryableError struct {
	RunID  string
	Status workflow.RunStatus
	Reason string
}

func (e *NotRetryableError) Error() string {
	return fmt.Sprintf("run %s is %s and cannot be retried: %s", e.RunID, e.Status, e.Reason)
}

// Unwrap makes a NotRetryableError a store.ErrConflict.
func (e *NotRetryableError) Unwrap() error { return store.ErrConflict }

// RetryRunWith re-queues a failed or cancelled run as opts say (see the
// recovery controls above) and returns it, queued; this engine takes it up
// at once when it has a free slot.
func (e *Engine) RetryRunWith(ctx context.Context, id string, opts RetryOptions) (*workflow.Run, error) {
	cur, err := e.store.GetRun(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("retrying run %s: %w", id, err)
	}
	if cur.Status != workflow.RunFailed && cur.Status != workflow.RunCancelled {
		return nil, &NotRetryableError{RunID: id, Status: cur.Status, Reason: "only a failed or cancelled run can be retried"}
	}
	old, err := e.plans.get(ctx, e.store, e.opts.Steps, cur.WorkflowID, cur.Version)
	if err != nil {
		return nil, fmt.Errorf("retrying run %s: %w", id, err)
	}
	if old.wf.RedactPII {
		return nil, &NotRetryableError{RunID: id, Status: cur.Status, Reason: "its workflow redacts PII (redact_pii), so the stored trigger data and step outputs a retry would resume from are redacted; start a new run instead"}
	}
	target := old
	if opts.Latest {
		latest, err := e.plans.get(ctx, e.store, e.opts.Steps, cur.WorkflowID, 0)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &NotRetryableError{RunID: id, Status: cur.Status, Reason: "its workflow was deleted, so it has no latest version; retry it on its own version"}
		}
		if err != nil {
			return nil, fmt.Errorf("retrying run %s on the latest version: %w", id, err)
		}
		target = latest
	}
	reset := store.RetryReset{ResetAll: opts.FromStart, Now: e.opts.Now().UTC()}
	if target.version != cur.Version {
		reset.Version = target.version
	}
	if cur.FinishedAt != nil {
		reset.FinishedAt = *cur.FinishedAt
	}
	if !opts.FromStart {
		reset.ResetKeys = retryResetKeys(cur, old, target)
	}
	// The run joins the concurrency group of the version it runs on, its
	// key rendered as StartRun does: a limit added in the latest version
	// holds for it too.
	lim := store.Concurrency{}
	if c := target.wf.Concurrency; c != nil {
		r := *cur
		r.Version = target.version
		key, err := concurrencyKey(c.Key, &r, target.vars)
		if err != nil {
			return nil, fmt.Errorf("retrying run %s: %w", id, err)
		}
		lim = store.Concurrency{Key: key, Limit: c.Limit}
	}
	reset.Concurrency = &lim
	run, err := e.store.ResetRun(ctx, id, reset)
	if errors.Is(err, store.ErrConflict) {
		return nil, &NotRetryableError{RunID: id, Status: cur.Status, Reason: "it changed while it was being retried (another retry got there first?)"}
	}
	if err != nil {
		return nil, fmt.Errorf("retrying run %s: %w", id, err)
	}
	e.log.Info("run retried", "run_id", id, "workflow_id", cur.WorkflowID, "version", run.Version,
		"from_start", opts.FromStart, "latest", opts.Latest, "reset_steps", len(reset.ResetKeys))
	e.tryClaim(id)
	return run, nil
}

// retryResetKeys returns the keys of the step records a retry from the
// failed step deletes, when the run goes from version old to target (the
// same plan when the version stays).
func retryResetKeys(cur *workflow.Run, old, target *plan) []string {
	var kept map[string]bool
	if target != old {
		kept = keptSteps(old, target)
	}
	reset := map[string]bool{}
	for key, sr := range cur.Steps {
		top, _, _ := strings.Cut(key, "[")
		if kept != nil && !kept[top] {
			reset[key] = true
			continue
		}
		n := target.nodes[sr.StepID]
		// A cancelled run's failed steps are, as a rule, the ones the
		// cancel interrupted: they all run again.
		failed := sr.Status == workflow.StepFailed && (n == nil || !n.continueOnErr || cur.Status == workflow.RunCancelled)
		if failed || sr.Status == workflow.StepRunning {
			reset[key] = true
		}
	}
	resetDownstream(cur.Steps, target, reset)
	keys := make([]string, 0, len(reset))
	for key := range reset {
		top, _, _ := strings.Cut(key, "[")
		if (kept == nil || kept[top]) && underKeptFanout(key, cur.Steps, reset) {
			continue
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}

// resetDownstream adds to reset the records of the steps downstream of a
// reset step, in its scope (the top level, or the same fanout item): they
// consumed its output (a failure under on_error "continue", say) and must
// run again on its new one. A downstream fanout is reset with every record
// of its items.
func resetDownstream(recs map[string]*workflow.StepRun, target *plan, reset map[string]bool) {
	children := map[*node][]*node{}
	for _, n := range target.nodes {
		for _, pe := range n.parents {
			children[pe.from] = append(children[pe.from], n)
		}
	}
	work := make([]string, 0, len(reset))
	seen := map[string]bool{}
	for key := range reset {
		work = append(work, key)
		seen[key] = true
	}
	// mark resets key's record, if any, and walks on from it (a step
	// without a record may still have downstream records: not likely,
	// but cheap to be sure of).
	mark := func(key string) {
		if seen[key] {
			return
		}
		seen[key] = true
		if recs[key] != nil {
			reset[key] = true
		}
		work = append(work, key)
	}
	for len(work) > 0 {
		key := work[len(work)-1]
		work = work[:len(work)-1]
		prefix, stepID := "", key
		if i := strings.LastIndex(key, "]."); i >= 0 {
			prefix, stepID = key[:i+2], key[i+2:]
		}
		n := target.nodes[stepID]
		if n == nil {
			continue
		}
		for _, c := range children[n] {
			mark(prefix + c.step.ID)
			if c.body != nil {
				items := prefix + c.step.ID + "["
				for k := range recs {
					if strings.HasPrefix(k, items) {
						mark(k)
					}
				}
			}
		}
	}
}

// keptSteps returns the top-level steps of target whose records a run of
// old keeps when it is retried on target: those unchanged (see sameStep),
// with the same incoming edges, all of whose parents are kept too.
func keptSteps(old, target *plan) map[string]bool {
	before := map[string]*node{}
	for _, n := range old.root.nodes {
		before[n.step.ID] = n
	}
	kept := map[string]bool{}
	for _, n := range target.root.nodes { // topological order: parents first
		o := before[n.step.ID]
		if o == nil || !sameStep(o.step, n.step) || !sameParents(o.parents, n.parents) {
			continue
		}
		ok := true
		for _, pe := range n.parents {
			ok = ok && kept[pe.from.step.ID]
		}
		kept[n.step.ID] = ok
	}
	return kept
}

// sameStep reports whether two step definitions do the same thing: equal
// but for their names and editor positions (at any depth).
func sameStep(a, b *workflow.Step) bool {
	ja, errA := json.Marshal(behaviour(*a))
	jb, errB := json.Marshal(behaviour(*b))
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// behaviour returns a copy of s without what does not change how it runs.
func behaviour(s workflow.Step) workflow.Step {
	s.Name, s.Position = "", nil
	if len(s.Input) > 0 {
		// Compare inputs by value, not by their spelling.
		var v any
		if json.Unmarshal(s.Input, &v) == nil {
			if norm, err := json.Marshal(v); err == nil {
				s.Input = norm
			}
		}
	}
	if len(s.Steps) > 0 {
		body := make([]workflow.Step, len(s.Steps))
		for i := range s.Steps {
			body[i] = behaviour(s.Steps[i])
		}
		s.Steps = body
	}
	return s
}

// sameParents reports whether two steps have the same incoming edges.
func sameParents(a, b []inEdge) bool {
	edges := func(in []inEdge) []string {
		out := make([]string, len(in))
		for i, pe := range in {
			out[i] = pe.from.step.ID + "\x00" + pe.branch
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(edges(a), edges(b))
}

// RetryRuns retries, as opts say, up to max runs that match f (max <= 0
// means DefaultBulkRetry), newest first, paging through the filter, and
// returns the ids it re-queued. f.Status is failed when empty, and must be
// failed or cancelled; f.After and f.Limit are the function's own. A run
// that cannot be retried (it changed meanwhile, or its workflow redacts
// PII) is skipped and logged; any other error stops the walk and is
// returned with the ids retried so far.
func (e *Engine) RetryRuns(ctx context.Context, f store.RunFilter, opts RetryOptions, max int) ([]string, error) {
	if f.Status == "" {
		f.Status = workflow.RunFailed
	}
	if f.Status != workflow.RunFailed && f.Status != workflow.RunCancelled {
		return nil, fmt.Errorf("retrying runs: status %q: only failed or cancelled runs can be retried: %w", f.Status, ErrBadRunFilter)
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		return nil, fmt.Errorf("retrying runs: the time range is empty (%s is not before %s): %w", f.CreatedAfter.Format("2006-01-02T15:04:05Z07:00"), f.CreatedBefore.Format("2006-01-02T15:04:05Z07:00"), ErrBadRunFilter)
	}
	if max <= 0 {
		max = DefaultBulkRetry
	}
	f.After = ""
	retried := []string{}
	for len(retried) < max {
		f.Limit = min(max-len(retried), 100)
		page, err := e.store.ListRuns(ctx, f)
		if err != nil {
			return retried, fmt.Errorf("retrying runs: %w", err)
		}
		for _, r := range page {
			_, err := e.RetryRunWith(ctx, r.ID, opts)
			var nre *NotRetryableError
			switch {
			case errors.As(err, &nre):
				e.log.Info("bulk retry skipped a run", "run_id", r.ID, "reason", nre.Reason)
			case err != nil:
				return retried, fmt.Errorf("retrying runs: %w", err)
			default:
				retried = append(retried, r.ID)
			}
		}
		if len(page) < f.Limit {
			break
		}
		// Keyset paging by id: retried runs leave the filter, and runs
		// that fail anew after the walk began are newer than the cursor.
		f.After = page[len(page)-1].ID
	}
	return retried, nil
}
