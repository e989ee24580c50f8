package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leverflow/leverflow/engine"
	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// Limits of POST /runs/retry.
const (
	// DefaultBulkRetry and MaxBulkRetry bound how many runs one bulk retry
	// re-queues (its "max").
	DefaultBulkRetry = engine.DefaultBulkRetry
	MaxBulkRetry     = 1000
)

// retryRequest is the optional body of POST /runs/:id/retry, and part of
// the body of POST /runs/retry.
type retryRequest struct {
	// From is "failed" (the default: finished steps keep their outputs)
	// or "start" (every step runs again).
	From string `json:"from"`
	// Version is "original" (the default: the version the run started
	// with) or "latest" (the workflow's latest version).
	Version string `json:"version"`
}

// options checks the request and turns it into the engine's options.
func (r retryRequest) options() (engine.RetryOptions, error) {
	var opts engine.RetryOptions
	switch r.From {
	case "", "failed":
	case "start":
		opts.FromStart = true
	default:
		return opts, fieldError("from", "from %q must be \"failed\" (the default) or \"start\"", r.From)
	}
	switch r.Version {
	case "", "original":
	case "latest":
		opts.Latest = true
	default:
		return opts, fieldError("version", "version %q must be \"original\" (the default) or \"latest\"", r.Version)
	}
	return opts, nil
}

// bulkRetryRequest is the body of POST /runs/retry: a run filter and how
// to retry the runs it selects.
type bulkRetryRequest struct {
	retryRequest
	WorkflowID string `json:"workflow_id"`
	// TriggerType keeps the runs started by that trigger type.
	TriggerType string `json:"trigger_type"`
	// Status is "failed" (the default) or "cancelled".
	Status string `json:"status"`
	// Since and Until (RFC 3339) bound the runs' creation time: at or
	// after since, strictly before until.
	Since string `json:"since"`
	Until string `json:"until"`
	// Max caps the runs retried: 1 to MaxBulkRetry, DefaultBulkRetry when
	// left out.
	Max *int `json:"max"`
}

// bulkRetryAnswer lists the runs a bulk retry re-queued, newest first.
type bulkRetryAnswer struct {
	Retried []string `json:"retried"`
	Count   int      `json:"count"`
}

// retryRuns is POST /runs/retry: retry the failed (or cancelled) runs a
// filter selects, newest first, up to max. Runs that cannot be retried
// (their workflow redacts PII, or they changed meanwhile) are left out of
// the answer. Admin only.
func (s *Server) retryRuns(c *gin.Context) {
	var req bulkRetryRequest
	if err := decodeOptionalJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	opts, err := req.options()
	if err != nil {
		fail(c, err)
		return
	}
	f := store.RunFilter{WorkflowID: req.WorkflowID, TriggerType: req.TriggerType, Status: workflow.RunStatus(req.Status)}
	switch f.Status {
	case "", workflow.RunFailed, workflow.RunCancelled:
	default:
		fail(c, fieldError("status", "status %q must be \"failed\" (the default) or \"cancelled\": only those runs can be retried", req.Status))
		return
	}
	if f.CreatedAfter, err = parseInstant("since", req.Since); err != nil {
		fail(c, err)
		return
	}
	if f.CreatedBefore, err = parseInstant("until", req.Until); err != nil {
		fail(c, err)
		return
	}
	limit := DefaultBulkRetry
	if req.Max != nil {
		if *req.Max < 1 || *req.Max > MaxBulkRetry {
			fail(c, fieldError("max", "max %d must be from 1 to %d", *req.Max, MaxBulkRetry))
			return
		}
		limit = *req.Max
	}
	retried, err := s.eng.RetryRuns(c.Request.Context(), f, opts, limit)
	switch {
	case errors.Is(err, engine.ErrBadRunFilter):
		fail(c, badRequest("%s", err))
		return
	case err != nil:
		fail(c, fmt.Errorf("retrying runs (%d re-queued before the error): %w", len(retried), err))
		return
	}
	writeJSON(c, http.StatusOK, bulkRetryAnswer{Retried: retried, Count: len(retried)})
}

// decodeOptionalJSON decodes a JSON body strictly into v, leaving v as it
// is when there is no body.
func decodeOptionalJSON(c *gin.Context, v any) error {
	data, err := readBody(c)
	if err != nil || data == nil {
		return err
	}
	return strictUnmarshal(data, v)
}

// parseInstant parses an RFC 3339 time of the named field; "" is the zero
// time.
func parseInstant(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldError(field, "%s %q is not an RFC 3339 time such as 2030-01-02T15:04:05Z", field, v)
	}
	return t.UTC(), nil
}

// fieldError is a 400 naming the field in its details.
func fieldError(field, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: msg,
		Details: []any{detail{Path: field, Message: msg}}}
}
