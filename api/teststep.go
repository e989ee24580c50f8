package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/workflow"
)

// testStepRequest is the body of POST /workflows/test-step: a workflow as
// the editor holds it (saved or not), the step to run, and the data its
// references read (the trigger and earlier steps' outputs, usually those of
// the last test run).
type testStepRequest struct {
	Workflow json.RawMessage `json:"workflow"`
	StepID   string          `json:"step_id"`
	Trigger  any             `json:"trigger"`
	Steps    map[string]any  `json:"steps"`
	Item     any             `json:"item"`
	Index    int             `json:"index"`
}

// testStepAnswer is what the step did.
type testStepAnswer struct {
	engine.TestStepResult
	DurationMS float64 `json:"duration_ms"`
}

// testStep is POST /workflows/test-step: runs one step once, for real (a
// Lever step calls Lever), and stores nothing. The workflow need not be
// valid as a whole: only its JSON must decode. Admin only, since the step
// acts on the connection's account.
func (s *Server) testStep(c *gin.Context) {
	var req testStepRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if len(req.Workflow) == 0 || string(req.Workflow) == "null" {
		fail(c, fieldError("workflow", "workflow is missing: send the workflow JSON the step belongs to"))
		return
	}
	if req.StepID == "" {
		fail(c, fieldError("step_id", "step_id is missing: name the step to test"))
		return
	}
	wf, problems := workflow.Decode(req.Workflow)
	if wf == nil {
		for i := range problems {
			problems[i].Path = joinPath("workflow", problems[i].Path)
		}
		fail(c, invalidWorkflow(problems))
		return
	}
	res, err := s.eng.TestStep(c.Request.Context(), engine.TestStepRequest{
		Workflow: wf, StepID: req.StepID, Trigger: req.Trigger, Steps: req.Steps, Item: req.Item, Index: req.Index,
	})
	switch {
	case errors.Is(err, engine.ErrStepNotFound):
		fail(c, &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidWorkflow,
			Message: fmt.Sprintf("the workflow has no step %q; step_id must be the id of one of its steps", req.StepID),
			Details: []any{detail{Path: "step_id", Message: "no such step"}}})
		return
	case errors.Is(err, engine.ErrNotTestable):
		fail(c, &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidWorkflow, Message: err.Error(),
			Details: []any{detail{Path: "step_id", Message: "cannot be tested alone"}}})
		return
	case err != nil && c.Request.Context().Err() != nil:
		return // the caller left
	case err != nil:
		fail(c, &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalidWorkflow, Message: err.Error(),
			Details: []any{detail{Path: "workflow", Message: err.Error()}}})
		return
	}
	writeJSON(c, http.StatusOK, testStepAnswer{TestStepResult: *res, DurationMS: float64(res.Duration.Microseconds()) / 1000})
}

// joinPath prefixes a problem path: ("workflow", "steps[0].id") ->
// "workflow.steps[0].id".
func joinPath(prefix, path string) string {
	if path == "" {
		return prefix
	}
	return prefix + "." + path
}
