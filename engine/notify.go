package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// TriggerError is the TriggerType of a run started by a failed run's
// on_failure.workflow (an error workflow run). It is no trigger a workflow
// declares: any workflow (an "api" one, say) can serve as an error
// workflow. An error workflow run that fails notifies nobody, so an error
// workflow that fails, even one naming itself, never loops.
const TriggerError = "error"

// FailureSummary is what a failed run's on_failure hears: the trigger data
// of the error workflow's run, and the JSON body POSTed to the webhook.
type FailureSummary struct {
	RunID        string `json:"run_id"`
	WorkflowID   string `json:"workflow_id"`
	WorkflowName string `json:"workflow_name"`
	Version      int    `json:"version"`
	// Error is the run's error ("step x failed: ...").
	Error string `json:"error"`
	// FailedSteps are the step runs that failed, by key (a fanout item's
	// steps are keyed "<fanout>[<index>].<step>").
	FailedSteps []FailedStep `json:"failed_steps"`
	StartedAt   *time.Time   `json:"started_at,omitempty"`
	FinishedAt  time.Time    `json:"finished_at"`
	TriggerType string       `json:"trigger_type"`
}

// FailedStep is one failed step of a FailureSummary.
type FailedStep struct {
	StepID   string `json:"step_id"`
	Type     string `json:"type"`
	Error    string `json:"error"`
	Attempts int    `json:"attempts"`
}

// The failure webhook's limits: each attempt, and the attempts in all.
const (
	notifyTimeout  = 10 * time.Second
	notifyAttempts = 3
)

// failureSummary sums up the run that r just failed at finished.
func (r *runner) failureSummary(msg string, finished time.Time) *FailureSummary {
	s := &FailureSummary{
		RunID: r.run.ID, WorkflowID: r.run.WorkflowID, Version: r.run.Version,
		Error: msg, StartedAt: r.run.StartedAt, FinishedAt: finished, TriggerType: r.run.TriggerType,
		FailedSteps: []FailedStep{},
	}
	if r.plan != nil {
		s.WorkflowName = r.plan.wf.Name
	}
	for _, rec := range r.recs {
		if rec.Status == workflow.StepFailed {
			s.FailedSteps = append(s.FailedSteps, FailedStep{StepID: rec.Key, Type: rec.Type, Error: rec.Error, Attempts: rec.Attempts})
		}
	}
	sort.Slice(s.FailedSteps, func(i, j int) bool { return s.FailedSteps[i].StepID < s.FailedSteps[j].StepID })
	if r.plan != nil && r.plan.wf.RedactPII {
		s = redactSummary(s)
	}
	return s
}

// redactSummary returns the summary of a failed run of a workflow that
// redacts PII with its errors redacted (redactString) and then the whole
// summary passed through redactPII, as the run's stored data is: what the
// error workflow stores and the webhook receives holds no more than the
// run does. A summary that does not survive the round trip keeps only its
// redacted errors.
func redactSummary(s *FailureSummary) *FailureSummary {
	c := *s
	c.Error = redactString(c.Error)
	c.FailedSteps = make([]FailedStep, len(s.FailedSteps))
	for i, f := range s.FailedSteps {
		f.Error = redactString(f.Error)
		c.FailedSteps[i] = f
	}
	raw, err := json.Marshal(&c)
	if err != nil {
		return &c
	}
	var out FailureSummary
	if err := json.Unmarshal(redactPIIJSON(raw), &out); err != nil {
		return &c
	}
	if out.FailedSteps == nil {
		out.FailedSteps = []FailedStep{}
	}
	return &out
}

// notifyFailure tells the workflow's on_failure of a failed run, off the
// run's goroutine, after the commit of its failed state: it starts the
// error workflow and posts the summary to the webhook. Errors are logged
// and fail nothing.
func (e *Engine) notifyFailure(of *workflow.OnFailure, userID string, sum *FailureSummary) {
	e.notifying.Add(1)
	go func() {
		defer e.notifying.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-e.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		body, err := json.Marshal(sum)
		if err != nil {
			e.log.Error("encoding failure summary", "run_id", sum.RunID, "error", err)
			return
		}
		id := notificationID(sum.RunID, sum.FinishedAt)
		if of.Workflow != "" {
			// A quick commit that Stop does not cut short: the queued run
			// outlives this engine.
			sctx, scancel := context.WithTimeout(context.Background(), notifyTimeout)
			e.startErrorWorkflow(sctx, of.Workflow, userID, id, sum, body)
			scancel()
		}
		if of.Webhook != "" {
			e.postFailure(ctx, of.Webhook, id, sum, body)
		}
	}()
}

// startErrorWorkflow starts the error workflow with the summary as its
// trigger data, under the notification's run id: a notification made twice
// starts one run.
func (e *Engine) startErrorWorkflow(ctx context.Context, workflowID, userID, runID string, sum *FailureSummary, body []byte) {
	log := e.log.With("run_id", sum.RunID, "workflow_id", sum.WorkflowID, "error_workflow", workflowID)
	_, err := e.StartRun(ctx, StartRequest{WorkflowID: workflowID, Trigger: body, UserID: userID, RunID: runID, TriggerType: TriggerError})
	switch {
	case err == nil:
		log.Info("error workflow started", "error_run_id", runID)
	case errors.Is(err, store.ErrConflict):
		log.Info("error workflow already started for this failure", "error_run_id", runID)
	case errors.Is(err, store.ErrNotFound):
		log.Warn("on_failure names a workflow that does not exist or was deleted; no error workflow started", "error", err)
	default:
		log.Error("starting error workflow", "error", err)
	}
}

// postFailure POSTs the summary to the webhook: up to notifyAttempts
// attempts of notifyTimeout each, with a doubling back-off, while the
// answer is a network error, a 429 or a 5xx. The Idempotency-Key header
// (the notification's id) lets the receiver drop a repeat.
func (e *Engine) postFailure(ctx context.Context, url, id string, sum *FailureSummary, body []byte) {
	log := e.log.With("run_id", sum.RunID, "workflow_id", sum.WorkflowID)
	wait := e.notifyBackoff
	for attempt := 1; ; attempt++ {
		status, err := e.postOnce(ctx, url, id, body)
		if err == nil && status < 300 {
			log.Info("failure webhook delivered", "status", status, "attempts", attempt)
			return
		}
		retry := err != nil || status == http.StatusTooManyRequests || status >= 500
		if err == nil {
			err = fmt.Errorf("the webhook answered %d", status)
		}
		if !retry || attempt >= notifyAttempts || ctx.Err() != nil {
			log.Warn("failure webhook not delivered", "attempts", attempt, "error", err)
			return
		}
		log.Info("failure webhook failed; retrying", "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			log.Warn("failure webhook not delivered: the engine stopped", "attempts", attempt, "error", err)
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// postOnce makes one attempt of a failure webhook and returns the status.
func (e *Engine) postOnce(ctx context.Context, url, id string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "leverflow")
	req.Header.Set("Idempotency-Key", id)
	resp, err := e.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// notificationID is the id of the notification of one failure of a run:
// the error workflow's run id. It is a UUIDv7 (so it sorts with the ids of
// runs started then) whose time is the failure's and whose random bits
// are a hash of the run id and the failure's time: the same failure always
// gives the same id, and a retried run that fails again gives another.
func notificationID(runID string, finished time.Time) string {
	h := sha256.Sum256([]byte(runID + "|" + finished.UTC().Format(time.RFC3339Nano)))
	var u [16]byte
	copy(u[:], h[:16])
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(finished.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
