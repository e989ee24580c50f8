package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
	"github.com/leverflow/leverflow/triggers"
)

// Limits of the run endpoints.
const (
	// MaxWait is the longest ?wait= a caller may ask for.
	MaxWait = 5 * time.Minute
	// DefaultRunPage and MaxRunPage bound GET /runs?limit=.
	DefaultRunPage = 50
	MaxRunPage     = 200
	// maxIdempotencyKey is the longest Idempotency-Key accepted.
	maxIdempotencyKey = 255
	// respondPoll is how often a waiting caller looks for a respond step
	// that answered before its run finished.
	respondPoll = 100 * time.Millisecond
)

func (s *Server) runRoutes(authed *gin.RouterGroup) {
	authed.POST("/workflows/:id/runs", s.startRun)
	authed.GET("/runs", s.listRuns)
	authed.GET("/runs/:id", s.getRun)
	authed.POST("/runs/:id/cancel", s.cancelRun)
	authed.POST("/runs/:id/retry", s.retryRun)
	authed.POST("/runs/retry", requireAdmin, s.retryRuns)
}

// runSummary is a run without its steps (GET /runs, cancel, retry, 202).
type runSummary struct {
	ID              string             `json:"id"`
	WorkflowID      string             `json:"workflow_id"`
	Version         int                `json:"version"`
	UserID          string             `json:"user_id,omitempty"`
	Status          workflow.RunStatus `json:"status"`
	Error           string             `json:"error"`
	Trigger         json.RawMessage    `json:"trigger,omitempty"`
	TriggerType     string             `json:"trigger_type,omitempty"`
	EventID         string             `json:"event_id,omitempty"`
	CreatedAt       time.Time          `json:"created_at"`
	StartedAt       *time.Time         `json:"started_at"`
	FinishedAt      *time.Time         `json:"finished_at"`
	WakeAt          *time.Time         `json:"wake_at,omitempty"`
	CancelRequested bool               `json:"cancel_requested,omitempty"`
	// WaitReason says why a queued or waiting run is not running.
	WaitReason string `json:"wait_reason,omitempty"`
}

// runDetail is a run with every step run, keyed by step id (a fanout
// item's steps by "<fanout>[<index>].<step>").
type runDetail struct {
	runSummary
	Steps map[string]stepView `json:"steps"`
}

type stepView struct {
	StepID     string              `json:"step_id"`
	Type       string              `json:"type"`
	Status     workflow.StepStatus `json:"status"`
	Input      json.RawMessage     `json:"input"`
	Output     json.RawMessage     `json:"output"`
	Error      string              `json:"error"`
	Branch     string              `json:"branch,omitempty"`
	Attempts   int                 `json:"attempts"`
	StartedAt  *time.Time          `json:"started_at"`
	FinishedAt *time.Time          `json:"finished_at"`
	WakeAt     *time.Time          `json:"wake_at,omitempty"`
}

var jsonNull = json.RawMessage("null")

func summaryOf(r *workflow.Run) runSummary {
	return runSummary{
		ID: r.ID, WorkflowID: r.WorkflowID, Version: r.Version, UserID: r.UserID, Status: r.Status, Error: r.Error,
		Trigger: r.Trigger, TriggerType: r.TriggerType, EventID: r.EventID, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		WakeAt: r.WakeAt, CancelRequested: r.CancelRequested, WaitReason: r.WaitReason,
	}
}

func detailOf(r *workflow.Run) runDetail {
	d := runDetail{runSummary: summaryOf(r), Steps: make(map[string]stepView, len(r.Steps))}
	for key, sr := range r.Steps {
		v := stepView{
			StepID: sr.StepID, Type: sr.Type, Status: sr.Status, Input: sr.Input, Output: sr.Output,
			Error: sr.Error, Branch: sr.Branch, Attempts: sr.Attempts,
			StartedAt: sr.StartedAt, FinishedAt: sr.FinishedAt, WakeAt: sr.WakeAt,
		}
		if len(v.Input) == 0 {
			v.Input = jsonNull
		}
		if len(v.Output) == 0 {
			v.Output = jsonNull
		}
		d.Steps[key] = v
	}
	return d
}

// startRun is POST /workflows/:id/runs: body = trigger data (any JSON, {}
// when empty); Idempotency-Key makes a repeated request find the first
// run; ?wait= waits for the run (or its respond step) that long.
func (s *Server) startRun(c *gin.Context) {
	id := c.Param("id")
	wait, err := parseWait(c.Query("wait"))
	if err != nil {
		fail(c, err)
		return
	}
	data, err := readBody(c)
	if err != nil {
		fail(c, err)
		return
	}
	if data != nil {
		if err := checkSyntax(data); err != nil {
			fail(c, err)
			return
		}
	}
	ctx := c.Request.Context()
	req := engine.StartRequest{WorkflowID: id, Trigger: data}
	var (
		run      *workflow.Run
		replayed bool
	)
	if key := c.GetHeader("Idempotency-Key"); key != "" {
		if len(key) > maxIdempotencyKey {
			fail(c, badRequest("the Idempotency-Key header is %d characters long; use at most %d (a UUID is a good key)", len(key), maxIdempotencyKey))
			return
		}
		run, replayed, err = s.startOnce(ctx, req, key)
	} else {
		run, err = s.eng.StartRun(ctx, req)
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("no workflow %q", id)
		}
	}
	if err != nil {
		fail(c, err)
		return
	}
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.Header("Location", "/api/v1/runs/"+run.ID)
	if wait <= 0 {
		status := http.StatusAccepted
		if replayed {
			status = http.StatusOK
		}
		writeJSON(c, status, summaryOf(run))
		return
	}
	s.answerWhenDone(c, run, wait, replayed)
}

// startOnce starts the run of an Idempotency-Key, or finds the run a
// request with the same key started (replayed). The key is recorded in the
// event inbox (source "api", deduplicated per workflow and key) before the
// run starts; the run id comes from that record (triggers.RunID: the same
// for every retry, and time-ordered like every other run id), so neither a
// race of two requests nor a crash between the record and the run can
// start two runs. A key reused with another body is refused (409).
func (s *Server) startOnce(ctx context.Context, req engine.StartRequest, key string) (*workflow.Run, bool, error) {
	if _, err := s.eng.GetWorkflow(ctx, req.WorkflowID); errors.Is(err, store.ErrNotFound) {
		return nil, false, notFound("no workflow %q", req.WorkflowID)
	} else if err != nil {
		return nil, false, fmt.Errorf("reading workflow %s: %w", req.WorkflowID, err)
	}
	payload := req.Trigger
	if len(payload) == 0 {
		payload = json.RawMessage(`{}`)
	}
	evID, err := uuid.NewV7()
	if err != nil {
		return nil, false, fmt.Errorf("making an event id: %w", err)
	}
	ev, inserted, err := s.store.InsertEvent(ctx, &store.Event{
		ID: evID.String(), Source: store.EventSourceAPI, Connection: "", UserID: req.UserID, Type: "api.run",
		DedupeKey: req.WorkflowID + "\n" + key, Payload: payload, ReceivedAt: s.now().UTC(), Status: store.EventPending,
	})
	if err != nil {
		return nil, false, fmt.Errorf("recording the Idempotency-Key: %w", err)
	}
	if !inserted && !sameJSON(ev.Payload, payload) {
		return nil, false, conflict("the Idempotency-Key %q was already used with another body for workflow %q: use a new key for a new request", key, req.WorkflowID)
	}
	req.RunID = triggers.RunID(ev.ID, req.WorkflowID, 0, ev.ReceivedAt)
	req.EventID = ev.ID
	run, err := s.eng.GetRun(ctx, req.RunID)
	switch {
	case err == nil:
		return run, true, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, fmt.Errorf("looking up the run of an idempotency key: %w", err)
	}
	run, err = s.eng.StartRun(ctx, req)
	switch {
	case errors.Is(err, store.ErrConflict):
		// Another request with the same key won the race.
		if run, err = s.eng.GetRun(ctx, req.RunID); err != nil {
			return nil, false, fmt.Errorf("reading the run of an idempotency key: %w", err)
		}
		return run, true, nil
	case errors.Is(err, store.ErrNotFound):
		return nil, false, notFound("no workflow %q", req.WorkflowID)
	case err != nil:
		return nil, false, err
	}
	if err := s.store.FinishEvent(ctx, ev.ID, store.EventResult{Status: store.EventRouted, RunIDs: []string{run.ID}, At: s.now().UTC()}); err != nil {
		s.log.Warn("recording the run of an Idempotency-Key", "event_id", ev.ID, "run_id", run.ID, "error", err)
	}
	return run, !inserted, nil
}

// sameJSON reports whether two JSON documents hold the same value, however
// they are spaced or their keys ordered.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

func parseWait(q string) (time.Duration, error) {
	if q == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(q)
	if err != nil || d < 0 {
		return 0, badRequest("wait %q is not a duration: use a number with a unit such as \"30s\" or \"2m\"", q)
	}
	if d > MaxWait {
		return 0, badRequest("wait %s is too long: at most %s; poll GET /api/v1/runs/:id for longer runs", q, MaxWait)
	}
	return d, nil
}

// answerWhenDone waits up to wait for the run to finish, or for one of its
// top-level respond steps to succeed, whichever comes first, and answers
// the respond step's status, headers and body, or 200 with the finished
// run, or 202 with the run's id and status when the wait runs out.
func (s *Server) answerWhenDone(c *gin.Context, run *workflow.Run, wait time.Duration, replayed bool) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), wait)
	defer cancel()
	for {
		pollCtx, pollCancel := context.WithTimeout(ctx, respondPoll)
		cur, err := s.eng.Wait(pollCtx, run.ID)
		// When the poll's deadline fires mid-read, the store may report
		// it as some other error (a rolled-back read transaction): any
		// error after the deadline is only the end of this poll.
		polled := pollCtx.Err() != nil
		pollCancel()
		if c.Request.Context().Err() != nil {
			return // the caller left
		}
		if cur != nil {
			run = cur
		}
		if sr := respondStep(run); sr != nil {
			writeRespond(c, run, sr)
			return
		}
		if err == nil && run.Status.Terminal() {
			writeJSON(c, http.StatusOK, detailOf(run))
			return
		}
		if err != nil && !polled && !errors.Is(err, context.DeadlineExceeded) {
			fail(c, fmt.Errorf("waiting for run %s: %w", run.ID, err))
			return
		}
		if ctx.Err() != nil {
			status := http.StatusAccepted
			if replayed {
				status = http.StatusOK
			}
			writeJSON(c, status, summaryOf(run))
			return
		}
	}
}

// respondStep returns the first top-level respond step that succeeded.
func respondStep(run *workflow.Run) *workflow.StepRun {
	var found []*workflow.StepRun
	for key, sr := range run.Steps {
		if sr.Type == "respond" && sr.Status == workflow.StepSucceeded && !strings.Contains(key, "[") {
			found = append(found, sr)
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(i, j int) bool {
		a, b := found[i].FinishedAt, found[j].FinishedAt
		if a != nil && b != nil && !a.Equal(*b) {
			return a.Before(*b)
		}
		return found[i].Key < found[j].Key
	})
	return found[0]
}

// writeRespond answers a respond step's output. The body is written as
// JSON, except a string body under a Content-Type the step set that is
// not JSON, which is written as the text itself.
func writeRespond(c *gin.Context, run *workflow.Run, sr *workflow.StepRun) {
	var out struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	}
	if err := json.Unmarshal(sr.Output, &out); err != nil || out.Status < 100 || out.Status > 599 {
		fail(c, fmt.Errorf("run %s: the output of respond step %s is not an answer: %v", run.ID, sr.StepID, err))
		return
	}
	contentType := "application/json; charset=utf-8"
	for k, v := range out.Headers {
		if strings.EqualFold(k, "Content-Type") {
			contentType = v
			continue
		}
		c.Header(k, v)
	}
	c.Header("X-Leverflow-Run-Id", run.ID)
	body := []byte(out.Body)
	if len(body) == 0 {
		body = []byte("null")
	}
	var text string
	if !strings.Contains(contentType, "json") && json.Unmarshal(body, &text) == nil {
		body = []byte(text)
	} else {
		body = append(body, '\n')
	}
	c.Data(out.Status, contentType, body)
}

// getRun is GET /runs/:id.
func (s *Server) getRun(c *gin.Context) {
	id := c.Param("id")
	run, err := s.eng.GetRun(c.Request.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		fail(c, notFound("no run %q", id))
		return
	}
	if err != nil {
		fail(c, fmt.Errorf("reading run %s: %w", id, err))
		return
	}
	writeJSON(c, http.StatusOK, detailOf(run))
}

// runPage is the answer of GET /runs: newest first; next is the cursor of
// the following page (pass it as ?after=), null on the last page.
type runPage struct {
	Runs []runSummary `json:"runs"`
	Next *string      `json:"next"`
}

var runStatuses = []workflow.RunStatus{
	workflow.RunQueued, workflow.RunRunning, workflow.RunWaiting,
	workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled,
}

// listRuns is GET /runs?workflow_id=&status=&trigger_type=&event_id=&since=&until=&limit=&after=.
func (s *Server) listRuns(c *gin.Context) {
	f := store.RunFilter{
		WorkflowID: c.Query("workflow_id"), TriggerType: c.Query("trigger_type"), EventID: c.Query("event_id"),
		After: c.Query("after"), Limit: DefaultRunPage,
	}
	var err error
	if f.CreatedAfter, err = parseInstant("since", c.Query("since")); err != nil {
		fail(c, err)
		return
	}
	if f.CreatedBefore, err = parseInstant("until", c.Query("until")); err != nil {
		fail(c, err)
		return
	}
	if !f.CreatedAfter.IsZero() && !f.CreatedBefore.IsZero() && !f.CreatedAfter.Before(f.CreatedBefore) {
		fail(c, badRequest("the time range is empty: since (%s) must be before until (%s)", c.Query("since"), c.Query("until")))
		return
	}
	if st := c.Query("status"); st != "" {
		ok := false
		for _, known := range runStatuses {
			ok = ok || string(known) == st
		}
		if !ok {
			names := make([]string, len(runStatuses))
			for i, k := range runStatuses {
				names[i] = string(k)
			}
			fail(c, badRequest("status %q is not a run status: use one of %s", st, strings.Join(names, ", ")))
			return
		}
		f.Status = workflow.RunStatus(st)
	}
	if q := c.Query("limit"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > MaxRunPage {
			fail(c, badRequest("limit %q must be a number from 1 to %d", q, MaxRunPage))
			return
		}
		f.Limit = n
	}
	want := f.Limit
	f.Limit++ // one more tells whether there is a next page
	runs, err := s.store.ListRuns(c.Request.Context(), f)
	if err != nil {
		fail(c, fmt.Errorf("listing runs: %w", err))
		return
	}
	page := runPage{Runs: make([]runSummary, 0, min(len(runs), want))}
	for i, r := range runs {
		if i == want {
			next := runs[want-1].ID
			page.Next = &next
			break
		}
		sum := summaryOf(r)
		sum.Trigger = nil // lists stay small; GET /runs/:id has it
		page.Runs = append(page.Runs, sum)
	}
	writeJSON(c, http.StatusOK, page)
}

// cancelRun is POST /runs/:id/cancel.
func (s *Server) cancelRun(c *gin.Context) {
	id := c.Param("id")
	run, err := s.eng.CancelRun(c.Request.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(c, notFound("no run %q", id))
		return
	case errors.Is(err, store.ErrConflict):
		fail(c, s.finishedConflict(c, id, "cancelled", "only a queued, running or waiting run can be cancelled"))
		return
	case err != nil:
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, summaryOf(run))
}

// retryRun is POST /runs/:id/retry: a failed or cancelled run runs again,
// as the optional body {from, version} says (see retryRequest).
func (s *Server) retryRun(c *gin.Context) {
	id := c.Param("id")
	var req retryRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	opts, err := req.options()
	if err != nil {
		fail(c, err)
		return
	}
	run, err := s.eng.RetryRunWith(c.Request.Context(), id, opts)
	var nre *engine.NotRetryableError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(c, notFound("no run %q", id))
		return
	case errors.As(err, &nre):
		fail(c, conflict("%s", nre.Error()))
		return
	case errors.Is(err, store.ErrConflict):
		fail(c, s.finishedConflict(c, id, "retried", "only a failed or cancelled run can be retried"))
		return
	case err != nil:
		fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, summaryOf(run))
}

func (s *Server) finishedConflict(c *gin.Context, id, verb, rule string) *Error {
	if run, err := s.eng.GetRun(c.Request.Context(), id); err == nil {
		return conflict("run %s is %s and cannot be %s: %s", id, run.Status, verb, rule)
	}
	return conflict("run %s cannot be %s: %s", id, verb, rule)
}
