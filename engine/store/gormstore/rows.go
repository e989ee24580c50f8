package gormstore

import (
	"encoding/json"
	"time"

	"github.com/leverflow/leverflow/engine/workflow"
)

// runRow is a row of runs.
type runRow struct {
	ID              string `gorm:"column:id;primaryKey"`
	WorkflowID      string `gorm:"column:workflow_id"`
	Version         int    `gorm:"column:version"`
	UserID          string `gorm:"column:user_id"`
	Status          string `gorm:"column:status"`
	Error           string `gorm:"column:error"`
	Trigger         string `gorm:"column:trigger"`
	TriggerType     string `gorm:"column:trigger_type"`
	EventID         string `gorm:"column:event_id"`
	CreatedAt       int64  `gorm:"column:created_at;autoCreateTime:false"`
	StartedAt       *int64 `gorm:"column:started_at"`
	FinishedAt      *int64 `gorm:"column:finished_at"`
	WakeAt          *int64 `gorm:"column:wake_at"`
	LeaseOwner      string `gorm:"column:lease_owner"`
	LeaseUntil      *int64 `gorm:"column:lease_until"`
	CancelRequested bool   `gorm:"column:cancel_requested"`
	WaitReason      string `gorm:"column:wait_reason"`
}

func (runRow) TableName() string { return "runs" }

// stepRow is a row of step_runs.
type stepRow struct {
	RunID      string `gorm:"column:run_id;primaryKey"`
	Key        string `gorm:"column:key;primaryKey"`
	StepID     string `gorm:"column:step_id"`
	Type       string `gorm:"column:type"`
	Status     string `gorm:"column:status"`
	Attempts   int    `gorm:"column:attempts"`
	Input      string `gorm:"column:input"`
	Output     string `gorm:"column:output"`
	Error      string `gorm:"column:error"`
	Branch     string `gorm:"column:branch"`
	StartedAt  *int64 `gorm:"column:started_at"`
	FinishedAt *int64 `gorm:"column:finished_at"`
	WakeAt     *int64 `gorm:"column:wake_at"`
}

func (stepRow) TableName() string { return "step_runs" }

// versionRow is a row of workflow_versions.
type versionRow struct {
	WorkflowID string `gorm:"column:workflow_id;primaryKey"`
	Version    int    `gorm:"column:version;primaryKey"`
	Name       string `gorm:"column:name"`
	Definition string `gorm:"column:definition"`
	CreatedAt  int64  `gorm:"column:created_at;autoCreateTime:false"`
}

func (versionRow) TableName() string { return "workflow_versions" }

// micros is t as stored: microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

func microsPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromMicrosPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMicros(*v)
	return &t
}

func jsonText(raw json.RawMessage) string { return string(raw) }

func textJSON(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}

func toRunRow(r *workflow.Run) runRow {
	status := r.Status
	if status == "" {
		status = workflow.RunQueued
	}
	return runRow{
		ID:              r.ID,
		WorkflowID:      r.WorkflowID,
		Version:         r.Version,
		UserID:          r.UserID,
		Status:          string(status),
		Error:           r.Error,
		Trigger:         jsonText(r.Trigger),
		TriggerType:     r.TriggerType,
		EventID:         r.EventID,
		CreatedAt:       micros(r.CreatedAt),
		StartedAt:       microsPtr(r.StartedAt),
		FinishedAt:      microsPtr(r.FinishedAt),
		WakeAt:          microsPtr(r.WakeAt),
		LeaseOwner:      r.LeaseOwner,
		LeaseUntil:      microsPtr(r.LeaseUntil),
		CancelRequested: r.CancelRequested,
	}
}

func (r *runRow) run() *workflow.Run {
	return &workflow.Run{
		ID:              r.ID,
		WorkflowID:      r.WorkflowID,
		Version:         r.Version,
		UserID:          r.UserID,
		Status:          workflow.RunStatus(r.Status),
		Error:           r.Error,
		Trigger:         textJSON(r.Trigger),
		TriggerType:     r.TriggerType,
		EventID:         r.EventID,
		CreatedAt:       fromMicros(r.CreatedAt),
		StartedAt:       fromMicrosPtr(r.StartedAt),
		FinishedAt:      fromMicrosPtr(r.FinishedAt),
		WakeAt:          fromMicrosPtr(r.WakeAt),
		LeaseOwner:      r.LeaseOwner,
		LeaseUntil:      fromMicrosPtr(r.LeaseUntil),
		CancelRequested: r.CancelRequested,
		// A finished run waits for nothing, whatever it waited for last.
		WaitReason: waitReasonOf(r),
	}
}

func toStepRow(runID string, s *workflow.StepRun) stepRow {
	return stepRow{
		RunID:      runID,
		Key:        s.Key,
		StepID:     s.StepID,
		Type:       s.Type,
		Status:     string(s.Status),
		Attempts:   s.Attempts,
		Input:      jsonText(s.Input),
		Output:     jsonText(s.Output),
		Error:      s.Error,
		Branch:     s.Branch,
		StartedAt:  microsPtr(s.StartedAt),
		FinishedAt: microsPtr(s.FinishedAt),
		WakeAt:     microsPtr(s.WakeAt),
	}
}

func (s *stepRow) stepRun() *workflow.StepRun {
	return &workflow.StepRun{
		RunID:      s.RunID,
		Key:        s.Key,
		StepID:     s.StepID,
		Type:       s.Type,
		Status:     workflow.StepStatus(s.Status),
		Attempts:   s.Attempts,
		Input:      textJSON(s.Input),
		Output:     textJSON(s.Output),
		Error:      s.Error,
		Branch:     s.Branch,
		StartedAt:  fromMicrosPtr(s.StartedAt),
		FinishedAt: fromMicrosPtr(s.FinishedAt),
		WakeAt:     fromMicrosPtr(s.WakeAt),
	}
}
