package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// DefaultWorkflowPage and MaxWorkflowPage bound GET /workflows?limit=.
const (
	DefaultWorkflowPage = 50
	MaxWorkflowPage     = 200
)

// triggerView is a workflow's trigger as listed.
type triggerView struct {
	Type       string `json:"type"`
	Connection string `json:"connection,omitempty"`
}

// runRefView is the newest run of a listed workflow.
type runRefView struct {
	ID        string             `json:"id"`
	Status    workflow.RunStatus `json:"status"`
	CreatedAt time.Time          `json:"created_at"`
}

// workflowState is a workflow as enable and disable answer it.
type workflowState struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Version   int         `json:"version"`
	Enabled   bool        `json:"enabled"`
	Trigger   triggerView `json:"trigger"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// workflowListItem is a workflow as GET /workflows lists it: its state,
// its newest run (null when none) and its run counts by status.
type workflowListItem struct {
	workflowState
	LastRun   *runRefView    `json:"last_run"`
	RunCounts map[string]int `json:"run_counts"`
}

func stateOf(w *store.Workflow) workflowState {
	return workflowState{
		ID: w.ID, Name: w.Name, Version: w.LatestVersion, Enabled: w.Enabled,
		Trigger:   triggerView{Type: w.TriggerType, Connection: w.TriggerConnection},
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
	}
}

// summaryStateOf lists a workflow with its newest run and its run counts,
// every status present (0 when none).
func summaryStateOf(w *store.WorkflowSummary) workflowListItem {
	st := workflowListItem{workflowState: stateOf(&w.Workflow)}
	if w.LastRun != nil {
		st.LastRun = &runRefView{ID: w.LastRun.ID, Status: w.LastRun.Status, CreatedAt: w.LastRun.CreatedAt}
	}
	st.RunCounts = make(map[string]int, len(runStatuses))
	for _, status := range runStatuses {
		st.RunCounts[string(status)] = w.RunCounts[status]
	}
	return st
}

// workflowPage is the answer of GET /workflows: by id, ascending; next is
// the cursor of the following page (?after=next), null on the last one.
type workflowPage struct {
	Workflows []workflowListItem `json:"workflows"`
	Next      *string            `json:"next"`
}

// listWorkflows is GET /workflows?enabled=&trigger_type=&connection=&limit=&after=.
// trigger_type may repeat, or hold several types separated by commas.
func (s *Server) listWorkflows(c *gin.Context) {
	f := store.WorkflowFilter{TriggerConnection: c.Query("connection"), After: c.Query("after"), Limit: DefaultWorkflowPage}
	if q := c.Query("enabled"); q != "" {
		b, err := strconv.ParseBool(q)
		if err != nil {
			fail(c, badRequest("enabled %q must be true or false", q))
			return
		}
		f.Enabled = &b
	}
	for _, q := range c.QueryArray("trigger_type") {
		for _, t := range strings.Split(q, ",") {
			if t = strings.TrimSpace(t); t != "" {
				f.TriggerTypes = append(f.TriggerTypes, t)
			}
		}
	}
	limit, err := parseLimit(c.Query("limit"), DefaultWorkflowPage, MaxWorkflowPage)
	if err != nil {
		fail(c, err)
		return
	}
	f.Limit = limit + 1 // one more tells whether there is a next page
	list, err := s.eng.ListWorkflows(c.Request.Context(), f)
	if err != nil {
		fail(c, fmt.Errorf("listing workflows: %w", err))
		return
	}
	page := workflowPage{Workflows: make([]workflowListItem, 0, min(len(list), limit))}
	for i, w := range list {
		if i == limit {
			next := list[limit-1].ID
			page.Next = &next
			break
		}
		page.Workflows = append(page.Workflows, summaryStateOf(w))
	}
	writeJSON(c, http.StatusOK, page)
}

// parseLimit reads ?limit=: def when empty, else 1 to maxLimit.
func parseLimit(q string, def, maxLimit int) (int, error) {
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest("limit %q must be a number from 1 to %d", q, maxLimit)
	}
	return n, nil
}

// deleteWorkflow is DELETE /workflows/:id: 204. The workflow is disabled
// and no longer found; its runs stay readable and its id is not reused.
func (s *Server) deleteWorkflow(c *gin.Context) {
	id := c.Param("id")
	err := s.eng.DeleteWorkflow(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("no workflow %q", id))
		return
	}
	if err != nil {
		fail(c, fmt.Errorf("deleting workflow %s: %w", id, err))
		return
	}
	c.Status(http.StatusNoContent)
}

// versionView is one version as GET /workflows/:id/versions lists it,
// without its definition (GET /workflows/:id?version=N has it).
type versionView struct {
	Version   int       `json:"version"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type versionList struct {
	WorkflowID string        `json:"workflow_id"`
	Versions   []versionView `json:"versions"`
}

// listWorkflowVersions is GET /workflows/:id/versions: newest first.
func (s *Server) listWorkflowVersions(c *gin.Context) {
	id := c.Param("id")
	if _, err := s.findWorkflow(c, id); err != nil {
		fail(c, err)
		return
	}
	list, err := s.eng.ListWorkflowVersions(c.Request.Context(), id)
	if err != nil {
		fail(c, fmt.Errorf("listing the versions of workflow %s: %w", id, err))
		return
	}
	out := versionList{WorkflowID: id, Versions: make([]versionView, 0, len(list))}
	for _, v := range list {
		out.Versions = append(out.Versions, versionView{Version: v.Version, Name: v.Name, CreatedAt: v.CreatedAt})
	}
	writeJSON(c, http.StatusOK, out)
}

// enableWorkflow is POST /workflows/:id/enable: the latest version is
// validated again (a connection may have been deleted since it was
// saved); 422 with every problem when it is not valid.
func (s *Server) enableWorkflow(c *gin.Context) {
	s.setWorkflowState(c, s.eng.EnableWorkflow)
}

// disableWorkflow is POST /workflows/:id/disable: its trigger starts no
// more runs; runs already started go on.
func (s *Server) disableWorkflow(c *gin.Context) {
	s.setWorkflowState(c, s.eng.DisableWorkflow)
}

// setWorkflowState answers an enable or a disable: set changes the
// workflow named in the path and the answer is its new state.
func (s *Server) setWorkflowState(c *gin.Context, set func(ctx context.Context, id string) (*store.Workflow, error)) {
	id := c.Param("id")
	w, err := set(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("no workflow %q", id))
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, stateOf(w))
}

// diffAnswer is the answer of GET /workflows/:id/diff.
type diffAnswer struct {
	WorkflowID string   `json:"workflow_id"`
	From       int      `json:"from"`
	To         int      `json:"to"`
	Changes    []Change `json:"changes"`
}

// diffWorkflow is GET /workflows/:id/diff?from=N&to=M: the changes that
// turn version from into version to (see Diff). to defaults to the
// latest version and from to the one before to.
func (s *Server) diffWorkflow(c *gin.Context) {
	id := c.Param("id")
	w, err := s.findWorkflow(c, id)
	if err != nil {
		fail(c, err)
		return
	}
	to, err := versionParam(c, "to", w.LatestVersion)
	if err != nil {
		fail(c, err)
		return
	}
	from, err := versionParam(c, "from", to-1)
	if err != nil {
		fail(c, err)
		return
	}
	if from < 1 {
		fail(c, badRequest("workflow %q has only version %d: there is no earlier version to compare it with; pass ?from=N", id, to))
		return
	}
	ctx := c.Request.Context()
	var defs [2][]byte
	for i, n := range []int{from, to} {
		v, err := s.store.GetWorkflowVersion(ctx, id, n)
		if errors.Is(err, store.ErrNotFound) {
			fail(c, notFound("workflow %q has no version %d (its latest is %d)", id, n, w.LatestVersion))
			return
		}
		if err != nil {
			fail(c, fmt.Errorf("reading version %d of workflow %s: %w", n, id, err))
			return
		}
		defs[i] = v.Definition
	}
	changes, err := Diff(defs[0], defs[1])
	if err != nil {
		fail(c, fmt.Errorf("diffing versions %d and %d of workflow %s: %w", from, to, id, err))
		return
	}
	writeJSON(c, http.StatusOK, diffAnswer{WorkflowID: id, From: from, To: to, Changes: changes})
}

func versionParam(c *gin.Context, name string, def int) (int, error) {
	q := c.Query(name)
	if q == "" {
		return def, nil
	}
	n, err := strconv.Atoi(q)
	if err != nil || n < 1 {
		return 0, badRequest("%s %q is not a version number: use 1, 2, ...", name, q)
	}
	return n, nil
}
