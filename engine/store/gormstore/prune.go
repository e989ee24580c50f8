package gormstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/leverflow/leverflow/engine/store"
	"github.com/leverflow/leverflow/engine/workflow"
)

// finishedSQL is the condition of a run that may be pruned: it finished
// for good. A queued, running or waiting run (a failed run being retried
// is queued again, with no finish time) is never deleted.
const finishedSQL = `status IN ('succeeded', 'failed', 'cancelled') AND finished_at IS NOT NULL`

// ListPrunableVersions returns the distinct workflow versions that have
// runs finished before before, by workflow id then version, without their
// names and definitions.
func (s *Store) ListPrunableVersions(ctx context.Context, before time.Time) ([]*store.WorkflowVersion, error) {
	var rows []struct {
		WorkflowID string
		Version    int
	}
	err := s.r.WithContext(ctx).Raw(`SELECT DISTINCT workflow_id, version FROM runs WHERE `+finishedSQL+` AND finished_at < ? ORDER BY workflow_id, version`,
		micros(before)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("listing versions with finished runs: %w", dbErr(err))
	}
	out := make([]*store.WorkflowVersion, len(rows))
	for i, r := range rows {
		out[i] = &store.WorkflowVersion{WorkflowID: r.WorkflowID, Version: r.Version}
	}
	return out, nil
}

// pruneSelected, when set (by tests), runs in DeleteFinishedRuns's
// transaction between the choice of the runs and their deletion.
var pruneSelected atomic.Pointer[func(tx *gorm.DB, ids []string) error]

// DeleteFinishedRuns deletes, in one transaction, up to limit runs of the
// workflow version that finished before before (oldest first), with their
// step runs, and returns how many of each it deleted.
func (s *Store) DeleteFinishedRuns(ctx context.Context, workflowID string, version int, before time.Time, limit int) (runs, steps int, err error) {
	if limit <= 0 {
		return 0, 0, nil
	}
	err = s.write(ctx, func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Raw(`SELECT id FROM runs WHERE workflow_id = ? AND version = ? AND `+finishedSQL+` AND finished_at < ? ORDER BY finished_at LIMIT ?`,
			workflowID, version, micros(before), limit).Scan(&ids).Error; err != nil {
			return err
		}
		if hook := pruneSelected.Load(); hook != nil {
			if err := (*hook)(tx, ids); err != nil {
				return err
			}
		}
		for _, part := range chunks(ids, inBatch) {
			// The DELETE checks again that each run is finished (and old
			// enough): without SQLite's write lock (PostgreSQL), a run
			// selected above may have been retried since. It deletes the
			// runs first and returns their ids, so that only the steps of
			// runs actually deleted go.
			var counts []struct {
				RunID string
				N     int
			}
			if err := tx.Raw(`SELECT run_id, COUNT(*) AS n FROM step_runs WHERE run_id IN ? GROUP BY run_id`, part).Scan(&counts).Error; err != nil {
				return err
			}
			var gone []string
			if err := tx.Raw(`DELETE FROM runs WHERE id IN ? AND `+finishedSQL+` AND finished_at < ? RETURNING id`,
				part, micros(before)).Scan(&gone).Error; err != nil {
				return err
			}
			runs += len(gone)
			if len(gone) == 0 {
				continue
			}
			// The foreign key's cascade deletes their steps where it is
			// on; this does where it is not.
			if err := tx.Exec(`DELETE FROM step_runs WHERE run_id IN ?`, gone).Error; err != nil {
				return err
			}
			deleted := make(map[string]bool, len(gone))
			for _, id := range gone {
				deleted[id] = true
			}
			for _, c := range counts {
				if deleted[c.RunID] {
					steps += c.N
				}
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("deleting finished runs of %s version %d: %w", workflowID, version, dbErr(err))
	}
	return runs, steps, nil
}

// DeleteOldEvents deletes up to limit inbox events received before before
// that are not pending, oldest first.
func (s *Store) DeleteOldEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int
	err := s.write(ctx, func(tx *gorm.DB) error {
		var ids []string
		if err := tx.Raw(`SELECT id FROM events WHERE status <> ? AND received_at < ? ORDER BY received_at LIMIT ?`,
			string(store.EventPending), micros(before), limit).Scan(&ids).Error; err != nil {
			return err
		}
		for _, part := range chunks(ids, inBatch) {
			res := tx.Exec(`DELETE FROM events WHERE id IN ?`, part)
			if res.Error != nil {
				return res.Error
			}
			n += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("deleting old inbox events: %w", dbErr(err))
	}
	return n, nil
}

// ReclaimSpace gives the space that deletions freed back to the file
// system (on SQLite: an incremental vacuum, then a checkpoint that
// truncates the write-ahead log).
func (s *Store) ReclaimSpace(ctx context.Context) error {
	if err := s.d.reclaimSpace(ctx, s.w); err != nil {
		return fmt.Errorf("reclaiming space in the %s store: %w", s.d.name(), err)
	}
	return nil
}

// RedactRun replaces the trigger data of a finished run (when trigger is
// not nil) and the input and output of the given step runs (by key; other
// fields are left alone) in one transaction. A run that is not finished
// gives store.ErrConflict; a missing one store.ErrNotFound.
func (s *Store) RedactRun(ctx context.Context, id string, trigger json.RawMessage, steps []*workflow.StepRun) error {
	err := s.write(ctx, func(tx *gorm.DB) error {
		var status string
		if err := tx.Raw(`SELECT status FROM runs WHERE id = ?`, id).Scan(&status).Error; err != nil {
			return err
		}
		switch {
		case status == "":
			return store.ErrNotFound
		case !workflow.RunStatus(status).Terminal():
			return fmt.Errorf("the run is %s, not finished: %w", status, store.ErrConflict)
		}
		if trigger != nil {
			if err := tx.Exec(`UPDATE runs SET "trigger" = ? WHERE id = ?`, string(trigger), id).Error; err != nil {
				return err
			}
		}
		for _, sr := range steps {
			if err := tx.Exec(`UPDATE step_runs SET input = ?, output = ? WHERE run_id = ? AND "key" = ?`,
				string(sr.Input), string(sr.Output), id, sr.Key).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		err = dbErr(err)
	}
	if err != nil {
		return fmt.Errorf("redacting run %s: %w", id, err)
	}
	return nil
}
