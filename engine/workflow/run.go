package workflow

import (
	"encoding/json"
	"time"
)

// RunStatus is the state of a run:
//
//	queued -> running -> succeeded | failed | cancelled
//	running <-> waiting (a delay or a retry back-off parks the run)
type RunStatus string

// The run states.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunWaiting   RunStatus = "waiting"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Terminal reports whether the run has finished for good.
func (s RunStatus) Terminal() bool {
	return s == RunSucceeded || s == RunFailed || s == RunCancelled
}

// StepStatus is the state of one step of a run.
type StepStatus string

// The step states. A step that is running may also carry a WakeAt: it is
// parked until then (a delay, or a retry back-off between attempts).
const (
	StepPending   StepStatus = "pending"
	StepRunning   StepStatus = "running"
	StepSucceeded StepStatus = "succeeded"
	StepFailed    StepStatus = "failed"
	StepSkipped   StepStatus = "skipped"
)

// Finished reports whether the step will not change again in this run
// (unless the run is retried).
func (s StepStatus) Finished() bool {
	return s == StepSucceeded || s == StepFailed || s == StepSkipped
}

// Run is one execution of one workflow version.
type Run struct {
	ID         string          `json:"id"`
	WorkflowID string          `json:"workflow_id"`
	Version    int             `json:"version"`
	UserID     string          `json:"user_id,omitempty"`
	Status     RunStatus       `json:"status"`
	Error      string          `json:"error,omitempty"`
	Trigger    json.RawMessage `json:"trigger"`
	// TriggerType is what started the run ("api", "schedule", a Lever
	// event type); EventID the inbox event that did, if any.
	TriggerType string     `json:"trigger_type,omitempty"`
	EventID     string     `json:"event_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	// WakeAt is when a waiting run is due again.
	WakeAt *time.Time `json:"wake_at,omitempty"`
	// LeaseOwner and LeaseUntil name the worker holding the run, if any.
	LeaseOwner string     `json:"lease_owner,omitempty"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	// CancelRequested is set by a cancel that the run's worker has not yet
	// acted on.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// WaitReason says why a queued or waiting run is not running: its
	// turn under the workflow's concurrency limit, or a throttle it is
	// parked on ("throttled: ..."). Empty once the run is claimed.
	WaitReason string `json:"wait_reason,omitempty"`
	// Steps is keyed by StepRun.Key.
	Steps map[string]*StepRun `json:"steps,omitempty"`
}

// StepRun is the record of one step in one run. Steps inside a fanout have
// one StepRun per item, keyed "<fanout key>[<index>].<step id>"; top-level
// steps are keyed by their id.
type StepRun struct {
	RunID      string          `json:"-"`
	Key        string          `json:"key"`
	StepID     string          `json:"step_id"`
	Type       string          `json:"type"`
	Status     StepStatus      `json:"status"`
	Attempts   int             `json:"attempts"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      string          `json:"error,omitempty"`
	Branch     string          `json:"branch,omitempty"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	// WakeAt parks a running step until then: the next attempt after a
	// back-off, or the end of a delay.
	WakeAt *time.Time `json:"wake_at,omitempty"`
}

// Clone returns a deep copy of the step run's fields (raw JSON slices are
// shared: they are never mutated in place).
func (s *StepRun) Clone() *StepRun {
	c := *s
	return &c
}
