package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/steps"
	"github.com/leverflow/leverflow/templating"
)

// ErrStepNotFound is returned by TestStep for a step id the workflow does
// not have.
var ErrStepNotFound = errors.New("no such step in the workflow")

// ErrNotTestable is returned by TestStep for a step that cannot run alone
// (a fanout: test the steps inside it).
var ErrNotTestable = errors.New("the step cannot be tested alone")

// TestStepRequest is one step of a (possibly unsaved) workflow to run
// alone, with the data its references read.
type TestStepRequest struct {
	Workflow *workflow.Workflow
	StepID   string
	// Trigger is the trigger data (`trigger` in references).
	Trigger any
	// Steps are the outputs of earlier steps (`steps.<id>`), usually those
	// of the last test run.
	Steps map[string]any
	// Item and Index are `item` and `index` for a step inside a fanout.
	Item  any
	Index int
	// MaxWait is how long a step that asks to wait (a rate-limit throttle,
	// a short back-off) may be waited for before the test reports the wait
	// instead of the result (default 10 s).
	MaxWait time.Duration
}

// TestStepResult is what one test attempt did. Status is "succeeded",
// "failed" or "waiting" (a delay or a long throttle: Error says until
// when). Input is the resolved input, sensitive fields redacted.
type TestStepResult struct {
	StepID    string        `json:"step_id"`
	Type      string        `json:"type"`
	Status    string        `json:"status"`
	Input     any           `json:"input"`
	Output    any           `json:"output"`
	Error     string        `json:"error"`
	Retryable bool          `json:"retryable"`
	Duration  time.Duration `json:"-"`
}

// TestStep runs one step of wf once, outside any run: its input is
// rendered against req's trigger and step outputs, and the step's own code
// runs for real (a Lever step calls Lever). Nothing is stored. The rest of
// the workflow need not be valid; the step's own input is checked by the
// step as in a run. Errors are for requests that cannot be tested at all
// (ErrStepNotFound, ErrNotTestable, an input template that does not
// compile); a step that fails is a result with Status "failed".
func (e *Engine) TestStep(ctx context.Context, req TestStepRequest) (*TestStepResult, error) {
	if req.Workflow == nil {
		return nil, errors.New("test step: no workflow")
	}
	st := findStep(req.Workflow.Steps, req.StepID)
	if st == nil {
		return nil, fmt.Errorf("test step %q: %w", req.StepID, ErrStepNotFound)
	}
	spec, ok := e.opts.Steps.Lookup(st.Type)
	if !ok {
		return nil, fmt.Errorf("test step %s: unknown step type %q", st.ID, st.Type)
	}
	if spec.Container {
		return nil, fmt.Errorf("test step %s: %w: a %s runs its own steps once per item; test the steps inside it", st.ID, ErrNotTestable, spec.Title)
	}
	in, err := st.InputMap()
	if err != nil {
		return nil, fmt.Errorf("test step %s: %w", st.ID, err)
	}
	tpl, err := templating.Compile(in)
	if err != nil {
		return nil, fmt.Errorf("test step %s: %w", st.ID, err)
	}
	now := e.opts.Now().UTC()
	runID := "test-" + uuid.NewString()
	outputs := req.Steps
	if outputs == nil {
		outputs = map[string]any{}
	}
	vars := req.Workflow.Vars
	if vars == nil {
		vars = map[string]any{}
	}
	env := map[string]any{
		"trigger": req.Trigger,
		"steps":   outputs,
		"run":     map[string]any{"id": runID, "workflow_id": "", "version": 0, "started_at": now.Format(time.RFC3339Nano)},
		"vars":    vars,
		"user":    map[string]any{"id": "", "metadata": map[string]any{}, "settings": map[string]any{}},
		"item":    req.Item,
		"index":   req.Index,
	}
	res := &TestStepResult{StepID: st.ID, Type: st.Type}
	rendered, err := tpl.Render(env)
	if err != nil {
		res.Status, res.Error = string(workflow.StepFailed), err.Error()
		return res, nil
	}
	input, _ := rendered.(map[string]any)
	if input == nil {
		input = map[string]any{}
	}
	res.Input = redactSensitive(input, spec.Input)
	maxWait := req.MaxWait
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	started := time.Now()
	defer func() { res.Duration = time.Since(started) }()
	for attempt := 1; ; attempt++ {
		out, err := e.testAttempt(ctx, spec, st, &steps.Request{
			RunID: runID, StepID: st.ID, Key: st.ID, Attempt: attempt, Connection: st.Connection,
			Input: input, Now: e.opts.Now().UTC(), StartedAt: now,
		})
		if err == nil {
			raw, merr := marshalJSON(out)
			if merr != nil {
				res.Status, res.Error = string(workflow.StepFailed), fmt.Sprintf("the step returned output that is not JSON: %v", merr)
				return res, nil
			}
			res.Status, res.Output = string(workflow.StepSucceeded), normalize(out, raw)
			return res, nil
		}
		sl, ok := steps.AsSleep(err)
		if !ok {
			res.Status, res.Error = string(workflow.StepFailed), err.Error()
			res.Retryable = !steps.IsPermanent(err)
			return res, nil
		}
		// A step that asks to wait (a throttle) is waited for when that is
		// short, a few times at most; otherwise the test reports the wait.
		// The wait is measured on the engine's clock, as the step set it.
		wait := sl.Until.Sub(e.opts.Now())
		if attempt >= maxTestAttempts || time.Since(started)+max(wait, 0) > maxWait {
			res.Status = "waiting"
			res.Error = fmt.Sprintf("%s: in a run the step would wait until %s and then go on", sl.Error(), sl.Until.UTC().Format(time.RFC3339))
			return res, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(max(wait, 10*time.Millisecond)):
		}
	}
}

// maxTestAttempts caps how often TestStep runs a step that keeps asking to
// wait.
const maxTestAttempts = 5

// testAttempt runs one attempt under the step's timeout, turning a panic
// into an error.
func (e *Engine) testAttempt(ctx context.Context, spec *steps.Spec, st *workflow.Step, req *steps.Request) (out any, err error) {
	ctx, cancel := context.WithTimeout(ctx, st.Timeout.Std(defaultStepTimeout))
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, steps.Permanentf("step %s panicked: %v", st.ID, p)
		}
	}()
	return spec.Run(ctx, req)
}

// findStep finds a step by id, fanout bodies included.
func findStep(list []workflow.Step, id string) *workflow.Step {
	for i := range list {
		if list[i].ID == id {
			return &list[i]
		}
		if s := findStep(list[i].Steps, id); s != nil {
			return s
		}
	}
	return nil
}
