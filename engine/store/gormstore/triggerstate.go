package gormstore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
)

// triggerStateRow is a row of trigger_state.
type triggerStateRow struct {
	WorkflowID string `gorm:"column:workflow_id"`
	Kind       string `gorm:"column:kind"`
	Key        string `gorm:"column:key"`
	Cursor     *int64 `gorm:"column:cursor"`
	Data       string `gorm:"column:data"`
	Version    int64  `gorm:"column:version"`
	UpdatedAt  int64  `gorm:"column:updated_at"`
}

func (r *triggerStateRow) state() *store.TriggerState {
	s := &store.TriggerState{
		WorkflowID: r.WorkflowID, Kind: r.Kind, Key: r.Key, Data: textJSON(r.Data),
		Version: r.Version, UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.Cursor != nil {
		s.Cursor = fromMicros(*r.Cursor)
	}
	return s
}

func triggerStateLabel(workflowID, kind, key string) string {
	return fmt.Sprintf("%s state %q of workflow %q", kind, key, workflowID)
}

// GetTriggerState returns the state of one trigger, or store.ErrNotFound.
func (s *Store) GetTriggerState(ctx context.Context, workflowID, kind, key string) (*store.TriggerState, error) {
	var rows []triggerStateRow
	err := s.r.WithContext(ctx).Raw(`SELECT workflow_id, kind, "key", "cursor", data, version, updated_at FROM trigger_state
		WHERE workflow_id = ? AND kind = ? AND "key" = ?`, workflowID, kind, key).Scan(&rows).Error
	if err == nil && len(rows) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", triggerStateLabel(workflowID, kind, key), dbErr(err))
	}
	return rows[0].state(), nil
}

// PutTriggerState inserts (Version 0) or updates (the version read) a
// trigger's state; a state changed since it was read, or inserted twice,
// gives store.ErrConflict.
func (s *Store) PutTriggerState(ctx context.Context, ts *store.TriggerState) error {
	if ts == nil || ts.Kind == "" {
		return errors.New("putting trigger state: the kind is required")
	}
	label := triggerStateLabel(ts.WorkflowID, ts.Kind, ts.Key)
	var cursor *int64
	if !ts.Cursor.IsZero() {
		c := micros(ts.Cursor)
		cursor = &c
	}
	next := ts.Version + 1
	err := s.write(ctx, func(tx *gorm.DB) error {
		if ts.Version == 0 {
			res := tx.Exec(`INSERT INTO trigger_state (workflow_id, kind, "key", "cursor", data, version, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workflow_id, kind, "key") DO NOTHING`,
				ts.WorkflowID, ts.Kind, ts.Key, cursor, jsonText(ts.Data), next, micros(ts.UpdatedAt))
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("it was stored meanwhile: read it again: %w", store.ErrConflict)
			}
			return nil
		}
		res := tx.Exec(`UPDATE trigger_state SET "cursor" = ?, data = ?, version = ?, updated_at = ?
			WHERE workflow_id = ? AND kind = ? AND "key" = ? AND version = ?`,
			cursor, jsonText(ts.Data), next, micros(ts.UpdatedAt), ts.WorkflowID, ts.Kind, ts.Key, ts.Version)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("it changed since version %d was read, or is gone: read it again: %w", ts.Version, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("putting %s: %w", label, dbErr(err))
	}
	ts.Version = next
	return nil
}
