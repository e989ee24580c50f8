package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// workflowIDPattern is what a workflow id chosen by the caller must match;
// generated ids are UUIDv7s, which match it too.
var workflowIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func (s *Server) workflowRoutes(authed, admin *gin.RouterGroup) {
	authed.GET("/workflows", s.listWorkflows)
	admin.POST("/workflows", s.createWorkflow)
	admin.POST("/workflows/validate", s.validateWorkflow)
	admin.POST("/workflows/test-step", s.testStep)
	authed.GET("/workflows/:id", s.getWorkflow)
	admin.PUT("/workflows/:id", s.updateWorkflow)
	admin.DELETE("/workflows/:id", s.deleteWorkflow)
	authed.GET("/workflows/:id/versions", s.listWorkflowVersions)
	authed.GET("/workflows/:id/diff", s.diffWorkflow)
	admin.POST("/workflows/:id/enable", s.enableWorkflow)
	admin.POST("/workflows/:id/disable", s.disableWorkflow)
}

// workflowView is a saved workflow version, with whether the workflow is
// enabled now.
type workflowView struct {
	ID        string          `json:"id"`
	Version   int             `json:"version"`
	Name      string          `json:"name"`
	Enabled   bool            `json:"enabled"`
	CreatedAt time.Time       `json:"created_at"`
	Workflow  json.RawMessage `json:"workflow"`
}

func viewOf(v *store.WorkflowVersion, enabled bool) workflowView {
	return workflowView{ID: v.WorkflowID, Version: v.Version, Name: v.Name, Enabled: enabled, CreatedAt: v.CreatedAt, Workflow: v.Definition}
}

// validationResult is the answer of POST /workflows/validate.
type validationResult struct {
	Valid    bool               `json:"valid"`
	Problems []workflow.Problem `json:"problems"`
}

// parseWorkflow reads and validates a workflow body against the step
// registry and the workspace's connections. Malformed JSON is a 400 with
// the line and column; every other problem (unknown fields, wrong types,
// validation) is one 422 invalid_workflow listing them all.
func (s *Server) parseWorkflow(c *gin.Context) (*workflow.Workflow, error) {
	data, err := readBody(c)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, checkSyntax(data) // names where the encoding breaks
	}
	wf, problems, err := s.checkWorkflow(c, data)
	if err != nil {
		return nil, err
	}
	if !json.Valid(data) {
		return nil, badRequest("%s", problems[0].Message)
	}
	if len(problems) > 0 {
		return nil, invalidWorkflow(problems)
	}
	return wf, nil
}

func (s *Server) checkWorkflow(c *gin.Context, data []byte) (*workflow.Workflow, []workflow.Problem, error) {
	conns, err := s.conns.List(c.Request.Context(), "")
	if err != nil {
		return nil, nil, fmt.Errorf("listing connections to validate the workflow: %w", err)
	}
	names := make(map[string]bool, len(conns))
	for _, cn := range conns {
		names[cn.Name] = true
	}
	wf, problems := workflow.Parse(data, workflow.ValidateOptions{
		Steps:         s.steps,
		HasConnection: func(name string) bool { return names[name] },
	})
	return wf, problems, nil
}

func invalidWorkflow(problems []workflow.Problem) *Error {
	e := newError(http.StatusUnprocessableEntity, CodeInvalidWorkflow, "the workflow has %d problem(s): %s", len(problems), problems[0])
	if len(problems) == 1 {
		e.Message = "the workflow has a problem: " + problems[0].String()
	}
	for _, p := range problems {
		e.Details = append(e.Details, p)
	}
	return e
}

// createWorkflow is POST /workflows[?id=]: version 1 of a new, disabled
// workflow. The store refuses an id in use (or once used by a deleted
// workflow) atomically: 409.
func (s *Server) createWorkflow(c *gin.Context) {
	id := c.Query("id")
	if id == "" {
		id = uuid.Must(uuid.NewV7()).String()
	} else if !workflowIDPattern.MatchString(id) {
		fail(c, badRequest("id %q is not a valid workflow id: use 1-63 lowercase letters, digits, \"-\" and \"_\", starting with a letter or digit", id))
		return
	}
	wf, err := s.parseWorkflow(c)
	if err != nil {
		fail(c, err)
		return
	}
	v, err := s.eng.CreateWorkflow(c.Request.Context(), id, wf)
	if errors.Is(err, store.ErrConflict) {
		fail(c, conflict("a workflow with id %q exists (or existed and was deleted: ids are never reused); save a new version of it with PUT /api/v1/workflows/%s", id, id))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/workflows/"+id)
	writeJSON(c, http.StatusCreated, viewOf(v, false))
}

// updateWorkflow is PUT /workflows/:id: a new version of an existing
// workflow, which stays enabled or disabled as it was.
func (s *Server) updateWorkflow(c *gin.Context) {
	id := c.Param("id")
	wf, err := s.parseWorkflow(c)
	if err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	v, err := s.eng.UpdateWorkflow(ctx, id, wf)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("no workflow %q; create it with POST /api/v1/workflows?id=%s", id, id))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	enabled := false
	if w, err := s.eng.GetWorkflow(ctx, id); err == nil {
		enabled = w.Enabled
	} else if !errors.Is(err, store.ErrNotFound) {
		fail(c, fmt.Errorf("reading workflow %s after saving it: %w", id, err))
		return
	}
	writeJSON(c, http.StatusOK, viewOf(v, enabled))
}

// getWorkflow is GET /workflows/:id[?version=N]. A deleted workflow is
// not found, whichever version is asked for.
func (s *Server) getWorkflow(c *gin.Context) {
	id := c.Param("id")
	version := 0
	if q := c.Query("version"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 {
			fail(c, badRequest("version %q is not a version number: use 1, 2, ... (leave it out for the latest)", q))
			return
		}
		version = n
	}
	w, err := s.findWorkflow(c, id)
	if err != nil {
		fail(c, err)
		return
	}
	v, err := s.store.GetWorkflowVersion(c.Request.Context(), id, version)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("workflow %q has no version %d (its latest is %d)", id, version, w.LatestVersion))
		return
	}
	if err != nil {
		fail(c, fmt.Errorf("reading workflow %s: %w", id, err))
		return
	}
	writeJSON(c, http.StatusOK, viewOf(v, w.Enabled))
}

// findWorkflow returns a workflow's state, or a 404 for a missing or
// deleted one.
func (s *Server) findWorkflow(c *gin.Context, id string) (*store.Workflow, error) {
	w, err := s.eng.GetWorkflow(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no workflow %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("reading workflow %s: %w", id, err)
	}
	return w, nil
}

// validateWorkflow is POST /workflows/validate: 200 with every problem,
// malformed JSON included (as one problem with its line and column).
func (s *Server) validateWorkflow(c *gin.Context) {
	data, err := readBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	_, problems, err := s.checkWorkflow(c, data)
	if err != nil {
		fail(c, err)
		return
	}
	if problems == nil {
		problems = []workflow.Problem{}
	}
	writeJSON(c, http.StatusOK, validationResult{Valid: len(problems) == 0, Problems: problems})
}
