package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// workflowRow is a row of workflows.
type workflowRow struct {
	ID                string `gorm:"column:id;primaryKey"`
	Name              string `gorm:"column:name"`
	LatestVersion     int    `gorm:"column:latest_version"`
	UserID            string `gorm:"column:user_id"`
	Enabled           bool   `gorm:"column:enabled"`
	TriggerType       string `gorm:"column:trigger_type"`
	TriggerConnection string `gorm:"column:trigger_connection"`
	DeletedAt         *int64 `gorm:"column:deleted_at"`
	CreatedAt         int64  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         int64  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (workflowRow) TableName() string { return "workflows" }

func (r *workflowRow) workflow() store.Workflow {
	return store.Workflow{
		ID:                r.ID,
		Name:              r.Name,
		LatestVersion:     r.LatestVersion,
		Enabled:           r.Enabled,
		TriggerType:       r.TriggerType,
		TriggerConnection: r.TriggerConnection,
		UserID:            r.UserID,
		CreatedAt:         fromMicros(r.CreatedAt),
		UpdatedAt:         fromMicros(r.UpdatedAt),
	}
}

// triggerOf reads trigger.type and trigger.connection from a workflow
// definition; a definition without a readable trigger has neither.
func triggerOf(definition []byte) (typ, connection string) {
	var doc struct {
		Trigger *struct {
			Type       string `json:"type"`
			Connection string `json:"connection"`
		} `json:"trigger"`
	}
	if err := json.Unmarshal(definition, &doc); err != nil || doc.Trigger == nil {
		return "", ""
	}
	return doc.Trigger.Type, doc.Trigger.Connection
}

// saveMode is what saving a version may do to the workflow's existence.
type saveMode int

const (
	saveUpsert saveMode = iota // create or update
	saveCreate                 // version 1 only
	saveUpdate                 // an existing workflow only
)

// SaveWorkflow stores a new version of the workflow (version 1 for a new
// id) and returns it. The id of a deleted workflow gives store.ErrNotFound.
func (s *Store) SaveWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error) {
	return s.saveWorkflow(ctx, saveUpsert, workflowID, name, definition, now)
}

// CreateWorkflow stores version 1 of a new, disabled workflow. An id in use,
// by a live or a deleted workflow, gives store.ErrConflict: ids are never
// reused, since a deleted workflow's runs still carry its id.
func (s *Store) CreateWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error) {
	return s.saveWorkflow(ctx, saveCreate, workflowID, name, definition, now)
}

// UpdateWorkflow stores the next version of an existing workflow; a
// missing or deleted workflow gives store.ErrNotFound.
func (s *Store) UpdateWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error) {
	return s.saveWorkflow(ctx, saveUpdate, workflowID, name, definition, now)
}

func (s *Store) saveWorkflow(ctx context.Context, mode saveMode, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error) {
	if workflowID == "" {
		return nil, errors.New("saving workflow: empty workflow id")
	}
	typ, conn := triggerOf(definition)
	row := versionRow{WorkflowID: workflowID, Name: name, Definition: jsonText(definition), CreatedAt: micros(now)}
	err := s.write(ctx, func(tx *gorm.DB) error {
		var cur []workflowRow
		if err := tx.Select("id", "latest_version", "deleted_at").Where("id = ?", workflowID).Limit(1).Find(&cur).Error; err != nil {
			return err
		}
		switch {
		case len(cur) == 0 && mode == saveUpdate:
			return fmt.Errorf("no such workflow: %w", store.ErrNotFound)
		case len(cur) == 0:
			row.Version = 1
			if err := tx.Exec(`INSERT INTO workflows (id, name, latest_version, trigger_type, trigger_connection, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?)`,
				workflowID, name, typ, conn, row.CreatedAt, row.CreatedAt).Error; err != nil {
				return err
			}
			return tx.Create(&row).Error
		case mode == saveCreate && cur[0].DeletedAt != nil:
			return fmt.Errorf("the id belonged to a deleted workflow, and ids are not reused: %w", store.ErrConflict)
		case mode == saveCreate:
			return fmt.Errorf("a workflow with this id exists: %w", store.ErrConflict)
		case cur[0].DeletedAt != nil:
			return fmt.Errorf("the workflow was deleted: %w", store.ErrNotFound)
		}
		row.Version = cur[0].LatestVersion + 1
		if err := tx.Exec(`UPDATE workflows SET latest_version = ?, name = ?, trigger_type = ?, trigger_connection = ?, updated_at = ? WHERE id = ?`,
			row.Version, name, typ, conn, row.CreatedAt, workflowID).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return nil, fmt.Errorf("saving workflow %s: %w", workflowID, dbErr(err))
	}
	return row.version(), nil
}

// GetWorkflowVersion returns one version; version 0 means the latest. A
// deleted workflow has no latest version (store.ErrNotFound), while its
// numbered versions stay readable for its runs.
func (s *Store) GetWorkflowVersion(ctx context.Context, workflowID string, version int) (*store.WorkflowVersion, error) {
	var rows []versionRow
	var err error
	if version == 0 {
		err = s.r.WithContext(ctx).Raw(`SELECT v.workflow_id, v.version, v.name, v.definition, v.created_at FROM workflow_versions v
			JOIN workflows w ON w.id = v.workflow_id AND w.latest_version = v.version
			WHERE v.workflow_id = ? AND w.deleted_at IS NULL`, workflowID).Scan(&rows).Error
	} else {
		err = s.r.WithContext(ctx).Where("workflow_id = ? AND version = ?", workflowID, version).Limit(1).Find(&rows).Error
	}
	if err == nil && len(rows) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("getting workflow %s version %d: %w", workflowID, version, dbErr(err))
	}
	return rows[0].version(), nil
}

// GetWorkflow returns a workflow's state; a missing or deleted workflow
// gives store.ErrNotFound.
func (s *Store) GetWorkflow(ctx context.Context, workflowID string) (*store.Workflow, error) {
	var row workflowRow
	if err := s.r.WithContext(ctx).Where("id = ? AND deleted_at IS NULL", workflowID).Take(&row).Error; err != nil {
		return nil, fmt.Errorf("getting workflow %s: %w", workflowID, dbErr(err))
	}
	w := row.workflow()
	return &w, nil
}

// ListWorkflows returns the live workflows by id, ascending, each with its
// newest run and its run counts by status. Whatever the page size, it runs
// three queries in one read transaction: the page, the newest runs, the
// counts (grouped by workflow and status, from an index).
func (s *Store) ListWorkflows(ctx context.Context, f store.WorkflowFilter) ([]*store.WorkflowSummary, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []*store.WorkflowSummary
	err := s.read(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&workflowRow{}).Where("deleted_at IS NULL")
		if f.Enabled != nil {
			q = q.Where("enabled = ?", *f.Enabled)
		}
		if len(f.TriggerTypes) > 0 {
			q = q.Where("trigger_type IN ?", f.TriggerTypes)
		}
		if f.TriggerConnection != "" {
			q = q.Where("trigger_connection = ?", f.TriggerConnection)
		}
		if f.After != "" {
			q = q.Where("id > ?", f.After)
		}
		var rows []workflowRow
		if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		ids := make([]string, len(rows))
		byID := make(map[string]*store.WorkflowSummary, len(rows))
		out = make([]*store.WorkflowSummary, len(rows))
		for i := range rows {
			ids[i] = rows[i].ID
			out[i] = &store.WorkflowSummary{Workflow: rows[i].workflow(), RunCounts: map[workflow.RunStatus]int{}}
			byID[ids[i]] = out[i]
		}
		var last []struct {
			ID         string
			WorkflowID string
			Status     string
			CreatedAt  int64
		}
		// One index seek per workflow (MAX over runs_workflow_id_id),
		// not one per run.
		if err := tx.Raw(`SELECT r.id AS id, r.workflow_id AS workflow_id, r.status AS status, r.created_at AS created_at FROM workflows w
			JOIN runs r ON r.id = (SELECT MAX(m.id) FROM runs m WHERE m.workflow_id = w.id)
			WHERE w.id IN ?`, ids).Scan(&last).Error; err != nil {
			return fmt.Errorf("reading the newest runs: %w", err)
		}
		for _, l := range last {
			if w := byID[l.WorkflowID]; w != nil {
				w.LastRun = &store.RunRef{ID: l.ID, Status: workflow.RunStatus(l.Status), CreatedAt: fromMicros(l.CreatedAt)}
			}
		}
		var counts []struct {
			WorkflowID string
			Status     string
			N          int
		}
		if err := tx.Raw(`SELECT workflow_id, status, COUNT(*) AS n FROM runs WHERE workflow_id IN ? GROUP BY workflow_id, status`, ids).Scan(&counts).Error; err != nil {
			return fmt.Errorf("counting runs: %w", err)
		}
		for _, c := range counts {
			if w := byID[c.WorkflowID]; w != nil {
				w.RunCounts[workflow.RunStatus(c.Status)] = c.N
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing workflows: %w", dbErr(err))
	}
	return out, nil
}

// ListWorkflowVersions returns every version of a live workflow, newest
// first, without definitions.
func (s *Store) ListWorkflowVersions(ctx context.Context, workflowID string) ([]*store.WorkflowVersion, error) {
	var out []*store.WorkflowVersion
	err := s.read(ctx, func(tx *gorm.DB) error {
		var live int64
		if err := tx.Model(&workflowRow{}).Where("id = ? AND deleted_at IS NULL", workflowID).Count(&live).Error; err != nil {
			return err
		}
		if live == 0 {
			return store.ErrNotFound
		}
		var rows []versionRow
		if err := tx.Select("workflow_id", "version", "name", "created_at").Where("workflow_id = ?", workflowID).
			Order("version DESC").Find(&rows).Error; err != nil {
			return err
		}
		out = make([]*store.WorkflowVersion, len(rows))
		for i := range rows {
			out[i] = rows[i].version()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing versions of workflow %s: %w", workflowID, dbErr(err))
	}
	return out, nil
}

// SetWorkflowEnabled enables or disables a live workflow and returns it.
// updated_at moves only when enabled changes: enabling an enabled workflow
// (or disabling a disabled one) changes nothing, so the schedule of a
// schedule workflow is not reset by it.
func (s *Store) SetWorkflowEnabled(ctx context.Context, workflowID string, enabled bool, now time.Time) (*store.Workflow, error) {
	var row workflowRow
	err := s.write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE workflows SET enabled = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL AND enabled <> ?`,
			enabled, micros(now), workflowID, enabled).Error; err != nil {
			return err
		}
		return tx.Where("id = ? AND deleted_at IS NULL", workflowID).Take(&row).Error
	})
	if err != nil {
		verb := "disabling"
		if enabled {
			verb = "enabling"
		}
		return nil, fmt.Errorf("%s workflow %s: %w", verb, workflowID, dbErr(err))
	}
	w := row.workflow()
	return &w, nil
}

// DeleteWorkflow soft-deletes a live workflow (and disables it); its
// versions and runs stay.
func (s *Store) DeleteWorkflow(ctx context.Context, workflowID string, now time.Time) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		n := micros(now)
		return execFound(tx, `UPDATE workflows SET enabled = ?, deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`, false, n, n, workflowID)
	})
	if err != nil {
		return fmt.Errorf("deleting workflow %s: %w", workflowID, dbErr(err))
	}
	return nil
}

func (r *versionRow) version() *store.WorkflowVersion {
	return &store.WorkflowVersion{
		WorkflowID: r.WorkflowID,
		Version:    r.Version,
		Name:       r.Name,
		Definition: textJSON(r.Definition),
		CreatedAt:  fromMicros(r.CreatedAt),
	}
}
