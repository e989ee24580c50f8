package engine

// Flow control. Three limits decide when a run's steps run:
//
//   - the worker pool: Options.Concurrency runs at once per engine (slots);
//   - a workflow's concurrency (workflow.Concurrency): at most Limit active
//     runs per workflow and rendered key, the others queued in creation
//     order. The engine renders the key when it creates the run and the
//     store enforces the limit in its claim transaction (see
//     store.Concurrency), so several engines sharing a store never exceed
//     it together;
//   - a step family's throttle: a step that would wait long for a rate
//     limit parks the run instead (steps.Park) with a wait reason, and the
//     run resumes by itself at the wake time.
//
// A workflow without a concurrency limit pays one nil check per run.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/templating"
)

// keyTemplates caches compiled concurrency keys by their source.
var keyTemplates sync.Map // string -> *templating.Template

// createRun stores a new run: through CreateLimitedRun, with its rendered
// concurrency key, when its workflow version has a concurrency limit. A
// run asked to be created running may then come back queued: its group
// was full (run says so).
func (e *Engine) createRun(ctx context.Context, p *plan, run *workflow.Run) error {
	c := p.wf.Concurrency
	if c == nil {
		return e.store.CreateRun(ctx, run)
	}
	key, err := concurrencyKey(c.Key, run, p.vars)
	if err != nil {
		return err
	}
	if err := e.store.CreateLimitedRun(ctx, run, store.Concurrency{Key: key, Limit: c.Limit}); err != nil {
		return err
	}
	if run.WaitReason != "" {
		e.log.Debug("run waits for its turn", "run_id", run.ID, "workflow_id", run.WorkflowID, "reason", run.WaitReason)
	}
	return nil
}

// concurrencyKey renders a workflow's concurrency key for a new run
// against the roots a run's steps see (trigger, vars, user, run; run's
// started_at is empty: the run has not started). A non-string value is
// keyed by its JSON. An empty source is the empty key.
func concurrencyKey(src string, run *workflow.Run, vars map[string]any) (string, error) {
	if src == "" {
		return "", nil
	}
	var t *templating.Template
	if v, ok := keyTemplates.Load(src); ok {
		t = v.(*templating.Template)
	} else {
		var err error
		if t, err = templating.CompileString(src); err != nil {
			return "", fmt.Errorf("concurrency key %q: %w", src, err)
		}
		keyTemplates.Store(src, t)
	}
	var trig any
	if err := json.Unmarshal(run.Trigger, &trig); err != nil {
		return "", fmt.Errorf("concurrency key %q: trigger data is not valid JSON: %w", src, err)
	}
	env := map[string]any{
		"trigger": trig,
		"run":     map[string]any{"id": run.ID, "workflow_id": run.WorkflowID, "version": run.Version, "started_at": ""},
		"vars":    vars,
		"user":    map[string]any{"id": run.UserID, "metadata": map[string]any{}, "settings": map[string]any{}},
	}
	v, err := t.Render(env)
	if err != nil {
		return "", fmt.Errorf("concurrency key %q: %w", src, err)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("concurrency key %q: %w", src, err)
		}
		return string(b), nil
	}
}

// afterRun runs once a runner is gone and its slot is free: a run of a
// limited workflow that finished may be what queued runs of its group
// wait for, so the poll loop is woken now rather than at its next tick.
func (e *Engine) afterRun(r *runner) {
	if r.finished && r.plan != nil && r.plan.wf.Concurrency != nil {
		e.nudge()
	}
}

// noteSleepReason remembers why a step parked (steps.Park), for the run's
// wait reason should the run park on it.
func (r *runner) noteSleepReason(key, reason string) {
	if reason == "" {
		delete(r.sleepReasons, key)
		return
	}
	if r.sleepReasons == nil {
		r.sleepReasons = map[string]string{}
	}
	r.sleepReasons[key] = reason
}

// parkReason is the wait reason of a run about to park: the reason of its
// parked step due first that gave one, or "".
func (r *runner) parkReason() string {
	reason := ""
	var first time.Time
	for key, why := range r.sleepReasons {
		rec := r.recs[key]
		if rec == nil || rec.Status != workflow.StepRunning || rec.WakeAt == nil {
			continue
		}
		if reason == "" || rec.WakeAt.Before(first) {
			reason, first = why, *rec.WakeAt
		}
	}
	return reason
}
