package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

// SaveWorkflow stores a new version of the workflow (version 1 for a new id)
// and returns it.
func (s *Store) SaveWorkflow(ctx context.Context, workflowID, name string, definition json.RawMessage, now time.Time) (*store.WorkflowVersion, error) {
	if workflowID == "" {
		return nil, errors.New("saving workflow: empty workflow id")
	}
	row := versionRow{WorkflowID: workflowID, Name: name, Definition: jsonText(definition), CreatedAt: micros(now)}
	err := s.write(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE workflows SET latest_version = latest_version + 1, name = ?, updated_at = ? WHERE id = ?`,
			name, row.CreatedAt, workflowID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			if err := tx.Exec(`INSERT INTO workflows (id, name, latest_version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)`,
				workflowID, name, row.CreatedAt, row.CreatedAt).Error; err != nil {
				return err
			}
		}
		if err := tx.Raw(`SELECT latest_version FROM workflows WHERE id = ?`, workflowID).Scan(&row.Version).Error; err != nil {
			return err
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return nil, fmt.Errorf("saving workflow %s: %w", workflowID, dbErr(err))
	}
	return row.version(), nil
}

// GetWorkflowVersion returns one version; version 0 means the latest.
func (s *Store) GetWorkflowVersion(ctx context.Context, workflowID string, version int) (*store.WorkflowVersion, error) {
	var row versionRow
	q := s.r.WithContext(ctx).Where("workflow_id = ?", workflowID)
	if version != 0 {
		q = q.Where("version = ?", version)
	}
	if err := q.Order("version DESC").Take(&row).Error; err != nil {
		return nil, fmt.Errorf("getting workflow %s version %d: %w", workflowID, version, dbErr(err))
	}
	return row.version(), nil
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
